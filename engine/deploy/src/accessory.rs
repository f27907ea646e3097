//! `accessory ...`: long-lived services next to the app (databases, caches), booted once and kept
//! across deploys, as Kamal does: files and directories uploaded, env file with mode 0600,
//! `docker run`, and a proxy deploy for proxied accessories.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::execution::Effect;
use crate::{lock, output};
use wharf_commands::registry::Registry;
use wharf_commands::{cmd, Accessory, AccessoryLogsOptions};

fn names(c: &Commander, name: &str) -> Result<Vec<String>> {
    if name == "all" {
        return Ok(c.config.accessories().iter().map(|a| a.name().to_string()).collect());
    }
    accessory(c, name)?;
    Ok(vec![name.to_string()])
}

/// The accessory `name`, or Kamal's error naming the accessories there are.
fn accessory<'a>(c: &'a Commander, name: &str) -> Result<Accessory<'a>> {
    Accessory::new(&c.config, name).ok_or_else(|| {
        let known: Vec<String> = c.config.accessories().iter().map(|a| a.name().to_string()).collect();
        let options = if known.is_empty() { String::new() } else { format!(" (options: {})", to_sentence(&known)) };
        CliError::argument(format!("No accessory by the name of '{name}'{options}"))
    })
}

/// Rails' `Array#to_sentence`: `a`, `a and b`, `a, b, and c`.
fn to_sentence(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

fn hosts_of(c: &Commander, name: &str) -> Vec<String> {
    let hosts: Vec<String> = c.config.accessory(name).map(|a| a.hosts().to_vec()).unwrap_or_default();
    c.accessory_hosts(&hosts)
}

/// Kamal's `directories`: each directory made on the host, then its mode and owner if given.
async fn make_directories(c: &Commander, name: &str, host: &str) -> Result<()> {
    let a = Accessory::new(&c.config, name).expect("accessory exists");
    for dir in a.accessory_config().directories() {
        c.defer(host, &a.make_directory(&dir.key));
        if let Some(mode) = &dir.mode {
            c.defer(host, &cmd!["chmod", mode, &dir.key]);
        }
        if let Some(owner) = &dir.owner {
            c.defer(host, &cmd!["chown", owner, &dir.key]);
        }
    }
    Ok(())
}

/// Kamal's `upload`: each file's directory, the file, then its mode (default 755) and owner.
async fn upload_files(c: &Commander, name: &str, host: &str) -> Result<()> {
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
        c.defer(host, &a.make_directory_for(&file.host_path));
        let mode =
            file.mode.as_deref().and_then(|m| u32::from_str_radix(m.trim_start_matches('0'), 8).ok()).unwrap_or(0o755);
        c.defer_upload(host, &content, &file.host_path, mode);
        if let Some(mode) = &file.mode {
            c.defer(host, &cmd!["chmod", mode, &file.host_path]);
        }
        if let Some(owner) = &file.owner {
            c.defer(host, &cmd!["chown", owner, &file.host_path]);
        }
    }
    Ok(())
}

/// Kamal's `prepare`: the registry login for the accessory's image and the `kamal` network, on
/// its hosts (a network that already exists is fine).
async fn prepare(c: &Commander, name: &str) -> Result<()> {
    let a = accessory(c, name)?;
    let login = Registry::new(&c.config).login_password_stdin(a.accessory_config().registry())?;
    let network = wharf_commands::docker::Docker::new().create_network();
    c.on(&hosts_of(c, name), |h| {
        let (login, network) = (login.clone(), network.clone());
        async move {
            // The login (when a change is held back, it stops at its failure) and the network in
            // one exchange; a network that exists is fine.
            if let Some(login) = &login {
                c.defer(&h, login);
            }
            let out = c.exchange(&h, &[(&network, Effect::Change)]).await?.remove(0);
            if !out.success() && !out.stderr_str().contains("already exists") {
                return Err(c.failure(&h, &network, &out));
            }
            Ok(())
        }
    })
    .await?;
    Ok(())
}

/// `accessory boot NAME|all`: the registry login and network, then its directories and files,
/// then, on hosts without a container of it, its env file and `docker run` (and proxy deploy).
pub async fn boot(c: &Commander, name: &str) -> Result<()> {
    boot_accessories(c, name, true).await
}

async fn boot_accessories(c: &Commander, name: &str, prepare_first: bool) -> Result<()> {
    lock::with_lock(c, || async {
        for name in names(c, name)? {
            if prepare_first {
                prepare(c, &name).await?;
            }
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
            // As Kamal: directories, then files, on every host of the accessory, booted or not,
            // then the container where there is none; each host in one exchange (two with the
            // proxy, which needs the container's id).
            let name = name.as_str();
            let existing = &existing;
            c.on(&hosts, |h| async move {
                make_directories(c, name, &h).await?;
                upload_files(c, name, &h).await?;
                if existing.contains(&h) {
                    return Ok(());
                }
                let a = Accessory::new(&c.config, name).expect("accessory exists");
                let cfg = a.accessory_config();
                c.audit(&h, None, &format!("Booted {name} accessory")).await?;
                c.defer(&h, &a.ensure_env_directory());
                c.defer_upload(&h, cfg.secrets_io()?.as_bytes(), &cfg.secrets_path(), 0o600);
                c.defer(&h, &a.run(Some(&h)));
                if cfg.running_proxy() {
                    let target = proxy_target(c, &a, &h).await?;
                    c.exec(&h, &a.deploy(&target)).await?;
                }
                Ok(())
            })
            .await?;
        }
        Ok(())
    })
    .await
}

/// The running container of a proxied accessory on `host`.
async fn proxy_target(c: &Commander, a: &Accessory<'_>, host: &str) -> Result<String> {
    let app = wharf_commands::App::new(&c.config, None, Some(host));
    c.capture(host, &app.container_id_for(&a.accessory_config().service_name(), true)).await
}

pub async fn boot_all(c: &Commander) -> Result<()> {
    if c.config.accessories().is_empty() {
        return Ok(());
    }
    boot(c, "all").await
}

/// `accessory reboot NAME|all`, as Kamal: the login and network, the image pulled, the container
/// stopped and removed, then booted again. The image and the data directories stay.
pub async fn reboot(c: &Commander, name: &str) -> Result<()> {
    lock::with_lock(c, || async {
        for name in names(c, name)? {
            prepare(c, &name).await?;
            step(c, &name, Step::PullImage).await?;
            stop(c, &name).await?;
            step(c, &name, Step::RemoveContainer).await?;
            boot_accessories(c, &name, false).await?;
        }
        Ok(())
    })
    .await
}

/// `accessory start`: the container started, and deployed to the proxy if it runs behind it.
pub async fn start(c: &Commander, name: &str) -> Result<()> {
    lock::with_lock(c, || async {
        for name in names(c, name)? {
            let name = name.as_str();
            c.on(&hosts_of(c, name), |h| async move {
                let a = Accessory::new(&c.config, name).expect("accessory exists");
                c.audit(&h, None, &format!("Started {name} accessory")).await?;
                c.defer(&h, &a.start());
                if a.accessory_config().running_proxy() {
                    let target = proxy_target(c, &a, &h).await?;
                    c.defer(&h, &a.deploy(&target));
                }
                Ok(())
            })
            .await?;
        }
        Ok(())
    })
    .await
}

/// `accessory stop`: the container stopped (not running is fine), and removed from the proxy if
/// it runs behind it. The changes are held for the next step on the host (`reboot`'s and
/// `remove`'s), or the flush before the lock is released.
pub async fn stop(c: &Commander, name: &str) -> Result<()> {
    lock::with_lock(c, || async {
        for name in names(c, name)? {
            let name = name.as_str();
            c.on_held(&hosts_of(c, name), |h| async move {
                let a = Accessory::new(&c.config, name).expect("accessory exists");
                c.audit(&h, None, &format!("Stopped {name} accessory")).await?;
                c.defer_unchecked(&h, &a.stop());
                if a.accessory_config().running_proxy() {
                    proxy_target(c, &a, &h).await?;
                    c.defer(&h, &a.remove());
                }
                Ok(())
            })
            .await?;
        }
        Ok(())
    })
    .await
}

/// `accessory remove NAME|all`: as Kamal, stop, then remove the container, the image and the
/// service directory (none of these steps' failures stops the next: one exchange per host).
pub async fn remove(c: &Commander, name: &str) -> Result<()> {
    lock::with_lock(c, || async {
        for name in names(c, name)? {
            stop(c, &name).await?;
            step(c, &name, Step::RemoveContainer).await?;
            step(c, &name, Step::RemoveImage).await?;
            step(c, &name, Step::RemoveServiceDirectory).await?;
        }
        Ok(())
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

/// `accessory exec NAME CMD`: in a new container (after the registry login) or, with `reuse`, in
/// the running one; audited; each host's output printed (with `raw`, only the command's stdout,
/// as it came). With `interactive`, see [`exec_interactive`].
pub async fn exec(c: &Commander, name: &str, cmd: &[String], request: ExecRequest) -> Result<()> {
    let ExecRequest { interactive, reuse, raw } = request;
    if raw && interactive {
        return Err(CliError::argument("Raw is not compatible with interactive"));
    }
    let a = accessory(c, name)?;
    // Kamal's `join_commands`: each word stripped.
    let words: Vec<&str> = cmd.iter().map(|w| w.trim()).collect();
    let say = |line: &str| {
        if !raw {
            output::say(line)
        }
    };
    if interactive {
        return exec_interactive(c, &a, &words, reuse).await;
    }
    let (command, login) = if reuse {
        say("Launching command from existing container...");
        (a.execute_in_existing_container(&words, wharf_commands::Interactive::No), None)
    } else {
        say("Launching command from new container...");
        // Kamal logs in to the app's registry here; Wharf to the accessory's (the app's unless
        // the accessory names its own), whose image the new container runs.
        let login = Registry::new(&c.config).login_password_stdin(a.accessory_config().registry())?;
        (a.execute_in_new_container(&words, wharf_commands::Interactive::No), login)
    };
    let line = format!("Executed cmd '{}' on {name} accessory", words.join(" "));
    let (command, login, line) = (&command, &login, line.as_str());
    let results = c
        .on(&hosts_of(c, name), |h| async move {
            if let Some(login) = login {
                c.exec(&h, login).await?;
            }
            c.audit(&h, None, line).await?;
            if raw {
                let out = c.exec(&h, command).await?;
                Ok(out.stdout)
            } else {
                Ok(c.capture(&h, command).await?.into_bytes())
            }
        })
        .await?;
    for (h, out) in results {
        if raw {
            output::raw_bytes(&out);
        } else {
            output::by_host_labelled(&format!("Accessory {name}"), &h, &String::from_utf8_lossy(&out), c.global.quiet);
        }
    }
    Ok(())
}

/// `accessory exec`'s options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExecRequest {
    /// `-i`: through `ssh -t` on the accessory's first host, the terminal handed over.
    pub interactive: bool,
    /// `--reuse`: in the running container instead of a new one.
    pub reuse: bool,
    /// `--raw`: the command's stdout as it is, nothing else.
    pub raw: bool,
}

/// `accessory exec -i`: on the accessory's first host, through `ssh -t` with the terminal handed
/// over (for a new container, after a registry login there), as Kamal does.
async fn exec_interactive(c: &Commander, a: &Accessory<'_>, words: &[&str], reuse: bool) -> Result<()> {
    let host = a
        .accessory_config()
        .hosts()
        .first()
        .cloned()
        .ok_or_else(|| CliError::argument(format!("No hosts for accessory {}", a.accessory_config().name())))?;
    let tty = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let line = if reuse {
        output::say("Launching interactive command via SSH from existing container...");
        a.execute_in_existing_container_over_ssh(words, tty)
    } else {
        output::say("Launching interactive command via SSH from new container...");
        if let Some(login) = Registry::new(&c.config).login_password_stdin(a.accessory_config().registry())? {
            c.exec(&host, &login).await?;
        }
        a.execute_in_new_container_over_ssh(words, tty)
    };
    c.hand_off(&host, &line)
}

pub async fn logs(
    c: &Commander,
    name: &str,
    lines: Option<u64>,
    since: Option<String>,
    grep: Option<String>,
) -> Result<()> {
    let options =
        AccessoryLogsOptions { timestamps: true, since, lines: lines.map(|n| n.to_string()), grep, grep_options: None };
    logs_with(c, name, &options).await
}

/// `accessory logs` with all of Kamal's options: the last 100 lines unless `lines`, `since` or
/// `grep` is given.
pub async fn logs_with(c: &Commander, name: &str, options: &AccessoryLogsOptions) -> Result<()> {
    let a = accessory(c, name)?;
    let mut options = options.clone();
    if options.lines.is_none() && options.since.is_none() && options.grep.is_none() {
        options.lines = Some("100".into());
    }
    c.print_by_host(&format!("Accessory {name}"), &hosts_of(c, name), &a.logs(&options), true).await
}

/// `accessory logs NAME --follow`: hands the terminal to `ssh -t` on the accessory's host,
/// following its container's log (Kamal's `follow_logs`; the hosts shown as Kamal shows them).
pub fn follow_logs(c: &Commander, name: &str, options: &AccessoryLogsOptions) -> Result<()> {
    let a = accessory(c, name)?;
    let hosts = hosts_of(c, name);
    let host = hosts.first().cloned().ok_or_else(|| CliError::argument(format!("No hosts for accessory {name}")))?;
    let line = a.follow_logs(options.timestamps, options.grep.as_deref(), options.grep_options.as_deref());
    let shown: Vec<String> = hosts.iter().map(|h| format!("{h:?}")).collect();
    output::line(&format!("  INFO Following logs on [{}]...", shown.join(", ")));
    output::line(&format!("  INFO {line}"));
    c.hand_off(&host, &line)
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
            // Held for the next step on the host, or the flush before the lock is released.
            c.on_held(&hosts, |h| async move {
                let a = Accessory::new(&c.config, name).expect("accessory exists");
                match step {
                    Step::Upload => upload_files(c, name, &h).await,
                    Step::Directories => make_directories(c, name, &h).await,
                    Step::PullImage => {
                        c.audit(&h, None, &format!("Pull {name} accessory image")).await?;
                        c.defer(&h, &a.pull_image());
                        Ok(())
                    }
                    Step::RemoveContainer => {
                        c.audit(&h, None, &format!("Remove {name} accessory container")).await?;
                        c.defer_unchecked(&h, &a.remove_container());
                        Ok(())
                    }
                    Step::RemoveImage => {
                        c.audit(&h, None, &format!("Removed {name} accessory image")).await?;
                        c.defer_unchecked(&h, &a.remove_image());
                        Ok(())
                    }
                    Step::RemoveServiceDirectory => {
                        c.defer_unchecked(&h, &a.remove_service_directory());
                        Ok(())
                    }
                }
            })
            .await?;
        }
        Ok(())
    })
    .await
}
