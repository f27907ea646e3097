//! `wharf`: Kamal's CLI as one binary. Parses the command line (expanding deploy.yml aliases),
//! loads the configuration and secrets, and runs the command; errors print Kamal's
//! `ERROR (<Class>): <message>` and exit 1.

mod accessory;
mod app;
mod args;
mod assets;
mod boot;
mod build;
mod commander;
mod deploy;
mod error;
mod error_pages;
mod git;
mod hooks;
mod local;
mod local_registry;
mod lock;
mod output;
mod plugin_cmd;
mod plugins;
mod proxy_reboot;
mod secret_adapters;
mod signals;
mod ssl_certificates;

use args::*;
use clap::Parser;
use commander::Commander;
use error::{CliError, Result};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub const WHARF_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Secrets for the configuration, resolved once the secrets path is known.
struct LazySecrets(OnceLock<Arc<wharf_secrets::Secrets>>);

impl wharf_config::SecretLookup for LazySecrets {
    fn secret(&self, name: &str) -> std::result::Result<String, String> {
        match self.0.get() {
            Some(s) => s.get(name).map_err(|e| e.to_string()),
            None => Err(format!("Secret '{name}' not found")),
        }
    }
}

/// The project's `x-wharf` settings from the raw deploy.yml (for the secrets commands, which do
/// not validate the whole configuration); empty when there is no deploy.yml.
fn raw_extension(global: &Global, dir: &std::path::Path) -> Result<wharf_config::extension::WharfExtension> {
    let file = dir.join(&global.config_file);
    if !file.exists() {
        return Ok(Default::default());
    }
    let raw = load_raw(global, dir)?;
    Ok(wharf_config::extension::WharfExtension::parse(&raw)?)
}

/// deploy.yml (with `-d`) rendered and merged but not validated, its ERB's ENV changes applied.
fn load_raw(global: &Global, dir: &std::path::Path) -> Result<serde_yaml::Value> {
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let (raw, after) = wharf_config::load::load_raw_config_with_env(&wharf_config::LoadOptions {
        config_file: dir.join(&global.config_file),
        destination: global.destination.clone(),
        env: env.clone(),
        cache_renders: true,
        ..Default::default()
    })?;
    apply_erb_env_changes(&wharf_config::load::env_changes(&env, &after));
    Ok(raw)
}

/// Secrets of `path`, whose `$(kamal secrets fetch -a NAME ...)` use Kamal's adapters (built-in
/// plugins) and the secrets-adapter plugins of `ext`.
fn make_secrets(
    dir: &std::path::Path,
    path: &str,
    destination: Option<&str>,
    ext: &wharf_config::extension::WharfExtension,
) -> Arc<wharf_secrets::Secrets> {
    let fetcher: Arc<dyn wharf_secrets::cli::AdapterFetcher> =
        Arc::new(plugins::ConfiguredAdapters::new(dir, ext.clone()));
    Arc::new(
        wharf_secrets::Secrets::new(destination)
            .with_secrets_path(path)
            .with_base_dir(dir)
            .with_inline_hook(wharf_secrets::cli::inline_hook(fetcher)),
    )
}

/// Loads deploy.yml (with `-d`), wires secrets, sets the version (`--version`, `VERSION`, git).
fn load_config(
    global: &Global,
    dir: &std::path::Path,
) -> Result<(wharf_config::Configuration, Arc<wharf_secrets::Secrets>)> {
    let lazy = Arc::new(LazySecrets(OnceLock::new()));
    let options = wharf_config::LoadOptions {
        config_file: dir.join(&global.config_file),
        destination: global.destination.clone(),
        version: global.version.clone(),
        env: std::env::vars().collect(),
        secrets: lazy.clone(),
        cache_renders: true,
        probe_docker_arch: true,
        ..Default::default()
    };
    let config = wharf_config::Configuration::load(options)?;
    apply_erb_env_changes(config.erb_env_changes());
    let secrets = make_secrets(dir, &config.secrets_path(), global.destination.as_deref(), config.wharf());
    let _ = lazy.0.set(secrets.clone());
    if !config.has_version() {
        let version = git::version(dir, |used| config.builder().git_clone(used)).map_err(CliError::runtime)?;
        config.set_version(version);
    }
    Ok((config, secrets))
}

/// ENV changes made by deploy.yml's ERB (`Dotenv.load`, `ENV[...] =`) live on in Kamal's
/// process: its secrets, hooks and commands see them. Wharf applies them to its own environment.
fn apply_erb_env_changes(changes: &[(String, Option<String>)]) {
    for (name, value) in changes {
        match value {
            Some(v) => std::env::set_var(name, v),
            None => std::env::remove_var(name),
        }
    }
}

/// Kamal's aliases: a first word that is not a command but an alias in deploy.yml is replaced by
/// the alias's words.
fn expand_aliases(argv: Vec<String>) -> Vec<String> {
    // The first word that is neither an option nor an option's value.
    const WITH_VALUE: [&str; 12] = [
        "-c",
        "--config-file",
        "-d",
        "--destination",
        "-h",
        "--hosts",
        "-r",
        "--roles",
        "--version",
        "--lock-wait-timeout",
        "--lock-wait-interval",
        "-m",
    ];
    let mut first = None;
    let mut i = 1;
    while i < argv.len() {
        if WITH_VALUE.contains(&argv[i].as_str()) {
            i += 2;
            continue;
        }
        if !argv[i].starts_with('-') {
            first = Some(i);
            break;
        }
        i += 1;
    }
    let Some(first) = first else { return argv };
    let word = &argv[first];
    if wharf_config::validate::BUILT_IN_COMMANDS.contains(&word.as_str()) || word == "help" {
        return argv;
    }
    // Find -c / -d among the arguments to read the right config.
    let mut config_file = "config/deploy.yml".to_string();
    let mut destination = None;
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "-c" | "--config-file" if i + 1 < argv.len() => config_file = argv[i + 1].clone(),
            "-d" | "--destination" if i + 1 < argv.len() => destination = Some(argv[i + 1].clone()),
            a if a.starts_with("--config-file=") => config_file = a["--config-file=".len()..].to_string(),
            a if a.starts_with("--destination=") => destination = Some(a["--destination=".len()..].to_string()),
            _ => {}
        }
        i += 1;
    }
    let options = wharf_config::LoadOptions {
        config_file: PathBuf::from(config_file),
        destination,
        env: std::env::vars().collect(),
        cache_renders: true,
        ..Default::default()
    };
    let Ok(config) = wharf_config::Configuration::load(options) else { return argv };
    let Some(alias) = config.alias(word) else { return argv };
    let Ok(words) = wharf_secrets::shell::shellsplit(alias.command()) else { return argv };
    let mut out: Vec<String> = argv[..first].to_vec();
    out.extend(words);
    out.extend(argv[first + 1..].iter().cloned());
    out
}

fn main() {
    let argv = expand_aliases(std::env::args().collect());
    let cli = match Cli::try_parse_from(&argv) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let verbose = cli.global.verbose;
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::exit(0),
        Err(e) if e.exit_code.is_some() => std::process::exit(e.exit_code.unwrap_or(1)),
        Err(e) if e.uncaught => {
            eprintln!("{} ({})", e.message, e.class);
            std::process::exit(1);
        }
        Err(e) => {
            output::error(&e.class, &e.message);
            if verbose {
                eprintln!("  (run with the same arguments to retry)");
            }
            std::process::exit(1);
        }
    }
}

fn names(command: &Command) -> (&'static str, Option<&'static str>) {
    match command {
        Command::Setup(_) => ("setup", None),
        Command::Deploy(_) => ("deploy", None),
        Command::Redeploy(_) => ("redeploy", None),
        Command::Rollback { .. } => ("rollback", None),
        Command::Remove { .. } => ("remove", None),
        Command::App(_) => ("app", None),
        Command::Proxy(_) => ("proxy", None),
        Command::Accessory(_) => ("accessory", None),
        Command::Build(_) => ("build", None),
        Command::Lock(_) => ("lock", None),
        Command::Prune(_) => ("prune", None),
        Command::Registry(_) => ("registry", None),
        Command::Server(_) => ("server", None),
        _ => ("", None),
    }
}

fn plan_flag(command: &Command) -> bool {
    match command {
        Command::Setup(f) | Command::Deploy(f) | Command::Redeploy(f) => f.plan,
        Command::Rollback { plan, .. } | Command::Remove { plan, .. } => *plan,
        Command::App(AppCommand::Boot { plan }) => *plan,
        _ => false,
    }
}

async fn run(cli: Cli) -> Result<()> {
    signals::install_exit_outside_lock();
    let dir = std::env::current_dir()?;
    let global = cli.global.clone();
    // Commands that need no configuration.
    match &cli.command {
        Command::Version => {
            println!("{WHARF_VERSION}");
            return Ok(());
        }
        Command::Docs { section } => {
            let text = wharf_config::validate::doc(section.as_deref().unwrap_or("configuration")).ok_or_else(|| {
                CliError::argument(format!("No documentation found for {}", section.as_deref().unwrap_or("")))
            })?;
            println!("{text}");
            return Ok(());
        }
        Command::Init { .. } => return init(&dir),
        Command::External(words) => {
            return Err(CliError::new(
                "Thor::UndefinedCommandError",
                format!("Could not find command {:?}.", words.first().cloned().unwrap_or_default()),
            ));
        }
        Command::Secrets(cmd) => return secrets_command(&global, &dir, cmd),
        Command::Plugin(_) => {
            let Command::Plugin(cmd) = cli.command else { unreachable!() };
            return plugin_cmd::run(&global, &dir, cmd).await;
        }
        _ => {}
    }
    let (config, secrets) = load_config(&global, &dir)?;
    // Kamal reads `ssh.key_data` when it configures SSHKit, and `config` reads it again for its
    // output: each read warns once per inline key.
    let key_data_warnings = config.ssh().inline_key_data().len();
    let warn_key_data = || {
        for _ in 0..key_data_warnings {
            eprintln!("{}", wharf_config::model::KEY_DATA_DEPRECATION);
        }
    };
    warn_key_data();
    if let Command::Config = cli.command {
        warn_key_data();
        print!("{}", wharf_config::summary::config_yaml(&config)?);
        return Ok(());
    }
    let (command, subcommand) = names(&cli.command);
    let plan = plan_flag(&cli.command);
    let mut c = Commander::new(config, global, dir, secrets.clone(), command, subcommand, plan)?;
    // Every secret value is masked in everything Wharf prints.
    if let Ok(map) = secrets.to_map() {
        c.set_redactor(wharf_ssh::Redactor::new(map.iter().map(|(_, v)| v.to_string()).filter(|v| v.len() >= 3)));
    }
    if !plan {
        c.run_hook("pre-connect", &[])?;
    }
    let result = dispatch(&c, cli.command).await;
    if plan {
        c.print_plan();
    }
    c.pool.close().await;
    result
}

async fn dispatch(c: &Commander, command: Command) -> Result<()> {
    use deploy::DeployOptions;
    match command {
        Command::Setup(f) => {
            output::say("Ensure Docker is installed...");
            server_bootstrap(c).await?;
            deploy::deploy(
                c,
                DeployOptions { skip_push: f.skip_push, no_cache: f.no_cache, boot_accessories: true, redeploy: false },
            )
            .await
        }
        Command::Deploy(f) => {
            deploy::deploy(
                c,
                DeployOptions {
                    skip_push: f.skip_push,
                    no_cache: f.no_cache,
                    boot_accessories: false,
                    redeploy: false,
                },
            )
            .await
        }
        Command::Redeploy(f) => {
            deploy::deploy(
                c,
                DeployOptions { skip_push: f.skip_push, no_cache: f.no_cache, boot_accessories: false, redeploy: true },
            )
            .await
        }
        Command::Rollback { version, .. } => deploy::rollback(c, &version).await,
        Command::Remove { confirm, .. } => {
            confirming(confirm.confirmed || c.plan, "This will remove all containers and images. Are you sure?")?;
            deploy::remove(c).await
        }
        Command::Details => {
            proxy_details(c).await?;
            app::details(c).await?;
            if !c.config.accessories().is_empty() {
                accessory::details(c, "all").await?;
            }
            Ok(())
        }
        Command::Audit => {
            let auditor = wharf_commands::Auditor::new(&c.config, wharf_commands::tags::Details::new());
            c.print_by_host("App", &c.hosts(), &auditor.reveal(), true).await
        }
        Command::App(cmd) => match cmd {
            AppCommand::Boot { .. } => {
                let version = c.config.version();
                lock::with_lock(c, || boot::boot(c, &version)).await
            }
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
            AppCommand::StaleContainers { stop } => {
                if stop {
                    lock::with_lock(c, || deploy::stale_containers(c, true)).await
                } else {
                    deploy::stale_containers(c, false).await
                }
            }
            AppCommand::Images => app::images(c).await,
            AppCommand::Logs { flags, container_id } => {
                app::logs(c, flags.lines, flags.since, flags.grep, !flags.skip_timestamps, container_id).await
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
        },
        Command::Proxy(cmd) => match cmd {
            ProxyCommand::Boot => deploy::proxy_boot(c).await,
            ProxyCommand::Details => proxy_details(c).await,
            ProxyCommand::Remove { force } => deploy::proxy_remove(c, force).await,
            ProxyCommand::Start | ProxyCommand::Stop | ProxyCommand::Restart => proxy_start_stop(c, &cmd).await,
            ProxyCommand::Reboot { confirm, rolling } => {
                confirming(confirm.confirmed, "This will cause a brief outage on each host. Are you sure?")?;
                proxy_reboot::reboot(c, rolling).await
            }
            ProxyCommand::Logs { flags } => {
                let options = wharf_commands::proxy::ProxyLogsOptions {
                    timestamps: !flags.skip_timestamps,
                    since: flags.since,
                    lines: flags.lines.map(|n| n.to_string()),
                    grep: flags.grep,
                    grep_options: flags.grep_options,
                };
                // The logs command depends only on the options, not on the host.
                let host = c.proxy_hosts().first().cloned().unwrap_or_default();
                let cmd = wharf_commands::proxy::Proxy::new(&c.config, &host).logs(&options);
                c.print_by_host("Proxy", &c.proxy_hosts(), &cmd, false).await
            }
            ProxyCommand::RemoveContainer | ProxyCommand::RemoveImage | ProxyCommand::RemoveProxyDirectory => {
                lock::with_lock(c, || async {
                    c.on(&c.proxy_hosts(), |h| {
                        let cmd = &cmd;
                        async move {
                            let proxy = wharf_commands::proxy::Proxy::new(&c.config, &h);
                            let (line, step) = match cmd {
                                ProxyCommand::RemoveContainer => ("Removed proxy container", proxy.remove_container()),
                                ProxyCommand::RemoveImage => ("Removed proxy image", proxy.remove_image()),
                                _ => ("Removed proxy directory", proxy.remove_proxy_directory()),
                            };
                            c.audit(&h, None, line).await?;
                            c.exec_unchecked(&h, &step).await.map(|_| ())
                        }
                    })
                    .await?;
                    Ok(())
                })
                .await
            }
            other => Err(CliError::argument(format!("wharf proxy {other:?} is not implemented yet"))),
        },
        Command::Accessory(cmd) => match cmd {
            AccessoryCommand::Boot { name } => accessory::boot(c, &name).await,
            AccessoryCommand::Start { name } => accessory::start(c, &name).await,
            AccessoryCommand::Stop { name } => accessory::stop(c, &name).await,
            AccessoryCommand::Restart { name } => {
                accessory::stop(c, &name).await?;
                accessory::start(c, &name).await
            }
            AccessoryCommand::Reboot { name } => {
                accessory::remove(c, &name).await?;
                accessory::boot(c, &name).await
            }
            AccessoryCommand::Details { name } => accessory::details(c, &name).await,
            AccessoryCommand::Exec { name, cmd, reuse, .. } => accessory::exec(c, &name, &cmd, reuse).await,
            AccessoryCommand::Logs { name, flags } => {
                accessory::logs(c, &name, flags.lines, flags.since, flags.grep).await
            }
            AccessoryCommand::Remove { name, confirm } => {
                confirming(
                    confirm.confirmed,
                    "This will remove all containers, images and data directories for accessories. Are you sure?",
                )?;
                accessory::remove(c, &name).await
            }
            AccessoryCommand::Upload { name } => accessory::step(c, &name, accessory::Step::Upload).await,
            AccessoryCommand::Directories { name } => accessory::step(c, &name, accessory::Step::Directories).await,
            AccessoryCommand::PullImage { name } => accessory::step(c, &name, accessory::Step::PullImage).await,
            AccessoryCommand::RemoveContainer { name } => {
                accessory::step(c, &name, accessory::Step::RemoveContainer).await
            }
            AccessoryCommand::RemoveImage { name } => accessory::step(c, &name, accessory::Step::RemoveImage).await,
            AccessoryCommand::RemoveServiceDirectory { name } => {
                accessory::step(c, &name, accessory::Step::RemoveServiceDirectory).await
            }
            other => Err(CliError::argument(format!("wharf accessory {other:?} is not implemented yet"))),
        },
        Command::Build(cmd) => match cmd {
            BuildCommand::Deliver => build::deliver(c, false).await,
            BuildCommand::Push { no_cache, .. } => build::push(c, no_cache),
            BuildCommand::Pull => build::pull(c).await,
            other => Err(CliError::argument(format!("wharf build {other:?} is not implemented yet"))),
        },
        Command::Lock(cmd) => match cmd {
            LockCommand::Status => {
                match lock::status(c).await? {
                    Some(s) => println!("{s}"),
                    None => println!("There is no deploy lock"),
                }
                Ok(())
            }
            LockCommand::Acquire { message } => {
                lock::acquire(c, &message).await?;
                println!("Acquired the deploy lock");
                Ok(())
            }
            LockCommand::Release => {
                if lock::status(c).await?.is_none() {
                    println!("There is no deploy lock");
                    return Ok(());
                }
                lock::release(c).await?;
                println!("Released the deploy lock");
                Ok(())
            }
        },
        Command::Prune(cmd) => match cmd {
            PruneCommand::All => deploy::prune_all(c, None).await,
            PruneCommand::Containers { retain } => deploy::prune_all(c, retain.map(|r| r as u64)).await,
            PruneCommand::Images => deploy::prune_all(c, None).await,
        },
        Command::Registry(cmd) => local_registry::run(c, cmd).await,
        Command::Server(cmd) => match cmd {
            ServerCommand::Exec { cmd, .. } => {
                let line = cmd.join(" ");
                let hosts = c.hosts();
                output::say(&format!("Running '{line}' on {}...", hosts.join(", ")));
                for (h, out) in c
                    .on(&hosts, |h| {
                        let line = line.clone();
                        async move {
                            c.audit(&h, None, &format!("Executed cmd '{line}' on {h}")).await?;
                            c.capture(&h, &wharf_commands::Cmd::from_words([line.as_str()])).await
                        }
                    })
                    .await?
                {
                    output::by_host(&h, &out, c.global.quiet);
                }
                Ok(())
            }
            ServerCommand::Bootstrap => server_bootstrap(c).await,
        },
        other => Err(CliError::argument(format!("{other:?} is not implemented yet"))),
    }
}

fn confirming(confirmed: bool, question: &str) -> Result<()> {
    if confirmed {
        return Ok(());
    }
    use std::io::{BufRead, IsTerminal, Write};
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

/// `server bootstrap`: Docker must be installed (Wharf does not install it from the internet
/// unless the host can reach get.docker.com; the check is Kamal's), then the `docker-setup` hook.
async fn server_bootstrap(c: &Commander) -> Result<()> {
    let docker = wharf_commands::docker::Docker::new();
    let installed = docker.installed();
    let hosts = c.hosts();
    let missing: Vec<String> = c
        .on(&hosts, |h| {
            let installed = installed.clone();
            async move { Ok(c.pool.exec(&h, &installed.to_string()).await?.success()) }
        })
        .await?
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(h, _)| h)
        .collect();
    if !missing.is_empty() {
        let install = docker.install();
        c.on(&missing, |h| {
            let install = install.clone();
            async move { c.exec(&h, &install).await.map(|_| ()) }
        })
        .await?;
    }
    let server = wharf_commands::server::Server::new(&c.config);
    let ensure = server.ensure_run_directory();
    c.on(&hosts, |h| {
        let ensure = ensure.clone();
        async move { c.exec(&h, &ensure).await.map(|_| ()) }
    })
    .await?;
    c.run_hook("docker-setup", &[])?;
    Ok(())
}

async fn proxy_details(c: &Commander) -> Result<()> {
    let host = c.proxy_hosts().first().cloned().unwrap_or_default();
    c.print_by_host("Proxy", &c.proxy_hosts(), &wharf_commands::proxy::Proxy::new(&c.config, &host).info(), false).await
}

async fn proxy_start_stop(c: &Commander, cmd: &ProxyCommand) -> Result<()> {
    lock::with_lock(c, || async {
        c.on(&c.proxy_hosts(), |h| async move {
            let proxy = wharf_commands::proxy::Proxy::new(&c.config, &h);
            match cmd {
                ProxyCommand::Start => {
                    c.audit(&h, None, "Started proxy").await?;
                    c.exec(&h, &proxy.start()).await?;
                }
                ProxyCommand::Stop => {
                    c.audit(&h, None, "Stopped proxy").await?;
                    c.exec_unchecked(&h, &proxy.stop(None)).await?;
                }
                _ => {
                    c.audit(&h, None, "Restarted proxy").await?;
                    c.exec_unchecked(&h, &proxy.stop(None)).await?;
                    c.exec(&h, &proxy.start()).await?;
                }
            }
            Ok(())
        })
        .await?;
        Ok(())
    })
    .await
}

fn secrets_command(global: &Global, dir: &std::path::Path, cmd: &SecretsCommand) -> Result<()> {
    use wharf_secrets::cli;
    match cmd {
        SecretsCommand::Fetch { adapter, account, from, inline, secrets } => {
            let args = cli::FetchArgs {
                adapter: adapter.clone(),
                account: account.clone(),
                from: from.clone(),
                names: secrets.clone(),
                inline: *inline,
            };
            let fetcher = plugins::ConfiguredAdapters::new(dir, raw_extension(global, dir)?);
            match cli::fetch(&args, &fetcher).map_err(secret_adapters::cli_error)? {
                cli::FetchOutcome::Output(s) => println!("{s}"),
                cli::FetchOutcome::MissingAccount => println!("{}", cli::MISSING_ACCOUNT),
            }
            Ok(())
        }
        SecretsCommand::Extract { name, secrets, .. } => {
            println!("{}", cli::extract(name, secrets).map_err(|e| CliError::runtime(e.to_string()))?);
            Ok(())
        }
        SecretsCommand::Print => {
            let raw = load_raw(global, dir)?;
            let path = wharf_config::model::secrets_path_of(&raw);
            let ext = wharf_config::extension::WharfExtension::parse(&raw)?;
            let secrets = make_secrets(dir, &path, global.destination.as_deref(), &ext);
            print!("{}", cli::print_lines(&secrets.to_map()?));
            Ok(())
        }
    }
}

/// `init`: config/deploy.yml and .kamal/secrets stubs (Kamal's templates), unless present.
fn init(dir: &std::path::Path) -> Result<()> {
    let deploy = dir.join("config/deploy.yml");
    if deploy.exists() {
        println!("Config file already exists in config/deploy.yml (remove first to create a new one)");
    } else {
        std::fs::create_dir_all(dir.join("config"))?;
        std::fs::write(&deploy, include_str!("templates/deploy.yml"))?;
        println!("Created configuration file in config/deploy.yml");
    }
    let secrets = dir.join(".kamal/secrets");
    if !secrets.exists() {
        std::fs::create_dir_all(dir.join(".kamal/hooks"))?;
        std::fs::write(&secrets, include_str!("templates/secrets"))?;
        println!("Created .kamal/secrets file");
    }
    Ok(())
}
