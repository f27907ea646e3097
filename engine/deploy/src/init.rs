//! `init`: config/deploy.yml and .kamal/secrets stubs (Kamal's templates), unless present.

use crate::error::Result;
use crate::output;
use std::path::Path;

pub fn init(dir: &Path) -> Result<()> {
    let deploy = dir.join("config/deploy.yml");
    if deploy.exists() {
        output::line("Config file already exists in config/deploy.yml (remove first to create a new one)");
    } else {
        std::fs::create_dir_all(dir.join("config"))?;
        std::fs::write(&deploy, include_str!("templates/deploy.yml"))?;
        output::line("Created configuration file in config/deploy.yml");
    }
    let secrets = dir.join(".kamal/secrets");
    if !secrets.exists() {
        std::fs::create_dir_all(dir.join(".kamal/hooks"))?;
        std::fs::write(&secrets, include_str!("templates/secrets"))?;
        output::line("Created .kamal/secrets file");
    }
    Ok(())
}
