//! `proxy boot|reboot|start|stop|restart|details|logs|remove|remove_*` (Kamal's
//! test/cli/proxy_test.rb, as Kamal 2.11 behaves). Fixture: `deploy_with_proxy.yml` (proxy hosts:
//! the web role, 1.1.1.1 and 1.1.1.2) unless a test says otherwise. `proxy upgrade`'s tests are
//! in upgrade.rs.

use crate::harness::*;
use wharf_commands::proxy::ProxyLogsOptions;
use wharf_deploy::execution::{Answer, FakeExecutor};
use wharf_deploy::proxy::boot_config::{self, SetOptions, Subcommand};
use wharf_deploy::proxy::{self, RemoveStep, StartStop};

const PROXY_HOSTS: [&str; 2] = ["1.1.1.1", "1.1.1.2"];
const OTHER_HOSTS: [&str; 2] = ["1.1.1.3", "1.1.1.4"];

/// `proxy run` without `proxy.run` settings: from the boot config saved on the host.
const RUN: &str = "echo $(cat .kamal/proxy/options 2> /dev/null || echo \"--publish 80:80 --publish 443:443 --log-opt max-size=10m\") $(cat .kamal/proxy/image 2> /dev/null || echo \"basecamp/kamal-proxy\"):$(cat .kamal/proxy/image_version 2> /dev/null || echo \"v0.9.2\") $(cat .kamal/proxy/run_command 2> /dev/null || echo \"\") | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config";
const APPS_CONFIG: &str = "mkdir -p .kamal/proxy/apps-config";
const NETWORK: &str = "docker network create kamal";
/// Wharf logs in with the password on stdin (Kamal: `-p [REDACTED]`), on purpose.
const LOGIN: &str = "docker login -u [REDACTED] --password-stdin";
const STOP: &str = "docker container stop kamal-proxy";
const START: &str = "docker container start kamal-proxy";
const PRUNE_CONTAINER: &str =
    "docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy";
const PRUNE_IMAGE: &str = "docker image prune --all --force --filter label=org.opencontainers.image.title=kamal-proxy";
const REMOVE_DIRECTORY: &str = "rm -r .kamal/proxy";
const APP_COUNT: &str = "ls .kamal/apps | wc -l";

fn audit(line: &str) -> String {
    app_audit(line)
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

fn proxy_run(fixture: &str, fake: &FakeExecutor, step: Step) -> Run {
    run(&Project::kamal(fixture), "proxy", defaults(), fake, step)
}

#[test]
fn boot() {
    let fake = FakeExecutor::new();
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::boot(c))));
    run.ok();
    for host in PROXY_HOSTS {
        assert_eq!(
            work_on(&run, host),
            vec![LOGIN, PROXY_FACTS, NETWORK, APPS_CONFIG, &format!("{START} || {RUN}")],
            "{host}"
        );
    }
    // The network on every host; the proxy only where a role runs it.
    for host in OTHER_HOSTS {
        assert_eq!(work_on(&run, host), vec![NETWORK], "{host}");
    }
}

/// Wharf: a kamal-proxy running on the `kamal` network means the network exists and starting it
/// changes nothing: neither runs.
#[test]
fn boot_leaves_out_what_a_running_proxy_already_has() {
    let fake = FakeExecutor::new();
    fake.stdout(PROXY_FACTS, &proxy_facts("v0.9.2", "running", true));
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::boot(c))));
    run.ok();
    for host in PROXY_HOSTS {
        assert_eq!(work_on(&run, host), vec![LOGIN, PROXY_FACTS, APPS_CONFIG], "{host}");
    }
    for host in OTHER_HOSTS {
        assert_eq!(work_on(&run, host), vec![NETWORK], "{host}");
    }
}

/// A proxy that is stopped, or not on the `kamal` network, gets Kamal's commands.
#[test]
fn boot_of_a_stopped_or_detached_proxy_runs_kamals_commands() {
    for facts in [proxy_facts("v0.9.2", "exited", true), proxy_facts("v0.9.2", "running", false)] {
        let fake = FakeExecutor::new();
        fake.stdout(PROXY_FACTS, &facts);
        let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::boot(c))));
        run.ok();
        assert_eq!(
            work_on(&run, "1.1.1.1"),
            vec![LOGIN, PROXY_FACTS, NETWORK, APPS_CONFIG, &format!("{START} || {RUN}")],
            "{facts}"
        );
    }
}

/// A network that cannot be created is the error, named; nothing else runs.
#[test]
fn boot_when_the_network_cannot_be_created() {
    let fake = FakeExecutor::new();
    fake.fails(NETWORK, 1, "Error response from daemon: no space left");
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::boot(c))));
    assert!(run.error().contains(": docker exit status: 1\n"), "{}", run.error());
    assert!(run.error().contains("\ndocker stderr: Error response from daemon: no space left\n"), "{}", run.error());
    run.ran_on("1.1.1.1", "docker network create kamal");
    run.never_ran("docker run");
}

#[test]
fn boot_when_the_network_already_exists() {
    let fake = FakeExecutor::new();
    fake.fails(NETWORK, 1, "Error response from daemon: network with name kamal already exists");
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::boot(c))));
    run.ok();
    run.ran_on("1.1.1.1", &format!("{START} || {RUN}"));
}

#[test]
fn boot_with_run_config() {
    let fake = FakeExecutor::new();
    let run = proxy_run("deploy_with_proxy_run_config.yml", &fake, step(|c| Box::pin(proxy::boot(c))));
    run.ok();
    let web = "docker container start kamal-proxy || docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m --expose=9090 --cpus \"1.5\" registry:4443/basecamp/kamal-proxy:v0.9.2 kamal-proxy run --debug --metrics-port \"9090\"";
    let mysql = "docker container start kamal-proxy || docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish 80:80 --publish 443:443 --log-opt max-size=10m --expose=9190 basecamp/kamal-proxy:v0.9.2 kamal-proxy run --metrics-port \"9190\"";
    for host in PROXY_HOSTS {
        assert_eq!(work_on(&run, host), vec![LOGIN, PROXY_FACTS, NETWORK, APPS_CONFIG, web], "{host}");
    }
    // The mysql accessory runs its own proxy on 1.1.1.3; nothing runs one on 1.1.1.4.
    assert_eq!(work_on(&run, "1.1.1.3"), vec![LOGIN, PROXY_FACTS, NETWORK, APPS_CONFIG, mysql]);
    assert_eq!(work_on(&run, "1.1.1.4"), vec![NETWORK]);
}

#[test]
fn boot_with_run_config_conflicts() {
    let fake = FakeExecutor::new();
    let run = proxy_run("deploy_with_proxy_run_config_conflicts.yml", &fake, step(|c| Box::pin(proxy::boot(c))));
    assert_eq!(run.error(), "ERROR (Kamal::ConfigurationError): Conflicting proxy run configurations for host 1.1.1.2");
    assert!(run.commands().is_empty(), "{:?}", run.commands());
}

#[test]
fn boot_old_version() {
    let fake = FakeExecutor::new();
    fake.stdout(PROXY_FACTS, &proxy_facts("v0.0.1", "running", true));
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::boot(c))));
    let too_old =
        "kamal-proxy version v0.0.1 is too old, run `kamal proxy reboot` in order to update to at least v0.9.2";
    assert_eq!(
        run.error(),
        format!(
            "ERROR (RuntimeError): Exceptions on 2 hosts:\nException while executing on host 1.1.1.1: {too_old}\nException while executing on host 1.1.1.2: {too_old}"
        )
    );
    run.never_ran("docker run");
    run.never_ran(APPS_CONFIG);
}

#[test]
fn boot_correct_version() {
    let fake = FakeExecutor::new();
    fake.stdout(PROXY_FACTS, &proxy_facts("v0.9.2", "running", true));
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::boot(c))));
    run.ok();
    for host in PROXY_HOSTS {
        run.ran_in_order(host, &[LOGIN, PROXY_FACTS, APPS_CONFIG]);
        run.never_ran(START);
    }
}

#[test]
fn reboot() {
    let fake = FakeExecutor::new();
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::reboot::reboot(c, false))));
    run.ok();
    for host in PROXY_HOSTS {
        assert_eq!(
            work_on(&run, host),
            vec![&audit("Rebooted proxy"), LOGIN, STOP, PRUNE_CONTAINER, APPS_CONFIG, RUN],
            "{host}"
        );
    }
    for host in OTHER_HOSTS {
        assert!(work_on(&run, host).is_empty(), "{host}: {:?}", work_on(&run, host));
    }
}

#[test]
fn reboot_rolling() {
    // Kamal: "reboot --rolling"
    let fake = FakeExecutor::new();
    let project = Project::kamal("deploy_with_proxy.yml");
    let log = project.path().join("hooks.log").display().to_string();
    project.hook("pre-proxy-reboot", &format!("echo \"pre $KAMAL_HOSTS\" >> {log}"));
    project.hook("post-proxy-reboot", &format!("echo \"post $KAMAL_HOSTS\" >> {log}"));
    let run = run(&project, "proxy", defaults(), &fake, step(|c| Box::pin(proxy::reboot::reboot(c, true))));
    run.ok();
    for host in PROXY_HOSTS {
        run.ran_on(host, PRUNE_CONTAINER);
    }
    // One host at a time: each between its own pre and post hooks.
    let hooks = std::fs::read_to_string(&log).unwrap();
    assert_eq!(hooks, "pre 1.1.1.1\npost 1.1.1.1\npre 1.1.1.2\npost 1.1.1.2\n");
}

#[test]
fn start() {
    let fake = FakeExecutor::new();
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::start_stop(c, StartStop::Start))));
    run.ok();
    for host in PROXY_HOSTS {
        assert_eq!(work_on(&run, host), vec![&audit("Started proxy"), START], "{host}");
    }
    assert!(work_on(&run, "1.1.1.3").is_empty());
}

#[test]
fn stop() {
    let fake = FakeExecutor::new();
    fake.fails(STOP, 1, "Error response from daemon: No such container: kamal-proxy");
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::start_stop(c, StartStop::Stop))));
    // A proxy that is not running is not an error.
    run.ok();
    for host in PROXY_HOSTS {
        assert_eq!(work_on(&run, host), vec![&audit("Stopped proxy"), STOP], "{host}");
    }
}

#[test]
fn restart() {
    // ADAPT: Kamal mocks Proxy#stop and #start; here, their commands, stop before start.
    let fake = FakeExecutor::new();
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::start_stop(c, StartStop::Restart))));
    run.ok();
    for host in PROXY_HOSTS {
        assert_eq!(work_on(&run, host), vec![&audit("Stopped proxy"), STOP, &audit("Started proxy"), START], "{host}");
    }
}

#[test]
fn details() {
    let fake = FakeExecutor::new();
    fake.stdout("docker ps --filter 'name=^kamal-proxy$'", "CONTAINER ID   IMAGE");
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::details(c))));
    run.ok();
    for host in PROXY_HOSTS {
        assert_eq!(work_on(&run, host), vec!["docker ps --filter 'name=^kamal-proxy$'"], "{host}");
        run.prints(&format!("Proxy Host: {host}\nCONTAINER ID   IMAGE"));
    }
    assert!(run.commands_on("1.1.1.3").is_empty());
}

#[test]
fn logs() {
    let fake = FakeExecutor::new();
    fake.stdout("docker logs kamal-proxy --tail 100 --timestamps 2>&1", "Log entry");
    fake.stdout("docker logs proxy --tail 100 --timestamps 2>&1", "Decoy");
    let run = proxy_run(
        "deploy_with_proxy.yml",
        &fake,
        step(|c| Box::pin(async move { proxy::logs(c, &ProxyLogsOptions::default()).await })),
    );
    run.ok().prints("Proxy Host: 1.1.1.1\nLog entry").prints("Proxy Host: 1.1.1.2\nLog entry").does_not_print("Decoy");
    for host in PROXY_HOSTS {
        assert_eq!(run.commands_on(host), vec!["docker logs kamal-proxy --tail 100 --timestamps 2>&1"], "{host}");
    }
}

/// As Kamal's (`capture`): a host without the proxy container fails the command, with SSHKit's
/// message (the command's name, its streams, "Nothing written" for an empty one).
#[test]
fn logs_fail_where_the_proxy_container_is_missing() {
    let fake = FakeExecutor::new();
    fake.answer_on("1.1.1.2", "docker logs kamal-proxy", Answer::Fails(1, "No such container: kamal-proxy".into()));
    let run = proxy_run(
        "deploy_with_proxy.yml",
        &fake,
        step(|c| Box::pin(async move { proxy::logs(c, &ProxyLogsOptions::default()).await })),
    );
    assert_eq!(
        run.error(),
        "ERROR (SSHKit::Command::Failed): Exception while executing on host 1.1.1.2: docker exit status: 1\n\
         docker stdout: Nothing written\n\
         docker stderr: No such container: kamal-proxy\n"
    );
}

#[test]
fn logs_with_grep_has_no_default_line_count() {
    let fake = FakeExecutor::new();
    let options = ProxyLogsOptions { grep: Some("hey".into()), ..Default::default() };
    let run =
        proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(async move { proxy::logs(c, &options).await })));
    run.ok();
    assert_eq!(run.commands_on("1.1.1.1"), vec!["docker logs kamal-proxy --timestamps 2>&1 | grep 'hey'"]);
}

#[test]
fn remove() {
    let fake = FakeExecutor::new();
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::remove(c, false))));
    run.ok();
    for host in PROXY_HOSTS {
        assert_eq!(
            work_on(&run, host),
            vec![
                APP_COUNT,
                &audit("Stopped proxy"),
                STOP,
                &audit("Removed proxy container"),
                PRUNE_CONTAINER,
                &audit("Removed proxy image"),
                PRUNE_IMAGE,
                REMOVE_DIRECTORY
            ],
            "{host}"
        );
    }
    run.does_not_print("Not removing the proxy");
    // Round trips: the question, then every step in one exchange (none of them stops the
    // next); the primary's goes with the lock's release.
    assert_eq!((fake.exchanges_on("1.1.1.1"), fake.exchanges_on("1.1.1.2")), (3, 2));
}

#[test]
fn remove_with_other_apps() {
    let fake = FakeExecutor::new();
    fake.stdout(APP_COUNT, "1\n");
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::remove(c, false))));
    run.ok().prints(
        "Not removing the proxy, as other apps are installed, ignore this check with kamal proxy remove --force",
    );
    for host in PROXY_HOSTS {
        assert_eq!(work_on(&run, host), vec![APP_COUNT], "{host}");
    }
}

#[test]
fn remove_with_other_apps_on_one_host_removes_it_nowhere() {
    let fake = FakeExecutor::new();
    fake.answer_on("1.1.1.2", APP_COUNT, Answer::Stdout("2\n".into()));
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::remove(c, false))));
    run.ok().prints(
        "Not removing the proxy, as other apps are installed, ignore this check with kamal proxy remove --force",
    );
    for host in PROXY_HOSTS {
        assert_eq!(work_on(&run, host), vec![APP_COUNT], "{host}");
    }
}

#[test]
fn force_remove_with_other_apps() {
    // Kamal's test of this name runs `proxy remove` without --force (it repeats "remove with
    // other apps"); this one passes --force, as its name says.
    let fake = FakeExecutor::new();
    fake.stdout(APP_COUNT, "1\n");
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::remove(c, true))));
    run.ok()
        .prints("Forcing, so removing the proxy, even though other apps are installed")
        .does_not_print("Not removing the proxy");
    for host in PROXY_HOSTS {
        run.ran_in_order(host, &[APP_COUNT, STOP, PRUNE_CONTAINER, PRUNE_IMAGE, REMOVE_DIRECTORY]);
    }
}

#[test]
fn remove_container() {
    let fake = FakeExecutor::new();
    let run =
        proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::remove_step(c, RemoveStep::Container))));
    run.ok();
    for host in PROXY_HOSTS {
        assert_eq!(work_on(&run, host), vec![&audit("Removed proxy container"), PRUNE_CONTAINER], "{host}");
    }
}

#[test]
fn remove_image() {
    let fake = FakeExecutor::new();
    let run = proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(proxy::remove_step(c, RemoveStep::Image))));
    run.ok();
    for host in PROXY_HOSTS {
        assert_eq!(work_on(&run, host), vec![&audit("Removed proxy image"), PRUNE_IMAGE], "{host}");
    }
}

#[test]
fn remove_proxy_directory() {
    // Not in Kamal's tests: the last hidden step of `proxy remove`, which Kamal does not audit.
    let fake = FakeExecutor::new();
    let run = proxy_run(
        "deploy_with_proxy.yml",
        &fake,
        step(|c| Box::pin(proxy::remove_step(c, RemoveStep::ProxyDirectory))),
    );
    run.ok();
    for host in PROXY_HOSTS {
        assert_eq!(work_on(&run, host), vec![REMOVE_DIRECTORY], "{host}");
    }
}

// ---- proxy boot_config (deprecated in Kamal, kept: servers carry its files) ----

const FILES: [&str; 4] =
    [".kamal/proxy/options", ".kamal/proxy/image", ".kamal/proxy/image_version", ".kamal/proxy/run_command"];

fn run_set(options: SetOptions) -> Run {
    let fake = FakeExecutor::new();
    proxy_run(
        "deploy_with_proxy.yml",
        &fake,
        step(move |c| Box::pin(boot_config::boot_config(c, Subcommand::Set(options)))),
    )
}

/// On both proxy hosts: the directory made, then each file written with its content or removed.
fn sets(run: &Run, written: [Option<&str>; 4]) {
    run.ok()
        .prints("The proxy boot_config command is deprecated - set the config in the deploy YAML at proxy/run instead");
    for host in ["1.1.1.1", "1.1.1.2"] {
        let on = run.commands_on(host);
        assert_eq!(on[0], "mkdir -p .kamal/proxy", "{host}: {on:?}");
        for (file, content) in FILES.iter().zip(written) {
            match content {
                Some(content) => {
                    assert!(on.contains(&format!("upload {file}")), "{host} uploads {file}: {on:?}");
                    assert_eq!(run.fake.uploaded(host, file).as_deref(), Some(content), "{host} {file}");
                }
                None => assert!(on.contains(&format!("rm {file}")), "{host} removes {file}: {on:?}"),
            }
        }
    }
}

#[test]
fn boot_config_set() {
    sets(&run_set(SetOptions::default()), [None, None, None, None]);
}

#[test]
fn boot_config_set_no_publish() {
    sets(
        &run_set(SetOptions { publish: false, ..Default::default() }),
        [Some("--log-opt max-size=10m"), None, None, None],
    );
}

#[test]
fn boot_config_set_custom_max_size() {
    let run = run_set(SetOptions { log_max_size: "100m".into(), ..Default::default() });
    sets(&run, [Some("--publish 80:80 --publish 443:443 --log-opt max-size=100m"), None, None, None]);
}

#[test]
fn boot_config_set_no_log_max_size() {
    let run = run_set(SetOptions { log_max_size: "".into(), ..Default::default() });
    sets(&run, [Some("--publish 80:80 --publish 443:443"), None, None, None]);
}

#[test]
fn boot_config_set_custom_ports() {
    let run = run_set(SetOptions { http_port: 8080, https_port: 8443, ..Default::default() });
    sets(&run, [Some("--publish 8080:80 --publish 8443:443 --log-opt max-size=10m"), None, None, None]);
}

#[test]
fn boot_config_set_bind_ip() {
    let run = run_set(SetOptions { publish_host_ip: vec!["127.0.0.1".into()], ..Default::default() });
    sets(
        &run,
        [Some("--publish 127.0.0.1:80:80 --publish 127.0.0.1:443:443 --log-opt max-size=10m"), None, None, None],
    );
}

#[test]
fn boot_config_set_multiple_bind_ips() {
    let ips = vec!["127.0.0.1".into(), "::1".into()];
    let run = run_set(SetOptions { publish_host_ip: ips, ..Default::default() });
    sets(
        &run,
        [
            Some("--publish 127.0.0.1:80:80 --publish 127.0.0.1:443:443 --publish [::1]:80:80 --publish [::1]:443:443 --log-opt max-size=10m"),
            None,
            None,
            None,
        ],
    );
}

#[test]
fn boot_config_set_invalid_bind_ips() {
    let ips = vec!["1.2.3.invalidIP".into(), "::1".into()];
    let run = run_set(SetOptions { publish_host_ip: ips, ..Default::default() });
    assert!(run.error().contains("Invalid publish IP address: 1.2.3.invalidIP"), "{}", run.error());
    assert!(run.commands().is_empty(), "nothing ran: {:?}", run.commands());
}

#[test]
fn boot_config_set_docker_options() {
    let options = vec!["label=foo=bar".into(), "add_host=thishost:thathost".into()];
    let run = run_set(SetOptions { docker_options: options, ..Default::default() });
    sets(
        &run,
        [
            Some(
                "--publish 80:80 --publish 443:443 --log-opt max-size=10m --label=foo=bar --add_host=thishost:thathost",
            ),
            None,
            None,
            None,
        ],
    );
}

#[test]
fn boot_config_set_registry() {
    let run = run_set(SetOptions { registry: Some("myreg".into()), ..Default::default() });
    sets(&run, [None, Some("myreg/basecamp/kamal-proxy"), None, None]);
}

#[test]
fn boot_config_set_repository() {
    let run = run_set(SetOptions { repository: Some("myrepo".into()), ..Default::default() });
    sets(&run, [None, Some("myrepo/kamal-proxy"), None, None]);
}

#[test]
fn boot_config_set_image_version() {
    let run = run_set(SetOptions { image_version: Some("0.9.9".into()), ..Default::default() });
    sets(&run, [None, None, Some("0.9.9"), None]);
}

#[test]
fn boot_config_set_run_command() {
    let run = run_set(SetOptions { metrics_port: Some(9000), debug: true, ..Default::default() });
    sets(
        &run,
        [
            Some("--publish 80:80 --publish 443:443 --log-opt max-size=10m --expose=9000"),
            None,
            None,
            Some("kamal-proxy run --debug --metrics-port \"9000\""),
        ],
    );
}

#[test]
fn boot_config_set_all() {
    let run = run_set(SetOptions {
        docker_options: vec!["label=foo=bar".into()],
        registry: Some("myreg".into()),
        repository: Some("myrepo".into()),
        image_version: Some("0.9.9".into()),
        metrics_port: Some(9000),
        debug: true,
        ..Default::default()
    });
    sets(
        &run,
        [
            Some("--publish 80:80 --publish 443:443 --log-opt max-size=10m --expose=9000 --label=foo=bar"),
            Some("myreg/myrepo/kamal-proxy"),
            Some("0.9.9"),
            Some("kamal-proxy run --debug --metrics-port \"9000\""),
        ],
    );
}

#[test]
fn boot_config_get() {
    let fake = FakeExecutor::new();
    fake.stdout(
        "echo $(cat .kamal/proxy/options",
        "--publish 80:80 --publish 8443:443 --label=foo=bar basecamp/kamal-proxy:v1.0.0",
    );
    let run =
        proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(boot_config::boot_config(c, Subcommand::Get))));
    run.ok()
        .prints("Host 1.1.1.1: --publish 80:80 --publish 8443:443 --label=foo=bar basecamp/kamal-proxy:v1.0.0")
        .prints("Host 1.1.1.2: --publish 80:80 --publish 8443:443 --label=foo=bar basecamp/kamal-proxy:v1.0.0");
    for host in ["1.1.1.1", "1.1.1.2"] {
        assert_eq!(run.commands_on(host).len(), 1, "{host}: {:?}", run.commands_on(host));
    }
}

#[test]
fn boot_config_reset() {
    let fake = FakeExecutor::new();
    fake.fails(
        "rm .kamal/proxy/image_version",
        1,
        "rm: cannot remove '.kamal/proxy/image_version': No such file or directory",
    );
    let run =
        proxy_run("deploy_with_proxy.yml", &fake, step(|c| Box::pin(boot_config::boot_config(c, Subcommand::Reset))));
    run.ok();
    for host in ["1.1.1.1", "1.1.1.2"] {
        let removed: Vec<String> = FILES.iter().map(|f| format!("rm {f}")).collect();
        assert_eq!(run.commands_on(host), removed, "{host}: a missing file is not an error");
    }
}

#[test]
fn boot_config_unknown_subcommand_is_an_argument_error() {
    let error = Subcommand::parse("frobnicate", SetOptions::default()).err().expect("an error");
    assert_eq!(format!("{} {}", error.class, error.message), "ArgumentError Unknown boot_config subcommand frobnicate");
}
