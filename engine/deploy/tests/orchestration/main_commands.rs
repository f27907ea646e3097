//! `setup`, `deploy`, `redeploy`, `rollback`, `remove`, `details`, `audit`, `init` (Kamal's
//! test/cli/main_test.rb), against a scripted [`FakeExecutor`](wharf_deploy::execution::FakeExecutor).
//!
//! Kamal's default fixture here is `deploy_simple.yml` (1.1.1.1 and 1.1.1.2, role web). Kamal's
//! tests mostly mock `invoke` (the sub-commands run nothing); here the sub-commands really run
//! against the fake, so each test asserts Main's own lines and the commands that must (or must
//! not) run, in order. Building needs a local docker: every deploy here is `-P` (`skip_push`,
//! pull instead of build) where Kamal mocks `build:deliver`; the build itself is tested
//! elsewhere.

use crate::harness::*;

use wharf_deploy::execution::{Answer, FakeExecutor};
use wharf_deploy::main::{self as main_cmd, DeployOptions};
use wharf_deploy::{output, GlobalOptions};

// ---- helpers ---------------------------------------------------------------------------------

const ACQUIRE: &str = "mkdir .kamal/lock-app && echo \"";
const RELEASE: &str = "rm .kamal/lock-app/details && rm -r .kamal/lock-app";
const STATUS: &str = "stat .kamal/lock-app > /dev/null && cat .kamal/lock-app/details | base64 -d";
const LOCK_HELD: &str = "mkdir: cannot create directory ‘.kamal/lock-app’: File exists";
const PULL_999: &str = "docker pull dhh/app:999";

fn container_id(role: &str, version: &str) -> String {
    format!("docker container ls --all --filter 'name=^app-{role}-{version}$' --quiet")
}

fn current_version(role: &str) -> String {
    format!(
        r#"sh -c 'docker ps --latest --format '\''{{{{.Names}}}}'\'' --filter label=service=app --filter label=destination= --filter label=role={role} --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{{{.ID}}}}'\'') ; docker ps --latest --format '\''{{{{.Names}}}}'\'' --filter label=service=app --filter label=destination= --filter label=role={role} --filter status=running --filter status=restarting' | head -1 | while read line; do echo ${{line#app-{role}-}}; done"#
    )
}

fn deploy_options(redeploy: bool) -> DeployOptions {
    DeployOptions { skip_push: true, no_cache: false, boot_accessories: false, redeploy, canary: None }
}

fn deploy_step() -> Step {
    step(|c| Box::pin(main_cmd::deploy(c, deploy_options(false))))
}

fn redeploy_step() -> Step {
    step(|c| Box::pin(main_cmd::deploy(c, deploy_options(true))))
}

/// A fake for a deploy of version 999 to `deploy_simple.yml`: the new web container has an id.
/// (The same query is Kamal's "already running?" probe, so the old container is renamed too.)
fn deploy_fake() -> FakeExecutor {
    let fake = FakeExecutor::new();
    fake.stdout(&container_id("web", "999"), "123");
    fake
}

/// Hooks that record their name and `KAMAL_LOCK` in `.kamal/hooks.log`.
fn with_hooks(project: &Project, names: &[&str]) {
    for name in names {
        project.hook(name, "echo \"$(basename \"$0\") $KAMAL_LOCK\" >> \"$(dirname \"$0\")/../hooks.log\"");
    }
}

fn hooks_log(project: &Project) -> String {
    std::fs::read_to_string(project.path().join(".kamal/hooks.log")).unwrap_or_default()
}

fn verbose() -> GlobalOptions {
    GlobalOptions { verbose: true, ..Default::default() }
}

/// Kamal's `assert_hook_ran`: the hook ran `times` times.
fn hook_ran(run: &Run, hook: &str, times: usize) {
    let line = format!("Running /usr/bin/env .kamal/hooks/{hook} on localhost");
    assert_eq!(run.output().matches(&line).count(), times, "{hook}; output:\n{}", run.output());
}

/// These lines were printed, in this order (others may come between them).
fn prints_in_order(run: &Run, lines: &[&str]) {
    let mut at = 0;
    for want in lines {
        match run.lines[at..].iter().position(|l| l.contains(want)) {
            Some(i) => at += i + 1,
            None => panic!("expected {want:?} after line {at}; output:\n{}", run.output()),
        }
    }
}

/// The first command on `host` starting with each prefix, in this order.
fn commands_in_order(run: &Run, host: &str, prefixes: &[&str]) {
    let on = run.commands_on(host);
    let mut at = 0;
    for p in prefixes {
        match on[at..].iter().position(|c| c.starts_with(p)) {
            Some(i) => at += i + 1,
            None => panic!(
                "expected a command starting with {p:?} on {host} after position {at}; it ran:\n{}",
                on.join("\n")
            ),
        }
    }
}

fn count_starting(run: &Run, host: &str, prefix: &str) -> usize {
    run.commands_on(host).iter().filter(|c| c.starts_with(prefix)).count()
}

// ---- setup -----------------------------------------------------------------------------------

/// Kamal mocks `server:bootstrap` and `deploy`; here both run (deploy with `-P`). As in Kamal
/// 2.11, the whole setup holds the lock: it is taken before Docker is checked.
#[test]
fn setup() {
    let fake = deploy_fake();
    let run = run(
        &Project::kamal("deploy_simple.yml"),
        "setup",
        defaults(),
        &fake,
        step(|c| Box::pin(main_cmd::setup(c, true, false))),
    );
    run.ok().prints("Ensure Docker is installed...");
    commands_in_order(
        &run,
        "1.1.1.1",
        &["mkdir -p .kamal", ACQUIRE, "docker -v", PULL_999, "docker run --detach", RELEASE],
    );
    commands_in_order(&run, "1.1.1.2", &["docker -v", PULL_999, "docker run --detach"]);
    assert_eq!(count_starting(&run, "1.1.1.1", ACQUIRE), 1);
    assert_eq!(count_starting(&run, "1.1.1.1", RELEASE), 1);
}

#[test]
fn setup_with_skip_push() {
    let fake = deploy_fake();
    let run = run(
        &Project::kamal("deploy_simple.yml"),
        "setup",
        defaults(),
        &fake,
        step(|c| Box::pin(main_cmd::setup(c, true, false))),
    );
    run.ok();
    prints_in_order(
        &run,
        &[
            "Acquiring the deploy lock...",
            "Ensure Docker is installed...",
            "Pull app image...",
            "Ensure kamal-proxy is running...",
            "Detect stale containers...",
            "Start container with version 999",
            "Prune old containers and images...",
            "Releasing the deploy lock...",
        ],
    );
    run.does_not_print("Build and push app image");
    for host in ["1.1.1.1", "1.1.1.2"] {
        commands_in_order(
            &run,
            host,
            &[
                "docker -v",
                PULL_999,
                "docker network create kamal",
                "docker run --detach",
                "docker tag dhh/app:999 dhh/app:latest",
                "docker image prune",
            ],
        );
    }
}

// ---- deploy ----------------------------------------------------------------------------------

/// Kamal's `deploy --verbose` with every hook present (built, here pulled).
#[test]
fn deploy_with_local_registry() {
    // A registry answering here, on a free port (the servers reach it through tunnels).
    let port = registry_on_loopback();
    let project = Project::kamal("deploy_with_local_registry.yml");
    let yml = wharf_testkit::kamal_fixture("deploy_with_local_registry.yml")
        .replace("localhost:5000", &format!("localhost:{port}"));
    project.file("config/deploy.yml", &yml);
    with_hooks(&project, &["pre-connect", "pre-deploy", "post-deploy"]);
    let fake = deploy_fake();
    let run = run(&project, "deploy", verbose(), &fake, deploy_step());
    run.ok();
    hook_ran(&run, "pre-connect", 1);
    hook_ran(&run, "pre-deploy", 1);
    hook_ran(&run, "post-deploy", 1);
    prints_in_order(
        &run,
        &[
            "Pull app image...",
            "Ensure kamal-proxy is running...",
            "Detect stale containers...",
            "Prune old containers and images...",
        ],
    );
    assert_eq!(hooks_log(&project), "pre-connect false\npre-deploy true\npost-deploy false\n");
    // The local registry: no login anywhere, its port forwarded to the hosts while they pull.
    run.never_ran("docker login");
    for host in ["1.1.1.1", "1.1.1.2"] {
        commands_in_order(
            &run,
            host,
            &[&format!("forward {port}"), &format!("docker pull localhost:{port}/dhh/app:999")],
        );
    }
}

#[test]
fn deploy() {
    let project = Project::kamal("deploy_simple.yml");
    with_hooks(&project, &["pre-connect", "pre-deploy", "post-deploy"]);
    let fake = deploy_fake();
    let run = run(&project, "deploy", verbose(), &fake, deploy_step());
    run.ok();
    hook_ran(&run, "pre-connect", 1);
    hook_ran(&run, "pre-deploy", 1);
    hook_ran(&run, "post-deploy", 1);
    prints_in_order(
        &run,
        &[
            "Running /usr/bin/env .kamal/hooks/pre-connect on localhost",
            "Pull app image...",
            "Acquiring the deploy lock...",
            "Running /usr/bin/env .kamal/hooks/pre-deploy on localhost",
            "Ensure kamal-proxy is running...",
            "Detect stale containers...",
            "Prune old containers and images...",
            "Releasing the deploy lock...",
            "Finished all in",
            "Running /usr/bin/env .kamal/hooks/post-deploy on localhost",
        ],
    );
    // pre-deploy inside the lock, post-deploy after it.
    assert_eq!(hooks_log(&project), "pre-connect false\npre-deploy true\npost-deploy false\n");
    // -v shows each command.
    run.prints("  INFO [1.1.1.1] Running docker pull dhh/app:999");
}

#[test]
fn deploy_with_skip_push() {
    let fake = deploy_fake();
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy_step());
    run.ok();
    prints_in_order(
        &run,
        &[
            "Pull app image...",
            "Acquiring the deploy lock...",
            "Ensure kamal-proxy is running...",
            "Detect stale containers...",
            "Prune old containers and images...",
            "Releasing the deploy lock...",
        ],
    );
    // The lock is taken while the image is pulled (here the fake answers at once: after it),
    // and the facts are asked once it is held; everything that changes a container follows.
    commands_in_order(
        &run,
        "1.1.1.1",
        &[
            PULL_999,
            ACQUIRE,
            INSPECT_PROXY,
            LISTING,
            "docker network create kamal",
            "docker run --detach --restart unless-stopped --name app-web-999",
            "docker exec kamal-proxy kamal-proxy deploy app-web --target=\"123:80\"",
            "docker tag dhh/app:999 dhh/app:latest",
            "docker image prune --force --filter label=service=app",
            RELEASE,
        ],
    );
    commands_in_order(
        &run,
        "1.1.1.2",
        &[PULL_999, "docker network create kamal", "docker run --detach", "docker image prune"],
    );
    assert!(!run.commands_on("1.1.1.2").iter().any(|c| c.contains("lock-app")));
    // Kamal's run directory on every host, as the lock makes it.
    run.ran_on("1.1.1.2", "mkdir -p .kamal");
    // Each in an exchange of its own, so that neither waits for the pull: the lock (after the
    // run directory) on the primary, and the facts on every host.
    let lock = fake.exchanges_of("1.1.1.1").into_iter().find(|e| e.iter().any(|c| c.starts_with(ACQUIRE))).unwrap();
    assert_eq!(lock.len(), 2, "{lock:?}");
    assert_eq!(lock[0], "mkdir -p .kamal");
    for host in ["1.1.1.1", "1.1.1.2"] {
        let exchanges = fake.exchanges_of(host);
        let facts = exchanges.iter().find(|e| e.iter().any(|c| c.starts_with(INSPECT_PROXY))).unwrap();
        assert!(
            facts
                .iter()
                .all(|c| c.starts_with("docker inspect") || c.starts_with("docker ps") || c.starts_with("cat ")),
            "{host}: {facts:?}"
        );
        let pull = exchanges.iter().find(|e| e.iter().any(|c| c.starts_with(PULL_999))).unwrap();
        assert!(!pull.iter().any(|c| c.starts_with(INSPECT_PROXY) || c.starts_with(ACQUIRE)), "{host}: {pull:?}");
    }
}

/// With a pre-deploy hook, the facts wait for it (it runs under the lock and may change the
/// servers): they go with the proxy's step, after the hook, as before.
#[test]
fn deploy_with_a_pre_deploy_hook_asks_the_facts_after_it() {
    let project = Project::kamal("deploy_simple.yml");
    with_hooks(&project, &["pre-deploy"]);
    let fake = deploy_fake();
    let run = run(&project, "deploy", verbose(), &fake, deploy_step());
    run.ok();
    prints_in_order(
        &run,
        &[
            "Running docker pull dhh/app:999",
            "Running mkdir .kamal/lock-app",
            "Running /usr/bin/env .kamal/hooks/pre-deploy on localhost",
            "[1.1.1.1] Running docker inspect --type container kamal-proxy",
        ],
    );
}

#[test]
fn deploy_when_locked() {
    let fake = deploy_fake();
    fake.fails("mkdir .kamal/lock-app", 1, LOCK_HELD);
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy_step());
    assert_eq!(
        run.error(),
        "ERROR (Kamal::Cli::LockError): Deploy lock found. Run 'kamal lock help' for more information"
    );
    run.prints("Deploy lock already in place!");
    // The image was delivered before; the lock status is read exactly once; nothing else ran.
    run.ran_on("1.1.1.1", PULL_999);
    assert_eq!(run.commands_on("1.1.1.1").iter().filter(|c| *c == STATUS).count(), 1);
    run.never_ran("docker network create");
    run.never_ran("docker run");
    run.never_ran(RELEASE);
}

/// `--lock-wait --lock-wait-interval 0 --lock-wait-timeout 60`: held twice, then free.
#[test]
fn deploy_with_lock_wait_retries_and_acquires_lock_when_freed() {
    // Kamal: `deploy with --lock-wait retries and acquires lock when freed`.
    let fake = deploy_fake();
    fake.answer_times("mkdir .kamal/lock-app", 2, Answer::Fails(1, LOCK_HELD.into()));
    fake.stdout(STATUS, "Locked by: alice\nVersion: 999\nMessage: Automatic deploy lock");
    let global = GlobalOptions { lock_wait: true, lock_wait_interval: 0, lock_wait_timeout: 60, ..Default::default() };
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", global, &fake, deploy_step());
    run.ok()
        .prints("Acquiring the deploy lock (waiting up to 60s)...")
        .prints("Deploy lock is held by:")
        .prints("Locked by: alice")
        // Kamal says "Retrying in 0s"; Wharf waits at least 1 s between attempts.
        .prints("Retrying in ")
        .prints("Releasing the deploy lock...");
    assert_eq!(count_starting(&run, "1.1.1.1", ACQUIRE), 3);
    // The holder is shown once, however many attempts.
    assert_eq!(run.output().matches("Deploy lock is held by:").count(), 1);
    assert_eq!(run.output().matches("Retrying in ").count(), 2);
    commands_in_order(&run, "1.1.1.1", &[ACQUIRE, ACQUIRE, ACQUIRE, "docker run --detach", RELEASE]);
}

#[test]
fn deploy_with_lock_wait_times_out() {
    // Kamal: `deploy with --lock-wait times out`.
    let fake = deploy_fake();
    fake.fails("mkdir .kamal/lock-app", 1, LOCK_HELD);
    fake.stdout(STATUS, "Locked by: alice\nVersion: 999\nMessage: Automatic deploy lock");
    let global = GlobalOptions { lock_wait: true, lock_wait_interval: 0, lock_wait_timeout: 0, ..Default::default() };
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", global, &fake, deploy_step());
    assert_eq!(run.error(), "ERROR (Kamal::Cli::LockError): Timed out waiting for deploy lock");
    run.prints("Timed out after 0s waiting for the deploy lock").does_not_print("Retrying in");
    assert_eq!(run.commands_on("1.1.1.1").iter().filter(|c| *c == STATUS).count(), 1);
    run.never_ran("docker run");
}

#[test]
fn deploy_with_lock_wait_fails_immediately_when_the_lock_is_held_manually() {
    // Kamal: `deploy with --lock-wait fails immediately when the lock is held manually`.
    let fake = deploy_fake();
    fake.fails("mkdir .kamal/lock-app", 1, LOCK_HELD);
    fake.stdout(STATUS, "Locked by: alice\nVersion: 999\nMessage: Stopping deploys for maintenance");
    let global = GlobalOptions { lock_wait: true, lock_wait_interval: 0, lock_wait_timeout: 60, ..Default::default() };
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", global, &fake, deploy_step());
    assert_eq!(
        run.error(),
        "ERROR (Kamal::Cli::LockError): Deploy lock held manually, not waiting. Run 'kamal lock help' for more information"
    );
    // No wait, no second attempt.
    run.prints("Message: Stopping deploys for maintenance").does_not_print("Retrying in");
    assert_eq!(count_starting(&run, "1.1.1.1", ACQUIRE), 1);
}

/// Kamal sets `KAMAL_LOCK=true` (a parent process holds the lock) and resets the commander; the
/// commander reads that variable when made, so here the step starts holding the lock (the
/// variable is process-wide and tests run in parallel).
#[test]
fn deploy_when_inheriting_lock() {
    let project = Project::kamal("deploy_simple.yml");
    with_hooks(&project, &["pre-deploy"]);
    let fake = deploy_fake();
    let run = run(
        &project,
        "deploy",
        defaults(),
        &fake,
        step(|c| {
            Box::pin(async move {
                c.set_holding_lock(true);
                main_cmd::deploy(c, deploy_options(false)).await
            })
        }),
    );
    run.ok()
        .does_not_print("Acquiring the deploy lock")
        .prints("Pull app image...")
        .prints("Ensure kamal-proxy is running...")
        .prints("Detect stale containers...")
        .prints("Prune old containers and images...")
        .does_not_print("Releasing the deploy lock");
    run.never_ran("lock-app");
    assert_eq!(hooks_log(&project), "pre-deploy true\n");
}

#[test]
fn deploy_error_when_locking() {
    let fake = deploy_fake();
    fake.fails("mkdir .kamal/lock-app", 255, "getaddrinfo: nodename nor servname provided, or not known");
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy_step());
    // Kamal: SSHKit::Runner::ExecuteError (the socket error raised inside `on`); Wharf: the
    // failed command. Either way not a LockError.
    let error = run.error();
    assert!(
        error.starts_with(
            "ERROR (SSHKit::Command::Failed): Exception while executing on host 1.1.1.1: mkdir exit status: 255\n\
             mkdir stdout: Nothing written\n\
             mkdir stderr: getaddrinfo"
        ),
        "{error}"
    );
    assert!(error.contains("getaddrinfo: nodename nor servname provided, or not known"), "{error}");
    run.does_not_print("Deploy lock already in place!");
    run.never_ran(RELEASE);
    run.never_ran("docker run");
}

/// Kamal makes `build:deliver` raise; here the pull fails. The lock was never taken.
#[test]
fn deploy_errors_during_outside_section_leave_remote_lock() {
    let fake = deploy_fake();
    fake.fails("docker pull", 1, "pull access denied for dhh/app");
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy_step());
    let error = run.error();
    assert!(
        error.contains(
            ": docker exit status: 1\ndocker stdout: Nothing written\ndocker stderr: pull access denied for dhh/app\n"
        ),
        "{error}"
    );
    run.ran_on("1.1.1.1", "docker pull dhh/app:999");
    run.does_not_print("Acquiring the deploy lock");
    run.never_ran("lock-app");
}

/// A pull that fails while the lock, taken alongside it, is held: the pull's error, and the lock
/// released (no lock is left, as with Kamal, which never took it); nothing else ran.
#[test]
fn deploy_with_a_pull_failing_after_the_lock_was_taken_releases_it() {
    let fake = deploy_fake();
    fake.fails("docker pull", 1, "pull access denied for dhh/app");
    fake.delay("docker pull", std::time::Duration::from_millis(100));
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy_step());
    assert!(run.error().contains("pull access denied for dhh/app"), "{}", run.error());
    run.does_not_print("Acquiring the deploy lock");
    commands_in_order(&run, "1.1.1.1", &[ACQUIRE, RELEASE]);
    assert_eq!(run.commands_on("1.1.1.1").last().map(String::as_str), Some(RELEASE));
    run.never_ran("docker run");
}

/// The lock held by someone else is reported as Kamal reports it, after the pull (which Kamal
/// runs before trying the lock); a failed pull is reported first, as Kamal would.
#[test]
fn deploy_when_locked_and_the_pull_fails_reports_the_pull() {
    let fake = deploy_fake();
    fake.fails("mkdir .kamal/lock-app", 1, LOCK_HELD);
    fake.fails("docker pull", 1, "pull access denied for dhh/app");
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy_step());
    assert!(run.error().contains("pull access denied for dhh/app"), "{}", run.error());
    run.does_not_print("Deploy lock already in place!");
    run.never_ran(RELEASE);
    run.never_ran(STATUS);
}

#[test]
fn deploy_with_skipped_hooks() {
    let project = Project::kamal("deploy_simple.yml");
    with_hooks(&project, &["pre-connect", "pre-deploy", "post-deploy"]);
    let fake = deploy_fake();
    let run = run(&project, "deploy", GlobalOptions { skip_hooks: true, ..Default::default() }, &fake, deploy_step());
    run.ok().does_not_print("Running /usr/bin/env .kamal/hooks/").prints("Prune old containers and images...");
    assert_eq!(hooks_log(&project), "");
}

/// Kamal mocks every sub-command, so its deploy succeeds without the secret. Here the secret is
/// resolved lazily too: everything up to the boot runs, and the boot (which writes the env file)
/// is what fails, under the lock, which is then released.
#[test]
fn deploy_with_missing_secrets() {
    let project = Project::kamal("deploy_with_secrets.yml");
    let fake = deploy_fake();
    let run = run(&project, "deploy", defaults(), &fake, deploy_step());
    let error = run.error();
    assert!(error.contains("PASSWORD"), "{error}");
    run.ran_on("1.1.1.1", PULL_999);
    run.ran_on("1.1.1.1", "docker network create kamal");
    run.never_ran("docker run --detach --restart");
    run.ran_on("1.1.1.1", RELEASE);
}

// ---- redeploy --------------------------------------------------------------------------------

#[test]
fn redeploy() {
    let project = Project::kamal("deploy_simple.yml");
    with_hooks(&project, &["pre-connect", "pre-deploy", "post-deploy"]);
    let fake = deploy_fake();
    let run = run(&project, "redeploy", verbose(), &fake, redeploy_step());
    run.ok();
    hook_ran(&run, "pre-connect", 1);
    hook_ran(&run, "pre-deploy", 1);
    hook_ran(&run, "post-deploy", 1);
    run.prints("Running /usr/bin/env .kamal/hooks/pre-deploy ");
    assert_eq!(hooks_log(&project), "pre-connect false\npre-deploy true\npost-deploy false\n");
    // No proxy boot, no prune.
    run.prints("Detect stale containers...")
        .does_not_print("Ensure kamal-proxy is running...")
        .does_not_print("Prune old containers and images...");
    run.never_ran("docker network create");
    run.never_ran("docker image prune");
    for host in ["1.1.1.1", "1.1.1.2"] {
        commands_in_order(&run, host, &[PULL_999, "docker run --detach", "docker tag dhh/app:999 dhh/app:latest"]);
    }
}

#[test]
fn redeploy_with_skip_push() {
    let fake = deploy_fake();
    let run = run(&Project::kamal("deploy_simple.yml"), "redeploy", defaults(), &fake, redeploy_step());
    run.ok();
    prints_in_order(
        &run,
        &[
            "Pull app image...",
            "Acquiring the deploy lock...",
            "Detect stale containers...",
            "Releasing the deploy lock...",
        ],
    );
    run.does_not_print("Build and push app image");
}

// ---- rollback --------------------------------------------------------------------------------

/// Kamal prints the refusal in red and exits 0; Wharf fails with it (exit 1, tested end to end).
#[test]
fn rollback_bad_version() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_simple.yml"),
        "rollback",
        defaults(),
        &fake,
        step(|c| Box::pin(main_cmd::rollback(c, "nonsense"))),
    );
    assert_eq!(
        run.error(),
        "ERROR (RuntimeError): The app version 'nonsense' is not available as a container (use 'kamal app containers' for available versions)"
    );
    for host in ["1.1.1.1", "1.1.1.2"] {
        run.ran_on(host, "docker container ls --all --filter 'name=^app-web-nonsense$' --quiet");
    }
    run.never_ran("docker run");
    run.ran_on("1.1.1.1", RELEASE);
}

#[test]
fn rollback_good_version() {
    let project = Project::kamal("deploy_with_accessories.yml");
    with_hooks(&project, &["pre-deploy", "post-deploy"]);
    let fake = FakeExecutor::new();
    // The workers' health check (its command contains the container id query: first rule wins).
    fake.stdout("xargs docker inspect --format", "running");
    // Kamal answers the "already there?" probe "" and the availability/endpoint query (the same
    // command here) with an id; Wharf cannot tell them apart, so 123 is also renamed first.
    for role in ["web", "workers"] {
        fake.stdout(&container_id(role, "123"), "version-to-rollback\n");
        fake.stdout(&current_version(role), "version-to-rollback\n");
    }
    let run = run(&project, "rollback", verbose(), &fake, step(|c| Box::pin(main_cmd::rollback(c, "123"))));
    run.ok();
    hook_ran(&run, "pre-deploy", 1);
    hook_ran(&run, "post-deploy", 1);
    assert_eq!(hooks_log(&project), "pre-deploy true\npost-deploy false\n");
    for host in ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"] {
        run.ran_on(host, "docker tag dhh/app:123 dhh/app:latest");
    }
    for host in ["1.1.1.1", "1.1.1.2"] {
        commands_in_order(
            &run,
            host,
            &[
                "docker run --detach --restart unless-stopped --name app-web-123",
                // Should stop the container that was previously running (by its name).
                "docker stop app-web-version-to-rollback",
            ],
        );
    }
    for host in ["1.1.1.3", "1.1.1.4"] {
        commands_in_order(
            &run,
            host,
            &[
                "docker run --detach --restart unless-stopped --name app-workers-123",
                "docker stop -t 30 app-workers-version-to-rollback",
            ],
        );
    }
}

#[test]
fn rollback_without_old_version() {
    let fake = FakeExecutor::new();
    fake.stdout(&container_id("web", "123"), "123");
    let run = run(
        &Project::kamal("deploy_simple.yml"),
        "rollback",
        defaults(),
        &fake,
        step(|c| Box::pin(main_cmd::rollback(c, "123"))),
    );
    run.ok();
    for host in ["1.1.1.1", "1.1.1.2"] {
        assert!(
            run.commands_on(host)
                .iter()
                .any(|c| c.starts_with("docker run --detach --restart unless-stopped --name app-web-123 ")),
            "{host}"
        );
        run.ran_on(host, &current_version("web"));
    }
    run.never_ran("docker stop");
}

// ---- remove, details, audit ------------------------------------------------------------------

/// Kamal mocks the four sub-commands; here they run, in Kamal's order, under one lock.
#[test]
fn remove() {
    let fake = FakeExecutor::new();
    let run =
        run(&Project::kamal("deploy_simple.yml"), "remove", defaults(), &fake, step(|c| Box::pin(main_cmd::remove(c))));
    run.ok();
    commands_in_order(
        &run,
        "1.1.1.1",
        &[
            ACQUIRE,
            "sh -c 'docker ps --latest --quiet --filter label=service=app",
            "docker container prune --force --filter label=service=app",
            "docker image prune --all --force --filter label=service=app",
            "rm -r .kamal/apps/app",
            "docker container stop kamal-proxy",
            "docker logout",
            RELEASE,
        ],
    );
    assert_eq!(count_starting(&run, "1.1.1.1", ACQUIRE), 1);
    commands_in_order(
        &run,
        "1.1.1.2",
        &[
            "docker container prune --force --filter label=service=app",
            "docker container stop kamal-proxy",
            "docker logout",
        ],
    );
}

#[test]
fn remove_with_confirmation() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "remove",
        defaults(),
        &fake,
        step(|c| Box::pin(main_cmd::remove(c))),
    );
    run.ok();
    let all = run.commands();
    let has = |text: &str| {
        assert!(
            all.iter().any(|c| c.contains(text)),
            "expected a command containing {text:?}; ran:\n{}",
            all.join("\n")
        )
    };
    for text in [
        "docker container stop kamal-proxy",
        "docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy",
        "docker image prune --all --force --filter label=org.opencontainers.image.title=kamal-proxy",
        // Kamal's regex `docker ps --quiet --filter label=service=app | xargs docker stop`
        // matches (by alternation) only ` xargs docker stop`: the app's stop command.
        " | head -1 | xargs docker stop",
        "docker container prune --force --filter label=service=app",
        "docker image prune --all --force --filter label=service=app",
        "rm -r .kamal/apps/app",
        "docker container stop app-mysql",
        "docker container prune --force --filter label=service=app-mysql",
        "docker image rm --force mysql",
        "rm -rf app-mysql",
        "docker container stop app-redis",
        "docker container prune --force --filter label=service=app-redis",
        "docker image rm --force redis",
        "rm -rf app-redis",
        "docker logout",
    ] {
        has(text);
    }
    // mysql lives on 1.1.1.3, redis on the web hosts.
    assert!(run.commands_on("1.1.1.3").iter().any(|c| c.contains("docker container stop app-mysql")));
    assert!(!run.commands_on("1.1.1.1").iter().any(|c| c.contains("app-mysql")));
    for host in ["1.1.1.1", "1.1.1.2"] {
        assert!(run.commands_on(host).iter().any(|c| c.contains("docker container stop app-redis")), "{host}");
    }
}

/// Kamal mocks the three `details` sub-commands; here they run.
#[test]
fn details() {
    let fake = FakeExecutor::new();
    fake.stdout("kamal-proxy", "proxy container");
    fake.stdout("label=role=web", "app container");
    let run = run(
        &Project::kamal("deploy_simple.yml"),
        "details",
        defaults(),
        &fake,
        step(|c| Box::pin(main_cmd::details(c))),
    );
    run.ok();
    prints_in_order(
        &run,
        &[
            "Proxy Host: 1.1.1.1",
            "proxy container",
            "Proxy Host: 1.1.1.2",
            "proxy container",
            "App Host: 1.1.1.1",
            "app container",
            "App Host: 1.1.1.2",
            "app container",
        ],
    );
    for host in ["1.1.1.1", "1.1.1.2"] {
        let on = run.commands_on(host);
        assert_eq!(on.len(), 2, "{host}: {on:?}");
        assert!(on[0].contains("kamal-proxy"), "{on:?}");
        assert_eq!(on[1], "docker ps --filter label=service=app --filter label=destination= --filter label=role=web");
    }
}

#[test]
fn audit() {
    let fake = FakeExecutor::new();
    fake.stdout("tail -n 50 .kamal/app-audit.log", "[2024-01-01T00:00:00Z] [deployer] Booted app version 999");
    let run =
        run(&Project::kamal("deploy_simple.yml"), "audit", defaults(), &fake, step(|c| Box::pin(main_cmd::audit(c))));
    run.ok()
        .prints("App Host: 1.1.1.1\n[2024-01-01T00:00:00Z] [deployer] Booted app version 999")
        .prints("App Host: 1.1.1.2\n[2024-01-01T00:00:00Z] [deployer] Booted app version 999");
    for host in ["1.1.1.1", "1.1.1.2"] {
        assert_eq!(run.commands_on(host), vec!["tail -n 50 .kamal/app-audit.log"]);
    }
}

// ---- init ------------------------------------------------------------------------------------

fn init_in(dir: &std::path::Path) -> (wharf_deploy::Result<()>, Vec<String>) {
    output::capture(|| wharf_deploy::init::init(dir))
}

#[test]
fn init() {
    let dir = tempfile::tempdir().unwrap();
    let (result, lines) = init_in(dir.path());
    result.unwrap();
    let out = lines.join("\n");
    assert!(out.contains("Created configuration file in config/deploy.yml"), "{out}");
    assert!(out.contains("Created .kamal/secrets file"), "{out}");
    assert!(std::fs::read_to_string(dir.path().join("config/deploy.yml")).unwrap().contains("service: my-app"));
    assert!(std::fs::read_to_string(dir.path().join(".kamal/secrets"))
        .unwrap()
        .contains("KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD"));
}

#[test]
fn init_with_existing_config() {
    let dir = tempfile::tempdir().unwrap();
    init_in(dir.path()).0.unwrap();
    std::fs::write(dir.path().join("config/deploy.yml"), "service: mine\n").unwrap();
    let (result, lines) = init_in(dir.path());
    result.unwrap();
    let out = lines.join("\n");
    assert!(
        out.contains("Config file already exists in config/deploy.yml (remove first to create a new one)"),
        "{out}"
    );
    assert!(!out.contains("Added .kamal/secrets") && !out.contains("Created .kamal/secrets"), "{out}");
    assert_eq!(std::fs::read_to_string(dir.path().join("config/deploy.yml")).unwrap(), "service: mine\n");
}

/// Round trips (issue 11): a deploy over a running version sends each host five exchanges (one
/// round trip each over SSH): the login, the mirror question and, there being no mirror, the
/// pull; the proxy's facts with the stale containers' and the boot's (one `docker inspect`, one
/// `docker ps`), sent alongside the pull once the lock is held; the boot (the renaming, the env
/// file, `docker run`); the proxy deploy; then stopping the old version, tagging and pruning. The
/// primary adds the lock, also alongside the pull, whose release goes with the last exchange.
/// Four follow one another. (Kamal: 31 commands per host, each its own exchange.)
#[test]
fn deploy_round_trips() {
    let fake = deploy_fake();
    fake.fails("docker info --format", 1, "error calling index: reflect: slice index out of range");
    proxy_running(&fake);
    running_containers(&fake, &[("web", "888")]);
    // `docker run --detach` prints the new container's id, as Docker does.
    fake.stdout("docker run --detach", "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef");
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", verbose(), &fake, deploy_step());
    run.ok();
    assert_eq!((fake.exchanges_on("1.1.1.1"), fake.exchanges_on("1.1.1.2")), (6, 5), "{}", run.output());
    let on = run.commands_on("1.1.1.1");
    assert_eq!(on.last().map(String::as_str), Some(RELEASE));
    // Kamal's lookups are answered by the facts: none is asked. The proxy runs on the `kamal`
    // network: neither the network nor the proxy's start is asked for. The proxy's target is
    // what `docker run` printed.
    for asked in [current_version("web"), container_id("web", "999"), "docker network create kamal".into()] {
        assert!(!on.contains(&asked), "{asked}: {on:?}");
    }
    assert!(!on.iter().any(|c| c.starts_with("docker container start kamal-proxy")), "{on:?}");
    assert_eq!(on.iter().filter(|c| c.starts_with(INSPECT_PROXY) || c.starts_with(LISTING)).count(), 2, "{on:?}");
    assert!(on.iter().any(|c| c.contains("kamal-proxy deploy app-web --target=\"0123456789ab:80\"")), "{on:?}");
    assert!(on.contains(&"docker stop app-web-888".to_string()), "the running version is stopped: {on:?}");
}

/// With two versions running, which one Kamal calls current depends on the `latest` image: the
/// facts leave it to Kamal's question, asked once.
#[test]
fn deploy_with_two_running_versions_asks_kamals_current_version_question() {
    let fake = deploy_fake();
    proxy_running(&fake);
    running_containers(&fake, &[("web", "888"), ("web", "777")]);
    fake.stdout(&current_version("web"), "777");
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy_step());
    run.ok();
    let on = run.commands_on("1.1.1.1");
    assert_eq!(on.iter().filter(|c| **c == current_version("web")).count(), 1, "{on:?}");
    assert!(on.contains(&"docker stop app-web-777".to_string()), "{on:?}");
    assert!(
        on.contains(&"docker container ls --all --filter 'name=^app-web-888$' --quiet | xargs docker stop".to_string()),
        "the other is stale: {on:?}"
    );
}

/// A container of the new version already there (a redeploy of the same version) is found by
/// the facts' `docker inspect`, and renamed out of the way as Kamal does.
#[test]
fn deploy_renames_a_container_of_the_same_version_found_by_the_facts() {
    let fake = deploy_fake();
    let id = "f0f6ca41265f4c58e4fa266fe9b22257d02d86df7bab604e9e043068e4b69b55";
    fake.stdout(
        INSPECT_PROXY,
        &format!("{}\n/app-web-999 {id} running dhh/app:999 kamal\n", proxy_facts("v0.9.2", "running", true)),
    );
    running_containers(&fake, &[("web", "999")]);
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy_step());
    run.ok();
    for host in ["1.1.1.1", "1.1.1.2"] {
        let on = run.commands_on(host);
        let renamed = on.iter().find(|c| c.starts_with("docker rename app-web-999 app-web-999_replaced_"));
        let renamed = renamed.unwrap_or_else(|| panic!("{host}: {on:?}")).rsplit(' ').next().unwrap().to_string();
        assert!(on.contains(&format!("docker stop {renamed}")), "{host}: the renamed version stops: {on:?}");
    }
}

/// When Docker answers the facts' questions with anything but missing containers (here: the
/// daemon is down), they are asked as Kamal asks them, one by one.
#[test]
fn deploy_asks_kamals_questions_when_the_facts_fail() {
    let fake = deploy_fake();
    let down = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";
    fake.fails(INSPECT_PROXY, 1, down);
    fake.fails(LISTING, 1, down);
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy_step());
    run.ok();
    let on = run.commands_on("1.1.1.1");
    for asked in [
        r#"docker inspect --type container kamal-proxy --format '{{.Name}} {{.Id}} {{.State.Status}} {{.Config.Image}}{{if index .NetworkSettings.Networks "kamal"}} kamal{{end}}'"#.to_string(),
        "docker network create kamal".to_string(),
        current_version("web"),
        container_id("web", "999"),
    ] {
        assert!(on.contains(&asked), "{asked}: {on:?}");
    }
    assert!(on.iter().any(|c| c.starts_with("docker ps --filter label=service=app --filter label=destination= --filter label=role=web --format \"{{.Names}}\"")), "{on:?}");
}

/// A held change that fails (the prune, sent with the lock's release) is the error, naming its
/// host and (as SSHKit names a command) its first word, and the lock is still released.
#[test]
fn deploy_failing_held_change_still_releases_the_lock() {
    let fake = deploy_fake();
    fake.fails("docker image prune", 1, "prune broke");
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy_step());
    let error = run.error();
    assert!(error.contains("Exception while executing on host 1.1.1.1: docker exit status: 1\n"), "{error}");
    assert!(error.contains("\ndocker stderr: prune broke\n"), "{error}");
    run.ran_on("1.1.1.1", "docker image prune --force --filter label=service=app");
    let on = run.commands_on("1.1.1.1");
    assert_eq!(on.last().map(String::as_str), Some(RELEASE), "{on:?}");
    run.does_not_print("Finished all in");
}

/// Wharf's fleet transaction (`x-wharf: fleet_transaction: true`): 1.1.1.2's new version never
/// becomes healthy, so 1.1.1.1, which had switched, goes back to its old container (still
/// running: its stop was held) and stops the new one. The deploy fails, the lock is released.
#[test]
fn deploy_fleet_transaction_reverts_the_hosts_that_switched() {
    let yml = format!("{}\nx-wharf:\n  fleet_transaction: true\n", wharf_testkit::kamal_fixture("deploy_simple.yml"));
    let project = Project::new(&yml);
    let fake = deploy_fake();
    running_containers(&fake, &[("web", "888")]);
    fake.stdout(&container_id("web", "888"), "abc888");
    fake.answer_on(
        "1.1.1.2",
        "kamal-proxy deploy app-web",
        Answer::Fails(1, "Error: target failed to become healthy within configured timeout (30s)".into()),
    );
    let run = run(&project, "deploy", defaults(), &fake, deploy_step());
    assert!(run.error().contains("target failed to become healthy"), "{}", run.error());
    run.prints("Fleet transaction: reverting 1.1.1.1 to the previous version, as not every host booted 999");
    let stop = |v: &str| format!("{} | xargs docker stop", container_id("web", v));
    let on_1 = run.commands_on("1.1.1.1");
    let deploys: Vec<&String> = on_1.iter().filter(|c| c.contains("kamal-proxy deploy app-web")).collect();
    assert_eq!(deploys.len(), 2, "{on_1:?}");
    assert!(deploys[0].contains("--target=\"123:80\"") && deploys[1].contains("--target=\"abc888:80\""), "{deploys:?}");
    assert!(on_1.contains(&stop("999")), "the new version stopped: {on_1:?}");
    assert!(!on_1.contains(&stop("888")), "the old version keeps running: {on_1:?}");
    assert!(on_1.iter().any(|c| c.contains("Reverted to app version 888 (fleet transaction)")), "{on_1:?}");
    // The failing host: its new container stopped, its old one untouched, as in Kamal.
    let on_2 = run.commands_on("1.1.1.2");
    assert!(on_2.contains(&stop("999")) && !on_2.contains(&stop("888")), "{on_2:?}");
    run.never_ran("docker tag dhh/app:999 dhh/app:latest");
    assert_eq!(on_1.last().map(String::as_str), Some(RELEASE));
}

/// Without it, Kamal's behaviour: the host that switched stays on the new version.
#[test]
fn deploy_without_fleet_transaction_leaves_the_hosts_that_switched() {
    let fake = deploy_fake();
    running_containers(&fake, &[("web", "888")]);
    fake.answer_on("1.1.1.2", "kamal-proxy deploy app-web", Answer::Fails(1, "target failed".into()));
    let run = run(&Project::kamal("deploy_simple.yml"), "deploy", defaults(), &fake, deploy_step());
    run.error();
    run.does_not_print("Fleet transaction");
    let on_1 = run.commands_on("1.1.1.1");
    assert!(on_1.contains(&"docker stop app-web-888".to_string()), "{on_1:?}");
    assert_eq!(on_1.iter().filter(|c| c.contains("kamal-proxy deploy app-web")).count(), 1);
}
