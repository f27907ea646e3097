//! The private wire between the `kamal-proxy` client commands and the running server: one JSON
//! request line over the Unix socket, one JSON response line back. Only the CLI's flags, output
//! and exit codes are a contract; this format is not.

use crate::duration::nanos;
use crate::options::{DeploymentOptions, ServiceOptions, TargetOptions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// `$KAMAL_PROXY_SOCKET`, else `$XDG_RUNTIME_DIR/kamal-proxy.sock`, else `/tmp/kamal-proxy.sock`.
pub fn socket_path() -> PathBuf {
    if let Some(p) = std::env::var_os("KAMAL_PROXY_SOCKET").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    runtime.join("kamal-proxy.sock")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployArgs {
    pub service: String,
    pub target_urls: Vec<String>,
    pub reader_urls: Vec<String>,
    pub service_options: ServiceOptions,
    pub target_options: TargetOptions,
    pub deployment_options: DeploymentOptions,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RolloutDeployArgs {
    pub service: String,
    pub target_urls: Vec<String>,
    pub reader_urls: Vec<String>,
    pub deployment_options: DeploymentOptions,
}

/// One per command-socket connection: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "method", content = "params")]
pub enum Request {
    Deploy(DeployArgs),
    Remove {
        service: String,
    },
    List,
    Pause {
        service: String,
        #[serde(with = "nanos")]
        drain_timeout: Duration,
        #[serde(with = "nanos")]
        pause_timeout: Duration,
    },
    Stop {
        service: String,
        #[serde(with = "nanos")]
        drain_timeout: Duration,
        message: String,
    },
    Resume {
        service: String,
    },
    RolloutDeploy(RolloutDeployArgs),
    RolloutSet {
        service: String,
        percentage: u8,
        allowlist: Vec<String>,
    },
    RolloutStop {
        service: String,
    },
    /// Wharf's: what each service's targets answered, per cohort (`kamal-proxy stats`).
    Stats {
        service: Option<String>,
    },
}

/// One row of `kamal-proxy list`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceDescription {
    pub host: String,
    pub path: String,
    pub tls: bool,
    pub target: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Response {
    Ok,
    List(BTreeMap<String, ServiceDescription>),
    Stats(BTreeMap<String, crate::cohort_stats::ServiceSnapshot>),
    Error(String),
}

/// Sends one request to the server and waits for its answer (deploys wait for health and drain).
pub async fn call(request: &Request) -> anyhow::Result<Response> {
    let path = socket_path();
    let stream = UnixStream::connect(&path)
        .await
        .map_err(|e| anyhow::anyhow!("dial unix {}: {}", path.display(), io_error_text(&e)))?;
    let (read, mut write) = stream.into_split();
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    write.write_all(&line).await?;
    let mut reader = BufReader::new(read);
    let mut answer = String::new();
    reader.read_line(&mut answer).await?;
    if answer.is_empty() {
        anyhow::bail!("connection is shut down");
    }
    Ok(serde_json::from_str(&answer)?)
}

fn io_error_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "connect: no such file or directory".into(),
        std::io::ErrorKind::ConnectionRefused => "connect: connection refused".into(),
        std::io::ErrorKind::PermissionDenied => "connect: permission denied".into(),
        _ => e.to_string(),
    }
}
