//! A small, fast HTTP/1.1 backend for benchmarks and demos.
//!
//! Every path answers `200 OK` with a fixed body (default `ok\n`); `/up`
//! answers `200 OK` with `up\n` so `kamal-proxy deploy` health checks pass.
//! Connections are kept alive; the runtime is multi-threaded.
//!
//! ```text
//! cargo run --release -p wharf-proxy --example backend -- --port 3000 --body hello
//! ```
//!
//! Options:
//!   --port N       port to listen on (default 3000)
//!   --bind ADDR    address to bind (default 127.0.0.1; use 0.0.0.0 in a container)
//!   --body TEXT    response body for every path but /up (default "ok\n")
//!   --threads N    tokio worker threads (default: number of CPUs)
//!   --quiet        do not print the "listening on" line

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const USAGE: &str = "usage: backend [--port N] [--bind ADDR] [--body TEXT] [--threads N] [--quiet]";

struct Args {
    port: u16,
    bind: String,
    body: String,
    threads: Option<usize>,
    quiet: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args =
        Args { port: 3000, bind: "127.0.0.1".to_string(), body: "ok\n".to_string(), threads: None, quiet: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline.clone().or_else(|| it.next()).ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--port" | "-p" => {
                let v = value("--port")?;
                args.port = v.parse().map_err(|_| format!("bad --port {v:?}\n{USAGE}"))?;
            }
            "--bind" | "--host" => args.bind = value("--bind")?,
            "--body" => args.body = value("--body")?,
            "--threads" => {
                let v = value("--threads")?;
                let n: usize = v.parse().map_err(|_| format!("bad --threads {v:?}\n{USAGE}"))?;
                if n == 0 {
                    return Err(format!("--threads must be at least 1\n{USAGE}"));
                }
                args.threads = Some(n);
            }
            "--quiet" | "-q" => args.quiet = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = args.threads {
        rt.worker_threads(n);
    }
    let rt = rt.build().expect("build tokio runtime");
    if let Err(e) = rt.block_on(serve(args)) {
        eprintln!("backend: {e}");
        std::process::exit(1);
    }
}

async fn serve(args: Args) -> std::io::Result<()> {
    let ip: std::net::IpAddr = args
        .bind
        .parse()
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("bad --bind {:?}", args.bind)))?;
    let listener = TcpListener::bind(SocketAddr::new(ip, args.port)).await?;
    if !args.quiet {
        println!("backend listening on http://{}", listener.local_addr()?);
    }

    // Bodies are `Bytes`: cloning one per response is a refcount bump.
    let body = Bytes::from(args.body);
    let up = Bytes::from_static(b"up\n");

    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                eprintln!("backend: accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        let up = up.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let bytes = if req.uri().path() == "/up" { up.clone() } else { body.clone() };
                async move {
                    let mut resp = Response::new(Full::new(bytes));
                    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
                    Ok::<_, Infallible>(resp)
                }
            });
            // Errors here are client resets/timeouts: nothing useful to report.
            let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}
