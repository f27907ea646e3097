//! Kamal's `prune` commands (cli/prune.rb): stopped app containers beyond
//! `retain_containers`, dangling and unused tagged images.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::lock;
use wharf_commands::prune::Prune;

/// `prune all`: stopped containers beyond `retain_containers`, then unused images.
pub async fn all(c: &Commander, retain: Option<u64>) -> Result<()> {
    let retain = retain.unwrap_or(c.config.retain_containers().max(0) as u64);
    if retain < 1 {
        return Err(CliError::runtime("retain must be at least 1"));
    }
    lock::with_lock(c, || async {
        let prune = Prune::new(&c.config);
        let hosts = c.hosts();
        let (containers, dangling, tagged) =
            (prune.app_containers(retain), prune.dangling_images(), prune.tagged_images());
        // Held: sent with the release of the lock (the primary's in the same exchange).
        c.on_held(&hosts, |h| {
            let (containers, dangling, tagged) = (containers.clone(), dangling.clone(), tagged.clone());
            async move {
                // One exchange per host.
                c.audit(&h, None, "Pruned containers").await?;
                c.defer(&h, &containers);
                c.audit(&h, None, "Pruned images").await?;
                c.defer(&h, &dangling);
                c.defer(&h, &tagged);
                Ok(())
            }
        })
        .await?;
        Ok(())
    })
    .await
}
