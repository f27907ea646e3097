//! From a parsed command line to the deploy library: commands that need no project first, then
//! the project is loaded, a commander opened (over SSH, or planning with `--plan`), the
//! `pre-connect` hook run, and the command called.

use crate::args::*;
use std::io::{BufRead, IsTerminal, Write};
use wharf_deploy::main::{CanaryRequest, DeployOptions};
use wharf_deploy::{
    accessory, app, build, events, init, load, lock, main, output, plugins, progress, proxy, prune, registry, secrets,
    server, signals, upgrade, CliError, Commander, Result,
};

/// Kamal's `KAMAL_COMMAND` for hooks. Its `KAMAL_SUBCOMMAND` is read from the first Thor
/// invocation, which from the `kamal` binary is always the main command's: Kamal 2.11 never sets
/// it (checked with a hook that records its environment), so Wharf does not either.
fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Setup(_) => "setup",
        Command::Deploy(_) => "deploy",
        Command::Redeploy(_) => "redeploy",
        Command::Rollback { .. } => "rollback",
        Command::Remove { .. } => "remove",
        Command::App(_) => "app",
        Command::Proxy(_) => "proxy",
        Command::Accessory(_) => "accessory",
        Command::Build(_) => "build",
        Command::Lock(_) => "lock",
        Command::Canary(_) => "canary",
        Command::Promote => "promote",
        Command::Discard => "discard",
        Command::Prune(_) => "prune",
        Command::Registry(_) => "registry",
        Command::Server(_) => "server",
        Command::Details => "details",
        Command::Audit => "audit",
        _ => "",
    }
}

/// The long commands, which report their progress as events (`--output`, the live view): their
/// name in the stream and the format asked for.
fn long_command(command: &Command) -> Option<(&'static str, OutputFormatArg)> {
    let (name, flag) = match command {
        Command::Setup(f) => ("setup", &f.output),
        Command::Deploy(f) => ("deploy", &f.output),
        Command::Redeploy(f) => ("redeploy", &f.output),
        Command::Rollback { output, .. } => ("rollback", output),
        Command::Remove { output, .. } => ("remove", output),
        Command::App(AppCommand::Boot { output, .. }) => ("app boot", output),
        Command::Proxy(ProxyCommand::Boot { output }) => ("proxy boot", output),
        Command::Proxy(ProxyCommand::Reboot { output, .. }) => ("proxy reboot", output),
        Command::Accessory(AccessoryCommand::Boot { output, .. }) => ("accessory boot", output),
        Command::Accessory(AccessoryCommand::Reboot { output, .. }) => ("accessory reboot", output),
        Command::Prune(PruneCommand::All { output }) => ("prune all", output),
        Command::Prune(PruneCommand::Images { output }) => ("prune images", output),
        Command::Prune(PruneCommand::Containers { output, .. }) => ("prune containers", output),
        _ => return None,
    };
    Some((name, flag.output))
}

/// Whether `command` needs the version. Those that only read the servers do not: Kamal runs
/// them outside a git repository, where there is no version to compute (found by running each
/// of Kamal's commands there). Those that change anything audit it or take the deploy lock, and
/// both record the version.
fn version_need(command: &Command) -> load::VersionNeed {
    use load::VersionNeed::{Required, WhenUsed};
    match command {
        Command::Details | Command::Audit => WhenUsed,
        Command::Lock(LockCommand::Status | LockCommand::Release) => WhenUsed,
        Command::App(
            AppCommand::Containers
            | AppCommand::Details
            | AppCommand::Images
            | AppCommand::Logs { .. }
            | AppCommand::Version
            | AppCommand::StaleContainers { stop: false },
        ) => WhenUsed,
        Command::Proxy(ProxyCommand::Details | ProxyCommand::Logs { .. }) => WhenUsed,
        Command::Proxy(ProxyCommand::BootConfig { subcommand, .. }) if subcommand == "get" => WhenUsed,
        Command::Accessory(AccessoryCommand::Details { .. } | AccessoryCommand::Logs { .. }) => WhenUsed,
        _ => Required,
    }
}

fn plan_flag(command: &Command) -> bool {
    match command {
        Command::Setup(f) | Command::Deploy(f) | Command::Redeploy(f) => f.plan,
        Command::Rollback { plan, .. } | Command::Remove { plan, .. } => *plan,
        Command::App(AppCommand::Boot { plan, .. }) => *plan,
        _ => false,
    }
}

pub async fn run(cli: Cli) -> Result<()> {
    signals::install_exit_outside_lock();
    let dir = std::env::current_dir()?;
    let global = cli.global.options();
    match cli.command {
        // Commands that need no configuration.
        Command::Version => {
            output::line(crate::WHARF_VERSION);
            Ok(())
        }
        Command::Tree => {
            use clap::CommandFactory;
            output::raw(&crate::tree::render(&Cli::command()));
            Ok(())
        }
        Command::Completion { shell } => {
            use clap::CommandFactory;
            let shell = match shell {
                CompletionShell::Bash => clap_complete::Shell::Bash,
                CompletionShell::Zsh => clap_complete::Shell::Zsh,
                CompletionShell::Fish => clap_complete::Shell::Fish,
            };
            // Written whole, so a reader that stops early (`| head`) ends the output quietly
            // instead of a panic on the broken pipe.
            let mut script = vec![];
            clap_complete::generate(shell, &mut Cli::command(), "wharf", &mut script);
            use std::io::Write;
            match std::io::stdout().write_all(&script) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(CliError::argument(format!("writing the completion script: {e}")))
                }
                _ => Ok(()),
            }
        }
        Command::Docs { section } => {
            let section = section.as_deref().unwrap_or("configuration");
            let text = wharf_config::validate::doc(section)
                .ok_or_else(|| CliError::argument(format!("No documentation found for {section}")))?;
            output::line(text);
            Ok(())
        }
        Command::Init { .. } => init::init(&dir),
        Command::External(words) => Err(CliError::new(
            "Thor::UndefinedCommandError",
            format!("Could not find command {:?}.", words.first().cloned().unwrap_or_default()),
        )),
        Command::Secrets(cmd) => secrets_command(&global, &dir, cmd),
        Command::Plugin(cmd) => plugin_command(&global, &dir, cmd).await,
        Command::Config => {
            let (config, _) = load::load_config(&global, &dir, load::VersionNeed::Required)?;
            load::warn_inline_key_data(&config);
            load::warn_inline_key_data(&config);
            output::raw(&wharf_config::summary::config_yaml(&config)?);
            Ok(())
        }
        // Commands that act on the servers.
        command => {
            let plan = plan_flag(&command);
            let long = long_command(&command).filter(|_| !plan);
            let json = long.is_some_and(|(_, f)| f == OutputFormatArg::Json);
            if let Some((name, _)) = long {
                let format = if json { events::OutputFormat::Json } else { events::OutputFormat::Text };
                events::start_run(name, format, global.verbose);
            }
            let c = load::open(&global, dir, command_name(&command), None, plan, version_need(&command))?;
            if let Some((name, _)) = long {
                let hosts = c.hosts();
                events::configured(&c.config.service(), &c.config.version(), &hosts);
                progress::enable(name, &hosts, global.verbose, global.quiet, json);
            }
            if !plan {
                c.run_hook("pre-connect", &[])?;
            }
            let result = dispatch(&c, command).await;
            // Changes still held back (bookkeeping after a host's last exchange) go out now.
            let flushed = c.flush_all().await;
            c.print_plan();
            c.close().await;
            result.and(flushed)
        }
    }
}

async fn dispatch(c: &Commander, command: Command) -> Result<()> {
    let deploy_options = |f: &DeployFlags, redeploy: bool| -> Result<DeployOptions> {
        let canary = if f.no_switch {
            Some(CanaryRequest { no_switch: true, ..Default::default() })
        } else if f.canary.is_some() || !f.canary_list.is_empty() || f.canary_gate {
            let percent = match f.canary.as_deref() {
                None | Some("") => None,
                Some(p) => Some(wharf_deploy::canary::parse_percent(p)?),
            };
            Some(CanaryRequest { percent, list: f.canary_list.clone(), gate: f.canary_gate, no_switch: false })
        } else {
            None
        };
        Ok(DeployOptions { skip_push: f.skip_push, no_cache: f.no_cache, boot_accessories: false, redeploy, canary })
    };
    let fleet = match &command {
        Command::Setup(f) | Command::Deploy(f) | Command::Redeploy(f) => f.fleet_transaction,
        Command::Rollback { fleet_transaction, .. } => *fleet_transaction,
        _ => false,
    };
    if fleet {
        c.enable_fleet_transaction();
    }
    match command {
        Command::Setup(f) => {
            if f.canary.is_some() || !f.canary_list.is_empty() || f.canary_gate || f.no_switch {
                return Err(CliError::argument(
                    "setup boots the first version: --canary, --canary-list, --canary-gate and --no-switch are for deploy and redeploy",
                ));
            }
            main::setup(c, f.skip_push, f.no_cache).await
        }
        Command::Deploy(f) => main::deploy(c, deploy_options(&f, false)?).await,
        Command::Redeploy(f) => main::deploy(c, deploy_options(&f, true)?).await,
        Command::Promote => wharf_deploy::canary::promote(c).await,
        Command::Discard => wharf_deploy::canary::abort(c).await,
        Command::Canary(cmd) => match cmd {
            CanaryCommand::Status => wharf_deploy::canary::status(c).await,
            CanaryCommand::Promote => wharf_deploy::canary::promote(c).await,
            CanaryCommand::Abort => wharf_deploy::canary::abort(c).await,
        },
        Command::Rollback { version, .. } => main::rollback(c, &version).await,
        Command::Remove { confirm, .. } => {
            confirming(confirm.confirmed || c.plan, "This will remove all containers and images. Are you sure?")?;
            main::remove(c).await
        }
        Command::Details => main::details(c).await,
        Command::Audit => main::audit(c).await,
        Command::App(cmd) => app_command(c, cmd).await,
        Command::Proxy(cmd) => proxy_command(c, cmd).await,
        Command::Accessory(cmd) => accessory_command(c, cmd).await,
        Command::Build(cmd) => match cmd {
            BuildCommand::Deliver => build::deliver(c, false).await,
            BuildCommand::Push { output, no_cache } => build::push(c, &output, no_cache).await,
            BuildCommand::Pull => build::pull(c).await,
            BuildCommand::Create => build::create(c).await,
            BuildCommand::Remove => build::remove(c),
            BuildCommand::Details => build::details(c),
            BuildCommand::Dev { output, no_cache } => build::dev(c, &output, no_cache).await,
        },
        Command::Lock(cmd) => match cmd {
            LockCommand::Status => lock::status_command(c).await,
            LockCommand::Acquire { message } => lock::acquire_command(c, &message).await,
            LockCommand::Release => lock::release_command(c).await,
        },
        Command::Prune(cmd) => match cmd {
            PruneCommand::All { .. } | PruneCommand::Images { .. } => prune::all(c, None).await,
            PruneCommand::Containers { retain, .. } => prune::all(c, retain.map(|r| r as u64)).await,
        },
        Command::Registry(cmd) => {
            let (action, flags) = match cmd {
                RegistryCommand::Setup(f) => (registry::RegistryAction::Setup, f),
                RegistryCommand::Remove(f) => (registry::RegistryAction::Remove, f),
                RegistryCommand::Login(f) => (registry::RegistryAction::Login, f),
                RegistryCommand::Logout(f) => (registry::RegistryAction::Logout, f),
            };
            let flags = registry::RegistryFlags { skip_local: flags.skip_local, skip_remote: flags.skip_remote };
            registry::run(c, action, flags).await
        }
        Command::Upgrade { confirm, rolling } => {
            confirming(confirm.confirmed, "This will replace Traefik with kamal-proxy and restart all accessories")?;
            upgrade::upgrade(c, rolling).await
        }
        Command::Server(cmd) => match cmd {
            ServerCommand::Exec { cmd, .. } => server::exec(c, &cmd).await,
            ServerCommand::Bootstrap => server::bootstrap(c).await,
        },
        other => Err(CliError::argument(format!("{other:?} is not implemented yet"))),
    }
}

async fn app_command(c: &Commander, cmd: AppCommand) -> Result<()> {
    match cmd {
        AppCommand::Boot { .. } => app::boot_command(c).await,
        AppCommand::Start => app::start(c).await,
        AppCommand::Stop => app::stop(c).await,
        AppCommand::Details => app::details(c).await,
        AppCommand::Exec { interactive, reuse, env, detach, raw, cmd } => {
            let env = env
                .iter()
                .map(|kv| {
                    kv.split_once(':')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .ok_or_else(|| CliError::argument(format!("Expected KEY:VALUE for --env, got {kv}")))
                })
                .collect::<Result<Vec<_>>>()?;
            let cmd = if cmd.len() == 1 { wharf_secrets::shell::shellsplit(&cmd[0]).unwrap_or(cmd) } else { cmd };
            app::exec(c, app::ExecRequest { cmd, interactive, reuse, detach, raw, env }).await
        }
        AppCommand::Containers => app::containers(c).await,
        AppCommand::StaleContainers { stop: true } => lock::with_lock(c, || app::stale_containers(c, true)).await,
        AppCommand::StaleContainers { stop: false } => app::stale_containers(c, false).await,
        AppCommand::Images => app::images(c).await,
        AppCommand::Logs { flags, container_id } => {
            let follow = flags.follow;
            let request = app::LogsRequest {
                lines: flags.lines,
                since: flags.since,
                grep: flags.grep,
                grep_options: flags.grep_options,
                timestamps: !flags.skip_timestamps,
                container_id,
            };
            if follow {
                app::follow_logs(c, request)
            } else {
                app::logs_with(c, request).await
            }
        }
        AppCommand::Remove => app::remove(c).await,
        AppCommand::Live => app::live_or_maintenance(c, None).await,
        AppCommand::Maintenance { drain_timeout, message } => {
            app::live_or_maintenance(c, Some((drain_timeout, message))).await
        }
        AppCommand::Version => app::version(c).await,
        AppCommand::RemoveContainer { version } => app::remove_container(c, &version).await,
        AppCommand::RemoveContainers => app::remove_containers(c).await,
        AppCommand::RemoveImages => app::remove_images(c).await,
        AppCommand::RemoveAppDirectories => app::remove_app_directories(c).await,
    }
}

async fn proxy_command(c: &Commander, cmd: ProxyCommand) -> Result<()> {
    match cmd {
        ProxyCommand::Boot { .. } => proxy::boot(c).await,
        ProxyCommand::Details => proxy::details(c).await,
        ProxyCommand::Remove { force } => proxy::remove(c, force).await,
        ProxyCommand::Start => proxy::start_stop(c, proxy::StartStop::Start).await,
        ProxyCommand::Stop => proxy::start_stop(c, proxy::StartStop::Stop).await,
        ProxyCommand::Restart => proxy::start_stop(c, proxy::StartStop::Restart).await,
        ProxyCommand::Reboot { confirm, rolling, zero_downtime: false, .. } => {
            confirming(confirm.confirmed, "This will cause a brief outage on each host. Are you sure?")?;
            proxy::reboot::reboot(c, rolling).await
        }
        ProxyCommand::Reboot { confirm, rolling, zero_downtime: true, .. } => {
            confirming(
                confirm.confirmed,
                "This will replace the proxy on each host, handing its traffic over. Are you sure?",
            )?;
            proxy::handover::reboot(c, rolling).await
        }
        ProxyCommand::Upgrade { confirm, rolling } => {
            confirming(confirm.confirmed, "This will cause a brief outage on each host. Are you sure?")?;
            upgrade::proxy_upgrade(c, rolling).await
        }
        ProxyCommand::Logs { flags } => {
            let follow = flags.follow;
            let options = wharf_commands::proxy::ProxyLogsOptions {
                timestamps: !flags.skip_timestamps,
                since: flags.since,
                lines: flags.lines.map(|n| n.to_string()),
                grep: flags.grep,
                grep_options: flags.grep_options,
            };
            if follow {
                proxy::follow_logs(c, &options)
            } else {
                proxy::logs(c, &options).await
            }
        }
        ProxyCommand::RemoveContainer => proxy::remove_step(c, proxy::RemoveStep::Container).await,
        ProxyCommand::RemoveImage => proxy::remove_step(c, proxy::RemoveStep::Image).await,
        ProxyCommand::RemoveProxyDirectory => proxy::remove_step(c, proxy::RemoveStep::ProxyDirectory).await,
        ProxyCommand::BootConfig { subcommand, options } => {
            let subcommand = proxy::boot_config::Subcommand::parse(&subcommand, options.into())?;
            proxy::boot_config::boot_config(c, subcommand).await
        }
    }
}

async fn accessory_command(c: &Commander, cmd: AccessoryCommand) -> Result<()> {
    use accessory::Step;
    match cmd {
        AccessoryCommand::Boot { name, .. } => accessory::boot(c, &name).await,
        AccessoryCommand::Start { name } => accessory::start(c, &name).await,
        AccessoryCommand::Stop { name } => accessory::stop(c, &name).await,
        AccessoryCommand::Restart { name } => {
            accessory::stop(c, &name).await?;
            accessory::start(c, &name).await
        }
        AccessoryCommand::Reboot { name, .. } => accessory::reboot(c, &name).await,
        AccessoryCommand::Details { name } => accessory::details(c, &name).await,
        AccessoryCommand::Exec { name, cmd, reuse, interactive, raw } => {
            accessory::exec(c, &name, &cmd, accessory::ExecRequest { interactive, reuse, raw }).await
        }
        AccessoryCommand::Logs { name, flags } => {
            let follow = flags.follow;
            let options = wharf_commands::AccessoryLogsOptions {
                timestamps: !flags.skip_timestamps,
                since: flags.since,
                lines: flags.lines.map(|n| n.to_string()),
                grep: flags.grep,
                grep_options: flags.grep_options,
            };
            if follow {
                accessory::follow_logs(c, &name, &options)
            } else {
                accessory::logs_with(c, &name, &options).await
            }
        }
        AccessoryCommand::Remove { name, confirm } => {
            confirming(
                confirm.confirmed,
                &format!("This will remove all containers, images and data directories for {name}. Are you sure?"),
            )?;
            accessory::remove(c, &name).await
        }
        AccessoryCommand::Upload { name } => accessory::step(c, &name, Step::Upload).await,
        AccessoryCommand::Directories { name } => accessory::step(c, &name, Step::Directories).await,
        AccessoryCommand::PullImage { name } => accessory::step(c, &name, Step::PullImage).await,
        AccessoryCommand::RemoveContainer { name } => accessory::step(c, &name, Step::RemoveContainer).await,
        AccessoryCommand::RemoveImage { name } => accessory::step(c, &name, Step::RemoveImage).await,
        AccessoryCommand::RemoveServiceDirectory { name } => {
            accessory::step(c, &name, Step::RemoveServiceDirectory).await
        }
        AccessoryCommand::Upgrade { name, rolling, confirm } => {
            confirming(confirm.confirmed, "This will restart all accessories")?;
            upgrade::accessory_upgrade(c, &name, rolling).await
        }
    }
}

fn secrets_command(global: &wharf_deploy::GlobalOptions, dir: &std::path::Path, cmd: SecretsCommand) -> Result<()> {
    match cmd {
        SecretsCommand::Fetch { adapter, account, from, inline, secrets: names } => {
            let args = wharf_secrets::cli::FetchArgs { adapter, account, from, names, inline };
            secrets::fetch(global, dir, &args)
        }
        SecretsCommand::Extract { name, secrets, .. } => secrets::extract(&name, &secrets),
        SecretsCommand::Print => secrets::print(global, dir),
    }
}

async fn plugin_command(global: &wharf_deploy::GlobalOptions, dir: &std::path::Path, cmd: PluginCommand) -> Result<()> {
    use plugins::commands;
    match cmd {
        PluginCommand::List => commands::list(global, dir).await,
        PluginCommand::Inspect { plugin, sha256 } => commands::inspect(global, dir, &plugin, sha256).await,
        PluginCommand::Fetch => commands::fetch(global, dir).await,
        PluginCommand::Verify => commands::verify(global, dir).await,
        PluginCommand::Push { source, reference } => commands::push(dir, &source, &reference).await,
        PluginCommand::Pack { manifest, output } => commands::pack(dir, &manifest, output.as_deref()).await,
    }
}

/// Kamal's `yes?` for destructive commands: `-y` confirms; without a terminal it refuses.
fn confirming(confirmed: bool, question: &str) -> Result<()> {
    if confirmed {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::argument(format!("{question} (pass -y to confirm without a terminal)")));
    }
    print!("{question} [y, N] (N) ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() == "y" {
        Ok(())
    } else {
        Err(CliError::runtime("Aborted"))
    }
}
