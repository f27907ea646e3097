//! `lock status|acquire|release` (Kamal's test/cli/lock_test.rb).

use crate::harness::*;
use wharf_deploy::execution::FakeExecutor;
use wharf_deploy::lock;

const STATUS: &str = "stat .kamal/lock-app > /dev/null && cat .kamal/lock-app/details | base64 -d";
const RELEASE: &str = "rm .kamal/lock-app/details && rm -r .kamal/lock-app";

#[test]
fn status_asks_the_primary_host() {
    let fake = FakeExecutor::new();
    fake.stdout("stat .kamal/lock-app", "Locked by: Deployer at 2024-01-01T00:00:00Z\nVersion: 999\nMessage: Hotfix");
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "lock",
        defaults(),
        &fake,
        step(|c| Box::pin(lock::status_command(c))),
    );
    run.ok().prints("Locked by: Deployer at 2024-01-01T00:00:00Z").prints("Message: Hotfix");
    assert_eq!(run.commands_on("1.1.1.1"), vec![STATUS]);
    assert!(run.commands_on("1.1.1.2").is_empty());
}

#[test]
fn status_when_there_is_no_deploy_lock() {
    let fake = FakeExecutor::new();
    fake.fails("stat .kamal/lock-app", 1, "stat: cannot statx '.kamal/lock-app': No such file or directory");
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "lock",
        defaults(),
        &fake,
        step(|c| Box::pin(lock::status_command(c))),
    );
    run.ok().prints("There is no deploy lock");
}

#[test]
fn release() {
    let fake = FakeExecutor::new();
    fake.stdout("stat .kamal/lock-app", "Locked by: Deployer");
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "lock",
        defaults(),
        &fake,
        step(|c| Box::pin(lock::release_command(c))),
    );
    run.ok().prints("Releasing the deploy lock...").prints("Released the deploy lock");
    assert_eq!(run.commands_on("1.1.1.1"), vec![STATUS, RELEASE]);
}

#[test]
fn release_when_there_is_no_deploy_lock() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "lock",
        defaults(),
        &fake,
        step(|c| Box::pin(lock::release_command(c))),
    );
    run.ok().prints("There is no deploy lock").does_not_print("Released");
    run.never_ran("rm .kamal/lock-app");
}

#[test]
fn acquire_makes_the_run_directory_everywhere_then_the_lock_on_the_primary() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "lock",
        defaults(),
        &fake,
        step(|c| Box::pin(lock::acquire_command(c, "Hotfix"))),
    );
    run.ok().prints("Acquiring the deploy lock...").prints("Acquired the deploy lock");
    for host in ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"] {
        assert_eq!(run.commands_on(host)[0], "mkdir -p .kamal", "{host}");
    }
    let acquire = &run.commands_on("1.1.1.1")[1];
    assert!(acquire.starts_with("mkdir .kamal/lock-app && echo \""), "{acquire}");
    assert!(acquire.ends_with("\" > .kamal/lock-app/details"), "{acquire}");
    assert_eq!(run.commands_on("1.1.1.2"), vec!["mkdir -p .kamal"]);
}

#[test]
fn acquire_when_the_lock_is_held_shows_the_holder_and_fails() {
    let fake = FakeExecutor::new();
    fake.fails("mkdir .kamal/lock-app", 1, "mkdir: cannot create directory '.kamal/lock-app': File exists");
    fake.stdout("stat .kamal/lock-app", "Locked by: Someone Else at 2024-01-01T00:00:00Z");
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "lock",
        defaults(),
        &fake,
        step(|c| Box::pin(lock::acquire_command(c, "Hotfix"))),
    );
    assert_eq!(
        run.error(),
        "ERROR (Kamal::Cli::LockError): Deploy lock found. Run 'kamal lock help' for more information"
    );
    run.prints("Deploy lock already in place!").prints("Locked by: Someone Else");
}
