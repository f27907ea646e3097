//! The server side of the command socket: one JSON request per connection, answered when the
//! action has finished (a deploy answers after health checks and drain).

use crate::router::Router;
use crate::rpc::{Request, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

pub fn listen(path: &Path, _router: Arc<Router>) -> anyhow::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(path);
    UnixListener::bind(path).map_err(|e| anyhow::anyhow!("listen unix {}: {e}", path.display()))
}

pub async fn serve(listener: UnixListener, router: Arc<Router>, shutdown: CancellationToken, path: PathBuf) {
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            a = listener.accept() => match a { Ok((s, _)) => s, Err(_) => continue },
        };
        let router = router.clone();
        tokio::spawn(async move {
            let _ = handle_connection(stream, router).await;
        });
    }
    let _ = std::fs::remove_file(path);
}

async fn handle_connection(stream: UnixStream, router: Arc<Router>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    let response = match serde_json::from_str::<Request>(&line) {
        Ok(request) => dispatch(request, &router).await,
        Err(e) => Response::Error(format!("bad request: {e}")),
    };
    let mut out = serde_json::to_vec(&response)?;
    out.push(b'\n');
    write.write_all(&out).await
}

async fn dispatch(request: Request, router: &Router) -> Response {
    let result = match request {
        Request::Deploy(args) => router.deploy(args).await,
        Request::Remove { service } => router.remove(&service).await,
        Request::List => return Response::List(router.list()),
        Request::Stats { service } => {
            return match router.stats(service.as_deref()) {
                Ok(stats) => Response::Stats(stats),
                Err(e) => Response::Error(e),
            }
        }
        Request::Pause { service, drain_timeout, pause_timeout } => {
            router.pause(&service, drain_timeout, pause_timeout).await
        }
        Request::Stop { service, drain_timeout, message } => router.stop(&service, drain_timeout, message).await,
        Request::Resume { service } => router.resume(&service).await,
        Request::RolloutDeploy(args) => router.rollout_deploy(args).await,
        Request::RolloutSet { service, percentage, allowlist } => {
            router.rollout_set(&service, percentage, allowlist).await
        }
        Request::RolloutStop { service } => router.rollout_stop(&service).await,
    };
    match result {
        Ok(()) => Response::Ok,
        Err(e) => Response::Error(e),
    }
}
