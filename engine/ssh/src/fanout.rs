//! Running something on many hosts at once, Kamal style: one task per host, wait for all,
//! report every failure.

use std::fmt::Display;
use std::future::Future;

use crate::error::FanOutError;

/// Runs `f(host)` for every host (duplicates removed, order kept), each in its own Tokio task,
/// waits for all of them, and returns every result in host order, or every failure.
///
/// Connection setup is bounded by the pool's `max_concurrent_starts`; the tasks themselves are
/// not (as SSHKit's `on(hosts)`). A panicking task panics the caller.
///
/// ```no_run
/// # async fn demo(pool: wharf_ssh::Pool) -> Result<(), Box<dyn std::error::Error>> {
/// let hosts = ["10.0.0.1", "10.0.0.2"];
/// let versions = wharf_ssh::fan_out(hosts, move |host| {
///     let pool = pool.clone();
///     async move { pool.capture(&host, "docker version -f '{{.Server.Version}}'").await }
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn fan_out<H, S, T, E, F, Fut>(hosts: H, f: F) -> Result<Vec<(String, T)>, FanOutError<E>>
where
    H: IntoIterator<Item = S>,
    S: Into<String>,
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Display + Send + 'static,
{
    let mut seen = std::collections::HashSet::new();
    let mut tasks = Vec::new();
    for h in hosts {
        let h: String = h.into();
        if seen.insert(h.clone()) {
            tasks.push((h.clone(), tokio::spawn(f(h))));
        }
    }
    let mut ok = Vec::new();
    let mut failures = Vec::new();
    for (host, task) in tasks {
        match task.await {
            Ok(Ok(v)) => ok.push((host, v)),
            Ok(Err(e)) => failures.push((host, e)),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("fan_out task for {host} was cancelled: {e}"),
        }
    }
    if failures.is_empty() {
        Ok(ok)
    } else {
        Err(FanOutError { failures })
    }
}
