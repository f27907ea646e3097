//! Continuous HTTP/1.1 load for end-to-end tests on the hostlab: worker threads send GETs until
//! stopped, half of them on keep-alive connections (reconnecting when an answer says
//! `Connection: close`, as every client does) and half on a new connection per request. Every
//! request that does not get a 200 is a failure, with what happened, including a keep-alive
//! connection closed under a request (clients such as browsers retry those; this load does not,
//! so that a server that closes connections carelessly is seen).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running load; [`HttpLoad::stop`] ends it and says what it saw.
pub struct HttpLoad {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// What a load run saw.
#[derive(Debug)]
pub struct LoadOutcome {
    pub answered: usize,
    pub failures: Vec<String>,
}

impl HttpLoad {
    /// `workers` threads per address, GET `path` with `Host: host_header`; `timeout` is each
    /// request's limit (connect, write, read).
    pub fn start(addrs: &[SocketAddr], host_header: &str, path: &str, workers: usize, timeout: Duration) -> HttpLoad {
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(Mutex::new(vec![]));
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: wharf-load\r\n\r\n");
        let mut threads = vec![];
        for addr in addrs {
            for i in 0..workers {
                let keep_alive = i % 2 == 0;
                let (stop, answered, failures, request, addr) =
                    (stop.clone(), answered.clone(), failures.clone(), request.clone(), *addr);
                threads.push(std::thread::spawn(move || {
                    let mut conn: Option<BufReader<TcpStream>> = None;
                    while !stop.load(Ordering::Relaxed) {
                        let reused = conn.is_some();
                        match exchange(&mut conn, addr, &request, timeout) {
                            Ok(200) => {
                                answered.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(status) => failures.lock().unwrap().push(format!("{addr}: status {status}")),
                            Err(e) => {
                                let how = if reused { "on a kept-alive connection" } else { "on a new connection" };
                                failures.lock().unwrap().push(format!("{addr}: {e} ({how})"));
                                conn = None;
                            }
                        }
                        if !keep_alive {
                            conn = None;
                        }
                    }
                }));
            }
        }
        HttpLoad { stop, answered, failures, threads }
    }

    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> usize {
        self.failures.lock().unwrap().len()
    }

    /// Waits until `n` requests in all have been answered (or `limit` passes).
    pub fn until_answered(&self, n: usize, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        while self.answered() < n && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(self) -> LoadOutcome {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
        let failures = std::mem::take(&mut *self.failures.lock().unwrap());
        LoadOutcome { answered: self.answered.load(Ordering::Relaxed), failures }
    }
}

/// One request on `conn` (a new connection when there is none); the status. The connection is
/// kept for the next request unless the answer closes it.
fn exchange(
    conn: &mut Option<BufReader<TcpStream>>,
    addr: SocketAddr,
    request: &str,
    timeout: Duration,
) -> Result<u16, String> {
    if conn.is_none() {
        let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
        tcp.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        tcp.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
        let _ = tcp.set_nodelay(true);
        *conn = Some(BufReader::new(tcp));
    }
    let reader = conn.as_mut().expect("connected");
    reader.get_mut().write_all(request.as_bytes()).map_err(|e| format!("write: {e}"))?;
    let mut line = String::new();
    if reader.read_line(&mut line).map_err(|e| format!("read: {e}"))? == 0 {
        return Err("closed before answering".into());
    }
    let status: u16 =
        line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("status line {line:?}"))?;
    let (mut length, mut chunked, mut close) = (None, false, false);
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| format!("read head: {e}"))? == 0 {
            return Err("closed in the head".into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_ascii_lowercase());
        match name.as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.contains("chunked"),
            "connection" => close = value.contains("close"),
            _ => {}
        }
    }
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line).map_err(|e| format!("read chunk: {e}"))?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| format!("chunk size {line:?}"))?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).map_err(|e| format!("read chunk: {e}"))?;
            if size == 0 {
                break;
            }
        }
    } else if let Some(n) = length {
        let mut body = vec![0; n];
        reader.read_exact(&mut body).map_err(|e| format!("read body: {e}"))?;
    } else {
        let mut rest = vec![];
        reader.read_to_end(&mut rest).map_err(|e| format!("read body: {e}"))?;
        close = true;
    }
    if close {
        *conn = None;
    }
    Ok(status)
}
