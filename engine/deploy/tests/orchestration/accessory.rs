//! `accessory boot|reboot|start|stop|restart|details|exec|logs|remove|upload|directories|...`
//! (Kamal's test/cli/accessory_test.rb, as Kamal 2.11 behaves). Fixture:
//! `deploy_with_accessories_with_different_registries.yml`: mysql (app registry
//! `private.registry`) and busybox (service `custom-box`, its own registry `other.registry`) on
//! 1.1.1.3, redis on the web role (1.1.1.1, 1.1.1.2).
//!
//! Not ported: `logs with follow` (three tests: Wharf has no `--follow` hand-off for accessory
//! logs) and `upgrade`, `upgrade rolling` (Wharf has no `accessory upgrade`).

use crate::harness::*;
use wharf_commands::AccessoryLogsOptions;
use wharf_deploy::accessory::{self, Step as AccessoryStep};
use wharf_deploy::execution::{Answer, FakeExecutor};

const FIXTURE: &str = "deploy_with_accessories_with_different_registries.yml";

/// Wharf logs in with the password on stdin (Kamal: `-p [REDACTED]`), on purpose.
const LOGIN_PRIVATE: &str = "docker login private.registry -u [REDACTED] --password-stdin";
const LOGIN_OTHER: &str = "docker login other.registry -u [REDACTED] --password-stdin";
const NETWORK: &str = "docker network create kamal";

const MYSQL_RUN: &str = "docker run --name app-mysql --detach --restart unless-stopped --network kamal --log-opt max-size=\"10m\" --publish 3306:3306 --env KAMAL_HOST=\"1.1.1.3\" --env MYSQL_ROOT_HOST=\"%\" --env-file .kamal/apps/app/env/accessories/mysql.env --volume $PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf --volume $PWD/app-mysql/data:/var/lib/mysql --label service=\"app-mysql\" private.registry/mysql:5.7";
const BUSYBOX_RUN: &str = "docker run --name custom-box --detach --restart unless-stopped --network kamal --log-opt max-size=\"10m\" --env KAMAL_HOST=\"1.1.1.3\" --env-file .kamal/apps/app/env/accessories/busybox.env --label service=\"custom-box\" other.registry/busybox:latest";

fn redis_run(host: &str) -> String {
    format!("docker run --name app-redis --detach --restart unless-stopped --network kamal --log-opt max-size=\"10m\" --publish 6379:6379 --env KAMAL_HOST=\"{host}\" --env-file .kamal/apps/app/env/accessories/redis.env --volume $PWD/app-redis/data:/data --label service=\"app-redis\" redis:latest")
}

fn audit(line: &str) -> String {
    app_audit(line)
}

/// Everything `accessory boot mysql` runs on 1.1.1.3 after the login and network.
fn mysql_boot() -> Vec<String> {
    vec![
        "docker ps -a -q --filter label=service=app-mysql".into(),
        "mkdir -p $PWD/app-mysql/data".into(),
        "mkdir -p app-mysql/etc/mysql".into(),
        "upload app-mysql/etc/mysql/my.cnf".into(),
        "chmod 755 app-mysql/etc/mysql/my.cnf".into(),
        audit("Booted mysql accessory"),
        "mkdir -p .kamal/apps/app/env/accessories".into(),
        "upload .kamal/apps/app/env/accessories/mysql.env".into(),
        MYSQL_RUN.into(),
    ]
}

fn redis_boot(host: &str) -> Vec<String> {
    vec![
        "docker ps -a -q --filter label=service=app-redis".into(),
        "mkdir -p $PWD/app-redis/data".into(),
        audit("Booted redis accessory"),
        "mkdir -p .kamal/apps/app/env/accessories".into(),
        "upload .kamal/apps/app/env/accessories/redis.env".into(),
        redis_run(host),
    ]
}

fn with(first: &[&str], rest: Vec<String>) -> Vec<String> {
    first.iter().map(|s| s.to_string()).chain(rest).collect()
}

/// The commands run on `host`, without the deploy lock's (run directory, acquire, release).
fn work_on(run: &Run, host: &str) -> Vec<String> {
    run.commands_on(host)
        .into_iter()
        .filter(|c| {
            c != "mkdir -p .kamal" && !c.starts_with("mkdir .kamal/lock-app") && !c.starts_with("rm .kamal/lock-app")
        })
        .collect()
}

fn accessory_run(global: wharf_deploy::GlobalOptions, fake: &FakeExecutor, step: Step) -> Run {
    run(&Project::kamal(FIXTURE), "accessory", global, fake, step)
}

#[test]
fn boot() {
    // ADAPT: Kamal mocks Accessory#directories and #upload; here they run, before the boot.
    let fake = FakeExecutor::new();
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::boot(c, "mysql"))));
    run.ok();
    assert_eq!(work_on(&run, "1.1.1.3"), with(&[LOGIN_PRIVATE, NETWORK], mysql_boot()));
    for host in ["1.1.1.1", "1.1.1.2", "1.1.1.4"] {
        assert!(work_on(&run, host).is_empty(), "{host}: {:?}", work_on(&run, host));
    }
}

#[test]
fn boot_all() {
    // Kamal: "boot all" (ADAPT: directories and upload run rather than being mocked)
    let fake = FakeExecutor::new();
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::boot(c, "all"))));
    run.ok();
    let busybox = vec![
        LOGIN_OTHER.to_string(),
        NETWORK.into(),
        "docker ps -a -q --filter label=service=custom-box".into(),
        audit("Booted busybox accessory"),
        "mkdir -p .kamal/apps/app/env/accessories".into(),
        "upload .kamal/apps/app/env/accessories/busybox.env".into(),
        BUSYBOX_RUN.into(),
    ];
    let mut on_3 = with(&[LOGIN_PRIVATE, NETWORK], mysql_boot());
    on_3.extend(busybox);
    assert_eq!(work_on(&run, "1.1.1.3"), on_3);
    for host in ["1.1.1.1", "1.1.1.2"] {
        assert_eq!(work_on(&run, host), with(&[LOGIN_PRIVATE, NETWORK], redis_boot(host)), "{host}");
    }
    assert!(work_on(&run, "1.1.1.4").is_empty());
}

#[test]
fn boot_skips_hosts_with_a_container() {
    // Not in Kamal's tests: `docker ps -a -q` answers a container on 1.1.1.2.
    let fake = FakeExecutor::new();
    fake.answer_on("1.1.1.2", "docker ps -a -q --filter label=service=app-redis", Answer::Stdout("abc123\n".into()));
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::boot(c, "redis"))));
    run.ok().prints("Skipping booting `redis` on 1.1.1.2, a container already exists");
    run.ran_on("1.1.1.1", &redis_run("1.1.1.1"));
    // Its directories are still made; nothing is booted.
    assert_eq!(
        work_on(&run, "1.1.1.2"),
        vec![
            LOGIN_PRIVATE,
            NETWORK,
            "docker ps -a -q --filter label=service=app-redis",
            "mkdir -p $PWD/app-redis/data"
        ]
    );
}

#[test]
fn boot_when_the_network_already_exists() {
    let fake = FakeExecutor::new();
    fake.fails(NETWORK, 1, "Error response from daemon: network with name kamal already exists");
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::boot(c, "mysql"))));
    run.ok();
    run.ran_on("1.1.1.3", MYSQL_RUN);
}

#[test]
fn upload() {
    let fake = FakeExecutor::new();
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::step(c, "mysql", AccessoryStep::Upload))));
    run.ok();
    assert_eq!(
        work_on(&run, "1.1.1.3"),
        vec![
            "mkdir -p app-mysql/etc/mysql",
            "upload app-mysql/etc/mysql/my.cnf",
            "chmod 755 app-mysql/etc/mysql/my.cnf"
        ]
    );
}

#[test]
fn directories() {
    let fake = FakeExecutor::new();
    let run =
        accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::step(c, "mysql", AccessoryStep::Directories))));
    run.ok();
    assert_eq!(work_on(&run, "1.1.1.3"), vec!["mkdir -p $PWD/app-mysql/data"]);
}

const MYSQL_REBOOT_HEAD: [&str; 2] = [LOGIN_PRIVATE, NETWORK];

fn mysql_reboot() -> Vec<String> {
    let mut expected = with(
        &MYSQL_REBOOT_HEAD,
        vec![
            audit("Pull mysql accessory image"),
            "docker image pull private.registry/mysql:5.7".into(),
            audit("Stopped mysql accessory"),
            "docker container stop app-mysql".into(),
            audit("Remove mysql accessory container"),
            "docker container prune --force --filter label=service=app-mysql".into(),
        ],
    );
    expected.extend(mysql_boot());
    expected
}

#[test]
fn reboot() {
    // ADAPT: Kamal mocks the login and pull_image, stop, remove_container, boot(prepare: false);
    // here, their commands in that order, with one login, and the image and data kept.
    let fake = FakeExecutor::new();
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::reboot(c, "mysql"))));
    run.ok();
    assert_eq!(work_on(&run, "1.1.1.3"), mysql_reboot());
    run.never_ran("docker image rm");
    run.never_ran("rm -rf");
    // Round trips: the login and network; the pull, stop and removal with the question whether
    // a container exists; the boot.
    assert_eq!(fake.exchanges_on("1.1.1.3"), 3);
}

#[test]
fn reboot_all() {
    // Kamal: "reboot all" (ADAPT as "reboot": one login per accessory and host, 4 in all)
    let fake = FakeExecutor::new();
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::reboot(c, "all"))));
    run.ok();
    let logins = run.commands().iter().filter(|c| c.starts_with("docker login")).count();
    assert_eq!(logins, 4);
    let on_3 = work_on(&run, "1.1.1.3");
    assert_eq!(on_3[..mysql_reboot().len()], mysql_reboot()[..]);
    assert_eq!(
        on_3[mysql_reboot().len()..],
        [
            LOGIN_OTHER.to_string(),
            NETWORK.into(),
            audit("Pull busybox accessory image"),
            "docker image pull other.registry/busybox:latest".into(),
            audit("Stopped busybox accessory"),
            "docker container stop custom-box".into(),
            audit("Remove busybox accessory container"),
            "docker container prune --force --filter label=service=custom-box".into(),
            "docker ps -a -q --filter label=service=custom-box".into(),
            audit("Booted busybox accessory"),
            "mkdir -p .kamal/apps/app/env/accessories".into(),
            "upload .kamal/apps/app/env/accessories/busybox.env".into(),
            BUSYBOX_RUN.into(),
        ]
    );
    for host in ["1.1.1.1", "1.1.1.2"] {
        run.ran_in_order(
            host,
            &[
                LOGIN_PRIVATE,
                "docker image pull redis:latest",
                "docker container stop app-redis",
                "docker container prune --force --filter label=service=app-redis",
                &redis_run(host),
            ],
        );
    }
}

#[test]
fn start() {
    let fake = FakeExecutor::new();
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::start(c, "mysql"))));
    run.ok();
    assert_eq!(
        work_on(&run, "1.1.1.3"),
        vec![audit("Started mysql accessory"), "docker container start app-mysql".into()]
    );
}

#[test]
fn stop() {
    let fake = FakeExecutor::new();
    fake.fails("docker container stop app-mysql", 1, "Error response from daemon: No such container: app-mysql");
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::stop(c, "mysql"))));
    // A container that is not there is not an error.
    run.ok();
    assert_eq!(
        work_on(&run, "1.1.1.3"),
        vec![audit("Stopped mysql accessory"), "docker container stop app-mysql".into()]
    );
}

#[test]
fn restart() {
    // ADAPT: Kamal mocks Accessory#stop and #start; Wharf's CLI runs `stop` then `start`.
    let fake = FakeExecutor::new();
    let run = accessory_run(
        defaults(),
        &fake,
        step(|c| {
            Box::pin(async move {
                accessory::stop(c, "mysql").await?;
                accessory::start(c, "mysql").await
            })
        }),
    );
    run.ok();
    assert_eq!(
        work_on(&run, "1.1.1.3"),
        vec![
            audit("Stopped mysql accessory"),
            "docker container stop app-mysql".into(),
            audit("Started mysql accessory"),
            "docker container start app-mysql".into()
        ]
    );
}

#[test]
fn details() {
    let fake = FakeExecutor::new();
    fake.stdout("docker ps --filter label=service=app-mysql", "CONTAINER ID   IMAGE   mysql");
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::details(c, "mysql"))));
    run.ok().prints("Accessory mysql Host: 1.1.1.3\nCONTAINER ID   IMAGE   mysql");
    assert_eq!(run.commands(), vec!["docker ps --filter label=service=app-mysql"]);
}

#[test]
fn details_with_non_existent_accessory() {
    // Kamal prints this on stderr (Thor's `error`) and exits 0; Wharf fails with it.
    let fake = FakeExecutor::new();
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::details(c, "hello"))));
    assert_eq!(
        run.error(),
        "ERROR (ArgumentError): No accessory by the name of 'hello' (options: mysql, redis, and busybox)"
    );
    assert!(run.commands().is_empty());
}

#[test]
fn details_with_all() {
    let fake = FakeExecutor::new();
    fake.stdout("docker ps --filter label=service=app-mysql", "mysql container");
    fake.stdout("docker ps --filter label=service=app-redis", "redis container");
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::details(c, "all"))));
    run.ok()
        .prints("Accessory mysql Host: 1.1.1.3\nmysql container")
        .prints("Accessory redis Host: 1.1.1.1\nredis container")
        .prints("Accessory redis Host: 1.1.1.2\nredis container")
        .prints("Accessory busybox Host: 1.1.1.3");
    run.ran_on("1.1.1.3", "docker ps --filter label=service=app-mysql");
    run.ran_on("1.1.1.3", "docker ps --filter label=service=custom-box");
    run.ran_on("1.1.1.2", "docker ps --filter label=service=app-redis");
}

#[test]
fn exec() {
    let fake = FakeExecutor::new();
    fake.stdout("mysql -v", "mysql  Ver 14.14");
    let run = accessory_run(
        defaults(),
        &fake,
        step(|c| {
            Box::pin(async move { accessory::exec(c, "mysql", &["mysql -v".to_string()], Default::default()).await })
        }),
    );
    run.ok()
        .prints("Launching command from new container...")
        .prints("Accessory mysql Host: 1.1.1.3\nmysql  Ver 14.14");
    assert_eq!(
        work_on(&run, "1.1.1.3"),
        vec![
            LOGIN_PRIVATE.to_string(),
            audit("Executed cmd 'mysql -v' on mysql accessory"),
            "docker run --rm --network kamal --env MYSQL_ROOT_HOST=\"%\" --env-file .kamal/apps/app/env/accessories/mysql.env --volume $PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf --volume $PWD/app-mysql/data:/var/lib/mysql private.registry/mysql:5.7 mysql -v".into(),
        ]
    );
}

#[test]
fn exec_with_reuse() {
    let fake = FakeExecutor::new();
    let run = accessory_run(
        defaults(),
        &fake,
        step(|c| Box::pin(async move { accessory::exec(c, "mysql", &["mysql -v".to_string()], reuse()).await })),
    );
    run.ok().prints("Launching command from existing container...");
    assert_eq!(
        work_on(&run, "1.1.1.3"),
        vec![audit("Executed cmd 'mysql -v' on mysql accessory"), "docker exec app-mysql mysql -v".into()]
    );
}

fn reuse() -> accessory::ExecRequest {
    accessory::ExecRequest { reuse: true, ..Default::default() }
}

#[test]
fn exec_raw_prints_only_the_output() {
    let fake = FakeExecutor::new();
    fake.stdout("mysql -v", "mysql  Ver 14.14\n");
    let raw = accessory::ExecRequest { raw: true, ..Default::default() };
    let run = accessory_run(
        defaults(),
        &fake,
        step(move |c| Box::pin(async move { accessory::exec(c, "mysql", &["mysql -v".to_string()], raw).await })),
    );
    run.ok();
    assert_eq!(run.output(), "mysql  Ver 14.14", "only the command's output");
}

#[test]
fn exec_raw_and_interactive_are_refused() {
    let request = accessory::ExecRequest { raw: true, interactive: true, reuse: false };
    let run = accessory_run(
        defaults(),
        &FakeExecutor::new(),
        step(move |c| Box::pin(async move { accessory::exec(c, "mysql", &["bash".to_string()], request).await })),
    );
    assert_eq!(run.error(), "ERROR (ArgumentError): Raw is not compatible with interactive");
    assert!(run.commands_on("1.1.1.3").is_empty());
}

fn logs_run(options: AccessoryLogsOptions) -> Run {
    let fake = FakeExecutor::new();
    fake.stdout("docker logs app-mysql", "Log entry");
    accessory_run(
        defaults(),
        &fake,
        step(|c| Box::pin(async move { accessory::logs_with(c, "mysql", &options).await })),
    )
}

#[test]
fn logs() {
    let run = logs_run(AccessoryLogsOptions::default());
    run.ok().prints("Log entry");
    // The double space is Kamal's.
    assert_eq!(run.commands(), vec!["docker logs app-mysql  --tail 100 --timestamps 2>&1"]);
}

#[test]
fn logs_with_grep() {
    let run = logs_run(AccessoryLogsOptions { grep: Some("hey".into()), ..Default::default() });
    run.ok();
    assert_eq!(run.commands(), vec!["docker logs app-mysql --timestamps 2>&1 | grep 'hey'"]);
}

#[test]
fn logs_with_grep_and_grep_options() {
    let run = logs_run(AccessoryLogsOptions {
        grep: Some("hey".into()),
        grep_options: Some("-C 2".into()),
        ..Default::default()
    });
    run.ok();
    assert_eq!(run.commands(), vec!["docker logs app-mysql --timestamps 2>&1 | grep 'hey' -C 2"]);
}

fn mysql_remove() -> Vec<String> {
    vec![
        audit("Stopped mysql accessory"),
        "docker container stop app-mysql".into(),
        audit("Remove mysql accessory container"),
        "docker container prune --force --filter label=service=app-mysql".into(),
        audit("Removed mysql accessory image"),
        "docker image rm --force private.registry/mysql:5.7".into(),
        "rm -rf app-mysql".into(),
    ]
}

#[test]
fn remove_with_confirmation() {
    // ADAPT: Kamal mocks stop, remove_container, remove_image, remove_service_directory; here,
    // their commands in that order (the confirmation is the CLI's).
    let fake = FakeExecutor::new();
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::remove(c, "mysql"))));
    run.ok();
    assert_eq!(work_on(&run, "1.1.1.3"), mysql_remove());
    assert!(work_on(&run, "1.1.1.1").is_empty());
    // Round trips: every step in one exchange (none of them stops the next).
    assert_eq!(fake.exchanges_on("1.1.1.3"), 1);
}

#[test]
fn remove_all_with_confirmation() {
    // ADAPT as "remove with confirmation", for mysql, redis and busybox.
    let fake = FakeExecutor::new();
    let run = accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::remove(c, "all"))));
    run.ok();
    let mut on_3 = mysql_remove();
    on_3.extend([
        audit("Stopped busybox accessory"),
        "docker container stop custom-box".into(),
        audit("Remove busybox accessory container"),
        "docker container prune --force --filter label=service=custom-box".into(),
        audit("Removed busybox accessory image"),
        "docker image rm --force other.registry/busybox:latest".into(),
        "rm -rf custom-box".into(),
    ]);
    assert_eq!(work_on(&run, "1.1.1.3"), on_3);
    for host in ["1.1.1.1", "1.1.1.2"] {
        assert_eq!(
            work_on(&run, host),
            vec![
                audit("Stopped redis accessory"),
                "docker container stop app-redis".into(),
                audit("Remove redis accessory container"),
                "docker container prune --force --filter label=service=app-redis".into(),
                audit("Removed redis accessory image"),
                "docker image rm --force redis:latest".into(),
                "rm -rf app-redis".into(),
            ],
            "{host}"
        );
    }
}

#[test]
fn remove_container() {
    let fake = FakeExecutor::new();
    let run = accessory_run(
        defaults(),
        &fake,
        step(|c| Box::pin(accessory::step(c, "mysql", AccessoryStep::RemoveContainer))),
    );
    run.ok();
    assert_eq!(
        work_on(&run, "1.1.1.3"),
        vec![
            audit("Remove mysql accessory container"),
            "docker container prune --force --filter label=service=app-mysql".into()
        ]
    );
}

#[test]
fn pull_image() {
    let fake = FakeExecutor::new();
    let run =
        accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::step(c, "mysql", AccessoryStep::PullImage))));
    run.ok();
    assert_eq!(
        work_on(&run, "1.1.1.3"),
        vec![audit("Pull mysql accessory image"), "docker image pull private.registry/mysql:5.7".into()]
    );
}

#[test]
fn remove_image() {
    let fake = FakeExecutor::new();
    let run =
        accessory_run(defaults(), &fake, step(|c| Box::pin(accessory::step(c, "mysql", AccessoryStep::RemoveImage))));
    run.ok();
    assert_eq!(
        work_on(&run, "1.1.1.3"),
        vec![audit("Removed mysql accessory image"), "docker image rm --force private.registry/mysql:5.7".into()]
    );
}

#[test]
fn remove_service_directory() {
    let fake = FakeExecutor::new();
    let run = accessory_run(
        defaults(),
        &fake,
        step(|c| Box::pin(accessory::step(c, "mysql", AccessoryStep::RemoveServiceDirectory))),
    );
    run.ok();
    assert_eq!(work_on(&run, "1.1.1.3"), vec!["rm -rf app-mysql"]);
}

#[test]
fn hosts_param_respected() {
    // ADAPT: directories and upload run rather than being mocked.
    let fake = FakeExecutor::new();
    let run = accessory_run(hosts("1.1.1.1"), &fake, step(|c| Box::pin(accessory::boot(c, "redis"))));
    run.ok();
    assert_eq!(work_on(&run, "1.1.1.1"), with(&[LOGIN_PRIVATE, NETWORK], redis_boot("1.1.1.1")));
    assert!(run.commands_on("1.1.1.2").is_empty(), "{:?}", run.commands_on("1.1.1.2"));
}

#[test]
fn hosts_param_intersected_with_configuration() {
    // ADAPT: directories and upload run rather than being mocked.
    let fake = FakeExecutor::new();
    let run = accessory_run(hosts("1.1.1.1,1.1.1.3"), &fake, step(|c| Box::pin(accessory::boot(c, "redis"))));
    run.ok();
    assert_eq!(work_on(&run, "1.1.1.1"), with(&[LOGIN_PRIVATE, NETWORK], redis_boot("1.1.1.1")));
    assert!(work_on(&run, "1.1.1.3").is_empty(), "{:?}", work_on(&run, "1.1.1.3"));
    assert!(run.commands_on("1.1.1.2").is_empty());
}

#[test]
fn boot_with_web_role_filter() {
    let fake = FakeExecutor::new();
    let run = accessory_run(roles("web"), &fake, step(|c| Box::pin(accessory::boot(c, "redis"))));
    run.ok();
    for host in ["1.1.1.1", "1.1.1.2"] {
        assert_eq!(work_on(&run, host), with(&[LOGIN_PRIVATE, NETWORK], redis_boot(host)), "{host}");
    }
}

#[test]
fn boot_with_workers_role_filter() {
    let fake = FakeExecutor::new();
    let run = accessory_run(roles("workers"), &fake, step(|c| Box::pin(accessory::boot(c, "redis"))));
    run.ok();
    run.never_ran("docker run");
    assert!(work_on(&run, "1.1.1.1").is_empty() && work_on(&run, "1.1.1.2").is_empty());
}

/// Not in Kamal's tests: an accessory behind the proxy (`proxy:` in its config; here the mysql
/// of `deploy_with_proxy_run_config.yml`) is deployed to it on start and removed on stop.
fn proxied_run(fake: &FakeExecutor, step: Step) -> Run {
    run(&Project::kamal("deploy_with_proxy_run_config.yml"), "accessory", defaults(), fake, step)
}

const MYSQL_CONTAINER: &str = "docker container ls --filter 'name=^app-mysql$' --quiet";

#[test]
fn start_of_a_proxied_accessory_deploys_it_to_the_proxy() {
    let fake = FakeExecutor::new();
    fake.stdout(MYSQL_CONTAINER, "abc123\n");
    let run = proxied_run(&fake, step(|c| Box::pin(accessory::start(c, "mysql"))));
    run.ok();
    let on = work_on(&run, "1.1.1.3");
    assert_eq!(
        on[..3],
        [audit("Started mysql accessory"), "docker container start app-mysql".into(), MYSQL_CONTAINER.into()]
    );
    assert!(on[3].starts_with("docker exec kamal-proxy kamal-proxy deploy app-mysql --target=\"abc123:"), "{on:?}");
    assert_eq!(on.len(), 4, "{on:?}");
}

#[test]
fn stop_of_a_proxied_accessory_removes_it_from_the_proxy() {
    let fake = FakeExecutor::new();
    let run = proxied_run(&fake, step(|c| Box::pin(accessory::stop(c, "mysql"))));
    run.ok();
    assert_eq!(
        work_on(&run, "1.1.1.3"),
        vec![
            audit("Stopped mysql accessory"),
            "docker container stop app-mysql".into(),
            MYSQL_CONTAINER.into(),
            "docker exec kamal-proxy kamal-proxy remove app-mysql".into()
        ]
    );
}
