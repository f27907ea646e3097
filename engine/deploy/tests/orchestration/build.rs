//! `build pull` (Kamal's test/cli/build_test.rb, the remote half of `build`): the mirror probe,
//! seeding mirrors first, the pull and the service-label check on every app host. The local
//! half (`build push`: buildx or the builder plugin on this machine's docker) is tested end to
//! end in engine/cli/tests (e2e.rs, plugins_e2e.rs, registry_modes.rs).

use crate::harness::*;
use wharf_deploy::build;
use wharf_deploy::execution::{Answer, FakeExecutor};

const HOSTS: [&str; 4] = ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"];
const MIRROR: &str = "docker info --format '{{index .RegistryConfig.Mirrors 0}}'";
const REMOVE: &str = "docker image rm --force dhh/app:999";
const PULL: &str = "docker pull dhh/app:999";
const LABEL: &str = "docker inspect -f '{{ .Config.Labels.service }}' dhh/app:999 | grep -x app || (echo \"Image dhh/app:999 is missing the 'service' label\" && exit 1)";

fn run_pull(fake: &FakeExecutor) -> Run {
    run(&Project::kamal("deploy_with_accessories.yml"), "build", defaults(), fake, step(|c| Box::pin(build::pull(c))))
}

fn pulled_on(run: &Run) -> Vec<&'static str> {
    HOSTS.iter().copied().filter(|h| run.commands_on(h).iter().any(|c| c == PULL)).collect()
}

#[test]
fn pull() {
    let fake = FakeExecutor::new();
    let run = run_pull(&fake);
    run.ok().does_not_print("to seed the mirror");
    for host in HOSTS {
        run.ran_in_order(host, &[MIRROR, REMOVE, PULL, LABEL]);
        assert_eq!(run.commands_on(host).iter().filter(|c| *c == PULL).count(), 1, "{host}");
    }
}

#[test]
fn pull_with_mirror() {
    let fake = FakeExecutor::new();
    fake.stdout(MIRROR, "registry-mirror.example.com");
    let run = run_pull(&fake);
    run.ok().prints("Pulling image on remaining hosts...");
    let seeding = run.lines.iter().find(|l| l.contains("to seed the mirror")).expect("a seeding line").clone();
    let seeded: Vec<&str> =
        HOSTS.iter().copied().filter(|h| seeding == format!("Pulling image on {h} to seed the mirror...")).collect();
    assert_eq!(seeded.len(), 1, "one host seeds the one mirror: {seeding}");
    assert_eq!(pulled_on(&run), HOSTS.to_vec(), "every app host pulls once");
    // The seeding host pulls before any other host does.
    let recorded = run.fake.recorded();
    let first_pull = recorded.iter().find(|r| r.command == PULL).unwrap();
    assert_eq!(first_pull.host, seeded[0]);
}

#[test]
fn pull_with_mirrors() {
    let fake = FakeExecutor::new();
    fake.answer_times(MIRROR, 1, Answer::Stdout("registry-mirror.example.com".into()));
    fake.stdout(MIRROR, "registry-mirror2.example.com");
    let run = run_pull(&fake);
    run.ok().prints("Pulling image on remaining hosts...");
    let seeding = run.lines.iter().find(|l| l.contains("to seed the mirrors")).expect("a seeding line");
    let seeds = seeding.trim_start_matches("Pulling image on ").trim_end_matches(" to seed the mirrors...");
    assert_eq!(seeds.split(", ").count(), 2, "one host per mirror: {seeding}");
    assert_eq!(pulled_on(&run), HOSTS.to_vec());
}

#[test]
fn pull_with_a_host_missing_the_service_label_fails_naming_it() {
    let fake = FakeExecutor::new();
    fake.answer_on(
        "1.1.1.3",
        "docker inspect -f",
        Answer::Fails(1, "Image dhh/app:999 is missing the 'service' label".into()),
    );
    let run = run_pull(&fake);
    let error = run.error();
    assert!(error.contains("Exception while executing on host 1.1.1.3"), "{error}");
    assert!(error.contains("is missing the 'service' label"), "{error}");
}

/// A registry stand-in on this machine's loopback: answers every request `200` (all the
/// reachability check asks). Its port.
fn registry_on_loopback() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    port
}

#[test]
fn pull_with_local_registry_tunnels_to_the_app_hosts() {
    // Kamal's "pull with local registry" mocks the port forwarder; here the fake records the
    // tunnel Wharf opens on each app host while it pulls `localhost:PORT/...` (no login).
    let port = registry_on_loopback();
    let yml = wharf_testkit::kamal_fixture("deploy_with_local_registry.yml")
        .replace("localhost:5000", &format!("localhost:{port}"));
    let project = Project::new(&yml);
    let fake = FakeExecutor::new();
    let run = run(&project, "build", defaults(), &fake, step(|c| Box::pin(build::pull(c))));
    run.ok().prints("Setting up local registry port forwarding to 1.1.1.1, 1.1.1.2...");
    for host in ["1.1.1.1", "1.1.1.2"] {
        run.ran_in_order(host, &[&format!("forward {port}"), &format!("docker pull localhost:{port}/dhh/app:999")]);
    }
    run.never_ran("docker login");
}

#[test]
fn pull_with_local_registry_not_answering_here_opens_no_tunnel() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let yml = wharf_testkit::kamal_fixture("deploy_with_local_registry.yml")
        .replace("localhost:5000", &format!("localhost:{port}"));
    let fake = FakeExecutor::new();
    let run = run(&Project::new(&yml), "build", defaults(), &fake, step(|c| Box::pin(build::pull(c))));
    let error = run.error();
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    assert!(
        !run.commands().iter().any(|c| c.starts_with("forward") || c.starts_with("docker pull")),
        "{:?}",
        run.commands()
    );
}
