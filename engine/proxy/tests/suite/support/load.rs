//! Continuous load on the proxy: workers send GETs in a loop until stopped, half of them on
//! keep-alive connections and half on a new connection per request, and every answer that is not
//! a 200 with an expected body is recorded (timeouts apart, as they point at a hang).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    failures: Arc<Mutex<Vec<String>>>,
    timeouts: Arc<AtomicUsize>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// What a load run saw.
#[derive(Debug)]
pub struct Outcome {
    pub ok: usize,
    pub timeouts: usize,
    pub failures: Vec<String>,
}

impl Load {
    /// `workers` loops on `url`, half on keep-alive connections; a 200 whose body is in `bodies`
    /// counts as answered. `timeout` is each request's client-side limit.
    pub fn start(url: &str, workers: usize, bodies: &[&str], timeout: Duration) -> Self {
        Self::spawn(url, workers, bodies, timeout, true)
    }

    /// `start`, with every request on a new connection (new visitors).
    pub fn start_fresh(url: &str, workers: usize, bodies: &[&str], timeout: Duration) -> Self {
        Self::spawn(url, workers, bodies, timeout, false)
    }

    fn spawn(url: &str, workers: usize, bodies: &[&str], timeout: Duration, keep_alive: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let failures = Arc::new(Mutex::new(vec![]));
        let timeouts = Arc::new(AtomicUsize::new(0));
        let bodies: Arc<Vec<String>> = Arc::new(bodies.iter().map(|b| b.to_string()).collect());
        let handles = (0..workers)
            .map(|i| {
                let mut builder = reqwest::Client::builder().timeout(timeout);
                if i % 2 == 1 || !keep_alive {
                    builder = builder.pool_max_idle_per_host(0);
                }
                let client = builder.build().unwrap();
                let (stop, ok, failures, timeouts, bodies, url) =
                    (stop.clone(), ok.clone(), failures.clone(), timeouts.clone(), bodies.clone(), url.to_string());
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let failure = match client.get(&url).send().await {
                            Ok(r) if r.status() == 200 => match r.text().await {
                                Ok(body) if bodies.contains(&body) => None,
                                Ok(body) => Some(format!("body {body:?}")),
                                Err(e) if e.is_timeout() => {
                                    timeouts.fetch_add(1, Ordering::Relaxed);
                                    Some(format!("timeout reading the body: {e:?}"))
                                }
                                Err(e) => Some(format!("reading the body: {e:?}")),
                            },
                            Ok(r) => Some(format!("status {}", r.status())),
                            Err(e) if e.is_timeout() => {
                                timeouts.fetch_add(1, Ordering::Relaxed);
                                Some(format!("timeout: {e:?}"))
                            }
                            Err(e) => Some(format!("error: {e:?}")),
                        };
                        match failure {
                            None => {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Some(f) => failures.lock().unwrap().push(f),
                        }
                    }
                })
            })
            .collect();
        Load { stop, ok, failures, timeouts, workers: handles }
    }

    pub fn answered(&self) -> usize {
        self.ok.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> usize {
        self.failures.lock().unwrap().len()
    }

    /// Waits until `n` requests have been answered (or `limit` passes).
    pub async fn until_answered(&self, n: usize, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        while self.answered() < n && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) -> Outcome {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            w.await.unwrap();
        }
        let failures = std::mem::take(&mut *self.failures.lock().unwrap());
        Outcome { ok: self.ok.load(Ordering::Relaxed), timeouts: self.timeouts.load(Ordering::Relaxed), failures }
    }
}
