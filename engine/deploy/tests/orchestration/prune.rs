//! `prune all|images|containers` (Kamal's test/cli/prune_test.rb).

use crate::harness::*;
use wharf_deploy::execution::FakeExecutor;
use wharf_deploy::prune;

const HOSTS: [&str; 4] = ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"];

fn containers(retain_plus_one: u64) -> String {
    format!(
        "docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +{retain_plus_one} | while read container_id; do docker rm $container_id; done"
    )
}

const DANGLING: &str = "docker image prune --force --filter label=service=app";
const TAGGED: &str = "docker image ls --filter label=service=app --format '{{.ID}} {{.Repository}}:{{.Tag}}' | grep -v -w \"$(docker container ls -a --format '{{.Image}}\\|' --filter label=service=app | tr -d '\\n')dhh/app:latest\\|dhh/app:<none>\" | while read image tag; do docker rmi $tag; done";

#[test]
fn all_prunes_containers_then_images_on_every_host_under_the_lock() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "prune",
        defaults(),
        &fake,
        step(|c| Box::pin(prune::all(c, None))),
    );
    run.ok().prints("Acquiring the deploy lock...").prints("Releasing the deploy lock...");
    for host in HOSTS {
        let on = run.commands_on(host);
        let pruned: Vec<&String> = on.iter().filter(|c| c.starts_with("docker")).collect();
        assert_eq!(pruned, vec![&containers(6), &DANGLING.to_string(), &TAGGED.to_string()], "{host}");
        assert!(on.iter().any(|c| c.contains("] Pruned containers\" >> .kamal/app-audit.log")), "{host}: {on:?}");
        assert!(on.iter().any(|c| c.contains("] Pruned images\" >> .kamal/app-audit.log")), "{host}: {on:?}");
    }
    // The lock is taken and released on the primary host only.
    assert!(run.commands_on("1.1.1.1").iter().any(|c| c.starts_with("mkdir .kamal/lock-app && ")));
    run.ran_on("1.1.1.1", "rm .kamal/lock-app/details && rm -r .kamal/lock-app");
    assert!(!run.commands_on("1.1.1.2").iter().any(|c| c.contains("lock-app")));
}

#[test]
fn containers_with_retain() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "prune",
        defaults(),
        &fake,
        step(|c| Box::pin(prune::all(c, Some(10)))),
    );
    run.ok();
    for host in HOSTS {
        run.ran_on(host, &containers(11));
    }
}

#[test]
fn retain_zero_is_refused_before_anything_runs() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "prune",
        defaults(),
        &fake,
        step(|c| Box::pin(prune::all(c, Some(0)))),
    );
    assert_eq!(run.error(), "ERROR (RuntimeError): retain must be at least 1");
    assert!(run.commands().is_empty(), "{:?}", run.commands());
}

#[test]
fn a_failing_host_fails_the_prune_and_releases_the_lock() {
    let fake = FakeExecutor::new();
    fake.answer_on(
        "1.1.1.3",
        "docker image prune",
        wharf_deploy::execution::Answer::Fails(1, "Cannot connect to the Docker daemon".into()),
    );
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "prune",
        defaults(),
        &fake,
        step(|c| Box::pin(prune::all(c, None))),
    );
    let error = run.error();
    assert!(error.starts_with("ERROR (SSHKit::Command::Failed): Exception while executing on host 1.1.1.3: docker exit status: 1\ndocker stdout: Nothing written\ndocker stderr: "), "{error}");
    assert!(error.contains("Cannot connect to the Docker daemon"), "{error}");
    run.ran_on("1.1.1.1", "rm .kamal/lock-app/details && rm -r .kamal/lock-app");
}
