//! Kamal's local registry (`registry.server: localhost:PORT`): a `kamal-docker-registry`
//! container (`registry:3`) on the local docker, published on `127.0.0.1:PORT`. Images are
//! pushed to it from here; the servers pull `localhost:PORT/...` through SSH reverse tunnels
//! (`ssh -R 127.0.0.1:PORT:127.0.0.1:PORT`) that are open only while they pull (and, for a remote
//! builder, while it builds and pushes). There is no registry login in this mode.
//!
//! The tunnels' local end is this machine's `127.0.0.1:PORT`, as in Kamal (Net::SSH's
//! `forward.remote(port, "localhost", port)`). So the "local" docker must publish its ports on
//! this machine's loopback: a local dockerd or Docker Desktop does; a daemon elsewhere
//! (`DOCKER_HOST=ssh://...`, or a socket of a daemon in another network namespace) runs the
//! registry and receives the push, but the servers cannot reach it. Kamal then fails in the
//! servers' `docker pull`; Wharf checks the registry answers here before opening the tunnels
//! and says why when it does not.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::execution::Tunnel;
use crate::{local, output};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wharf_commands::registry::Registry;

/// How long the tunnels may take to open (Kamal's `ready.wait(30)`).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a freshly started registry may take to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// The local registry's port (`localhost:PORT`), when the registry is local.
pub fn port(c: &Commander) -> Option<u16> {
    let registry = c.config.registry();
    if registry.local() {
        registry.local_port()
    } else {
        None
    }
}

fn local_addr(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// `registry setup` for a local registry: `docker start kamal-docker-registry || docker run
/// --detach -p 127.0.0.1:PORT:5000 --name kamal-docker-registry registry:3` on the local docker
/// (idempotent), then waits (bounded) until it answers on `127.0.0.1:PORT`; if it never does, a
/// warning (the push may still work, it is the docker daemon that pushes; the servers' pulls
/// will not).
pub async fn setup(c: &Commander) -> Result<()> {
    let Some(port) = port(c) else { return Ok(()) };
    let setup = Registry::new(&c.config).setup(None);
    local::exec(c, &setup, &c.dir, &[])?;
    if c.plan {
        return Ok(());
    }
    if !wait_until_answers(port, READY_TIMEOUT).await {
        output::say_red(&format!("Warning: {}", unreachable_message(port)));
    }
    Ok(())
}

/// `registry remove` for a local registry: `docker stop kamal-docker-registry && docker rm
/// kamal-docker-registry` on the local docker; a missing container is not an error (Kamal's
/// `raise_on_non_zero_exit: false`).
pub fn remove(c: &Commander) -> Result<()> {
    let remove = Registry::new(&c.config).remove();
    let out = local::exec_unchecked(c, &remove, &c.dir)?;
    if !out.success && c.global.verbose {
        output::debug("local", out.stderr.trim());
    }
    Ok(())
}

/// Whether a registry answers HTTP on `127.0.0.1:port` (`GET /v2/`: any HTTP status will do, a
/// registry with auth answers 401). A bare TCP connect is not enough: docker-proxy accepts
/// connections for a container whose registry is not listening yet.
pub async fn answers(port: u16) -> bool {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(local_addr(port)).await.ok()?;
        let request = format!("GET /v2/ HTTP/1.0\r\nHost: localhost:{port}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        let mut read = 0;
        while read < head.len() {
            match stream.read(&mut head[read..]).await.ok()? {
                0 => break,
                n => read += n,
            }
        }
        Some(head[..read].starts_with(b"HTTP/1."))
    };
    matches!(tokio::time::timeout(Duration::from_secs(3), probe).await, Ok(Some(true)))
}

async fn wait_until_answers(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if answers(port).await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn unreachable_message(port: u16) -> String {
    let docker_host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    let why = match docker_host {
        Some(h) => format!(
            "DOCKER_HOST={h}: that docker daemon publishes the registry's port on its own machine \
             or network namespace, not on this machine's loopback"
        ),
        None => "run `kamal registry setup` (or `kamal build push`) first".to_string(),
    };
    format!(
        "The local registry does not answer on 127.0.0.1:{port} on this machine, and the servers \
         reach it only through SSH tunnels to that address ({why})"
    )
}

/// SSH reverse tunnels from `127.0.0.1:PORT` on some hosts to the local registry; closed by
/// [`Tunnels::close`] (or, less tidily, when dropped).
pub struct Tunnels {
    forwards: Vec<Box<dyn Tunnel>>,
}

impl Tunnels {
    /// No tunnels (not a local registry, or `--plan`).
    pub fn none() -> Tunnels {
        Tunnels { forwards: vec![] }
    }

    /// Cancels every forward and waits (bounded) for the servers to confirm, so the port is
    /// free again when this returns.
    pub async fn close(self) {
        let closing = self.forwards.into_iter().map(|f| async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), f.close()).await;
        });
        futures::future::join_all(closing).await;
    }
}

/// Kamal's `forward_local_registry_port(hosts)`: with a local registry, a reverse tunnel on each
/// of `hosts` (SSH host strings, `[user@]host[:port]`) from its `127.0.0.1:PORT` to this
/// machine's `127.0.0.1:PORT`; nothing otherwise. Fails (closing those already open) if the
/// registry does not answer here, or a tunnel cannot be opened within 30 seconds (e.g. the port is
/// taken on the server).
pub async fn forward(c: &Commander, hosts: &[String]) -> Result<Tunnels> {
    let Some(port) = port(c) else { return Ok(Tunnels::none()) };
    if c.plan || hosts.is_empty() {
        return Ok(Tunnels::none());
    }
    if !wait_until_answers(port, Duration::from_secs(3)).await {
        return Err(CliError::runtime(unreachable_message(port)));
    }
    output::say(&format!("Setting up local registry port forwarding to {}...", hosts.join(", ")));
    let opening = hosts.iter().map(|h| async move {
        let opened = tokio::time::timeout(FORWARD_TIMEOUT, c.forward_remote_port(h, port, local_addr(port))).await;
        let result = match opened {
            Ok(Ok(f)) => Ok(f),
            Ok(Err(e)) => Err(format!("{e}")),
            Err(_) => Err("timed out".to_string()),
        };
        (h.clone(), result)
    });
    let mut forwards = vec![];
    let mut failures = vec![];
    for (h, r) in futures::future::join_all(opening).await {
        match r {
            Ok(f) => {
                if c.global.verbose {
                    output::info(&h, &format!("Forwarding 127.0.0.1:{port} to the local registry"));
                }
                forwards.push(f)
            }
            Err(e) => failures.push(format!("Failed to establish port forward on {h}: {e}")),
        }
    }
    if !failures.is_empty() {
        Tunnels { forwards }.close().await;
        return Err(CliError::runtime(failures.join("\n")));
    }
    Ok(Tunnels { forwards })
}

/// Runs `f` with the local registry's port forwarded to `hosts` (see [`forward`]), closing the
/// tunnels afterwards whatever `f` returned.
pub async fn with_forwarded_port<T, Fut>(c: &Commander, hosts: &[String], f: impl FnOnce() -> Fut) -> Result<T>
where
    Fut: std::future::Future<Output = Result<T>>,
{
    let tunnels = forward(c, hosts).await?;
    let result = f().await;
    tunnels.close().await;
    result
}
