//! The deploy lock (Kamal's `with_lock`): a directory made atomically with `mkdir` on the primary
//! host, holding base64 details of who holds it. Held around every server-changing step, released
//! on failure too, waited for with `--lock-wait`.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::output;
use std::sync::atomic::Ordering;
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

/// The lock's `mkdir`, with who takes it, when, for which version and why.
fn lock_mkdir(c: &Commander, message: &str) -> wharf_commands::Cmd {
    Lock::new(&c.config).acquire(message, &c.config.version(), &c.user_name, &c.stamp().recorded_at)
}

/// What the lock's exchange answered: taken, held by someone else, or another error.
fn acquisition<T>(sent: Result<T>) -> Result<(), AcquireError> {
    match sent {
        Ok(_) => Ok(()),
        Err(e) if held_by_someone(&e) => Err(AcquireError::Held),
        Err(e) => Err(AcquireError::Other(e)),
    }
}

async fn try_acquire(c: &Commander, message: &str) -> Result<(), AcquireError> {
    let host = primary(c).map_err(AcquireError::Other)?;
    acquisition(c.exec(&host, &lock_mkdir(c, message)).await)
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
        Err(AcquireError::Held) => Err(held_error(c).await),
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
    crate::signals::LOCK_SECTIONS.fetch_add(1, Ordering::SeqCst);
    let result = held(c, f).await;
    crate::signals::LOCK_SECTIONS.fetch_sub(1, Ordering::SeqCst);
    result
}

fn interrupted_error(signal: &str) -> CliError {
    CliError::new("Interrupt", format!("Interrupted by {signal}: stopped cleanly, no server was left between versions"))
}

/// Runs `f` with the lock held (and counted in `LOCK_SECTIONS` by the caller), then releases it,
/// whether `f` succeeds, fails or is interrupted.
async fn held<F, Fut, T>(c: &Commander, f: F) -> Result<T>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let outcome = tokio::select! {
        r = f() => r,
        signal = crate::signals::interrupted() => Err(interrupted_error(signal)),
    };
    // Still counted as a lock section while releasing, so a second signal cannot cut the release.
    let (held, released) = release_after_held(c).await;
    // The first failure is the outcome: the step's, a held change's, then the release's.
    match (outcome, held) {
        (Ok(v), Ok(())) => released.map(|_| v),
        (Ok(_), Err(e)) | (Err(e), _) => {
            if let Err(release_error) = released {
                output::say_red(&format!("Error releasing the deploy lock: {release_error}"));
            }
            Err(e)
        }
    }
}

/// Kamal's `outside` step (the image's pull, before `with_lock`), then `inside` under the lock;
/// but the lock is taken on the primary while `outside` runs, in an exchange of its own, and
/// `ahead` (questions for `inside`, which nothing in `outside` changes) goes out as soon as it
/// is held, alongside `outside` too. The deploy's first change comes two round trips sooner.
///
/// What is reported, and what the servers are left with, are Kamal's:
/// - `outside` failing is the error, and the lock, if taken, is released;
/// - a lock held by someone else is reported once `outside` is done ("Acquiring the deploy
///   lock..." is shown there, in Kamal's order; with `-v` the lock's command shows when sent);
/// - an interrupt waits for the lock's exchange, releases the lock if it was taken, and stops.
///
/// When the lock is already held, or waited for (`--lock-wait`), this is `outside`, then
/// [`with_lock`] around `ahead` and `inside`.
pub async fn with_lock_alongside<O, OFut, A, AFut, F, Fut, T>(
    c: &Commander,
    outside: O,
    ahead: A,
    inside: F,
) -> Result<T>
where
    O: FnOnce() -> OFut,
    OFut: std::future::Future<Output = Result<()>>,
    A: FnOnce() -> AFut,
    AFut: std::future::Future<Output = Result<()>>,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    if c.holding_lock() || c.global.lock_wait {
        outside().await?;
        return with_lock(c, || async {
            ahead().await?;
            inside().await
        })
        .await;
    }
    crate::signals::LOCK_SECTIONS.fetch_add(1, Ordering::SeqCst);
    let result = match take_alongside(c, outside, ahead).await {
        Ok(()) => held(c, inside).await,
        Err(e) => Err(e),
    };
    crate::signals::LOCK_SECTIONS.fetch_sub(1, Ordering::SeqCst);
    result
}

/// The first part of [`with_lock_alongside`]: `outside`, the lock's exchange and then `ahead`,
/// together. `Ok` with the lock held and `ahead` answered; otherwise the lock is not held.
async fn take_alongside<O, OFut, A, AFut>(c: &Commander, outside: O, ahead: A) -> Result<()>
where
    O: FnOnce() -> OFut,
    OFut: std::future::Future<Output = Result<()>>,
    A: FnOnce() -> AFut,
    AFut: std::future::Future<Output = Result<()>>,
{
    let host = primary(c)?;
    let run_directory = wharf_commands::server::Server::new(&c.config).ensure_run_directory();
    let acquire = lock_mkdir(c, AUTOMATIC_DEPLOY_LOCK_MESSAGE);
    // Whether the lock's exchange went out: not when the pull is over before it could.
    let lock_sent = std::sync::atomic::AtomicBool::new(false);
    let lock = async {
        lock_sent.store(true, Ordering::SeqCst);
        acquisition(c.exec_apart(&host, &[&run_directory, &acquire]).await)
    };
    let outside = outside();
    let signal = crate::signals::interrupted();
    tokio::pin!(lock, outside, signal);
    let mut ahead = Some(ahead);
    let mut asking: std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + '_>> =
        Box::pin(std::future::pending());
    let (mut locked, mut outside_done, mut asked, mut stopped_by) = (None, None, None, None);
    loop {
        let ahead_pending = ahead.is_none() && asked.is_none();
        let outside_failed = matches!(outside_done, Some(Err(_)));
        let lock_known = locked.is_some() || !lock_sent.load(Ordering::SeqCst);
        if (lock_known && (stopped_by.is_some() || outside_failed))
            || (locked.is_some() && outside_done.is_some() && !ahead_pending)
        {
            break;
        }
        // In this order, so that runs are deterministic: the pull's first exchange is sent first
        // (then each host's time, by phase, lists the pull before the lock).
        tokio::select! {
            biased;
            r = &mut outside, if outside_done.is_none() && stopped_by.is_none() => outside_done = Some(r),
            r = &mut lock, if locked.is_none() => {
                if r.is_ok() {
                    c.set_holding_lock(true);
                    crate::events::lock(&host, true);
                    if stopped_by.is_none() {
                        if let Some(ahead) = ahead.take() {
                            asking = Box::pin(ahead());
                        }
                    }
                }
                locked = Some(r);
            }
            r = &mut asking, if ahead.is_none() && asked.is_none() => asked = Some(r),
            s = &mut signal, if stopped_by.is_none() => stopped_by = Some(s),
        }
    }
    let acquired = matches!(locked, Some(Ok(())));
    let failure = if let Some(signal) = stopped_by {
        Some(interrupted_error(signal))
    } else if let Some(Err(e)) = outside_done {
        Some(e)
    } else if let Some(Err(e)) = asked.filter(|_| acquired) {
        Some(e)
    } else {
        None
    };
    if let Some(e) = failure {
        if acquired {
            let (_, released) = release_after_held(c).await;
            if let Err(release_error) = released {
                output::say_red(&format!("Error releasing the deploy lock: {release_error}"));
            }
        }
        return Err(e);
    }
    output::say("Acquiring the deploy lock...");
    match locked {
        Some(Ok(())) => {
            // Kamal's `mkdir -p .kamal` on every host (the primary's went with the lock).
            for h in c.hosts().iter().filter(|h| **h != host) {
                c.defer(h, &run_directory);
            }
            Ok(())
        }
        Some(Err(AcquireError::Held)) => Err(held_error(c).await),
        Some(Err(AcquireError::Other(e))) => Err(e),
        None => unreachable!("with the pull done, the loop ends once the lock's exchange has answered"),
    }
}

/// Whether a failed `mkdir` of the lock means that someone else holds it.
fn held_by_someone(e: &CliError) -> bool {
    e.message.contains("cannot create directory") || e.message.contains("File exists")
}

/// Kamal's report of a lock held by someone else: who, then the error.
async fn held_error(c: &Commander) -> CliError {
    output::say_red("Deploy lock already in place!");
    match status(c).await {
        Ok(Some(s)) => output::line(&s),
        Ok(None) => {}
        Err(e) => return e,
    }
    CliError::lock("Deploy lock found. Run 'kamal lock help' for more information")
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
