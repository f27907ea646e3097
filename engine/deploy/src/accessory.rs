//! `accessory ...`: long-lived services next to the app (databases, caches), booted once and kept
//! across deploys, as Kamal does: files and directories uploaded, env file with mode 0600,
//! `docker run`, and a proxy deploy for proxied accessories.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::{lock, output};
use wharf_commands::Accessory;

fn names(c: &Commander, name: &str) -> Result<Vec<String>> {
    if name == "all" {
        return Ok(c.config.accessories().iter().map(|a| a.name().to_string()).collect());
    }
    if c.config.accessory(name).is_none() {
        return Err(CliError::argument(format!("No accessory by the name of '{name}'")));
    }
    Ok(vec![name.to_string()])
}

fn hosts_of(c: &Commander, name: &str) -> Vec<String> {
    let hosts: Vec<String> = c.config.accessory(name).map(|a| a.hosts().to_vec()).unwrap_or_default();
    c.accessory_hosts(&hosts)
}

async fn make_directories(c: &Commander, name: &str, host: &str) -> Result<()> {
    let a = Accessory::new(&c.config, name).expect("accessory exists");
    for dir in a.accessory_config().directories() {
        c.exec(host, &a.make_directory(&dir.host_path)).await?;
    }
    Ok(())
}

async fn upload_files(c: &Commander, name: &str, host: &str) -> Result<()> {
    make_directories(c, name, host).await?;
    let a = Accessory::new(&c.config, name).expect("accessory exists");
    let cfg = a.accessory_config();
    for file in cfg.files() {
        let local = c.dir.join(&file.local);
        let mut content = std::fs::read(&local)
            .map_err(|e| CliError::argument(format!("Missing file: {} ({e})", local.display())))?;
        if file.erb() {
            let text = String::from_utf8_lossy(&content).to_string();
            let env: std::collections::HashMap<String, String> = std::env::vars().collect();
            content = wharf_config::erb::render_untrimmed(&text, &file.local, &env)?.into_bytes();
        }
        c.exec(host, &a.make_directory_for(&file.host_path)).await?;
        let mode =
            file.mode.as_deref().and_then(|m| u32::from_str_radix(m.trim_start_matches('0'), 8).ok()).unwrap_or(0o755);
        c.upload(host, &content, &file.host_path, mode).await?;
        if let Some(owner) = &file.owner {
            c.exec(host, &wharf_commands::cmd!["chown", owner, &file.host_path]).await?;
        }
    }
    Ok(())
}

pub async fn boot(c: &Commander, name: &str) -> Result<()> {
    lock::with_lock(c, || async {
        for name in names(c, name)? {
            let a = Accessory::new(&c.config, &name).expect("accessory exists");
            let hosts = hosts_of(c, &name);
            let info = a.info(true, true);
            let existing: Vec<String> = c
                .on(&hosts, |h| {
                    let info = info.clone();
                    async move { Ok(!c.capture_unchecked(&h, &info).await?.is_empty()) }
                })
                .await?
                .into_iter()
                .filter(|(_, exists)| *exists)
                .map(|(h, _)| h)
                .collect();
            if !existing.is_empty() {
                let mut sorted = existing.clone();
                sorted.sort();
                output::say(&format!("Skipping booting `{name}` on {}, a container already exists", sorted.join(", ")));
            }
            let hosts: Vec<String> = hosts.into_iter().filter(|h| !existing.contains(h)).collect();
            let name = name.clone();
            c.on(&hosts, |h| {
                let name = name.clone();
                async move {
                    let a = Accessory::new(&c.config, &name).expect("accessory exists");
                    let cfg = a.accessory_config();
                    upload_files(c, &name, &h).await?;
                    c.audit(&h, None, &format!("Booted {name} accessory")).await?;
                    c.exec(&h, &a.ensure_env_directory()).await?;
                    c.upload(&h, cfg.secrets_io()?.as_bytes(), &cfg.secrets_path(), 0o600).await?;
                    c.exec(&h, &a.run(Some(&h))).await?;
                    if cfg.running_proxy() {
                        let app = wharf_commands::App::new(&c.config, None, Some(&h));
                        let target = c.capture(&h, &app.container_id_for(&cfg.service_name(), true)).await?;
                        c.exec(&h, &a.deploy(&target)).await?;
                    }
                    Ok(())
                }
            })
            .await?;
        }
        Ok(())
    })
    .await
}

pub async fn boot_all(c: &Commander) -> Result<()> {
    if c.config.accessories().is_empty() {
        return Ok(());
    }
    boot(c, "all").await
}

/// Runs one accessory command (`start`, `stop`, `remove`, ...) on its hosts.
async fn each<F>(c: &Commander, name: &str, audit: &str, build: F) -> Result<()>
where
    F: Fn(&Accessory) -> Vec<wharf_commands::Cmd> + Sync,
{
    for name in names(c, name)? {
        let a = Accessory::new(&c.config, &name).expect("accessory exists");
        let cmds = build(&a);
        let hosts = hosts_of(c, &name);
        let line = audit.replace("{name}", &name);
        c.on(&hosts, |h| {
            let cmds = cmds.clone();
            let line = line.clone();
            async move {
                if !line.is_empty() {
                    c.audit(&h, None, &line).await?;
                }
                for cmd in &cmds {
                    c.exec_unchecked(&h, cmd).await?;
                }
                Ok(())
            }
        })
        .await?;
    }
    Ok(())
}

pub async fn start(c: &Commander, name: &str) -> Result<()> {
    lock::with_lock(c, || each(c, name, "Started {name} accessory", |a| vec![a.start()])).await
}

pub async fn stop(c: &Commander, name: &str) -> Result<()> {
    lock::with_lock(c, || each(c, name, "Stopped {name} accessory", |a| vec![a.stop()])).await
}

pub async fn remove(c: &Commander, name: &str) -> Result<()> {
    lock::with_lock(c, || {
        each(c, name, "Removed {name} accessory", |a| {
            vec![a.stop(), a.remove_container(), a.remove_image(), a.remove_service_directory()]
        })
    })
    .await
}

pub async fn remove_all(c: &Commander) -> Result<()> {
    if c.config.accessories().is_empty() {
        return Ok(());
    }
    remove(c, "all").await
}

pub async fn details(c: &Commander, name: &str) -> Result<()> {
    for name in names(c, name)? {
        let a = Accessory::new(&c.config, &name).expect("accessory exists");
        c.print_by_host(&format!("Accessory {name}"), &hosts_of(c, &name), &a.info(false, false), false).await?;
    }
    Ok(())
}

pub async fn exec(c: &Commander, name: &str, cmd: &[String], reuse: bool) -> Result<()> {
    let a = Accessory::new(&c.config, name)
        .ok_or_else(|| CliError::argument(format!("No accessory by the name of '{name}'")))?;
    let words: Vec<&str> = cmd.iter().map(String::as_str).collect();
    let command = if reuse {
        a.execute_in_existing_container(&words, wharf_commands::Interactive::No)
    } else {
        a.execute_in_new_container(&words, wharf_commands::Interactive::No)
    };
    c.print_by_host(&format!("Accessory {name}"), &hosts_of(c, name), &command, true).await
}

pub async fn logs(
    c: &Commander,
    name: &str,
    lines: Option<u64>,
    since: Option<String>,
    grep: Option<String>,
) -> Result<()> {
    let a = Accessory::new(&c.config, name)
        .ok_or_else(|| CliError::argument(format!("No accessory by the name of '{name}'")))?;
    let options = wharf_commands::AccessoryLogsOptions {
        timestamps: true,
        since,
        lines: lines.map(|n| n.to_string()).or(Some("100".into())),
        grep,
        grep_options: None,
    };
    c.print_by_host(&format!("Accessory {name}"), &hosts_of(c, name), &a.logs(&options), true).await
}

/// The hidden steps of `accessory boot` and `remove`, runnable on their own as in Kamal:
/// `upload`, `directories`, `pull_image`, `remove_container`, `remove_image`,
/// `remove_service_directory`.
pub enum Step {
    Upload,
    Directories,
    PullImage,
    RemoveContainer,
    RemoveImage,
    RemoveServiceDirectory,
}

pub async fn step(c: &Commander, name: &str, step: Step) -> Result<()> {
    lock::with_lock(c, || async {
        for name in names(c, name)? {
            let hosts = hosts_of(c, &name);
            let (name, step) = (&name, &step);
            c.on(&hosts, |h| async move {
                let a = Accessory::new(&c.config, name).expect("accessory exists");
                match step {
                    Step::Upload => upload_files(c, name, &h).await,
                    Step::Directories => make_directories(c, name, &h).await,
                    Step::PullImage => c.exec(&h, &a.pull_image()).await.map(|_| ()),
                    Step::RemoveContainer => {
                        c.audit(&h, None, &format!("Remove {name} accessory container")).await?;
                        c.exec_unchecked(&h, &a.remove_container()).await.map(|_| ())
                    }
                    Step::RemoveImage => {
                        c.audit(&h, None, &format!("Removed {name} accessory image")).await?;
                        c.exec_unchecked(&h, &a.remove_image()).await.map(|_| ())
                    }
                    Step::RemoveServiceDirectory => {
                        c.exec_unchecked(&h, &a.remove_service_directory()).await.map(|_| ())
                    }
                }
            })
            .await?;
        }
        Ok(())
    })
    .await
}
