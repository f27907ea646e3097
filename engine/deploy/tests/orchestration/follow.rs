//! Terminal hand-offs: `app exec -i` and `logs --follow` of app, proxy and accessory hand the
//! terminal to `ssh -t HOST ...` (Kamal's `exec` of that line; its test/cli stubs it). The fake
//! executor records the hand-off on host `local`.

use crate::harness::*;
use wharf_deploy::execution::FakeExecutor;
use wharf_deploy::{accessory, app, proxy, GlobalOptions};

/// The command handed the terminal, if exactly one.
fn handed_off(run: &Run) -> String {
    let offs: Vec<String> =
        run.commands_on("local").into_iter().filter_map(|c| c.strip_prefix("hand-off ").map(str::to_string)).collect();
    assert_eq!(offs.len(), 1, "one hand-off expected: {offs:?}");
    offs[0].clone()
}

const APP_CONTAINER: &str = "docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting --filter ancestor=$(docker image ls --filter reference=dhh/app:latest --format '\\''\\'\\'''\\''{{.ID}}'\\''\\'\\'''\\'') ; docker ps --latest --quiet --filter label=service=app --filter label=destination= --filter label=role=web --filter status=running --filter status=restarting";

fn app_logs(follow_grep: Option<&str>, grep_options: Option<&str>, container_id: Option<&str>) -> Run {
    let request = app::LogsRequest {
        lines: None,
        since: None,
        grep: follow_grep.map(str::to_string),
        grep_options: grep_options.map(str::to_string),
        timestamps: true,
        container_id: container_id.map(str::to_string),
    };
    run(
        &Project::kamal("deploy_with_accessories.yml"),
        "app",
        hosts("1.1.1.1"),
        &FakeExecutor::new(),
        step(move |c| Box::pin(async move { app::follow_logs(c, request) })),
    )
}

#[test]
fn app_logs_with_follow() {
    let run = app_logs(None, None, None);
    let want = format!(
        "ssh -t root@1.1.1.1 -p 22 'sh -c '\\''{APP_CONTAINER}'\\'' | head -1 | xargs docker logs --timestamps --tail 10 --follow 2>&1'"
    );
    assert_eq!(handed_off(&run), want);
    run.ok().prints("  INFO Following logs on 1.1.1.1...").prints(&format!("  INFO {want}"));
    assert!(run.commands_on("1.1.1.1").is_empty(), "nothing else runs on the host");
}

#[test]
fn app_logs_with_follow_and_container_id() {
    let run = app_logs(None, None, Some("ID123"));
    assert_eq!(
        handed_off(&run),
        "ssh -t root@1.1.1.1 -p 22 'sh -c '\\''echo ID123'\\'' | xargs docker logs --timestamps --tail 10 --follow 2>&1'"
    );
}

#[test]
fn app_logs_with_follow_and_grep() {
    // With --grep (and no --lines) there is no --tail.
    let run = app_logs(Some("hey"), None, None);
    assert!(
        handed_off(&run).ends_with("| head -1 | xargs docker logs --timestamps --follow 2>&1 | grep \"hey\"'"),
        "{}",
        handed_off(&run)
    );
}

#[test]
fn app_logs_with_follow_grep_and_grep_options() {
    let run = app_logs(Some("hey"), Some("-C 2"), None);
    assert!(
        handed_off(&run).ends_with("xargs docker logs --timestamps --follow 2>&1 | grep \"hey\" -C 2'"),
        "{}",
        handed_off(&run)
    );
}

fn app_exec_interactive(reuse: bool) -> Run {
    let fake = FakeExecutor::new();
    let project = Project::kamal("deploy_with_accessories.yml");
    let request = app::ExecRequest {
        cmd: vec!["ruby -v".into()],
        interactive: true,
        reuse,
        detach: false,
        raw: false,
        env: vec![],
    };
    run(&project, "app", hosts("1.1.1.1"), &fake, step(move |c| Box::pin(async move { app::exec(c, request).await })))
}

#[test]
fn exec_interactive() {
    let run = app_exec_interactive(false);
    run.ok()
        .prints("Get most recent version available as an image...")
        .prints("Launching interactive command with version latest via SSH from new container on 1.1.1.1...");
    let line = handed_off(&run);
    // STDIN is not a terminal under `cargo test`: `-i` rather than `-it`, as Kamal does.
    assert!(line.starts_with("ssh -t root@1.1.1.1 -p 22 'docker run -i --rm --name app-web-exec-latest-"), "{line}");
    assert!(
        line.ends_with(" --network kamal --env-file .kamal/apps/app/env/roles/web.env --log-opt max-size=\"10m\" dhh/app:latest ruby -v'"),
        "{line}"
    );
    // The registry login happens on the host before the hand-off.
    assert!(
        run.commands_on("1.1.1.1").iter().any(|c| c.starts_with("docker login")),
        "{:?}",
        run.commands_on("1.1.1.1")
    );
}

#[test]
fn exec_interactive_with_reuse() {
    let run = app_exec_interactive(true);
    run.ok()
        .prints("Get current version of running container...")
        .prints("Launching interactive command with version 999 via SSH from existing container on 1.1.1.1...");
    assert_eq!(handed_off(&run), "ssh -t root@1.1.1.1 -p 22 'docker exec -i app-web-999 ruby -v'");
    run.never_ran("docker login");
}

#[test]
fn proxy_logs_with_follow() {
    let options = wharf_commands::proxy::ProxyLogsOptions {
        timestamps: true,
        since: None,
        lines: None,
        grep: None,
        grep_options: None,
    };
    let run = run(
        &Project::kamal("deploy_with_proxy.yml"),
        "proxy",
        GlobalOptions::default(),
        &FakeExecutor::new(),
        step(move |c| Box::pin(async move { proxy::follow_logs(c, &options) })),
    );
    run.ok().prints("  INFO Following logs on 1.1.1.1...");
    assert_eq!(
        handed_off(&run),
        "ssh -t root@1.1.1.1 -p 22 'docker logs kamal-proxy --timestamps --tail 10 --follow 2>&1'"
    );
}

fn accessory_follow(grep: Option<&str>, grep_options: Option<&str>) -> Run {
    let options = wharf_commands::AccessoryLogsOptions {
        timestamps: true,
        since: None,
        lines: None,
        grep: grep.map(str::to_string),
        grep_options: grep_options.map(str::to_string),
    };
    run(
        &Project::kamal("deploy_with_accessories_with_different_registries.yml"),
        "accessory",
        GlobalOptions::default(),
        &FakeExecutor::new(),
        step(move |c| Box::pin(async move { accessory::follow_logs(c, "mysql", &options) })),
    )
}

#[test]
fn accessory_logs_with_follow() {
    let run = accessory_follow(None, None);
    run.ok().prints("  INFO Following logs on [\"1.1.1.3\"]...");
    assert_eq!(
        handed_off(&run),
        "ssh -t root@1.1.1.3 -p 22 'docker logs app-mysql --timestamps --tail 10 --follow 2>&1'"
    );
}

#[test]
fn accessory_logs_with_follow_grep_and_grep_options() {
    let run = accessory_follow(Some("hey"), Some("-C 2"));
    assert_eq!(
        handed_off(&run),
        "ssh -t root@1.1.1.3 -p 22 'docker logs app-mysql --timestamps --tail 10 --follow 2>&1 | grep \"hey\" -C 2'"
    );
}

fn run_accessory_exec_interactive(reuse: bool) -> Run {
    let request = accessory::ExecRequest { interactive: true, reuse, raw: false };
    run(
        &Project::kamal("deploy_with_accessories.yml"),
        "accessory",
        GlobalOptions::default(),
        &FakeExecutor::new(),
        step(move |c| Box::pin(async move { accessory::exec(c, "mysql", &["mysql".to_string()], request).await })),
    )
}

#[test]
fn accessory_exec_interactive() {
    let run = run_accessory_exec_interactive(false);
    run.ok().prints("Launching interactive command via SSH from new container...");
    // STDIN is not a terminal under `cargo test`: `-i` rather than `-it`, as Kamal does.
    assert_eq!(
        handed_off(&run),
        "ssh -t root@1.1.1.3 -p 22 'docker run -i --rm --network kamal --env MYSQL_ROOT_HOST=\"%\" --env-file .kamal/apps/app/env/accessories/mysql.env --volume $PWD/app-mysql/etc/mysql/my.cnf:/etc/mysql/my.cnf --volume $PWD/app-mysql/data:/var/lib/mysql mysql:5.7 mysql'"
    );
    // The registry login on the accessory's first host, before the hand-off; nothing audited.
    let on = run.commands_on("1.1.1.3");
    assert_eq!(on.len(), 1, "{on:?}");
    assert!(on[0].starts_with("docker login "), "{on:?}");
}

#[test]
fn accessory_exec_interactive_with_reuse() {
    let run = run_accessory_exec_interactive(true);
    run.ok().prints("Launching interactive command via SSH from existing container...");
    assert_eq!(handed_off(&run), "ssh -t root@1.1.1.3 -p 22 'docker exec -i app-mysql mysql'");
    assert!(run.commands_on("1.1.1.3").is_empty(), "{:?}", run.commands_on("1.1.1.3"));
}
