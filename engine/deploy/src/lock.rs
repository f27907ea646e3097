//! The deploy lock (Kamal's `with_lock`): a directory made atomically with `mkdir` on the primary
//! host, holding base64 details of who holds it. Held around every server-changing step, released
//! on failure too, waited for with `--lock-wait`.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::output;
use std::time::{Duration, Instant};
use wharf_commands::lock::Lock;

pub const AUTOMATIC_DEPLOY_LOCK_MESSAGE: &str = "Automatic deploy lock";

enum AcquireError {
    Held,
    Other(CliError),
}

fn primary(c: &Commander) -> Result<String> {
    c.primary_host().ok_or_else(|| CliError::argument("No primary host"))
}

async fn try_acquire(c: &Commander, message: &str) -> Result<(), AcquireError> {
    let host = primary(c).map_err(AcquireError::Other)?;
    let locked_at = c.stamp().recorded_at;
    let cmd = Lock::new(&c.config).acquire(message, &c.config.version(), &c.user_name, &locked_at);
    match c.exec(&host, &cmd).await {
        Ok(_) => Ok(()),
        Err(e) if e.message.contains("cannot create directory") || e.message.contains("File exists") => {
            Err(AcquireError::Held)
        }
        Err(e) => Err(AcquireError::Other(e)),
    }
}

pub async fn status(c: &Commander) -> Result<Option<String>> {
    let host = primary(c)?;
    let out = c.capture_unchecked(&host, &Lock::new(&c.config).status()).await?;
    Ok((!out.is_empty()).then_some(out))
}

/// `mkdir -p .kamal` on every host, sent with each host's next exchange (the primary's is
/// the lock itself).
fn ensure_run_directory(c: &Commander) {
    let cmd = wharf_commands::server::Server::new(&c.config).ensure_run_directory();
    for h in c.hosts() {
        c.defer(&h, &cmd);
    }
}

pub async fn acquire(c: &Commander, message: &str) -> Result<()> {
    ensure_run_directory(c);
    if c.global.lock_wait {
        return acquire_with_wait(c, message).await;
    }
    output::say("Acquiring the deploy lock...");
    match try_acquire(c, message).await {
        Ok(()) => {
            c.set_holding_lock(true);
            crate::events::lock(&primary(c)?, true);
            Ok(())
        }
        Err(AcquireError::Held) => {
            output::say_red("Deploy lock already in place!");
            if let Some(s) = status(c).await? {
                output::line(&s);
            }
            Err(CliError::lock("Deploy lock found. Run 'kamal lock help' for more information"))
        }
        Err(AcquireError::Other(e)) => Err(e),
    }
}

async fn acquire_with_wait(c: &Commander, message: &str) -> Result<()> {
    let timeout = c.global.lock_wait_timeout;
    let interval = c.global.lock_wait_interval.max(1);
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let mut details_shown = false;
    output::say(&format!("Acquiring the deploy lock (waiting up to {timeout}s)..."));
    loop {
        match try_acquire(c, message).await {
            Ok(()) => {
                c.set_holding_lock(true);
                crate::events::lock(&primary(c)?, true);
                return Ok(());
            }
            Err(AcquireError::Other(e)) => return Err(e),
            Err(AcquireError::Held) => {}
        }
        if !details_shown {
            let s = status(c).await?.unwrap_or_default();
            output::say("Deploy lock is held by:");
            output::line(&s);
            if !s.contains(AUTOMATIC_DEPLOY_LOCK_MESSAGE) {
                return Err(CliError::lock(
                    "Deploy lock held manually, not waiting. Run 'kamal lock help' for more information",
                ));
            }
            details_shown = true;
        }
        let remaining = deadline.saturating_duration_since(Instant::now()).as_secs();
        if remaining == 0 {
            output::say_red(&format!("Timed out after {timeout}s waiting for the deploy lock"));
            return Err(CliError::lock("Timed out waiting for deploy lock"));
        }
        output::say(&format!("Retrying in {interval}s ({remaining}s remaining)..."));
        tokio::time::sleep(Duration::from_secs(interval.min(remaining))).await;
    }
}

pub async fn release(c: &Commander) -> Result<()> {
    let (held, released) = release_after_held(c).await;
    held.and(released)
}

/// Releases the lock (at the end of [`with_lock`], and [`release`]): the changes still held (see
/// `Commander::on_held`) go out first, the primary's in the same exchange as the release, which
/// happens whether they succeed or not. Returns how the held changes went, then the release.
async fn release_after_held(c: &Commander) -> (Result<()>, Result<()>) {
    output::say("Releasing the deploy lock...");
    let host = match primary(c) {
        Ok(h) => h,
        Err(e) => return (Ok(()), Err(e)),
    };
    let release = Lock::new(&c.config).release();
    let (others, (primary_held, released)) =
        tokio::join!(c.flush_all_but(Some(&host)), c.exec_after_held(&host, &release));
    if released.is_ok() {
        c.set_holding_lock(false);
        crate::events::lock(&host, false);
    }
    (primary_held.and(others), released.map(drop))
}

/// Runs `f` holding the lock (unless already held: nested steps and `KAMAL_LOCK=true`). The lock
/// is released when `f` fails, and when the process is interrupted (Ctrl-C, SIGTERM) mid-way.
pub async fn with_lock<F, Fut, T>(c: &Commander, f: F) -> Result<T>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    if c.holding_lock() {
        return f().await;
    }
    acquire(c, AUTOMATIC_DEPLOY_LOCK_MESSAGE).await?;
    crate::signals::LOCK_SECTIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let outcome = tokio::select! {
        r = f() => r,
        signal = crate::signals::interrupted() => Err(CliError::new("Interrupt", format!("Interrupted by {signal}: stopped cleanly, no server was left between versions"))),
    };
    // Still counted as a lock section while releasing, so a second signal cannot cut the release.
    let (held, released) = release_after_held(c).await;
    // The first failure is the outcome: the step's, a held change's, then the release's.
    let result = match (outcome, held) {
        (Ok(v), Ok(())) => released.map(|_| v),
        (Ok(_), Err(e)) | (Err(e), _) => {
            if let Err(release_error) = released {
                output::say_red(&format!("Error releasing the deploy lock: {release_error}"));
            }
            Err(e)
        }
    };
    crate::signals::LOCK_SECTIONS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    result
}

/// `lock status`: who holds the lock, or that there is none.
pub async fn status_command(c: &Commander) -> Result<()> {
    match status(c).await? {
        Some(s) => output::line(&s),
        None => output::line("There is no deploy lock"),
    }
    Ok(())
}

/// `lock acquire -m MESSAGE`.
pub async fn acquire_command(c: &Commander, message: &str) -> Result<()> {
    acquire(c, message).await?;
    output::line("Acquired the deploy lock");
    Ok(())
}

/// `lock release`: releases the lock if there is one.
pub async fn release_command(c: &Commander) -> Result<()> {
    if status(c).await?.is_none() {
        output::line("There is no deploy lock");
        return Ok(());
    }
    release(c).await?;
    output::line("Released the deploy lock");
    Ok(())
}
