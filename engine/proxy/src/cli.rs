//! The `kamal-proxy` command line, flag for flag as upstream's (cobra/pflag): Go booleans
//! (`--tls`, `--tls-redirect=false`), Go durations, comma-separated repeatable lists, the same
//! defaults and validation messages, `Error: ...` on stderr and exit code 1 on failure.

use crate::duration;
use crate::options::*;
use crate::rpc::{self, DeployArgs, Request, Response, RolloutDeployArgs};
use clap::{Args, Parser, Subcommand};
use std::time::Duration;

fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing \"{s}\": invalid syntax")),
    }
}

fn go_duration(s: &str) -> Result<Duration, String> {
    duration::parse(s)
}

#[derive(Parser, Debug)]
#[command(name = "kamal-proxy", about = "HTTP proxy for zero downtime deployments", disable_version_flag = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Parsed once per process: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server
    Run(RunArgs),
    /// Deploy a target host
    Deploy(DeployFlags),
    /// Remove the service
    #[command(alias = "rm")]
    Remove { service: String },
    /// List the services currently running
    #[command(alias = "ls")]
    List,
    /// Pause a service
    Pause(PauseFlags),
    /// Stop a service
    Stop(StopFlags),
    /// Resume a service
    Resume { service: String },
    /// Manage rollout settings
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// Show what each service's targets answered, rollout cohort apart, as JSON (Wharf)
    Stats {
        /// Only this service
        service: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Include debugging logs
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub debug: Option<bool>,
    /// Port to serve HTTP traffic on
    #[arg(long)]
    pub http_port: Option<u16>,
    /// Port to serve HTTPS traffic on
    #[arg(long)]
    pub https_port: Option<u16>,
    /// Publish metrics on the specified port (default zero to disable)
    #[arg(long)]
    pub metrics_port: Option<u16>,
    /// Enable HTTP/3 (accepted for compatibility; this proxy serves HTTP/1.1 and HTTP/2)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, default_value = "false")]
    pub http3: bool,
    /// Time a client has to send a request's headers, from the connection's start or the request's first byte (default 60s; 0 = no limit)
    #[arg(long, value_parser = go_duration)]
    pub http_header_timeout: Option<Duration>,
    /// Time a keep-alive connection may stay idle between requests (default 75s; 0 = no limit)
    #[arg(long, value_parser = go_duration)]
    pub http_idle_timeout: Option<Duration>,
    /// Longest pause allowed while a client sends a request body; the request then gets 408 (default 60s; 0 = no limit)
    #[arg(long, value_parser = go_duration)]
    pub http_body_timeout: Option<Duration>,
    /// Longest time a client may take none of a response before it is disconnected (default 60s; 0 = no limit)
    #[arg(long, value_parser = go_duration)]
    pub http_write_timeout: Option<Duration>,
    /// Maximum open client connections; at the limit the longest-idle one is closed for a new one (default 16384, fewer if the open-files limit is lower; 0 = no limit)
    #[arg(long)]
    pub max_connections: Option<usize>,
}

/// Upstream reads `KAMAL_PROXY_<KEY>`, then `<KEY>`; unparsable values fall back to the default.
fn env_value(key: &str) -> Option<String> {
    std::env::var(format!("KAMAL_PROXY_{key}")).ok().or_else(|| std::env::var(key).ok())
}

impl RunArgs {
    pub fn debug(&self) -> bool {
        self.debug.unwrap_or_else(|| env_value("DEBUG").and_then(|v| go_bool(&v).ok()).unwrap_or(false))
    }
    pub fn http_port(&self) -> u16 {
        self.http_port.unwrap_or_else(|| env_value("HTTP_PORT").and_then(|v| v.parse().ok()).unwrap_or(80))
    }
    pub fn https_port(&self) -> u16 {
        self.https_port.unwrap_or_else(|| env_value("HTTPS_PORT").and_then(|v| v.parse().ok()).unwrap_or(443))
    }
    pub fn metrics_port(&self) -> u16 {
        self.metrics_port.unwrap_or_else(|| env_value("METRICS_PORT").and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// The connection limits: each flag, else its environment variable, else the default.
    /// `fd_budget`: how many connections the open-files limit leaves room for (caps the default).
    pub fn limits(&self, fd_budget: Option<usize>) -> crate::limits::Limits {
        use crate::limits::*;
        let duration = |flag: Option<Duration>, key: &str, default: Duration| {
            flag.unwrap_or_else(|| env_value(key).and_then(|v| go_duration(&v).ok()).unwrap_or(default))
        };
        let default_max = DEFAULT_MAX_CONNECTIONS.min(fd_budget.unwrap_or(usize::MAX));
        Limits {
            header_timeout: duration(self.http_header_timeout, "HTTP_HEADER_TIMEOUT", DEFAULT_HEADER_TIMEOUT),
            idle_timeout: duration(self.http_idle_timeout, "HTTP_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT),
            body_timeout: duration(self.http_body_timeout, "HTTP_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT),
            write_timeout: duration(self.http_write_timeout, "HTTP_WRITE_TIMEOUT", DEFAULT_WRITE_TIMEOUT),
            max_connections: self
                .max_connections
                .unwrap_or_else(|| env_value("MAX_CONNECTIONS").and_then(|v| v.parse().ok()).unwrap_or(default_max)),
        }
    }
}

#[derive(Args, Debug)]
pub struct DeployFlags {
    pub service: String,
    /// Target host(s) to deploy
    #[arg(long = "target", value_delimiter = ',', required = true)]
    pub targets: Vec<String>,
    /// Read-only target host(s) to deploy
    #[arg(long = "read-target", value_delimiter = ',')]
    pub read_targets: Vec<String>,
    /// Host(s) to serve this target on (empty for wildcard)
    #[arg(long = "host", value_delimiter = ',')]
    pub hosts: Vec<String>,
    /// Deploy the service below the specified path(s)
    #[arg(long = "path-prefix", value_delimiter = ',')]
    pub path_prefixes: Vec<String>,
    /// With --path-prefix, strip prefix from request before forwarding
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, default_value = "true")]
    pub strip_path_prefix: bool,
    /// Configure TLS for this target (requires a non-empty host)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, default_value = "false")]
    pub tls: bool,
    /// Will make an HTTP request to the given URL, asking whether a host is allowed to have a certificate issued
    #[arg(long, default_value = "")]
    pub tls_on_demand_url: String,
    /// Use Let's Encrypt staging environment for certificate provisioning
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, default_value = "false")]
    pub tls_staging: bool,
    /// ACME directory URL (Wharf extension; default Let's Encrypt)
    #[arg(long, default_value = "")]
    pub tls_acme_directory: String,
    /// Configure custom TLS certificate path (PEM format)
    #[arg(long, default_value = "", requires = "tls_private_key_path")]
    pub tls_certificate_path: String,
    /// Configure custom TLS private key path (PEM format)
    #[arg(long, default_value = "", requires = "tls_certificate_path")]
    pub tls_private_key_path: String,
    /// Location to store ACME assets
    #[arg(long)]
    pub tls_acme_cache_path: Option<String>,
    /// Redirect HTTP traffic to HTTPS
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, default_value = "true")]
    pub tls_redirect: bool,
    /// Redirect all requests to this host (e.g., force root or www)
    #[arg(long, default_value = "")]
    pub canonical_host: String,
    /// Maximum time to wait for the new target to become healthy
    #[arg(long, value_parser = go_duration, default_value = "30s")]
    pub deploy_timeout: Duration,
    /// Maximum time to allow existing connections to drain before removing old target
    #[arg(long, value_parser = go_duration, default_value = "30s")]
    pub drain_timeout: Duration,
    /// Skip health checks and force deployment
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, default_value = "false")]
    pub force: bool,
    /// Interval between health checks
    #[arg(long, value_parser = go_duration, default_value = "1s")]
    pub health_check_interval: Duration,
    /// Time each health check must complete in
    #[arg(long, value_parser = go_duration, default_value = "5s")]
    pub health_check_timeout: Duration,
    /// Path to check for health
    #[arg(long, default_value = DEFAULT_HEALTH_CHECK_PATH)]
    pub health_check_path: String,
    /// Port to check for health (default matches target port)
    #[arg(long, default_value = "0")]
    pub health_check_port: u16,
    /// Host header to send with health check requests
    #[arg(long, default_value = "")]
    pub health_check_host: String,
    /// Time after a write before read requests will be routed to readers
    #[arg(long, value_parser = go_duration, default_value = "1s")]
    pub writer_affinity_timeout: Duration,
    /// Route WebSocket traffic to read targets, when available
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, default_value = "false")]
    pub read_target_websockets: bool,
    /// Maximum time to wait for the target server to respond when serving requests
    #[arg(long, value_parser = go_duration, default_value = "30s")]
    pub target_timeout: Duration,
    /// Buffer requests before forwarding to target
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub buffer_requests: Option<bool>,
    /// Buffer responses before forwarding to client
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub buffer_responses: Option<bool>,
    /// Max size of memory buffer
    #[arg(long, default_value_t = DEFAULT_MAX_MEMORY_BUFFER_SIZE)]
    pub buffer_memory: i64,
    /// Max size of request body when buffering (default of 0 means unlimited)
    #[arg(long)]
    pub max_request_body: Option<i64>,
    /// Max size of response body when buffering (default of 0 means unlimited)
    #[arg(long)]
    pub max_response_body: Option<i64>,
    /// Path to custom error pages
    #[arg(long, default_value = "")]
    pub error_pages: String,
    /// Additional request header to log (may be specified multiple times)
    #[arg(long = "log-request-header", value_delimiter = ',')]
    pub log_request_headers: Vec<String>,
    /// Additional response header to log (may be specified multiple times)
    #[arg(long = "log-response-header", value_delimiter = ',')]
    pub log_response_headers: Vec<String>,
    /// Request path(s) to exclude from Prometheus metrics (may be specified multiple times)
    #[arg(long = "exclude-metrics-path", value_delimiter = ',')]
    pub exclude_metrics_paths: Vec<String>,
    /// Forward X-Forwarded headers to target (default false if TLS enabled; otherwise true)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool)]
    pub forward_headers: Option<bool>,
    /// Request header containing the original client IP; used to populate X-Forwarded-For when present
    #[arg(long, default_value = "")]
    pub client_ip_header: String,
    /// Scope cookie paths to match path prefix
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_parser = go_bool, default_value = "false")]
    pub scope_cookie_paths: bool,
}

impl DeployFlags {
    /// Upstream's preRun checks, then the request to send.
    pub fn into_args(self) -> Result<DeployArgs, String> {
        if self.max_request_body.is_some() && self.buffer_requests.is_none() {
            return Err("max-request-body can only be set when request buffering is enabled".into());
        }
        if self.max_response_body.is_some() && self.buffer_responses.is_none() {
            return Err("max-response-body can only be set when response buffering is enabled".into());
        }
        let acme_directory = if self.tls_staging {
            crate::acme::LETS_ENCRYPT_STAGING.to_string()
        } else {
            self.tls_acme_directory.clone()
        };
        let service_options = ServiceOptions {
            hosts: self.hosts,
            path_prefixes: self.path_prefixes,
            tls_enabled: self.tls,
            tls_certificate_path: self.tls_certificate_path,
            tls_private_key_path: self.tls_private_key_path,
            tls_on_demand_url: self.tls_on_demand_url,
            tls_redirect: self.tls_redirect,
            canonical_host: self.canonical_host,
            acme_directory,
            acme_cache_path: self
                .tls_acme_cache_path
                .unwrap_or_else(|| crate::paths::certificate_dir().display().to_string()),
            error_page_path: self.error_pages,
            strip_prefix: self.strip_path_prefix,
            writer_affinity_timeout: self.writer_affinity_timeout,
            read_targets_accept_websockets: self.read_target_websockets,
            exclude_metrics_paths: self.exclude_metrics_paths,
            client_ip_header: self.client_ip_header,
        };
        service_options.validate().map_err(|e| e.to_string())?;
        if !service_options.tls_on_demand_url.is_empty() {
            return Err("TLS on-demand URLs are not supported by this proxy yet; use --host with --tls".into());
        }
        let target_options = TargetOptions {
            health_check_config: HealthCheckConfig {
                path: self.health_check_path,
                port: self.health_check_port,
                interval: self.health_check_interval,
                timeout: self.health_check_timeout,
                host: self.health_check_host,
            },
            response_timeout: self.target_timeout,
            buffer_requests: self.buffer_requests.unwrap_or(false),
            buffer_responses: self.buffer_responses.unwrap_or(false),
            max_memory_buffer_size: self.buffer_memory,
            max_request_body_size: self.max_request_body.unwrap_or(0),
            max_response_body_size: self.max_response_body.unwrap_or(0),
            log_request_headers: self.log_request_headers,
            log_response_headers: self.log_response_headers,
            forward_headers: self.forward_headers.unwrap_or(!self.tls),
            scope_cookie_paths: self.scope_cookie_paths,
        };
        Ok(DeployArgs {
            service: self.service,
            target_urls: self.targets,
            reader_urls: self.read_targets,
            service_options,
            target_options,
            deployment_options: DeploymentOptions {
                deploy_timeout: self.deploy_timeout,
                drain_timeout: self.drain_timeout,
                force: self.force,
            },
        })
    }
}

#[derive(Args, Debug)]
pub struct PauseFlags {
    pub service: String,
    /// How long to allow in-flight requests to complete
    #[arg(long, value_parser = go_duration, default_value = "30s")]
    pub drain_timeout: Duration,
    /// How long to enqueue requests before shedding load
    #[arg(long, value_parser = go_duration, default_value = "30s")]
    pub max_pause: Duration,
}

#[derive(Args, Debug)]
pub struct StopFlags {
    pub service: String,
    /// How long to allow in-flight requests to complete
    #[arg(long, value_parser = go_duration, default_value = "30s")]
    pub drain_timeout: Duration,
    /// Message to display to clients while stopped
    #[arg(long, default_value = "")]
    pub message: String,
}

#[derive(Subcommand, Debug)]
pub enum RolloutCommand {
    /// Deploy the rollout target
    Deploy {
        service: String,
        /// Target host(s) to deploy
        #[arg(long = "target", value_delimiter = ',', required = true)]
        targets: Vec<String>,
        /// Read-only target host(s) to deploy
        #[arg(long = "read-target", value_delimiter = ',')]
        read_targets: Vec<String>,
        /// Maximum time to wait for the new target to become healthy
        #[arg(long, value_parser = go_duration, default_value = "30s")]
        deploy_timeout: Duration,
        /// Maximum time to allow existing connections to drain before removing old target
        #[arg(long, value_parser = go_duration, default_value = "30s")]
        drain_timeout: Duration,
    },
    /// Set traffic split for rollout
    Set {
        service: String,
        /// Percentage of traffic to send to the new target
        #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
        percent: Option<u8>,
        /// Rollout to specific values
        #[arg(long, value_delimiter = ',')]
        list: Vec<String>,
    },
    /// Stops rollout of a service
    Stop { service: String },
}

/// Turns a client subcommand into its request; `Err` is a usage error to print.
pub fn request_for(command: Command) -> Result<Request, String> {
    Ok(match command {
        Command::Run(_) => unreachable!("run is not a client command"),
        Command::Deploy(flags) => Request::Deploy(flags.into_args()?),
        Command::Remove { service } => Request::Remove { service },
        Command::List => Request::List,
        Command::Stats { service } => Request::Stats { service },
        Command::Pause(p) => {
            Request::Pause { service: p.service, drain_timeout: p.drain_timeout, pause_timeout: p.max_pause }
        }
        Command::Stop(s) => Request::Stop { service: s.service, drain_timeout: s.drain_timeout, message: s.message },
        Command::Resume { service } => Request::Resume { service },
        Command::Rollout(RolloutCommand::Deploy { service, targets, read_targets, deploy_timeout, drain_timeout }) => {
            Request::RolloutDeploy(RolloutDeployArgs {
                service,
                target_urls: targets,
                reader_urls: read_targets,
                deployment_options: DeploymentOptions { deploy_timeout, drain_timeout, force: false },
            })
        }
        Command::Rollout(RolloutCommand::Set { service, percent, list }) => {
            if percent.is_none() && list.is_empty() {
                return Err("at least one of the flags in the group [percent list] is required".into());
            }
            Request::RolloutSet { service, percentage: percent.unwrap_or(0), allowlist: list }
        }
        Command::Rollout(RolloutCommand::Stop { service }) => Request::RolloutStop { service },
    })
}

/// Upstream's `list` table: italic header, bold service names, columns padded to width.
pub fn format_list(services: &std::collections::BTreeMap<String, rpc::ServiceDescription>) -> String {
    let mut rows =
        vec![vec!["Service".to_string(), "Host".into(), "Path".into(), "Target".into(), "State".into(), "TLS".into()]];
    for (name, s) in services {
        let tls = if s.tls { "yes" } else { "no" };
        rows.push(vec![name.clone(), s.host.clone(), s.path.clone(), s.target.clone(), s.state.clone(), tls.into()]);
    }
    let mut widths = [0; 6];
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.len());
        }
    }
    let mut out = String::new();
    for (r, row) in rows.iter().enumerate() {
        for (i, cell) in row.iter().enumerate() {
            let style = if r == 0 {
                "3;94"
            } else if i == 0 {
                "1;34"
            } else {
                ""
            };
            out.push_str(&format!("\x1b[{style}m{cell}\x1b[0m{}  ", " ".repeat(widths[i] - cell.len())));
        }
        out.push('\n');
    }
    out
}

/// Renders a clap error the way cobra does (`Error: unknown flag: --x`).
pub fn cobra_error(err: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join(", "),
        _ => String::new(),
    };
    match err.kind() {
        ErrorKind::UnknownArgument => {
            let arg = context(ContextKind::InvalidArg);
            if arg.starts_with('-') {
                format!("unknown flag: {}", arg.split('=').next().unwrap_or(&arg))
            } else {
                format!("unknown command \"{arg}\" for \"kamal-proxy\"")
            }
        }
        ErrorKind::InvalidSubcommand => {
            format!("unknown command \"{}\" for \"kamal-proxy\"", context(ContextKind::InvalidSubcommand))
        }
        ErrorKind::MissingRequiredArgument => {
            let missing = context(ContextKind::InvalidArg);
            let names: Vec<&str> = missing.split(", ").collect();
            if names.iter().any(|n| n.starts_with('<')) {
                return "accepts 1 arg(s), received 0".to_string();
            }
            let flags: Vec<String> = names
                .iter()
                .map(|m| m.trim_start_matches("--").split([' ', '[', '=']).next().unwrap_or("").to_string())
                .collect();
            let group = ["tls-certificate-path", "tls-private-key-path"];
            if flags.len() == 1 && group.contains(&flags[0].as_str()) {
                return format!(
                    "if any flags in the group [{}] are set they must all be set; missing [{}]",
                    group.join(" "),
                    flags[0]
                );
            }
            let quoted: Vec<String> = flags.iter().map(|f| format!("\"{f}\"")).collect();
            format!("required flag(s) {} not set", quoted.join(", "))
        }
        ErrorKind::ValueValidation | ErrorKind::InvalidValue => {
            let arg = context(ContextKind::InvalidArg);
            let value = context(ContextKind::InvalidValue);
            let flag = arg.split([' ', '=', '[']).next().unwrap_or("").to_string();
            let source = std::error::Error::source(err).map(|s| s.to_string()).unwrap_or_default();
            format!("invalid argument \"{value}\" for \"{flag}\" flag: {source}")
        }
        _ => err.to_string().lines().next().unwrap_or("").trim_start_matches("error: ").to_string(),
    }
}

/// Runs a client command against the server; returns the process exit code.
pub async fn run_client(command: Command) -> i32 {
    let request = match request_for(command) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    match rpc::call(&request).await {
        Ok(Response::Ok) => 0,
        Ok(Response::List(services)) => {
            print!("{}", format_list(&services));
            0
        }
        Ok(Response::Stats(stats)) => match serde_json::to_string(&stats) {
            Ok(json) => {
                println!("{json}");
                0
            }
            Err(e) => {
                eprintln!("Error: {e}");
                1
            }
        },
        Ok(Response::Error(e)) => {
            eprintln!("Error: {e}");
            1
        }
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}
