//! Kamal's `app` commands (cli/app.rb): the app's containers on its hosts (boot, start, stop,
//! details, exec, logs, maintenance, stale containers, remove). Booting a version and what it
//! ships with it (assets, error pages, TLS certificates) live in the submodules.

pub mod assets;
pub mod boot;
pub mod diagnosis;
pub mod error_pages;
pub mod facts;
pub mod ssl_certificates;
pub mod warm;

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::{lock, output};
use wharf_commands::{App, Cmd, ExecOptions, Interactive, LogsOptions};

/// Runs a per-role command on every app host and prints each host's output.
async fn per_role_capture<F>(c: &Commander, build: F) -> Result<()>
where
    F: Fn(&App) -> Cmd + Sync,
{
    let hosts = c.app_hosts();
    let results = c
        .on(&hosts, |h| {
            let build = &build;
            async move {
                let mut out = vec![];
                for role in c.roles_on(&h) {
                    let app = App::new(&c.config, Some(role), Some(&h));
                    out.push(c.capture(&h, &build(&app)).await?);
                }
                Ok(out.join("\n"))
            }
        })
        .await?;
    for (h, text) in results {
        output::by_host(&h, &text, c.global.quiet);
    }
    Ok(())
}

pub async fn details(c: &Commander) -> Result<()> {
    per_role_capture(c, |app| app.info()).await
}

pub async fn containers(c: &Commander) -> Result<()> {
    c.print_by_host("App", &c.app_hosts(), &App::new(&c.config, None, None).list_containers(), true).await
}

pub async fn images(c: &Commander) -> Result<()> {
    c.print_by_host("App", &c.app_hosts(), &App::new(&c.config, None, None).list_images(), true).await
}

pub async fn version(c: &Commander) -> Result<()> {
    per_role_capture(c, |app| app.current_running_version()).await
}

/// `app stop` (its changes held for the next step on the host, `remove`'s, or the flush before
/// the lock is released; so are the hidden remove steps').
pub async fn stop(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async {
        let hosts = c.app_hosts();
        c.on_held(&hosts, |h| async move {
            for role in c.roles_on(&h) {
                let app = App::new(&c.config, Some(role), Some(&h));
                c.audit(&h, Some(role.name()), "Stopped app").await?;
                if role.running_proxy() {
                    let version = c.capture_unchecked(&h, &app.current_running_version()).await?;
                    if !version.is_empty()
                        && !c.capture_unchecked(&h, &app.container_id_for_version(&version, false)).await?.is_empty()
                    {
                        c.defer_unchecked(&h, &app.remove());
                    }
                }
                c.defer_unchecked(&h, &app.stop(None));
            }
            Ok(())
        })
        .await?;
        Ok(())
    })
    .await
}

pub async fn start(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async {
        let hosts = c.app_hosts();
        let version = c.config.version();
        c.on(&hosts, |h| {
            let version = version.clone();
            async move {
                for role in c.roles_on(&h) {
                    let app = App::new(&c.config, Some(role), Some(&h));
                    c.audit(&h, Some(role.name()), &format!("Started app version {version}")).await?;
                    // Sent with the question that follows (or when the host's part ends).
                    c.defer_unchecked(&h, &app.start());
                    if role.running_proxy() {
                        let running = c.capture_unchecked(&h, &app.current_running_version()).await?;
                        let endpoint = c.capture(&h, &app.container_id_for_version(&running, false)).await?;
                        if endpoint.is_empty() {
                            return Err(CliError::boot(format!(
                                "Failed to get endpoint for {} on {h}, did the container boot?",
                                role.name()
                            )));
                        }
                        c.defer(&h, &app.deploy(&endpoint));
                    }
                }
                Ok(())
            }
        })
        .await?;
        Ok(())
    })
    .await
}

pub async fn remove(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async {
        stop(c).await?;
        remove_containers(c).await?;
        remove_images(c).await?;
        remove_app_directories(c).await
    })
    .await
}

/// `app remove_container VERSION` (hidden, as in Kamal).
pub async fn remove_container(c: &Commander, version: &str) -> Result<()> {
    lock::with_lock(c, || async {
        c.on_held(&c.app_hosts(), |h| async move {
            for role in c.roles_on(&h) {
                let app = App::new(&c.config, Some(role), Some(&h));
                c.audit(&h, Some(role.name()), &format!("Removed app container with version {version}")).await?;
                c.defer(&h, &app.remove_container(version));
            }
            Ok(())
        })
        .await?;
        Ok(())
    })
    .await
}

/// `app remove_containers` (hidden).
pub async fn remove_containers(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async {
        c.on_held(&c.app_hosts(), |h| async move {
            for role in c.roles_on(&h) {
                let app = App::new(&c.config, Some(role), Some(&h));
                c.audit(&h, Some(role.name()), "Removed all app containers").await?;
                c.defer(&h, &app.remove_containers());
            }
            Ok(())
        })
        .await?;
        Ok(())
    })
    .await
}

/// The app hosts all of whose roles are selected (Kamal's `hosts_removing_all_roles`): only
/// there do the images and app directories go, as another role on the host still needs them.
fn hosts_removing_all_roles(c: &Commander) -> Vec<String> {
    c.app_hosts()
        .into_iter()
        .filter(|h| {
            let mut selected: Vec<&str> = c.roles_on(h).iter().map(|r| r.name()).collect();
            let mut all: Vec<&str> =
                c.config.roles().iter().filter(|r| r.hosts().iter().any(|x| x == h)).map(|r| r.name()).collect();
            selected.sort_unstable();
            all.sort_unstable();
            selected == all
        })
        .collect()
}

/// `app remove_images` (hidden).
pub async fn remove_images(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async {
        c.on_held(&hosts_removing_all_roles(c), |h| async move {
            c.audit(&h, None, "Removed all app images").await?;
            c.defer(&h, &App::new(&c.config, None, Some(&h)).remove_images());
            Ok(())
        })
        .await?;
        Ok(())
    })
    .await
}

/// `app remove_app_directories` (hidden): the app's directory, and its proxy config directory.
pub async fn remove_app_directories(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async {
        let proxy_hosts = c.proxy_hosts();
        let proxy_hosts = &proxy_hosts;
        c.on_held(&hosts_removing_all_roles(c), |h| async move {
            let server = wharf_commands::server::Server::new(&c.config);
            c.defer_unchecked(&h, &server.remove_app_directory());
            c.audit(&h, None, &format!("Removed {}", c.config.app_directory())).await?;
            if proxy_hosts.contains(&h) {
                c.defer_unchecked(&h, &App::new(&c.config, None, Some(&h)).remove_proxy_app_directory());
            }
            Ok(())
        })
        .await?;
        Ok(())
    })
    .await
}

/// `app live` / `app maintenance`: the proxy serves the app again, or a 503 page.
pub async fn live_or_maintenance(c: &Commander, maintenance: Option<(Option<u64>, Option<String>)>) -> Result<()> {
    lock::with_lock(c, || async {
        let hosts = c.app_hosts();
        let maintenance = &maintenance;
        c.on(&hosts, |h| async move {
            for role in c.roles_on(&h).into_iter().filter(|r| r.running_proxy()) {
                let app = App::new(&c.config, Some(role), Some(&h));
                match maintenance {
                    None => {
                        c.audit(&h, Some(role.name()), "Set application to live mode").await?;
                        c.exec(&h, &app.live()).await?;
                    }
                    Some((drain, message)) => {
                        c.audit(&h, Some(role.name()), "Set application to maintenance mode").await?;
                        // Kamal's `options[:drain_timeout] || KAMAL.config.drain_timeout`.
                        let drain = drain.unwrap_or_else(|| c.config.drain_timeout());
                        c.exec(&h, &app.maintenance(Some(drain), message.as_deref())).await?;
                    }
                }
            }
            Ok(())
        })
        .await?;
        Ok(())
    })
    .await
}

pub struct ExecRequest {
    pub cmd: Vec<String>,
    pub interactive: bool,
    pub reuse: bool,
    pub detach: bool,
    pub raw: bool,
    pub env: Vec<(String, String)>,
}

/// `app exec -i`: on the primary host, through `ssh -t` with the terminal handed over (for a
/// new container, after a registry login there), as Kamal does.
async fn exec_interactive(c: &Commander, r: &ExecRequest, words: &[&str], version: &str) -> Result<()> {
    let host = c.primary_host().ok_or_else(|| CliError::argument("No app hosts"))?;
    let role = c.roles_on(&host).into_iter().next().ok_or_else(|| CliError::argument(format!("No role on {host}")))?;
    let app = App::new(&c.config, Some(role), Some(&host));
    let tty = std::io::IsTerminal::is_terminal(&std::io::stdin());
    let which = if r.reuse { "existing" } else { "new" };
    output::say(&format!(
        "Launching interactive command with version {version} via SSH from {which} container on {host}..."
    ));
    let line = if r.reuse {
        app.execute_in_existing_container_over_ssh(words, &r.env, tty)
    } else {
        if let Some(login) = wharf_commands::registry::Registry::new(&c.config).login_password_stdin(None)? {
            c.exec(&host, &login).await?;
        }
        app.execute_in_new_container_over_ssh(words, &r.env, tty, None)
    };
    c.hand_off(&host, &line)
}

pub async fn exec(c: &Commander, r: ExecRequest) -> Result<()> {
    if r.detach && (r.interactive || r.reuse) {
        let incompatible: Vec<&str> = [("interactive", r.interactive), ("reuse", r.reuse)]
            .iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect();
        return Err(CliError::argument(format!("Detach is not compatible with {}", incompatible.join(" or "))));
    }
    if r.cmd.is_empty() {
        return Err(CliError::argument("No command provided. You must specify a command to execute."));
    }
    // Kamal's `join_commands`: each word stripped.
    let words: Vec<&str> = r.cmd.iter().map(|w| w.trim()).collect();
    let hosts = c.app_hosts();
    // A new container runs the latest image (Kamal's `version_or_latest`) unless --version is given.
    if c.global.version.is_none() {
        if !r.raw {
            output::say(if r.reuse {
                "Get current version of running container..."
            } else {
                "Get most recent version available as an image..."
            });
        }
        if r.reuse {
            // An existing container: the version running on the primary host (Kamal's
            // `current_running_version`).
            if let Some(host) = c.primary_host() {
                if let Some(role) = c.roles_on(&host).into_iter().next() {
                    let app = App::new(&c.config, Some(role), Some(&host));
                    let running = c.capture_unchecked(&host, &app.current_running_version()).await?;
                    if !running.is_empty() {
                        c.config.set_version(running);
                    }
                }
            }
        } else {
            c.config.set_version("latest");
        }
    }
    let version = c.config.version();
    if r.interactive {
        return exec_interactive(c, &r, &words, &version).await;
    }
    if !r.raw {
        output::say(&format!(
            "Launching command with version {version} from {} container...",
            if r.reuse { "existing" } else { "new" }
        ));
    }
    // A new container's image may have to be pulled: log in to the registry first, as Kamal does.
    if !r.reuse {
        if let Some(login) = wharf_commands::registry::Registry::new(&c.config).login_password_stdin(None)? {
            // Sent with the command itself (held for the host's next exchange).
            c.on_held(&hosts, |h| {
                let login = login.clone();
                async move {
                    c.defer(&h, &login);
                    Ok(())
                }
            })
            .await?;
        }
    }
    let results = c
        .on(&hosts, |h| {
            let words = words.clone();
            let r = &r;
            async move {
                let mut outs = vec![];
                for role in c.roles_on(&h) {
                    let app = App::new(&c.config, Some(role), Some(&h));
                    c.audit(
                        &h,
                        Some(role.name()),
                        &format!("Executed cmd '{}' on app version {}", words.join(" "), c.config.version()),
                    )
                    .await?;
                    let cmd = if r.reuse {
                        app.execute_in_existing_container(&words, Interactive::No, &r.env)
                    } else {
                        app.execute_in_new_container(
                            &words,
                            &ExecOptions {
                                interactive: Interactive::No,
                                detach: r.detach,
                                env: r.env.clone(),
                                exec_id: None,
                            },
                        )
                    };
                    let out = c.exec_unchecked(&h, &cmd).await?;
                    if !out.success() {
                        return Err(CliError::new(
                            "SSHKit::Command::Failed",
                            format!(
                                "Exception while executing on host {h}: {} exited with {}: {}",
                                cmd.to_redacted_string(),
                                out.exit_status,
                                out.stderr_str().trim()
                            ),
                        ));
                    }
                    outs.push(out.stdout);
                }
                Ok(outs)
            }
        })
        .await?;
    for (h, outs) in results {
        for out in outs {
            if r.raw {
                output::raw_bytes(&out);
            } else {
                output::by_host(&h, String::from_utf8_lossy(&out).trim_end(), c.global.quiet);
            }
        }
    }
    Ok(())
}

pub async fn logs(
    c: &Commander,
    lines: Option<u64>,
    since: Option<String>,
    grep: Option<String>,
    timestamps: bool,
    container_id: Option<String>,
) -> Result<()> {
    logs_with(c, LogsRequest { lines, since, grep, grep_options: None, timestamps, container_id }).await
}

/// What `app logs` shows (without `--follow`).
#[derive(Clone, Debug, Default)]
pub struct LogsRequest {
    /// `-n`: lines per host (default 100 unless `--since` or `--grep` is given).
    pub lines: Option<u64>,
    pub since: Option<String>,
    pub grep: Option<String>,
    /// `--grep-options`: added to `grep`.
    pub grep_options: Option<String>,
    /// Not `-T`.
    pub timestamps: bool,
    pub container_id: Option<String>,
}

/// `app logs`: each app host's log lines per role; a failing query (no container, no line
/// matching `--grep`) shows `Nothing found`, as in Kamal.
pub async fn logs_with(c: &Commander, r: LogsRequest) -> Result<()> {
    let hosts = c.app_hosts();
    let r = &r;
    let results = c
        .on(&hosts, |h| async move {
            let mut out = vec![];
            for role in c.roles_on(&h) {
                let app = App::new(&c.config, Some(role), Some(&h));
                let options = LogsOptions {
                    container_id: r.container_id.clone().map(wharf_commands::ContainerId::Id).unwrap_or_default(),
                    timestamps: r.timestamps,
                    since: r.since.clone(),
                    lines: r
                        .lines
                        .map(|n| n.to_string())
                        .or_else(|| (r.since.is_none() && r.grep.is_none()).then(|| "100".to_string())),
                    grep: r.grep.clone(),
                    grep_options: r.grep_options.clone(),
                };
                let answer = c.query(&h, &app.logs(&options)).await?;
                out.push(if answer.success() {
                    answer.stdout_str().trim().to_string()
                } else {
                    "Nothing found".to_string()
                });
            }
            Ok(out)
        })
        .await?;
    for (h, texts) in results {
        for text in texts {
            output::by_host(&h, &text, c.global.quiet);
        }
    }
    Ok(())
}

/// `app stale_containers [--stop]`: containers of this service other than the running version.
pub async fn stale_containers(c: &Commander, stop: bool) -> Result<()> {
    stale_containers_keeping_warm(c, stop, 0).await
}

/// `deploy`'s stale containers step: as [`stale_containers`], except that the `warm` newest
/// stale versions of the roles behind the proxy keep running (Wharf's `x-wharf: warm_versions`:
/// see [`warm`]).
pub async fn stale_containers_keeping_warm(c: &Commander, stop: bool, warm: usize) -> Result<()> {
    let hosts = c.app_hosts();
    // Stopping the stale containers is held for the host's next exchange (`app boot`'s first).
    c.on_held(&hosts, |h| async move {
        for role in c.roles_on(&h) {
            let app = App::new(&c.config, Some(role), Some(&h));
            let (list, current) = (app.list_versions(&[], &[]), app.current_running_version());
            let answers = c.capture_all(&h, &[&list, &current]).await?;
            // Stopping stale versions does not change which one runs: `app boot` reuses it.
            c.remember(&h, &current, &answers[1]);
            let (versions, current) = (&answers[0], &answers[1]);
            // `docker ps` lists the newest first.
            let mut kept = 0;
            for version in versions.lines().filter(|v| !v.is_empty() && v != current) {
                if stop && kept < warm && warm::keeps(c, role, version) {
                    kept += 1;
                    output::by_host(
                        &h,
                        &format!("Keeping container for role {} with version {version} warm", role.name()),
                        c.global.quiet,
                    );
                    continue;
                }
                if stop {
                    output::by_host(
                        &h,
                        &format!("Stopping stale container for role {} with version {version}", role.name()),
                        c.global.quiet,
                    );
                    c.defer_unchecked(&h, &app.stop(Some(version)));
                } else {
                    output::by_host(
                        &h,
                        &format!(
                            "Detected stale container for role {} with version {version} (use `kamal app stale_containers --stop` to stop)",
                            role.name()
                        ),
                        c.global.quiet,
                    );
                }
            }
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// `app boot`: under the lock, boots `--version` or else the latest image (Kamal's
/// `version_or_latest`: `latest`, `latest-DEST` with a destination).
pub async fn boot_command(c: &Commander) -> Result<()> {
    lock::with_lock(c, || async {
        let version = match &c.global.version {
            Some(v) => v.clone(),
            None => {
                output::say("Get most recent version available as an image...");
                c.config.latest_tag()
            }
        };
        c.config.set_version(&version);
        boot::boot(c, &version).await
    })
    .await
}

/// `app logs --follow`: hands the terminal to `ssh -t` on the primary host, following the log of
/// the primary role's container there (or the first selected role's), from its last 10 lines
/// unless `--lines`, `--since` or `--grep` is given (Kamal's `follow_logs`).
pub fn follow_logs(c: &Commander, r: LogsRequest) -> Result<()> {
    let host = c.primary_host().ok_or_else(|| CliError::argument("No app hosts"))?;
    let role = match &c.global.roles {
        Some(_) => c.roles_on(&host).first().copied(),
        None => c.primary_role(),
    }
    .ok_or_else(|| CliError::argument(format!("No role to follow on {host}")))?;
    let lines = r.lines.map(|n| n.to_string()).or_else(|| (r.since.is_none() && r.grep.is_none()).then(|| "10".into()));
    let options = LogsOptions {
        container_id: r.container_id.map(wharf_commands::ContainerId::Id).unwrap_or_default(),
        timestamps: r.timestamps,
        since: None,
        lines,
        grep: r.grep,
        grep_options: r.grep_options,
    };
    let line = App::new(&c.config, Some(role), Some(&host)).follow_logs(&host, &options);
    output::line(&format!("  INFO Following logs on {host}..."));
    output::line(&format!("  INFO {line}"));
    c.hand_off(&host, &line)
}
