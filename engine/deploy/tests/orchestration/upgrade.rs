//! `upgrade`, `proxy upgrade` and `accessory upgrade` (Kamal 1.x to 2.0): Kamal's test/cli
//! main_test.rb, proxy_test.rb and accessory_test.rb "upgrade" and "upgrade rolling", with the
//! commands checked per host and in order.

use crate::harness::*;
use wharf_deploy::execution::FakeExecutor;
use wharf_deploy::upgrade;

const ALL_HOSTS: [&str; 4] = ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"];
const TRAEFIK: &str = "docker container stop traefik ; docker container prune --force --filter label=org.opencontainers.image.title=Traefik && docker image prune --all --force --filter label=org.opencontainers.image.title=Traefik";
const LOGIN: &str = "docker login -u [REDACTED] --password-stdin";
const STOP_PROXY: &str = "docker container stop kamal-proxy";
const PRUNE_PROXY_CONTAINER: &str =
    "docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy";
const PRUNE_PROXY_IMAGE: &str =
    "docker image prune --all --force --filter label=org.opencontainers.image.title=kamal-proxy";
const NETWORK: &str = "docker network create kamal";
const PRUNE_APP_CONTAINERS: &str = "docker ps -q -a --filter label=service=app --filter status=created --filter status=exited --filter status=dead | tail -n +6 | while read container_id; do docker rm $container_id; done";
const PRUNE_APP_IMAGES: &str = "docker image prune --force --filter label=service=app";
const MYSQL_RUN: &str = "docker run --name app-mysql --detach --restart unless-stopped --network kamal --log-opt max-size=\"10m\" --publish 3306:3306 --env KAMAL_HOST=\"1.1.1.3\" --env MYSQL_ROOT_HOST=\"%\" --env-file .kamal/apps/app/env/accessories/mysql.env --volume $PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf --volume $PWD/app-mysql/data:/var/lib/mysql --label service=\"app-mysql\" mysql:5.7";

fn audit(line: &str) -> String {
    app_audit(line)
}

/// A fake whose containers are running (the workers role's health check, by docker's state) and
/// whose proxy answers with its minimum version.
fn servers() -> FakeExecutor {
    let fake = FakeExecutor::new();
    fake.stdout("xargs docker inspect --format", "running");
    fake.stdout("docker inspect kamal-proxy --format", "v0.9.2");
    fake.stdout("docker container ls --all --filter 'name=^app-", "12345678");
    fake
}

fn upgrade_run(fixture: &str, fake: &FakeExecutor, step: Step) -> Run {
    run(&Project::kamal(fixture), "upgrade", defaults(), fake, step)
}

fn index_of(run: &Run, host: &str, command: &str) -> usize {
    let on = run.commands_on(host);
    on.iter()
        .position(|c| c.contains(command))
        .unwrap_or_else(|| panic!("{command:?} did not run on {host}:\n{}", on.join("\n")))
}

#[test]
fn proxy_upgrade() {
    let fake = servers();
    let run = upgrade_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(upgrade::proxy_upgrade(c, false))));
    run.ok()
        .prints("Upgrading proxy on 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4...")
        .prints("Upgraded proxy on 1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4");
    for host in ALL_HOSTS {
        run.ran_in_order(
            host,
            &[&audit("Rebooted proxy"), LOGIN, TRAEFIK, STOP_PROXY, PRUNE_PROXY_CONTAINER, PRUNE_PROXY_IMAGE, NETWORK],
        );
        // The app booted from the `latest` image, then pruned.
        let run_latest = index_of(&run, host, "docker run --detach --restart unless-stopped --name app-");
        assert!(run.commands_on(host)[run_latest].contains("-latest --network kamal"), "{host}");
        assert!(index_of(&run, host, PRUNE_APP_IMAGES) > run_latest, "{host}");
        run.ran_on(host, PRUNE_APP_CONTAINERS);
    }
    // The web role goes behind the new proxy.
    for host in ["1.1.1.1", "1.1.1.2"] {
        let deploy =
            index_of(&run, host, "docker exec kamal-proxy kamal-proxy deploy app-web --target=\"12345678:80\"");
        assert!(index_of(&run, host, "echo $(cat .kamal/proxy/options") < deploy, "{host}: the proxy runs first");
    }
}

#[test]
fn proxy_upgrade_rolling() {
    let fake = servers();
    let project = Project::kamal("deploy_with_proxy.yml");
    let log = project.path().join("hooks.log").display().to_string();
    project.hook("pre-proxy-reboot", &format!("echo \"pre $KAMAL_HOSTS\" >> {log}"));
    project.hook("post-proxy-reboot", &format!("echo \"post $KAMAL_HOSTS\" >> {log}"));
    let run = run(&project, "proxy", defaults(), &fake, step(|c| Box::pin(upgrade::proxy_upgrade(c, true))));
    run.ok();
    for host in ALL_HOSTS {
        run.prints(&format!("Upgrading proxy on {host}...")).prints(&format!("Upgraded proxy on {host}"));
        run.ran_on(host, TRAEFIK);
    }
    let hooks = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        hooks,
        "pre 1.1.1.1\npost 1.1.1.1\npre 1.1.1.2\npost 1.1.1.2\npre 1.1.1.3\npost 1.1.1.3\npre 1.1.1.4\npost 1.1.1.4\n"
    );
    // One host at a time: the second host's Traefik goes after the first host's app is pruned.
    let first_done = fake.commands().iter().position(|c| c == PRUNE_APP_IMAGES).unwrap();
    let second_traefik = fake.commands().iter().enumerate().filter(|(_, c)| *c == TRAEFIK).nth(1).unwrap().0;
    assert!(first_done < second_traefik, "{:#?}", fake.commands());
}

fn accessory_upgrade_run(rolling: bool) -> Run {
    let fake = servers();
    let step = step(move |c| Box::pin(upgrade::accessory_upgrade(c, "all", rolling)));
    let run = upgrade_run("deploy_with_accessories.yml", &fake, step);
    run.ok().ran_in_order("1.1.1.3", &[NETWORK, "docker container stop app-mysql", MYSQL_RUN]);
    for host in ["1.1.1.1", "1.1.1.2"] {
        run.ran_on(host, "docker container stop app-redis");
    }
    let on_4: Vec<String> = run.commands_on("1.1.1.4").into_iter().filter(|c| c != "mkdir -p .kamal").collect();
    assert!(on_4.is_empty(), "no accessory on 1.1.1.4: {on_4:?}");
    run
}

#[test]
fn accessory_upgrade() {
    accessory_upgrade_run(false)
        .prints("Upgrading all accessories on 1.1.1.3,1.1.1.1,1.1.1.2...")
        .prints("Upgraded all accessories on 1.1.1.3,1.1.1.1,1.1.1.2...");
}

#[test]
fn accessory_upgrade_rolling() {
    let run = accessory_upgrade_run(true);
    for host in ["1.1.1.3", "1.1.1.1", "1.1.1.2"] {
        run.prints(&format!("Upgrading all accessories on {host}..."))
            .prints(&format!("Upgraded all accessories on {host}..."));
    }
}

#[test]
fn upgrade() {
    let fake = servers();
    let run = upgrade_run("deploy_with_accessories.yml", &fake, step(|c| Box::pin(upgrade::upgrade(c, false))));
    run.ok().prints("Upgrading all hosts...").prints("Upgraded all hosts");
    // The proxy's upgrade, then the accessories', under one lock on the primary host.
    let traefik = index_of(&run, "1.1.1.3", TRAEFIK);
    let mysql = index_of(&run, "1.1.1.3", MYSQL_RUN);
    assert!(traefik < mysql);
    let acquired = run.commands_on("1.1.1.1").iter().filter(|c| c.starts_with("mkdir .kamal/lock-app")).count();
    assert_eq!(acquired, 1, "one lock for the whole upgrade");
    run.ran_on("1.1.1.1", "rm .kamal/lock-app/details && rm -r .kamal/lock-app");
}

#[test]
fn upgrade_rolling() {
    let fake = servers();
    let run = upgrade_run("deploy_with_accessories.yml", &fake, step(|c| Box::pin(upgrade::upgrade(c, true))));
    run.ok();
    for host in ALL_HOSTS {
        run.prints(&format!("Upgrading {host}...")).prints(&format!("Upgraded {host}"));
        run.prints(&format!("Upgrading proxy on {host}..."));
    }
    // Accessories only where they run, each host on its own.
    for host in ["1.1.1.1", "1.1.1.2", "1.1.1.3"] {
        run.prints(&format!("Upgrading all accessories on {host}..."));
    }
    run.does_not_print("Upgrading all accessories on 1.1.1.4");
    // 1.1.1.1 is done (its redis rebooted) before 1.1.1.2's Traefik goes.
    let commands = fake.commands();
    let redis_on_first = commands.iter().position(|c| c.starts_with("docker run --name app-redis")).unwrap();
    let second_traefik = commands.iter().enumerate().filter(|(_, c)| *c == TRAEFIK).nth(1).unwrap().0;
    assert!(redis_on_first < second_traefik);
    // The selection is restored afterwards: the lock is released on the primary host.
    run.ran_on("1.1.1.1", "rm .kamal/lock-app/details && rm -r .kamal/lock-app");
}
