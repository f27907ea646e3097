//! Kamal's `Cli::App::Assets`: before any host boots, each role with an `asset_path` (and the
//! proxy) gets the new version's assets ready on every host. The assets are copied out of the
//! new image into `.kamal/apps/<app>/assets/extracted/<role>-<version>`, then `cp -rnT` fills the
//! new version's volume with them, and crosses them over with the running (old) version: new
//! assets into the old volume and old assets into the new one, so that during the switch and
//! after it both versions answer for both sets. The new container mounts its volume
//! (`Role::asset_volume_args` in `docker run`); the old version's directories are cleaned up
//! once it is stopped (`App::clean_up_assets` in boot).

use crate::commander::Commander;
use crate::error::Result;
use wharf_commands::App;
use wharf_config::Role;

/// `Kamal::Cli::App::Assets#run` for `role` on `host`.
pub async fn run(c: &Commander, host: &str, role: &Role) -> Result<()> {
    if !role.assets() {
        return Ok(());
    }
    let app = App::new(&c.config, Some(role), Some(host));
    c.exec(host, &app.extract_assets()).await?;
    let old_version = c.capture_unchecked(host, &app.current_running_version()).await?;
    c.exec(host, &app.sync_asset_volumes(Some(&old_version))).await?;
    Ok(())
}
