//! `server exec|bootstrap` (Kamal's test/cli/server_test.rb, as Kamal 2.11 behaves).

use crate::harness::*;
use wharf_deploy::execution::FakeExecutor;
use wharf_deploy::server;

const HOSTS: [&str; 4] = ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"];

#[test]
fn running_a_command_with_exec() {
    let fake = FakeExecutor::new();
    fake.stdout("date", "Today");
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "server",
        defaults(),
        &fake,
        step(|c| Box::pin(async move { server::exec(c, &["date".to_string()]).await })),
    );
    run.ok().prints("Running 'date' on 1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4...");
    for host in HOSTS {
        run.prints(&format!("App Host: {host}\nToday"));
        run.ran_on(host, "date");
        let audit = &run.commands_on(host)[0];
        assert_eq!(
            audit,
            &format!("mkdir -p .kamal && echo \"[2024-01-01T00:00:00Z] [{PERFORMER}] Executed cmd 'date' on {host}\" >> .kamal/app-audit.log")
        );
    }
}

#[test]
fn running_a_command_with_exec_multiple_arguments() {
    let fake = FakeExecutor::new();
    fake.stdout("date -j", "Today");
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "server",
        defaults(),
        &fake,
        step(|c| Box::pin(async move { server::exec(c, &["date".to_string(), "-j".to_string()]).await })),
    );
    run.ok().prints("Running 'date -j' on 1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4...").prints("App Host: 1.1.1.4\nToday");
}

#[test]
fn exec_on_selected_hosts_only() {
    let fake = FakeExecutor::new();
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "server",
        hosts("1.1.1.2,1.1.1.4"),
        &fake,
        step(|c| Box::pin(async move { server::exec(c, &["uptime".to_string()]).await })),
    );
    run.ok().prints("Running 'uptime' on 1.1.1.2, 1.1.1.4...");
    assert!(run.commands_on("1.1.1.1").is_empty() && run.commands_on("1.1.1.3").is_empty());
}

#[test]
fn exec_failing_on_two_hosts_names_both() {
    let fake = FakeExecutor::new();
    fake.answer_exactly("1.1.1.2", "false", wharf_deploy::execution::Answer::Fails(1, "no".into()));
    fake.answer_exactly("1.1.1.3", "false", wharf_deploy::execution::Answer::Fails(1, "no".into()));
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "server",
        defaults(),
        &fake,
        step(|c| Box::pin(async move { server::exec(c, &["false".to_string()]).await })),
    );
    let error = run.error();
    assert!(error.starts_with("ERROR (SSHKit::Command::Failed): Exceptions on 2 hosts:\n"), "{error}");
    assert!(error.contains("Exception while executing on host 1.1.1.2: false exit status: 1"), "{error}");
    assert!(error.contains("Exception while executing on host 1.1.1.3: false exit status: 1"), "{error}");
}

#[test]
fn an_unreachable_host_is_named() {
    let fake = FakeExecutor::new();
    fake.unreachable("1.1.1.4");
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "server",
        defaults(),
        &fake,
        step(|c| Box::pin(async move { server::exec(c, &["date".to_string()]).await })),
    );
    assert_eq!(run.error(), "ERROR (SSHKit::Runner::ExecuteError): Exception while executing on host 1.1.1.4: Connection refused by 1.1.1.4:22");
}

#[test]
fn bootstrap_already_installed() {
    let fake = FakeExecutor::new();
    let project = Project::kamal("deploy_with_accessories.yml");
    project.hook("docker-setup", "echo docker-setup ran >&2");
    let run = run(&project, "server", defaults(), &fake, step(|c| Box::pin(server::bootstrap(c))));
    run.ok();
    for host in HOSTS {
        assert_eq!(run.commands_on(host), vec!["docker -v", "mkdir -p .kamal"], "{host}");
    }
    run.prints("Running /usr/bin/env .kamal/hooks/docker-setup on localhost");
}

#[test]
fn bootstrap_installs_docker_where_it_is_missing() {
    let fake = FakeExecutor::new();
    fake.answer_on("1.1.1.2", "docker -v", wharf_deploy::execution::Answer::Fails(127, "sh: docker: not found".into()));
    let run = run(
        &Project::kamal("deploy_with_accessories.yml"),
        "server",
        defaults(),
        &fake,
        step(|c| Box::pin(server::bootstrap(c))),
    );
    run.ok();
    let on = run.commands_on("1.1.1.2");
    // The run directory is made in the same exchange as the question (it needs no Docker).
    assert_eq!(on[0], "docker -v");
    assert_eq!(on[1], "mkdir -p .kamal");
    assert!(on[2].contains("get.docker.com"), "{on:?}");
    assert_eq!(on.len(), 3, "{on:?}");
    assert_eq!(run.commands_on("1.1.1.1"), vec!["docker -v", "mkdir -p .kamal"]);
}
