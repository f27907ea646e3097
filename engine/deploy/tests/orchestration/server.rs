//! `server exec|bootstrap` (Kamal's test/cli/server_test.rb, as Kamal 2.11 behaves).

use crate::harness::*;
use wharf_deploy::execution::{Answer, FakeExecutor};
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

const SUPERUSER: &str = "[ \"${EUID:-$(id -u)}\" -eq 0 ] || sudo -nl usermod >/dev/null";
const ROOT: &str = "[ \"${EUID:-$(id -u)}\" -eq 0 ]";
const GET_DOCKER: &str =
    "sh -c 'curl -fsSL https://get.docker.com || wget -O - https://get.docker.com || echo \"exit 1\"' | sh";
const IN_GROUP: &str = "id -nG \"${USER:-$(id -un)}\" | grep -qw docker";

fn bootstrap_run(project: &Project, fake: &FakeExecutor) -> Run {
    run(project, "server", defaults(), fake, step(|c| Box::pin(server::bootstrap(c))))
}

fn docker_missing() -> FakeExecutor {
    let fake = FakeExecutor::new();
    fake.answer("docker -v", Answer::Fails(127, "sh: docker: not found".into()));
    fake
}

#[test]
fn bootstrap_install_as_root_user() {
    // Kamal: "bootstrap install as root user"
    let fake = docker_missing();
    let project = Project::kamal("deploy_with_accessories.yml");
    project.hook("docker-setup", "echo docker-setup ran >&2");
    let run = bootstrap_run(&project, &fake);
    run.ok().prints("Running /usr/bin/env .kamal/hooks/docker-setup on localhost");
    for host in HOSTS {
        run.prints(&format!("Missing Docker on {host}. Installing…"));
        // The run directory is made in the same exchange as the question (it needs no Docker).
        assert_eq!(run.commands_on(host), vec!["docker -v", "mkdir -p .kamal", SUPERUSER, GET_DOCKER, ROOT], "{host}");
    }
}

#[test]
fn bootstrap_install_as_sudo_non_root_user() {
    // Kamal: "bootstrap install as sudo non-root user"
    let fake = docker_missing();
    for host in HOSTS {
        // Exactly: the superuser question contains the root one.
        fake.answer_exactly(host, ROOT, Answer::Fails(1, String::new()));
    }
    fake.answer(IN_GROUP, Answer::Fails(1, String::new()));
    let run = bootstrap_run(&Project::kamal("deploy_with_accessories.yml"), &fake);
    run.ok();
    for host in HOSTS {
        run.prints(&format!("Missing Docker on {host}. Installing…"));
        run.ran_in_order(
            host,
            &[
                SUPERUSER,
                GET_DOCKER,
                ROOT,
                IN_GROUP,
                "sudo -n usermod -aG docker \"${USER:-$(id -un)}\"",
                "kill -HUP $PPID",
            ],
        );
    }
    run.prints("Session refreshed due to group change.");
}

#[test]
fn bootstrap_install_as_non_root_user() {
    // Kamal: "bootstrap install as non-root user" (Kamal names the hosts in the order they
    // answered; Wharf in the configured order).
    let fake = docker_missing();
    fake.answer(SUPERUSER, Answer::Fails(1, String::new()));
    let project = Project::kamal("deploy_with_accessories.yml");
    project.hook("docker-setup", "echo docker-setup ran >&2");
    let run = bootstrap_run(&project, &fake);
    assert_eq!(
        run.error(),
        "ERROR (RuntimeError): Docker is not installed on 1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4 and can't be automatically installed without having root access and either `wget` or `curl`. Install Docker manually: https://docs.docker.com/engine/install/"
    );
    run.never_ran("get.docker.com").does_not_print("docker-setup");
}

#[test]
fn bootstrap_where_the_script_cannot_run() {
    // Without x-wharf docker_from_packages: Kamal's failure, naming the command and host.
    let fake = docker_missing();
    fake.answer(GET_DOCKER, Answer::Fails(1, "curl: (6) Could not resolve host: get.docker.com".into()));
    let run = bootstrap_run(&Project::kamal("deploy_with_accessories.yml"), &fake);
    let error = run.error();
    assert!(error.contains("get.docker.com") && error.contains("Could not resolve host"), "{error}");
    run.never_ran("apt-get");
}

#[test]
fn bootstrap_falls_back_to_the_distributions_package() {
    // Wharf: x-wharf docker_from_packages, where the script fails (no internet).
    let fake = docker_missing();
    fake.answer(GET_DOCKER, Answer::Fails(1, "curl: (6) Could not resolve host: get.docker.com".into()));
    let project = Project::kamal("deploy_with_accessories.yml");
    let yml = std::fs::read_to_string(project.path().join("config/deploy.yml")).unwrap();
    project.file("config/deploy.yml", &format!("{yml}\nx-wharf:\n  docker_from_packages: true\n"));
    let run = bootstrap_run(&project, &fake);
    run.ok().prints("installing the distribution's package (x-wharf: docker_from_packages)");
    let packages = wharf_commands::Docker::new().install_from_packages().to_string();
    for host in HOSTS {
        run.ran_in_order(host, &[SUPERUSER, GET_DOCKER, &packages, ROOT]);
    }
}

#[test]
fn bootstrap_when_the_package_cannot_be_installed_either() {
    let fake = docker_missing();
    fake.answer(GET_DOCKER, Answer::Fails(1, "curl: (6) Could not resolve host: get.docker.com".into()));
    fake.answer("if command -v apt-get", Answer::Fails(100, "E: Unable to locate package docker.io".into()));
    let project = Project::kamal("deploy_with_accessories.yml");
    let yml = std::fs::read_to_string(project.path().join("config/deploy.yml")).unwrap();
    project.file("config/deploy.yml", &format!("{yml}\nx-wharf:\n  docker_from_packages: true\n"));
    let error = bootstrap_run(&project, &fake).error();
    assert!(error.contains("E: Unable to locate package docker.io") && error.contains("1.1.1."), "{error}");
}
