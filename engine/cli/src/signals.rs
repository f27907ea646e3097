//! Ctrl-C and SIGTERM: a deploy stops at the next step boundary and cleans up (the lock is
//! released) instead of dying mid-way.

/// Resolves with the signal's name when the process is asked to stop.
pub async fn interrupted() -> &'static str {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}
