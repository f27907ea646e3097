//! `app ...` (Kamal's test/cli/app_test.rb), against a scripted
//! [`FakeExecutor`](wharf_deploy::execution::FakeExecutor).
//!
//! Kamal's `run_command` runs `kamal app <cmd> -c test/fixtures/deploy_with_accessories.yml
//! --hosts 1.1.1.1` unless a test says otherwise. Kamal's environment sets `VERSION=999` (the
//! configuration's version) but gives no `--version`, so `app boot` and `app exec` use the
//! `latest` tag (`version_or_latest`). `app boot` steps are run with the version `latest` (what
//! Kamal's `using_version(version_or_latest)` does); `app exec` through [`run_app`], which gives
//! the configuration the version 999 and the command no `--version`.
//!
//! Kamal's `stub_running` (every INFO capture answers "123") is `fake.stdout("", "123")`: every
//! command answers "123". Kamal stubs `sleep`; Wharf's pauses are real, so where a worker's
//! health check would wait for the readiness delay (7 s by default) the health check answers
//! `healthy` instead of `running` (no readiness delay, same outcome), unless the delay is what
//! the test is about.

use crate::harness::*;

use wharf_deploy::app;
use wharf_deploy::execution::{Answer, FakeExecutor};
use wharf_deploy::{lock, GlobalOptions};

// ---- helpers ---------------------------------------------------------------------------------

/// `app` commands run as Kamal's `run_command` does them.
fn run_app(project: &Project, global: GlobalOptions, fake: &FakeExecutor, step: Step) -> Run {
    run(project, "app", global, fake, step)
}

/// `--hosts 1.1.1.1`, as Kamal's `run_command` passes by default.
fn host1() -> GlobalOptions {
    hosts("1.1.1.1")
}

/// Options for `app boot`: `hosts` (None: all) and the version `latest`.
fn boot_options(host_list: Option<&str>) -> GlobalOptions {
    GlobalOptions { hosts: host_list.map(str::to_string), version: Some("latest".into()), ..Default::default() }
}

/// `app boot`, as the CLI runs it: under the lock, the configuration's version.
fn app_boot() -> Step {
    step(|c| {
        Box::pin(async move {
            let version = c.config.version();
            lock::with_lock(c, || app::boot::boot(c, &version)).await
        })
    })
}

fn boot_run(project: &Project, host_list: Option<&str>, fake: &FakeExecutor) -> Run {
    run(project, "app", boot_options(host_list), fake, app_boot())
}

/// A fixture with a line added (Kamal stubs `sleep`; a test changes a delay instead).
fn fixture_with(name: &str, extra: &str) -> Project {
    let project = Project::kamal(name);
    project.file("config/deploy.yml", &format!("{}\n{extra}\n", wharf_testkit::kamal_fixture(name)));
    project
}

/// Whether `text` contains `pattern`, where `<hexN>` in the pattern stands for N lowercase hex
/// digits (Kamal's regexes `[0-9a-f]{N}`).
fn hex_match(pattern: &str, text: &str) -> bool {
    fn at(p: &[u8], s: &[u8]) -> bool {
        if p.is_empty() {
            return true;
        }
        if p.starts_with(b"<hex") {
            let close = p.iter().position(|&b| b == b'>').unwrap();
            let n: usize = std::str::from_utf8(&p[4..close]).unwrap().parse().unwrap();
            return s.len() >= n
                && s[..n].iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
                && at(&p[close + 1..], &s[n..]);
        }
        !s.is_empty() && s[0] == p[0] && at(&p[1..], &s[1..])
    }
    (0..=text.len()).any(|i| at(pattern.as_bytes(), &text.as_bytes()[i..]))
}

/// A command on `host` matching `pattern` (see [`hex_match`]) ran.
fn ran_matching(run: &Run, host: &str, pattern: &str) {
    let on = run.commands_on(host);
    assert!(
        on.iter().any(|c| hex_match(pattern, c)),
        "expected a command matching {pattern:?} on {host}; it ran:\n{}",
        on.join("\n")
    );
}

/// A printed line matching `pattern` (see [`hex_match`]).
fn prints_matching(run: &Run, pattern: &str) {
    assert!(
        run.lines.iter().any(|l| hex_match(pattern, l)),
        "expected a line matching {pattern:?}; output:\n{}",
        run.output()
    );
}

/// How many times `command` ran on `host`, exactly.
fn count(run: &Run, host: &str, command: &str) -> usize {
    run.commands_on(host).iter().filter(|c| *c == command).count()
}

/// Kamal's current running version query for `role` (0.9 of the spec).
fn current_version(role: &str) -> String {
    format!(
        r#"sh -c 'docker ps --latest --format '\''{{{{.Names}}}}'\'' --filter label=service=app --filter label=destination= --filter label=role={role} --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{{{.ID}}}}'\'') ; docker ps --latest --format '\''{{{{.Names}}}}'\'' --filter label=service=app --filter label=destination= --filter label=role={role} --filter status=running --filter status=restarting' | head -1 | while read line; do echo ${{line#app-{role}-}}; done"#
    )
}

fn container_id(role: &str, version: &str) -> String {
    format!("docker container ls --all --filter 'name=^app-{role}-{version}$' --quiet")
}

fn stop_version(role: &str, version: &str) -> String {
    format!("{} | xargs docker stop", container_id(role, version))
}

/// Stopping the version a boot replaced: by its name (Wharf; Kamal's `stop_version` finds the
/// container by that name first).
fn stop_replaced(role: &str, version: &str) -> String {
    format!("docker stop app-{role}-{version}")
}

fn health(role: &str, version: &str) -> String {
    format!(
        "{} | xargs docker inspect --format '{{{{if .State.Health}}}}{{{{.State.Health.Status}}}}{{{{else}}}}{{{{.State.Status}}}}{{{{end}}}}'",
        container_id(role, version)
    )
}

const STOP_WEB: &str = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1 | xargs docker stop"#;
const LOGS_SELECT: &str = r#"sh -c 'docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\''{{.ID}}'\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting' | head -1"#;
const ACQUIRE: &str = "mkdir .kamal/lock-app && echo \"";
const RELEASE: &str = "rm .kamal/lock-app/details && rm -r .kamal/lock-app";
const RUN_LATEST_ON_1: &str =
    "docker run --detach --restart unless-stopped --name app-web-latest --network kamal --hostname 1.1.1.1-<hex12> ";

fn acquire_index(run: &Run, host: &str) -> usize {
    run.commands_on(host).iter().position(|c| c.starts_with(ACQUIRE)).expect("the lock was acquired")
}

fn release_index(run: &Run, host: &str) -> usize {
    run.commands_on(host).iter().position(|c| c == RELEASE).expect("the lock was released")
}

fn exec_step(cmd: &[&str], interactive: bool, reuse: bool, detach: bool) -> Step {
    let cmd: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
    step(move |c| Box::pin(app::exec(c, app::ExecRequest { cmd, interactive, reuse, detach, raw: false, env: vec![] })))
}

// ---- boot ------------------------------------------------------------------------------------

#[test]
fn boot() {
    let fake = FakeExecutor::new();
    fake.stdout("", "123");
    let run = boot_run(&Project::kamal("deploy_with_accessories.yml"), Some("1.1.1.1"), &fake);
    run.ok();
    run.ran_on("1.1.1.1", "docker tag dhh/app:latest dhh/app:latest");
    ran_matching(&run, "1.1.1.1", RUN_LATEST_ON_1);
    run.ran_on("1.1.1.1", &stop_replaced("web", "123"));
    // The new version runs before the old one is stopped, and `latest` is tagged last.
    let on = run.commands_on("1.1.1.1");
    let started = on.iter().position(|c| c.starts_with("docker run --detach")).unwrap();
    let stopped = on.iter().position(|c| *c == stop_replaced("web", "123")).unwrap();
    let tagged = on.iter().position(|c| c == "docker tag dhh/app:latest dhh/app:latest").unwrap();
    assert!(started < stopped && stopped < tagged, "{on:#?}");
    assert!(run.commands_on("1.1.1.2").is_empty());
}

#[test]
fn boot_will_rename_if_same_version_is_already_running() {
    let fake = FakeExecutor::new();
    fake.stdout(&container_id("web", "latest"), "12345678");
    fake.stdout(&current_version("web"), "123");
    let run = boot_run(&Project::kamal("deploy_with_accessories.yml"), Some("1.1.1.1"), &fake);
    run.ok();
    prints_matching(&run, "Renaming container latest to latest_replaced_<hex16> as already deployed on 1.1.1.1");
    ran_matching(&run, "1.1.1.1", "docker rename app-web-latest app-web-latest_replaced_<hex16>");
    ran_matching(&run, "1.1.1.1", RUN_LATEST_ON_1);
    run.ran_on("1.1.1.1", &stop_replaced("web", "123"));
    // Kamal's three captures, each exactly once: the clash probe and the endpoint (the same
    // command), and the current version.
    assert_eq!(count(&run, "1.1.1.1", &container_id("web", "latest")), 2);
    assert_eq!(count(&run, "1.1.1.1", &current_version("web")), 1);
    // The rename comes before the new container runs.
    let on = run.commands_on("1.1.1.1");
    let renamed = on.iter().position(|c| c.starts_with("docker rename app-web-latest ")).unwrap();
    let started = on.iter().position(|c| c.starts_with("docker run --detach")).unwrap();
    assert!(renamed < started, "{on:#?}");
}

/// Kamal mocks SSHKit's `on()` to count host groups; here the groups show in the hooks (run once
/// per group, with the group's hosts) and in the pause after each group (`boot.wait: 2`).
#[test]
fn boot_uses_group_strategy_when_specified() {
    let fake = FakeExecutor::new();
    fake.stdout("xargs docker inspect --format", "healthy");
    fake.stdout("", "123");
    let project = Project::kamal("deploy_with_boot_strategy.yml");
    project.hook("pre-app-boot", "echo \"pre $KAMAL_HOSTS\" >> \"$0.log\"");
    project.hook("post-app-boot", "echo \"post $KAMAL_HOSTS\" >> \"$0.log\"");
    let started = std::time::Instant::now();
    let run = boot_run(&project, None, &fake);
    run.ok();
    assert!(started.elapsed() >= std::time::Duration::from_secs(4), "two groups, a 2 s pause after each");
    let hooks = project.path().join(".kamal/hooks");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-app-boot.log")).unwrap(),
        "pre 1.1.1.1,1.1.1.2,1.1.1.3\npre 1.1.1.4\n"
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("post-app-boot.log")).unwrap(),
        "post 1.1.1.1,1.1.1.2,1.1.1.3\npost 1.1.1.4\n"
    );
    assert_eq!(run.output().matches("Running /usr/bin/env .kamal/hooks/pre-app-boot on localhost").count(), 2);
    assert_eq!(run.output().matches("Running /usr/bin/env .kamal/hooks/post-app-boot on localhost").count(), 2);
    for host in ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"] {
        assert!(run.commands_on(host).iter().any(|c| c.starts_with("docker run --detach")), "{host}");
    }
}

/// Kamal makes `using_version` raise inside the lock; here the container fails to start.
#[test]
fn boot_errors_dont_leave_lock_in_place() {
    let fake = FakeExecutor::new();
    fake.fails("docker run --detach", 125, "docker: Error response from daemon: No such image: dhh/app:latest.");
    fake.stdout("", "123");
    let run = boot_run(&Project::kamal("deploy_with_accessories.yml"), Some("1.1.1.1"), &fake);
    let error = run.error();
    assert!(
        error.starts_with(
            "ERROR (SSHKit::Command::Failed): Exception while executing on host 1.1.1.1: docker exit status: 125\n\
             docker stdout: Nothing written\n\
             docker stderr: docker: Error response from daemon: No such image: dhh/app:latest.\n"
        ),
        "{error}"
    );
    assert!(error.contains("No such image: dhh/app:latest."), "{error}");
    run.prints("Failed to boot web on 1.1.1.1").prints("Releasing the deploy lock...");
    assert!(acquire_index(&run, "1.1.1.1") < release_index(&run, "1.1.1.1"));
    // The new version's container is stopped, the old one is left running.
    run.ran_on("1.1.1.1", &stop_version("web", "latest"));
    run.never_ran(&stop_replaced("web", "123"));
    run.never_ran("docker tag");
}

#[test]
fn boot_with_assets() {
    let fake = FakeExecutor::new();
    fake.stdout(&container_id("web", "latest"), "12345678");
    fake.stdout(&current_version("web"), "123");
    let run = boot_run(&Project::kamal("deploy_with_assets.yml"), Some("1.1.1.1"), &fake);
    run.ok();
    run.ran_on("1.1.1.1", "docker tag dhh/app:latest dhh/app:latest");
    run.ran_on("1.1.1.1", "mkdir -p .kamal/apps/app/assets/volumes/web-latest ; cp -rnT .kamal/apps/app/assets/extracted/web-latest .kamal/apps/app/assets/volumes/web-latest ; cp -rnT .kamal/apps/app/assets/extracted/web-latest .kamal/apps/app/assets/volumes/web-123 || true ; cp -rnT .kamal/apps/app/assets/extracted/web-123 .kamal/apps/app/assets/volumes/web-latest || true");
    run.ran_on("1.1.1.1", "mkdir -p .kamal/apps/app/assets/extracted/web-latest && docker container rm app-web-assets 2> /dev/null || true && docker container create --name app-web-assets dhh/app:latest && docker container cp -L app-web-assets:/public/assets/. .kamal/apps/app/assets/extracted/web-latest && docker container rm app-web-assets");
    ran_matching(&run, "1.1.1.1", RUN_LATEST_ON_1);
    run.ran_on("1.1.1.1", &stop_replaced("web", "123"));
    run.ran_on("1.1.1.1", r#"find .kamal/apps/app/assets/extracted -maxdepth 1 -name 'web-*' ! -name web-latest -exec rm -rf "{}" + ; find .kamal/apps/app/assets/volumes -maxdepth 1 -name 'web-*' ! -name web-latest -exec rm -rf "{}" +"#);
    // The current version is asked twice: for the assets, then for the boot.
    assert_eq!(count(&run, "1.1.1.1", &current_version("web")), 2);
    assert_eq!(count(&run, "1.1.1.1", &container_id("web", "latest")), 2);
}

#[test]
fn boot_with_host_tags() {
    let fake = FakeExecutor::new();
    fake.stdout(&container_id("web", "latest"), "12345678");
    fake.stdout(&current_version("web"), "123");
    let run = boot_run(&Project::kamal("deploy_with_env_tags.yml"), Some("1.1.1.1"), &fake);
    run.ok();
    run.ran_on("1.1.1.1", "docker tag dhh/app:latest dhh/app:latest");
    ran_matching(&run, "1.1.1.1", "docker run --detach --restart unless-stopped --name app-web-latest --network kamal --hostname 1.1.1.1-<hex12> --env KAMAL_CONTAINER_NAME=\"app-web-latest\" --env KAMAL_VERSION=\"latest\" --env KAMAL_HOST=\"1.1.1.1\" --env TEST=\"root\" --env EXPERIMENT=\"disabled\" --env SITE=\"site1\"");
    run.ran_on("1.1.1.1", &stop_replaced("web", "123"));
}

#[test]
fn boot_with_web_barrier_opened() {
    let fake = FakeExecutor::new();
    // Kamal answers "running" (and stubs the 7 s readiness delay); "healthy" needs no delay.
    fake.stdout(&health("workers", "latest"), "healthy");
    fake.stdout("", "123");
    let run = boot_run(&Project::kamal("deploy_with_roles.yml"), None, &fake);
    run.ok()
        .prints("Waiting for the first healthy web container before booting workers on 1.1.1.3...")
        .prints("Waiting for the first healthy web container before booting workers on 1.1.1.4...")
        .prints("First web container is healthy, booting workers on 1.1.1.3")
        .prints("First web container is healthy, booting workers on 1.1.1.4");
    for host in ["1.1.1.3", "1.1.1.4"] {
        run.ran_on(host, &health("workers", "latest"));
        assert!(run.commands_on(host).iter().any(|c| c.starts_with("docker run --detach")), "{host}");
    }
}

#[test]
fn boot_with_web_barrier_closed() {
    let fake = FakeExecutor::new();
    // Kamal fails the first web host's proxy deploy (the other falls back to success); here
    // both fail, so that which host is first does not matter.
    fake.fails("kamal-proxy deploy app-web", 1, "Failed to deploy");
    fake.stdout("", "123");
    let run = boot_run(&Project::kamal("deploy_with_roles.yml"), None, &fake);
    run.prints("Waiting for the first healthy web container before booting workers on 1.1.1.3...")
        .prints("Waiting for the first healthy web container before booting workers on 1.1.1.4...")
        .prints("First web container is unhealthy, not booting workers on 1.1.1.3")
        .prints("First web container is unhealthy, not booting workers on 1.1.1.4");
    let error = run.error();
    assert!(error.starts_with("ERROR (SSHKit::Command::Failed): Exceptions on 4 hosts:"), "{error}");
    run.ran_on("1.1.1.1", "docker exec kamal-proxy kamal-proxy deploy app-web --target=\"123:80\" --deploy-timeout=\"1s\" --drain-timeout=\"30s\" --buffer-requests --buffer-responses --log-request-header=\"Cache-Control\" --log-request-header=\"Last-Modified\" --log-request-header=\"User-Agent\"");
    for host in ["1.1.1.3", "1.1.1.4"] {
        assert!(
            !run.commands_on(host).iter().any(|c| c.starts_with("docker run")),
            "{host}: {:?}",
            run.commands_on(host)
        );
    }
    // The lock is released all the same.
    assert!(acquire_index(&run, "1.1.1.1") < release_index(&run, "1.1.1.1"));
}

#[test]
fn boot_with_worker_errors() {
    let fake = FakeExecutor::new();
    fake.stdout(&health("workers", "latest"), "unhealthy");
    fake.stdout("", "123");
    let run = boot_run(&Project::kamal("deploy_with_roles.yml"), None, &fake);
    run.prints("Waiting for the first healthy web container before booting workers on 1.1.1.3...")
        .prints("Waiting for the first healthy web container before booting workers on 1.1.1.4...")
        .prints("First web container is healthy, booting workers on 1.1.1.3")
        .prints("First web container is healthy, booting workers on 1.1.1.4")
        .prints("Failed to boot workers on 1.1.1.3")
        .prints("Failed to boot workers on 1.1.1.4");
    let error = run.error();
    assert!(error.starts_with("ERROR (Kamal::Cli::Healthcheck::Error): Exceptions on 2 hosts:"), "{error}");
    assert!(error.contains("container not ready after 1 seconds (unhealthy)"), "{error}");
    // The failed workers containers are stopped; the web hosts booted.
    for host in ["1.1.1.3", "1.1.1.4"] {
        assert!(run.commands_on(host).iter().any(|c| c.starts_with(&stop_version("workers", "latest"))), "{host}");
    }
    run.never_ran("docker tag");
}

#[test]
fn boot_with_worker_ready_then_not() {
    // Kamal stubs the readiness delay (7 s by default); 1 s here.
    let project = fixture_with("deploy_with_roles.yml", "readiness_delay: 1");
    let fake = FakeExecutor::new();
    fake.answer_times(&health("workers", "latest"), 1, Answer::Stdout("running".into()));
    fake.stdout(&health("workers", "latest"), "stopped");
    fake.stdout("", "123");
    let run = boot_run(&project, Some("1.1.1.3"), &fake);
    run.prints("Container is running, waiting for readiness delay of 1 seconds")
        .prints("Failed to boot workers on 1.1.1.3");
    assert_eq!(run.error(), "ERROR (Kamal::Cli::Healthcheck::Error): container not ready after 1 seconds (stopped)");
    // Only workers on 1.1.1.3: they are the primary role here (Kamal's `KAMAL.primary_role`),
    // nothing waits for web.
    run.does_not_print("Waiting for the first healthy")
        .prints("First workers container is unhealthy on 1.1.1.3, not booting any other roles");
}

#[test]
fn boot_with_only_workers() {
    let fake = FakeExecutor::new();
    fake.stdout(&health("workers", "latest"), "healthy");
    fake.stdout("", "123");
    let run = boot_run(&Project::kamal("deploy_with_only_workers.yml"), None, &fake);
    run.ok();
    assert!(
        run.output().contains("First workers container is healthy on 1.1.1.1, booting any other roles")
            || run.output().contains("First workers container is healthy on 1.1.1.2, booting any other roles"),
        "{}",
        run.output()
    );
    run.does_not_print("kamal-proxy");
    run.never_ran("kamal-proxy");
}

#[test]
fn boot_with_error_pages() {
    let project = Project::kamal("deploy_with_error_pages.yml");
    project.file("public/404.html", "404 page").file("public/503.html", "503 page");
    let fake = FakeExecutor::new();
    fake.stdout("", "123");
    let run = boot_run(&project, Some("1.1.1.1"), &fake);
    run.ok();
    // Kamal uploads a local `.../kamal-error-pages.../latest` directory; Wharf its files.
    run.ran_on("1.1.1.1", "upload .kamal/proxy/apps-config/app/error_pages/latest/404.html");
    run.ran_on("1.1.1.1", "upload .kamal/proxy/apps-config/app/error_pages/latest/503.html");
    run.ran_on("1.1.1.1", "docker tag dhh/app:latest dhh/app:latest");
    ran_matching(&run, "1.1.1.1", RUN_LATEST_ON_1);
    run.ran_on("1.1.1.1", &stop_replaced("web", "123"));
    run.ran_on(
        "1.1.1.1",
        "find .kamal/proxy/apps-config/app/error_pages -mindepth 1 -maxdepth 1 ! -name latest -exec rm -rf {} +",
    );
    // The pages are in place before the new version runs.
    let on = run.commands_on("1.1.1.1");
    let uploaded = on.iter().position(|c| c.ends_with("error_pages/latest/503.html")).unwrap();
    let started = on.iter().position(|c| c.starts_with("docker run --detach")).unwrap();
    assert!(uploaded < started, "{on:#?}");
}

/// Kamal stubs the configuration (`custom_ssl_certificate?`, the PEM contents); here the web
/// role's proxy names two secrets holding them.
#[test]
fn boot_with_custom_ssl_certificate() {
    let project = fixture_with(
        "deploy_with_proxy.yml",
        "proxy:\n  host: example.com\n  ssl:\n    certificate_pem: CERTIFICATE_PEM\n    private_key_pem: PRIVATE_KEY_PEM",
    );
    project.file(
        ".kamal/secrets",
        "RAILS_MASTER_KEY=123\nMYSQL_ROOT_PASSWORD=secret123\nCERTIFICATE_PEM=\"CERTIFICATE CONTENT\"\nPRIVATE_KEY_PEM=\"PRIVATE KEY CONTENT\"\n",
    );
    let fake = FakeExecutor::new();
    fake.stdout("", "123");
    let run = boot_run(&project, Some("1.1.1.1"), &fake);
    run.ok().prints("Writing SSL certificates for web on 1.1.1.1");
    assert!(run.commands_on("1.1.1.1").iter().any(|c| c.starts_with("mkdir -p .kamal/proxy/apps-config/app/tls")));
    run.ran_on("1.1.1.1", "upload .kamal/proxy/apps-config/app/tls/web/cert.pem");
    run.ran_on("1.1.1.1", "upload .kamal/proxy/apps-config/app/tls/web/key.pem");
    let deploy = run.commands_on("1.1.1.1").into_iter().find(|c| c.contains("kamal-proxy deploy app-web")).unwrap();
    assert!(
        deploy.contains("--tls-certificate-path=\"/home/kamal-proxy/.apps-config/app/tls/web/cert.pem\""),
        "{deploy}"
    );
    assert!(
        deploy.contains("--tls-private-key-path=\"/home/kamal-proxy/.apps-config/app/tls/web/key.pem\""),
        "{deploy}"
    );
}

// ---- start, stop, stale containers, details ----------------------------------------------------

#[test]
fn start() {
    let fake = FakeExecutor::new();
    fake.stdout("", "999");
    let run =
        run(&Project::kamal("deploy_with_accessories.yml"), "app", host1(), &fake, step(|c| Box::pin(app::start(c))));
    run.ok();
    run.ran_in_order(
        "1.1.1.1",
        &[
            "docker start app-web-999",
            "docker exec kamal-proxy kamal-proxy deploy app-web --target=\"999:80\" --deploy-timeout=\"30s\" --drain-timeout=\"30s\" --buffer-requests --buffer-responses --log-request-header=\"Cache-Control\" --log-request-header=\"Last-Modified\" --log-request-header=\"User-Agent\"",
        ],
    );
}

#[test]
fn stop() {
    let fake = FakeExecutor::new();
    let run =
        run(&Project::kamal("deploy_with_accessories.yml"), "app", host1(), &fake, step(|c| Box::pin(app::stop(c))));
    run.ok();
    run.ran_on("1.1.1.1", STOP_WEB);
    // No running version: nothing is removed from the proxy.
    run.never_ran("kamal-proxy remove");
    assert!(acquire_index(&run, "1.1.1.1") < release_index(&run, "1.1.1.1"));
}

#[test]
fn stale_containers() {
    let fake = FakeExecutor::new();
    let versions = r#"docker ps --filter label=service=app --filter label=destination= --filter label=role=web --format "{{.Names}}" | while read line; do echo ${line#app-web-}; done"#;
    fake.stdout(versions, "12345678\n87654321\n");
    fake.stdout(&current_version("web"), "12345678\n");
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "app",
        host1(),
        &fake,
        step(|c| Box::pin(app::stale_containers(c, false))),
    );
    run.ok()
        .prints("App Host: 1.1.1.1\nDetected stale container for role web with version 87654321 (use `kamal app stale_containers --stop` to stop)")
        .does_not_print("version 12345678");
    assert_eq!(run.commands_on("1.1.1.1"), vec![versions.to_string(), current_version("web")]);
}

#[test]
fn stop_stale_containers() {
    let fake = FakeExecutor::new();
    let versions = r#"docker ps --filter label=service=app --filter label=destination= --filter label=role=web --format "{{.Names}}" | while read line; do echo ${line#app-web-}; done"#;
    fake.stdout(versions, "12345678\n87654321\n");
    fake.stdout(&current_version("web"), "12345678\n");
    // `--stop` takes the deploy lock, as the CLI does.
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "app",
        host1(),
        &fake,
        step(|c| Box::pin(lock::with_lock(c, || app::stale_containers(c, true)))),
    );
    run.ok().prints("Stopping stale container for role web with version 87654321");
    run.ran_in_order(
        "1.1.1.1",
        &[versions, current_version("web").as_str(), stop_version("web", "87654321").as_str(), RELEASE],
    );
    run.never_ran(&stop_version("web", "12345678"));
}

#[test]
fn details() {
    let fake = FakeExecutor::new();
    fake.stdout("docker ps --filter", "CONTAINER ID   IMAGE");
    let run =
        run(&Project::kamal("deploy_with_accessories.yml"), "app", host1(), &fake, step(|c| Box::pin(app::details(c))));
    run.ok().prints("App Host: 1.1.1.1\nCONTAINER ID   IMAGE");
    assert_eq!(
        run.commands_on("1.1.1.1"),
        vec!["docker ps --filter label=service=app --filter label=destination= --filter label=role=web"]
    );
}

// ---- remove ----------------------------------------------------------------------------------

#[test]
fn remove() {
    let fake = FakeExecutor::new();
    let run =
        run(&Project::kamal("deploy_with_accessories.yml"), "app", host1(), &fake, step(|c| Box::pin(app::remove(c))));
    run.ok();
    run.ran_in_order(
        "1.1.1.1",
        &[
            STOP_WEB,
            "docker container prune --force --filter label=service=app --filter label=destination= --filter label=role=web",
            "docker image prune --all --force --filter label=service=app",
            "rm -r .kamal/apps/app",
            "rm -r .kamal/proxy/apps-config/app",
            RELEASE,
        ],
    );
    // One lock around it all.
    assert_eq!(run.commands_on("1.1.1.1").iter().filter(|c| c.starts_with(ACQUIRE)).count(), 1);
}

#[test]
fn remove_with_role_filter_does_not_remove_images_or_app_directories() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_two_roles_one_host.yml"),
        "app",
        GlobalOptions { roles: Some("workers".into()), hosts: Some("1.1.1.1".into()), ..Default::default() },
        &fake,
        step(|c| Box::pin(app::remove(c))),
    );
    run.ok();
    assert!(run
        .commands_on("1.1.1.1")
        .iter()
        .any(|c| c.contains("label=role=workers") && c.contains("| xargs docker stop")));
    run.never_ran("label=role=web");
    run.ran_on("1.1.1.1", "docker container prune --force --filter label=service=app --filter label=destination= --filter label=role=workers");
    run.never_ran("docker image prune --all --force --filter label=service=app");
    run.never_ran("rm -r .kamal/apps/app");
    run.never_ran("rm -r .kamal/proxy/apps-config/app");
}

#[test]
fn remove_with_all_roles_on_host_removes_images_and_app_directories() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_two_roles_one_host.yml"),
        "app",
        GlobalOptions { roles: Some("workers,web".into()), hosts: Some("1.1.1.1".into()), ..Default::default() },
        &fake,
        step(|c| Box::pin(app::remove(c))),
    );
    run.ok();
    for role in ["web", "workers"] {
        assert!(
            run.commands_on("1.1.1.1")
                .iter()
                .any(|c| c.contains(&format!("label=role={role}")) && c.contains("| xargs docker stop")),
            "{role}"
        );
    }
    assert!(run
        .commands_on("1.1.1.1")
        .iter()
        .any(|c| c.starts_with("docker container prune --force --filter label=service=app")));
    run.ran_on("1.1.1.1", "docker image prune --all --force --filter label=service=app");
    run.ran_on("1.1.1.1", "rm -r .kamal/apps/app");
    run.ran_on("1.1.1.1", "rm -r .kamal/proxy/apps-config/app");
}

#[test]
fn remove_container() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "app",
        host1(),
        &fake,
        step(|c| Box::pin(app::remove_container(c, "1234567"))),
    );
    run.ok();
    run.ran_on(
        "1.1.1.1",
        "docker container ls --all --filter 'name=^app-web-1234567$' --quiet | xargs docker container rm",
    );
}

#[test]
fn remove_containers() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "app",
        host1(),
        &fake,
        step(|c| Box::pin(app::remove_containers(c))),
    );
    run.ok();
    assert!(run
        .commands_on("1.1.1.1")
        .iter()
        .any(|c| c.starts_with("docker container prune --force --filter label=service=app")));
    run.ran_on(
        "1.1.1.1",
        "docker container prune --force --filter label=service=app --filter label=destination= --filter label=role=web",
    );
}

#[test]
fn remove_images() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "app",
        host1(),
        &fake,
        step(|c| Box::pin(app::remove_images(c))),
    );
    run.ok();
    run.ran_on("1.1.1.1", "docker image prune --all --force --filter label=service=app");
}

#[test]
fn remove_app_directories() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "app",
        host1(),
        &fake,
        step(|c| Box::pin(app::remove_app_directories(c))),
    );
    run.ok();
    run.ran_in_order("1.1.1.1", &["rm -r .kamal/apps/app", "rm -r .kamal/proxy/apps-config/app"]);
}

// ---- exec ------------------------------------------------------------------------------------

const EXEC_NEW: &str = "docker run --rm --name app-web-exec-latest-<hex6> --network kamal --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size=\"10m\" dhh/app:latest ruby -v";

#[test]
fn exec() {
    let fake = FakeExecutor::new();
    fake.stdout("ruby -v", "ruby 3.3.0");
    let run = run_app(
        &Project::kamal("deploy_with_accessories.yml"),
        host1(),
        &fake,
        exec_step(&["ruby -v"], false, false, false),
    );
    run.ok()
        .prints("Get most recent version available as an image...")
        .prints("Launching command with version latest from new container...")
        .prints("App Host: 1.1.1.1\nruby 3.3.0");
    // Kamal logs in with `-p` (shown `-u [REDACTED] -p [REDACTED]`); Wharf with --password-stdin.
    let on = run.commands_on("1.1.1.1");
    let login =
        on.iter().position(|c| c.starts_with("docker login") && c.contains("-u [REDACTED]")).expect("a registry login");
    let ran = on.iter().position(|c| hex_match(EXEC_NEW, c)).expect("the command in a new container");
    assert!(login < ran, "{on:#?}");
}

#[test]
fn exec_without_command_fails() {
    let fake = FakeExecutor::new();
    let run =
        run_app(&Project::kamal("deploy_with_accessories.yml"), host1(), &fake, exec_step(&[], false, false, false));
    assert_eq!(run.error(), "ERROR (ArgumentError): No command provided. You must specify a command to execute.");
    assert!(run.commands().is_empty(), "{:?}", run.commands());
}

#[test]
fn exec_separate_arguments() {
    let fake = FakeExecutor::new();
    let run = run_app(
        &Project::kamal("deploy_with_accessories.yml"),
        host1(),
        &fake,
        exec_step(&["ruby", " -v"], false, false, false),
    );
    run.ok();
    ran_matching(&run, "1.1.1.1", EXEC_NEW);
}

#[test]
fn exec_detach() {
    let fake = FakeExecutor::new();
    let run = run_app(
        &Project::kamal("deploy_with_accessories.yml"),
        host1(),
        &fake,
        exec_step(&["ruby -v"], false, false, true),
    );
    run.ok();
    ran_matching(&run, "1.1.1.1", "docker run --detach --name app-web-exec-latest-<hex6> --network kamal --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size=\"10m\" dhh/app:latest ruby -v");
}

#[test]
fn exec_detach_with_reuse() {
    let fake = FakeExecutor::new();
    let run = run_app(
        &Project::kamal("deploy_with_accessories.yml"),
        host1(),
        &fake,
        exec_step(&["ruby -v"], false, true, true),
    );
    assert_eq!(run.error(), "ERROR (ArgumentError): Detach is not compatible with reuse");
    assert!(run.commands().is_empty());
}

#[test]
fn exec_detach_with_interactive() {
    let fake = FakeExecutor::new();
    let run = run_app(
        &Project::kamal("deploy_with_accessories.yml"),
        host1(),
        &fake,
        exec_step(&["ruby -v"], true, false, true),
    );
    assert_eq!(run.error(), "ERROR (ArgumentError): Detach is not compatible with interactive");
    assert!(run.commands().is_empty());
}

#[test]
fn exec_detach_with_interactive_and_reuse() {
    let fake = FakeExecutor::new();
    let run = run_app(
        &Project::kamal("deploy_with_accessories.yml"),
        host1(),
        &fake,
        exec_step(&["ruby -v"], true, true, true),
    );
    assert_eq!(run.error(), "ERROR (ArgumentError): Detach is not compatible with interactive or reuse");
    assert!(run.commands().is_empty());
}

#[test]
fn exec_with_reuse() {
    let fake = FakeExecutor::new();
    let run = run_app(
        &Project::kamal("deploy_with_accessories.yml"),
        host1(),
        &fake,
        exec_step(&["ruby -v"], false, true, false),
    );
    run.ok()
        .prints("Get current version of running container...")
        .prints("Launching command with version 999 from existing container...");
    // No version running: the configuration's (999).
    run.ran_in_order("1.1.1.1", &[current_version("web").as_str(), "docker exec app-web-999 ruby -v"]);
    run.never_ran("docker login");
}

// ---- containers, images, logs, version -------------------------------------------------------

#[test]
fn containers() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "app",
        host1(),
        &fake,
        step(|c| Box::pin(app::containers(c))),
    );
    run.ok().prints("App Host: 1.1.1.1");
    let on = run.commands_on("1.1.1.1");
    assert!(on.len() == 1 && on[0].starts_with("docker container ls --all --filter label=service=app"), "{on:?}");
}

#[test]
fn images() {
    let fake = FakeExecutor::new();
    let run =
        run(&Project::kamal("deploy_with_accessories.yml"), "app", host1(), &fake, step(|c| Box::pin(app::images(c))));
    run.ok().prints("App Host: 1.1.1.1");
    assert_eq!(run.commands_on("1.1.1.1"), vec!["docker image ls dhh/app"]);
}

fn logs_step(grep: Option<&str>, grep_options: Option<&str>) -> Step {
    let request = app::LogsRequest {
        grep: grep.map(str::to_string),
        grep_options: grep_options.map(str::to_string),
        timestamps: true,
        ..Default::default()
    };
    step(move |c| Box::pin(app::logs_with(c, request)))
}

#[test]
fn logs() {
    let project = Project::kamal("deploy_with_accessories.yml");

    let fake = FakeExecutor::new();
    fake.stdout("docker logs", "2024-01-01T00:00:00Z hey there");
    let run1 = run(&project, "app", host1(), &fake, logs_step(None, None));
    run1.ok().prints("App Host: 1.1.1.1\n2024-01-01T00:00:00Z hey there");
    assert_eq!(
        run1.commands_on("1.1.1.1"),
        vec![format!("{LOGS_SELECT} | xargs docker logs --timestamps --tail 100 2>&1")]
    );

    let fake = FakeExecutor::new();
    let run2 = run(&project, "app", host1(), &fake, logs_step(Some("hey"), None));
    run2.ok();
    assert_eq!(
        run2.commands_on("1.1.1.1"),
        vec![format!("{LOGS_SELECT} | xargs docker logs --timestamps 2>&1 | grep 'hey'")]
    );

    let fake = FakeExecutor::new();
    let run3 = run(&project, "app", host1(), &fake, logs_step(Some("hey"), Some("-C 2")));
    run3.ok();
    assert_eq!(
        run3.commands_on("1.1.1.1"),
        vec![format!("{LOGS_SELECT} | xargs docker logs --timestamps 2>&1 | grep 'hey' -C 2")]
    );
}

/// Not in Kamal's tests: its `rescue SSHKit::Command::Failed` (grep found nothing).
#[test]
fn logs_nothing_found() {
    let fake = FakeExecutor::new();
    fake.fails("grep 'nope'", 1, "");
    let run = run(&Project::kamal("deploy_with_accessories.yml"), "app", host1(), &fake, logs_step(Some("nope"), None));
    run.ok().prints("App Host: 1.1.1.1\nNothing found");
}

#[test]
fn version() {
    let fake = FakeExecutor::new();
    fake.stdout(&current_version("web"), "999");
    let run =
        run(&Project::kamal("deploy_with_accessories.yml"), "app", host1(), &fake, step(|c| Box::pin(app::version(c))));
    run.ok().prints("App Host: 1.1.1.1\n999");
    assert_eq!(run.commands_on("1.1.1.1"), vec![current_version("web")]);
}

// ---- hostnames -------------------------------------------------------------------------------

#[test]
fn long_hostname() {
    let fake = FakeExecutor::new();
    fake.stdout("", "123");
    let host = "this-hostname-is-really-unacceptably-long-to-be-honest.example.com";
    let run = boot_run(&Project::kamal("deploy_with_uncommon_hostnames.yml"), Some(host), &fake);
    run.ok();
    ran_matching(&run, host, "docker run --detach --restart unless-stopped --name app-web-latest --network kamal --hostname this-hostname-is-really-unacceptably-long-to-be-hon-<hex12> ");
}

#[test]
fn hostname_is_trimmed_if_will_end_with_a_period() {
    let fake = FakeExecutor::new();
    fake.stdout("", "123");
    let host = "this-hostname-with-random-part-is-too-long.example.com";
    let run = boot_run(&Project::kamal("deploy_with_uncommon_hostnames.yml"), Some(host), &fake);
    run.ok();
    ran_matching(&run, host, "docker run --detach --restart unless-stopped --name app-web-latest --network kamal --hostname this-hostname-with-random-part-is-too-long.example-<hex12> ");
}

// ---- proxy -----------------------------------------------------------------------------------

#[test]
fn boot_proxy() {
    let fake = FakeExecutor::new();
    fake.stdout("", "123");
    let run = boot_run(&Project::kamal("deploy_with_proxy.yml"), Some("1.1.1.1"), &fake);
    run.ok();
    prints_matching(&run, "Renaming container latest to latest_replaced_<hex16> as already deployed on 1.1.1.1");
    ran_matching(&run, "1.1.1.1", "docker rename app-web-latest app-web-latest_replaced_<hex16>");
    ran_matching(&run, "1.1.1.1", "docker run --detach --restart unless-stopped --name app-web-latest --network kamal --hostname 1.1.1.1-<hex12> --env KAMAL_CONTAINER_NAME=\"app-web-latest\" --env KAMAL_VERSION=\"latest\" --env KAMAL_HOST=\"1.1.1.1\" --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size=\"10m\" --label service=\"app\" --label role=\"web\" --label destination dhh/app:latest");
    assert!(run
        .commands_on("1.1.1.1")
        .iter()
        .any(|c| c.starts_with("docker exec kamal-proxy kamal-proxy deploy app-web --target=\"123:80\"")));
    run.ran_on("1.1.1.1", &stop_replaced("web", "123"));
}

#[test]
fn boot_proxy_with_role_specific_config() {
    let fake = FakeExecutor::new();
    fake.stdout("", "123");
    let run = boot_run(&Project::kamal("deploy_with_proxy_roles.yml"), None, &fake);
    run.ok();
    for host in ["1.1.1.1", "1.1.1.2"] {
        run.ran_on(host, "docker exec kamal-proxy kamal-proxy deploy app-web --target=\"123:80\" --deploy-timeout=\"6s\" --drain-timeout=\"30s\" --target-timeout=\"10s\" --buffer-requests --buffer-responses --log-request-header=\"Cache-Control\" --log-request-header=\"Last-Modified\" --log-request-header=\"User-Agent\"");
    }
    for host in ["1.1.1.3", "1.1.1.4"] {
        run.ran_on(host, "docker exec kamal-proxy kamal-proxy deploy app-web2 --target=\"123:80\" --deploy-timeout=\"6s\" --drain-timeout=\"30s\" --target-timeout=\"15s\" --buffer-requests --buffer-responses --log-request-header=\"Cache-Control\" --log-request-header=\"Last-Modified\" --log-request-header=\"User-Agent\"");
    }
}

#[test]
fn live() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "app",
        host1(),
        &fake,
        step(|c| Box::pin(app::live_or_maintenance(c, None))),
    );
    run.ok();
    run.ran_on("1.1.1.1", "docker exec kamal-proxy kamal-proxy resume app-web");
    assert!(acquire_index(&run, "1.1.1.1") < release_index(&run, "1.1.1.1"));
}

#[test]
fn maintenance() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "app",
        host1(),
        &fake,
        step(|c| Box::pin(app::live_or_maintenance(c, Some((None, None))))),
    );
    run.ok();
    run.ran_on("1.1.1.1", "docker exec kamal-proxy kamal-proxy stop app-web --drain-timeout=\"30s\"");
}

#[test]
fn maintenance_with_options() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "app",
        host1(),
        &fake,
        step(|c| Box::pin(app::live_or_maintenance(c, Some((Some(10), Some("Hello".into())))))),
    );
    run.ok();
    run.ran_on(
        "1.1.1.1",
        "docker exec kamal-proxy kamal-proxy stop app-web --drain-timeout=\"10s\" --message=\"Hello\"",
    );
}
