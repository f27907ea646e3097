//! Interrupts (SIGINT, SIGTERM) in the middle of a deploy, against the scripted
//! [`FakeExecutor`](wharf_deploy::execution::FakeExecutor). A binary of its own: a signal goes
//! to the whole process, and would stop the orchestration tests running beside it.

#[path = "orchestration/harness.rs"]
mod harness;

use harness::*;
use std::time::Duration;
use wharf_deploy::execution::FakeExecutor;
use wharf_deploy::main::{self as main_cmd, DeployOptions};

const ACQUIRE: &str = "mkdir .kamal/lock-app && echo \"";
const RELEASE: &str = "rm .kamal/lock-app/details && rm -r .kamal/lock-app";

fn deploy() -> Step {
    step(|c| {
        Box::pin(main_cmd::deploy(
            c,
            DeployOptions { skip_push: true, no_cache: false, boot_accessories: false, redeploy: false, canary: None },
        ))
    })
}

/// One test at a time: each one's signal reaches every deploy running in the process.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Sends `signal` to this process once `fake` has been sent a command starting with `sent`.
fn signal_after(fake: &FakeExecutor, sent: &'static str, signal: &'static str) -> std::thread::JoinHandle<()> {
    let fake = fake.clone();
    std::thread::spawn(move || {
        while !fake.commands().iter().any(|c| c.starts_with(sent)) {
            std::thread::sleep(Duration::from_millis(5));
        }
        // The deploy is listening for signals from the poll that sent the command.
        std::thread::sleep(Duration::from_millis(50));
        let pid = std::process::id().to_string();
        std::process::Command::new("kill").args([signal, &pid]).status().unwrap();
    })
}

/// The lock is taken while the image is pulled. A signal that arrives while the lock's answer
/// is still on its way waits for it: the lock was taken, so it is released, and nothing else
/// runs.
#[test]
fn an_interrupt_while_the_lock_is_being_taken_waits_for_it_and_releases_it() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let fake = FakeExecutor::new();
    fake.delay("mkdir .kamal/lock-app", Duration::from_millis(400));
    fake.delay("docker pull", Duration::from_millis(2000));
    let signal = signal_after(&fake, ACQUIRE, "-INT");
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy());
    signal.join().unwrap();
    let error = run.error();
    assert!(error.contains("Interrupted by SIGINT"), "{error}");
    let on = run.commands_on("1.1.1.1");
    let acquired = on.iter().position(|c| c.starts_with(ACQUIRE)).expect("the lock was taken");
    let released = on.iter().position(|c| c == RELEASE).unwrap_or_else(|| panic!("the lock was released: {on:?}"));
    assert!(acquired < released);
    for never in ["docker inspect", "docker run", "docker stop"] {
        run.never_ran(never);
    }
}

/// A signal during the pull, the lock held by someone else: nothing to release.
#[test]
fn an_interrupt_when_the_lock_is_held_by_someone_else_releases_nothing() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let fake = FakeExecutor::new();
    fake.delay("docker pull", Duration::from_millis(2000));
    fake.fails("mkdir .kamal/lock-app", 1, "mkdir: cannot create directory ‘.kamal/lock-app’: File exists");
    let signal = signal_after(&fake, "docker pull", "-TERM");
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy());
    signal.join().unwrap();
    assert!(run.error().contains("Interrupted by SIGTERM"), "{}", run.error());
    run.never_ran(RELEASE);
    run.never_ran("docker run");
}
