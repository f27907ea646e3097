//! Warm versions (Wharf, `x-wharf: warm_versions`): the replaced version of a role behind the
//! proxy keeps running, and `rollback` to it is a proxy switch. Fixture:
//! `deploy_with_accessories.yml` (web behind the proxy on 1.1.1.1 and 1.1.1.2, workers on
//! 1.1.1.3 and 1.1.1.4).

use crate::harness::*;
use wharf_deploy::execution::{Answer, FakeExecutor};
use wharf_deploy::main::{self as main_cmd, DeployOptions};

const WEB: [&str; 2] = ["1.1.1.1", "1.1.1.2"];

fn warm_project(count: usize) -> Project {
    let project = Project::kamal("deploy_with_accessories.yml");
    let yml = std::fs::read_to_string(project.path().join("config/deploy.yml")).unwrap();
    project.file("config/deploy.yml", &format!("{yml}\nx-wharf:\n  warm_versions: {count}\n"));
    project
}

fn running(role: &str) -> String {
    format!("label=role={role} --filter status=running --filter status=restarting --filter ancestor")
}

fn deploy(project: &Project, fake: &FakeExecutor) -> Run {
    let options =
        DeployOptions { skip_push: true, no_cache: false, boot_accessories: false, redeploy: false, canary: None };
    run(project, "deploy", defaults(), fake, step(move |c| Box::pin(main_cmd::deploy(c, options))))
}

#[test]
fn a_deploy_keeps_the_replaced_version_running_behind_the_proxy_only() {
    let fake = FakeExecutor::new();
    fake.stdout("xargs docker inspect --format", "running");
    fake.stdout(&running("web"), "888");
    fake.stdout(&running("workers"), "888");
    // The running versions, newest first: 888 runs, 777 is warm from the deploy before.
    running_containers(&fake, &[("web", "888"), ("web", "777"), ("web", "666"), ("workers", "888")]);
    fake.stdout("'name=^app-web-999$' --quiet", "abc");
    let run = deploy(&warm_project(1), &fake);
    run.ok().prints("Keeping container for role web with version 777 warm");
    for host in WEB {
        run.ran_on(host, "docker container ls --all --filter 'name=^app-web-666$' --quiet | xargs docker stop");
        for kept in ["777", "888"] {
            run.never_ran(&format!("'name=^app-web-{kept}$' --quiet | xargs docker stop"));
            run.never_ran(&format!("docker stop app-web-{kept}"));
        }
    }
    run.prints("Keeping version 888 warm on 1.1.1.1: `rollback 888` switches back to it");
    // The workers' old version stops, as with Kamal.
    for host in ["1.1.1.3", "1.1.1.4"] {
        run.ran_on(host, "docker stop -t 30 app-workers-888");
    }
}

#[test]
fn rollback_to_a_warm_version_is_a_proxy_switch() {
    let fake = FakeExecutor::new();
    fake.stdout("xargs docker inspect --format", "running");
    fake.stdout("docker container ls --filter 'name=^app-web-888$' --quiet", "def");
    fake.stdout("docker container ls --all --filter 'name=^app-web-888$' --quiet", "def");
    fake.stdout("docker container ls --all --filter 'name=^app-workers-888$' --quiet", "ghi");
    fake.stdout("--filter label=role=web --format \"{{.Names}}\"", "999\n888");
    fake.stdout(&running("workers"), "999");
    let run = run(&warm_project(1), "rollback", defaults(), &fake, step(|c| Box::pin(main_cmd::rollback(c, "888"))));
    run.ok().prints("Switch back to the running container of version 888 (warm)...");
    for host in WEB {
        let on = run.commands_on(host);
        assert!(!on.iter().any(|c| c.starts_with("docker run")), "{host}: no new container: {on:?}");
        let switch =
            on.iter().position(|c| c.contains("kamal-proxy deploy app-web --target=\"def:80\"")).expect("switched");
        let stop = on
            .iter()
            .position(|c| c == "docker container ls --all --filter 'name=^app-web-999$' --quiet | xargs docker stop");
        assert!(stop.is_some_and(|s| s > switch), "{host}: the newer version stops after the switch: {on:?}");
        run.ran_on(host, "docker tag dhh/app:888 dhh/app:latest");
    }
    // The workers roll back as Kamal does: a new container from the image.
    for host in ["1.1.1.3", "1.1.1.4"] {
        assert!(
            run.commands_on(host)
                .iter()
                .any(|c| c.starts_with("docker run --detach --restart unless-stopped --name app-workers-888")),
            "{host}"
        );
    }
}

#[test]
fn rollback_to_a_version_not_running_everywhere_is_kamals() {
    let fake = FakeExecutor::new();
    fake.stdout("xargs docker inspect --format", "running");
    fake.answer_on(
        "1.1.1.2",
        "docker container ls --filter 'name=^app-web-888$' --quiet",
        Answer::Stdout(String::new()),
    );
    fake.stdout("docker container ls --filter 'name=^app-web-888$' --quiet", "def");
    fake.stdout("docker container ls --all --filter 'name=^app-", "def");
    let run = run(&warm_project(1), "rollback", defaults(), &fake, step(|c| Box::pin(main_cmd::rollback(c, "888"))));
    run.ok().does_not_print("(warm)");
    for host in WEB {
        assert!(
            run.commands_on(host)
                .iter()
                .any(|c| c.starts_with("docker run --detach --restart unless-stopped --name app-web-888")),
            "{host}"
        );
    }
}
