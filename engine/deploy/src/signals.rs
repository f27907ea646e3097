//! Ctrl-C and SIGTERM. Inside the deploy lock, a command stops at once and cleans up (the lock is
//! released; traffic stays on whichever version the proxy serves). Outside it, the process exits
//! at once with status 130, as an uncaught signal would.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many lock sections are running (they handle the signal themselves).
pub static LOCK_SECTIONS: AtomicUsize = AtomicUsize::new(0);

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

/// Exits on a signal that arrives while no lock section is running.
pub fn install_exit_outside_lock() {
    tokio::spawn(async {
        loop {
            let signal = interrupted().await;
            if LOCK_SECTIONS.load(Ordering::SeqCst) == 0 {
                eprintln!("Interrupted by {signal}");
                std::process::exit(130);
            }
        }
    });
}
