//! Canary deploys (Wharf): `deploy --canary`, `canary promote|abort|status`, against the fake.
//! Fixture: `deploy_with_accessories.yml` (web behind the proxy on 1.1.1.1 and 1.1.1.2, workers
//! on 1.1.1.3 and 1.1.1.4), version 999 over a running 123.

use crate::harness::*;
use wharf_deploy::canary;
use wharf_deploy::execution::{Answer, FakeExecutor};
use wharf_deploy::main::{self as main_cmd, CanaryRequest, DeployOptions};

const WEB: [&str; 2] = ["1.1.1.1", "1.1.1.2"];
const WORKERS: [&str; 2] = ["1.1.1.3", "1.1.1.4"];
const READ_CANARY: &str = "cat .kamal/apps/app/canary-web 2> /dev/null || true";
const ROLLOUT_DEPLOY: &str = "docker exec kamal-proxy kamal-proxy rollout deploy app-web --target=\"abc:80\" --deploy-timeout=\"30s\" --drain-timeout=\"30s\"";
const ROLLOUT_STOP: &str = "docker exec kamal-proxy kamal-proxy rollout stop app-web";
const WRITE_CANARY: &str = "mkdir -p .kamal/apps/app && echo 999 > .kamal/apps/app/canary-web";
const REMOVE_CANARY: &str = "rm -f .kamal/apps/app/canary-web";
const STOP_999: &str = "docker container ls --all --filter 'name=^app-web-999$' --quiet | xargs docker stop";
const REMOVE_999: &str = "docker container ls --all --filter 'name=^app-web-999$' --quiet | xargs docker container rm";

/// Commands containing these fragments ran on `host`, in this order (others may come between).
fn ran_in_order(run: &Run, host: &str, fragments: &[&str]) {
    let on = run.commands_on(host);
    let mut at = 0;
    for f in fragments {
        match on[at..].iter().position(|c| c.contains(f)) {
            Some(i) => at += i + 1,
            None => panic!("{host}: no {f:?} after position {at} in:\n{}", on.join("\n")),
        }
    }
}

/// The running version query of `role`.
fn running(role: &str) -> String {
    format!("label=role={role} --filter status=running --filter status=restarting --filter ancestor")
}

/// Servers running version 123 (rules added first win: `overrides` come before these).
fn servers_with(overrides: impl FnOnce(&FakeExecutor)) -> FakeExecutor {
    let fake = FakeExecutor::new();
    overrides(&fake);
    fake.stdout(&running("web"), "123");
    fake.stdout(&running("workers"), "123");
    running_containers(&fake, &[("web", "123"), ("workers", "123")]);
    fake
}

fn servers() -> FakeExecutor {
    servers_with(|_| {})
}

fn canary_deploy(fake: &FakeExecutor, request: CanaryRequest) -> Run {
    let options = DeployOptions {
        skip_push: true,
        no_cache: false,
        boot_accessories: false,
        redeploy: false,
        canary: Some(request),
    };
    run(
        &Project::kamal("deploy_with_accessories.yml"),
        "deploy",
        defaults(),
        fake,
        step(move |c| Box::pin(main_cmd::deploy(c, options))),
    )
}

/// The new web container's id after `docker run`: `abc` (before it, the deploy's facts say there
/// is none).
fn new_container_after_run(fake: &FakeExecutor) {
    fake.stdout("docker container ls --all --filter 'name=^app-web-999$' --quiet", "abc");
}

#[test]
fn deploy_canary_boots_the_new_version_beside_the_old_for_a_share_of_users() {
    let fake = servers();
    new_container_after_run(&fake);
    let run =
        canary_deploy(&fake, CanaryRequest { percent: Some(10), list: vec!["beta".into()], ..Default::default() });
    run.ok()
        .prints("Start canary of version 999 for 10% of users and beta...")
        .prints("Canary of version 999 serves 10% of users and beta on 1.1.1.1, 1.1.1.2");
    for host in WEB {
        ran_in_order(
            &run,
            host,
            &[
                READ_CANARY,
                "docker run --detach --restart unless-stopped --name app-web-999",
                ROLLOUT_DEPLOY,
                "docker exec kamal-proxy kamal-proxy rollout set app-web --percent=10 --list=beta",
                WRITE_CANARY,
            ],
        );
        // The running version keeps everyone else: nothing stopped, tagged or pruned.
        run.never_ran("xargs docker stop").never_ran("docker tag").never_ran("docker image prune");
        run.never_ran("kamal-proxy deploy app-web");
    }
    for host in WORKERS {
        let booted = run.commands_on(host).iter().any(|c| c.starts_with("docker run"));
        assert!(!booted, "{host}: the workers wait for the promotion");
    }
}

#[test]
fn deploy_canary_takes_the_default_share_from_x_wharf() {
    let fake = servers();
    new_container_after_run(&fake);
    let project = Project::kamal("deploy_with_accessories.yml");
    let yml = std::fs::read_to_string(project.path().join("config/deploy.yml")).unwrap();
    project.file("config/deploy.yml", &format!("{yml}\nx-wharf:\n  canary:\n    percent: 25\n    list: [staff]\n"));
    let options = DeployOptions {
        skip_push: true,
        no_cache: false,
        boot_accessories: false,
        redeploy: false,
        canary: Some(CanaryRequest::default()),
    };
    let run = run(&project, "deploy", defaults(), &fake, step(move |c| Box::pin(main_cmd::deploy(c, options))));
    run.ok().ran_on("1.1.1.1", "docker exec kamal-proxy kamal-proxy rollout set app-web --percent=25 --list=staff");
}

#[test]
fn a_canary_is_refused_over_another_canary_or_the_same_version_or_nothing() {
    for (answer_pattern, answer, error) in [
        (READ_CANARY.to_string().as_str(), "998", "A canary of version 998 is on 1.1.1.1 (web): `wharf canary promote` or `wharf canary abort` first"),
        (&running("web"), "999", "Version 999 already runs on 1.1.1.1 (web): a canary needs another version"),
        (&running("web"), "", "Nothing of web runs on 1.1.1.1 yet: a canary is compared with the running version, so deploy once without --canary"),
    ] {
        let fake = servers_with(|f| {
            f.answer_on("1.1.1.1", answer_pattern, Answer::Stdout(answer.into()));
        });
        let run = canary_deploy(&fake, CanaryRequest { percent: Some(10), ..Default::default() });
        assert_eq!(run.error(), format!("ERROR (RuntimeError): {error}"));
        run.never_ran("kamal-proxy rollout deploy app-web --target=\"abc");
    }
}

#[test]
fn a_canary_that_fails_on_one_host_is_taken_back_on_every_host() {
    let fake = servers();
    new_container_after_run(&fake);
    fake.answer_on(
        "1.1.1.2",
        "kamal-proxy rollout deploy",
        Answer::Fails(1, "Error: target failed to become healthy within configured timeout (6s)".into()),
    );
    let run = canary_deploy(&fake, CanaryRequest { percent: Some(10), ..Default::default() });
    assert!(run.error().contains("target failed to become healthy"), "{}", run.error());
    run.prints("The canary of version 999 did not start everywhere: taking it back");
    ran_in_order(&run, "1.1.1.1", &[ROLLOUT_DEPLOY, ROLLOUT_STOP, STOP_999, REMOVE_999, REMOVE_CANARY]);
    ran_in_order(&run, "1.1.1.2", &[ROLLOUT_DEPLOY, STOP_999, REMOVE_999]);
    run.never_ran("kamal-proxy rollout set app-web --percent=10 --list");
    // The lock is released.
    run.ran_on("1.1.1.1", "rm .kamal/lock-app/details && rm -r .kamal/lock-app");
}

fn canary_command(fake: &FakeExecutor, step: Step) -> Run {
    run(&Project::kamal("deploy_with_accessories.yml"), "canary", defaults(), fake, step)
}

fn with_canary_recorded() -> FakeExecutor {
    let fake = servers();
    fake.stdout(READ_CANARY, "999");
    fake.stdout("xargs docker inspect --format", "running");
    fake.stdout("'name=^app-web-999$' --quiet", "abc");
    fake.stdout("docker ps --filter label=service=app --filter label=destination= --filter label=role=web --format \"{{.Names}}\"", "123\n999");
    fake
}

#[test]
fn promote_switches_everyone_to_the_canary_then_boots_the_other_roles_and_prunes() {
    let fake = with_canary_recorded();
    let run = canary_command(&fake, step(|c| Box::pin(canary::promote(c))));
    run.ok().prints("Promote canary of version 999...");
    for host in WEB {
        ran_in_order(
            &run,
            host,
            &[
                // Health-checked again on every server before any switches.
                ROLLOUT_DEPLOY,
                "docker exec kamal-proxy kamal-proxy deploy app-web --target=\"abc:80\"",
                ROLLOUT_STOP,
                "docker container ls --all --filter 'name=^app-web-123$' --quiet | xargs docker stop",
                REMOVE_CANARY,
                "docker image prune --force --filter label=service=app",
            ],
        );
    }
    for host in WORKERS {
        ran_in_order(
            &run,
            host,
            &[
                "docker run --detach --restart unless-stopped --name app-workers-999",
                "docker tag dhh/app:999 dhh/app:latest",
            ],
        );
    }
}

#[test]
fn abort_sends_everyone_back_and_removes_the_canary() {
    let fake = with_canary_recorded();
    let run = canary_command(&fake, step(|c| Box::pin(canary::abort(c))));
    run.ok().prints("Canary of version 999 aborted: everyone is on the running version");
    for host in WEB {
        ran_in_order(&run, host, &[ROLLOUT_STOP, STOP_999, REMOVE_999, REMOVE_CANARY]);
        run.ran_on(host, &format!("mkdir -p .kamal && echo \"[2024-01-01T00:00:00Z] [{PERFORMER}] [web] Aborted canary of app version 999\" >> .kamal/app-audit.log"));
    }
    run.never_ran("kamal-proxy deploy app-web");
}

#[test]
fn promote_or_abort_without_a_canary() {
    let fake = servers();
    let run = canary_command(&fake, step(|c| Box::pin(canary::promote(c))));
    assert_eq!(
        run.error(),
        "ERROR (RuntimeError): No canary to promote: none is recorded on the hosts behind the proxy"
    );
}

#[test]
fn no_switch_boots_the_new_version_for_nobody_then_promote_switches_everyone() {
    // Blue/green: `deploy --no-switch`, then `promote` (canary promote) or `discard` (abort).
    let fake = servers();
    new_container_after_run(&fake);
    let run = canary_deploy(&fake, CanaryRequest { no_switch: true, ..Default::default() });
    run.ok().prints("Boot version 999 beside the running one, without traffic...").prints(
        "Version 999 is ready on 1.1.1.1, 1.1.1.2: `wharf promote` switches everyone to it, `wharf discard` removes it",
    );
    for host in WEB {
        ran_in_order(
            &run,
            host,
            &[ROLLOUT_DEPLOY, "docker exec kamal-proxy kamal-proxy rollout set app-web --percent=0", WRITE_CANARY],
        );
        assert!(!run.commands_on(host).iter().any(|c| c.contains("--list=")), "{host}: nobody is on a list");
    }
}

#[test]
fn a_promotion_switches_no_server_when_one_fails_its_health_check() {
    let fake = servers_with(|f| {
        f.answer_on(
            "1.1.1.2",
            "kamal-proxy rollout deploy",
            Answer::Fails(1, "Error: target failed to become healthy within configured timeout (30s)".into()),
        );
    });
    fake.stdout(READ_CANARY, "999");
    fake.stdout("'name=^app-web-999$' --quiet", "abc");
    let run = canary_command(&fake, step(|c| Box::pin(canary::promote(c))));
    assert!(run.error().contains("target failed to become healthy"), "{}", run.error());
    run.never_ran("kamal-proxy deploy app-web").never_ran("rollout stop");
}

#[test]
fn a_rollback_is_refused_during_a_canary() {
    let fake = with_canary_recorded();
    fake.stdout("docker container ls --all --filter 'name=^app-", "def");
    let run = canary_command(&fake, step(|c| Box::pin(main_cmd::rollback(c, "123"))));
    assert_eq!(
        run.error(),
        "ERROR (RuntimeError): A canary of version 999 is on 1.1.1.1 (web): `wharf canary promote` or `wharf canary abort` first"
    );
    run.never_ran("docker run").never_ran("kamal-proxy deploy");
    // Asked with the version check: no round trip of its own.
    let on = run.commands_on("1.1.1.1");
    assert_eq!(on.iter().filter(|c| c.as_str() == READ_CANARY).count(), 1, "{on:?}");
}
