//! `proxy reboot --zero-downtime` (Wharf; no Kamal counterpart): the handover container and its
//! rules around Kamal's reboot commands, per host, and every way it stops. Fixture:
//! `deploy_with_proxy.yml` (proxy hosts 1.1.1.1 and 1.1.1.2).

use crate::harness::*;
use wharf_deploy::execution::{Answer, FakeExecutor};
use wharf_deploy::proxy;

const PROXY_HOSTS: [&str; 2] = ["1.1.1.1", "1.1.1.2"];

const CHECK: &str = "iptables -w -S DOCKER-USER > /dev/null && iptables -w -t nat -S PREROUTING > /dev/null";
const INSPECT_PROXY: &str = "docker container inspect kamal-proxy --format";
const INSPECT_HANDOVER: &str = "docker container inspect kamal-proxy-handover --format '{{.State";
const UNDIVERT: &str = "iptables -w -t nat -S | grep -- wharf-proxy-handover | sed 's/^-A/-D/' | xargs -r -L 1 iptables -w -t nat ; iptables -w -t filter -S | grep -- wharf-proxy-handover | sed 's/^-A/-D/' | xargs -r -L 1 iptables -w -t filter";
const REMOVE_LEFTOVER: &str = "docker container rm --force kamal-proxy-handover > /dev/null 2>&1 || true";
const LOGIN: &str = "docker login -u [REDACTED] --password-stdin";
const RUN_HANDOVER: &str = "echo $(cat .kamal/proxy/image 2> /dev/null || echo \"basecamp/kamal-proxy\"):$(cat .kamal/proxy/image_version 2> /dev/null || echo \"v0.9.2\") $(cat .kamal/proxy/run_command 2> /dev/null || echo \"\") | xargs docker run --name kamal-proxy-handover --network kamal --detach --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config";
const WAIT_HANDOVER: &str = "until docker exec kamal-proxy-handover kamal-proxy list";
const WAIT_PROXY: &str = "until docker exec kamal-proxy kamal-proxy list";
const ADDRESS: &str = "docker container inspect kamal-proxy-handover --format '{{(index .NetworkSettings.Networks \"kamal\").IPAddress}}'";
const STOP: &str = "docker container stop kamal-proxy";
const PRUNE_CONTAINER: &str =
    "docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy";
const APPS_CONFIG: &str = "mkdir -p .kamal/proxy/apps-config";
const RUN: &str = "echo $(cat .kamal/proxy/options 2> /dev/null || echo \"--publish 80:80 --publish 443:443 --log-opt max-size=10m\") $(cat .kamal/proxy/image 2> /dev/null || echo \"basecamp/kamal-proxy\"):$(cat .kamal/proxy/image_version 2> /dev/null || echo \"v0.9.2\") $(cat .kamal/proxy/run_command 2> /dev/null || echo \"\") | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config";
const REMOVE_HANDOVER: &str = "docker container stop kamal-proxy-handover && docker container rm kamal-proxy-handover";

/// Kamal's reboot of one host (`proxy reboot`), with the registry login.
fn kamal_reboot() -> Vec<String> {
    vec![app_audit("Rebooted proxy"), LOGIN.into(), STOP.into(), PRUNE_CONTAINER.into(), APPS_CONFIG.into(), RUN.into()]
}

fn rule(chain: &str, port: u16) -> String {
    match chain {
        "PREROUTING" => format!("iptables -w -t nat -I PREROUTING 1 -p tcp --dport {port} -m addrtype --dst-type LOCAL -m comment --comment wharf-proxy-handover -j DNAT --to-destination 172.18.0.9:{port}"),
        "OUTPUT" => format!("iptables -w -t nat -I OUTPUT 1 ! -d 127.0.0.0/8 -p tcp --dport {port} -m addrtype --dst-type LOCAL -m comment --comment wharf-proxy-handover -j DNAT --to-destination 172.18.0.9:{port}"),
        _ => format!("iptables -w -I DOCKER-USER 1 -d 172.18.0.9/32 -p tcp --dport {port} -m comment --comment wharf-proxy-handover -j ACCEPT"),
    }
}

/// The commands on `host` without the deploy lock's, and with the readiness waits shortened to
/// what they wait for.
fn work_on(run: &Run, host: &str) -> Vec<String> {
    run.commands_on(host)
        .into_iter()
        .filter(|c| {
            c != "mkdir -p .kamal" && !c.starts_with("mkdir .kamal/lock-app") && !c.starts_with("rm .kamal/lock-app")
        })
        .map(|c| {
            [WAIT_HANDOVER, WAIT_PROXY, INSPECT_PROXY, INSPECT_HANDOVER]
                .into_iter()
                .find(|w| c.contains(w))
                .map(str::to_string)
                .unwrap_or(c)
        })
        .collect()
}

/// A fake where kamal-proxy runs and publishes 80 and 443, and the handover container gets
/// 172.18.0.9.
fn serving() -> FakeExecutor {
    let fake = FakeExecutor::new();
    fake.stdout(INSPECT_PROXY, "true 443/tcp=:443 80/tcp=:80");
    fake.stdout(ADDRESS, "172.18.0.9");
    fake
}

fn reboot(fake: &FakeExecutor) -> Run {
    run(
        &Project::kamal("deploy_with_proxy.yml"),
        "proxy",
        defaults(),
        fake,
        step(|c| Box::pin(proxy::handover::reboot(c, false))),
    )
}

#[test]
fn hands_over_then_reboots_as_kamal_then_hands_back() {
    let fake = serving();
    let run = reboot(&fake);
    run.ok();
    for host in PROXY_HOSTS {
        let expected = vec![
            CHECK.to_string(),
            INSPECT_PROXY.into(),
            INSPECT_HANDOVER.into(),
            UNDIVERT.into(),
            REMOVE_LEFTOVER.into(),
            LOGIN.into(),
            RUN_HANDOVER.into(),
            WAIT_HANDOVER.into(),
            ADDRESS.into(),
            rule("PREROUTING", 80),
            rule("OUTPUT", 80),
            rule("DOCKER-USER", 80),
            rule("PREROUTING", 443),
            rule("OUTPUT", 443),
            rule("DOCKER-USER", 443),
            app_audit("Rebooted proxy"),
            STOP.into(),
            PRUNE_CONTAINER.into(),
            APPS_CONFIG.into(),
            RUN.into(),
            WAIT_PROXY.into(),
            UNDIVERT.into(),
            REMOVE_HANDOVER.into(),
        ];
        assert_eq!(work_on(&run, host), expected, "{host}");
    }
    // 7 exchanges per host (the firewall check, what runs, the handover container, the rules,
    // Kamal's reboot, the readiness, the clean-up), 2 more for the lock.
    assert_eq!((fake.exchanges_on("1.1.1.1"), fake.exchanges_on("1.1.1.2")), (9, 7));
    run.prints("New connections to port 80, 443 go to kamal-proxy-handover (172.18.0.9)");
}

#[test]
fn a_host_without_iptables_stops_it_before_any_host_changes() {
    let fake = serving();
    fake.answer_on("1.1.1.2", CHECK, Answer::Fails(1, "sudo: a password is required".into()));
    let run = reboot(&fake);
    let error = run.error();
    assert!(error.contains("1.1.1.2: `proxy reboot --zero-downtime` needs iptables there"), "{error}");
    assert!(error.contains("sudo: a password is required") && error.contains("Nothing was changed"), "{error}");
    assert_eq!(work_on(&run, "1.1.1.2"), [CHECK], "the check ran where it failed");
    for host in PROXY_HOSTS {
        let work = work_on(&run, host);
        assert!(work.iter().all(|c| c == CHECK), "{host}: nothing but the check: {work:?}");
    }
}

#[test]
fn a_new_image_that_does_not_answer_leaves_the_running_proxy_alone() {
    let fake = serving();
    fake.fails(WAIT_HANDOVER, 1, "");
    fake.stdout("docker logs --tail 20 kamal-proxy-handover", "Error: listen tcp :80: address in use");
    let run = reboot(&fake);
    let error = run.error();
    assert!(error.contains("the new proxy did not start beside the running one"), "{error}");
    assert!(error.contains("Error: listen tcp :80: address in use"), "{error}");
    for host in PROXY_HOSTS {
        let work = work_on(&run, host);
        assert_eq!(work.last().map(String::as_str), Some(REMOVE_LEFTOVER), "{host}: {work:?}");
        for never in [STOP, PRUNE_CONTAINER, &rule("PREROUTING", 80)] {
            assert!(!work.iter().any(|c| c == never), "{host} ran {never}");
        }
    }
}

#[test]
fn a_proxy_that_is_not_running_is_rebooted_as_kamal_does() {
    let fake = FakeExecutor::new();
    fake.stdout(INSPECT_PROXY, "false 443/tcp=:443 80/tcp=:80");
    let run = reboot(&fake);
    run.ok().prints("kamal-proxy is not running or publishes no port: nothing to hand over");
    for host in PROXY_HOSTS {
        let expected = [
            vec![
                CHECK.to_string(),
                INSPECT_PROXY.into(),
                INSPECT_HANDOVER.into(),
                UNDIVERT.into(),
                REMOVE_LEFTOVER.into(),
            ],
            kamal_reboot(),
        ]
        .concat();
        assert_eq!(work_on(&run, host), expected, "{host}");
    }
}

#[test]
fn a_new_kamal_proxy_that_does_not_answer_leaves_the_handover_serving() {
    let fake = serving();
    fake.fails(WAIT_PROXY, 1, "");
    let run = reboot(&fake);
    let error = run.error();
    assert!(error.contains("kamal-proxy did not get ready"), "{error}");
    assert!(
        error.contains("serves through the kamal-proxy-handover container")
            && error.contains("`proxy reboot --zero-downtime` finishes the reboot"),
        "{error}"
    );
    for host in PROXY_HOSTS {
        let work = work_on(&run, host);
        assert_eq!(work.last().map(String::as_str), Some(WAIT_PROXY), "{host}: the rules stay: {work:?}");
    }
}

#[test]
fn a_reboot_stopped_half_way_is_finished_by_the_next() {
    // kamal-proxy is down and the handover container serves: the reboot goes on from Kamal's
    // commands, and the rules and container go once kamal-proxy answers.
    let fake = FakeExecutor::new();
    fake.stdout(INSPECT_PROXY, "false 443/tcp=:443 80/tcp=:80");
    fake.stdout(INSPECT_HANDOVER, "true");
    let run = reboot(&fake);
    run.ok().prints("kamal-proxy is down and kamal-proxy-handover serves (a reboot stopped half-way): going on");
    for host in PROXY_HOSTS {
        let expected = [
            vec![CHECK.to_string(), INSPECT_PROXY.into(), INSPECT_HANDOVER.into()],
            kamal_reboot(),
            vec![WAIT_PROXY.into(), UNDIVERT.into(), REMOVE_HANDOVER.into()],
        ]
        .concat();
        assert_eq!(work_on(&run, host), expected, "{host}");
    }
}

#[test]
fn a_failing_rule_takes_the_handover_back() {
    let fake = serving();
    fake.fails(&rule("OUTPUT", 80), 2, "iptables v1.8.9 (nf_tables): Couldn't load match `addrtype'");
    let run = reboot(&fake);
    let error = run.error();
    assert!(error.contains("Couldn't load match `addrtype'"), "{error}");
    for host in PROXY_HOSTS {
        let work = work_on(&run, host);
        assert_eq!(work[work.len() - 2..], [UNDIVERT.to_string(), REMOVE_LEFTOVER.to_string()], "{host}: {work:?}");
        assert!(!work.iter().any(|c| c == STOP), "{host}: the proxy was not stopped");
    }
}

const VERSION: &str = "docker inspect kamal-proxy --format '{{.Config.Image}}' | awk -F: '{print $NF}'";

/// The fixture with `x-wharf: upgrade_old_proxy: true`.
fn upgrading_old_proxies() -> Project {
    let project = Project::kamal("deploy_with_proxy.yml");
    let yml = std::fs::read_to_string(project.path().join("config/deploy.yml")).unwrap();
    project.file("config/deploy.yml", &format!("{yml}\nx-wharf:\n  upgrade_old_proxy: true\n"));
    project
}

/// `x-wharf: upgrade_old_proxy`: `proxy boot` (as `deploy` and `setup` run it) upgrades a
/// kamal-proxy older than Kamal requires with the handover, where Kamal stops with its error.
#[test]
fn boot_upgrades_a_too_old_proxy_without_downtime_when_asked() {
    let project = upgrading_old_proxies();
    let fake = serving();
    fake.answer_times_on("1.1.1.2", PROXY_FACTS, 1, Answer::Stdout(proxy_facts("v0.8.0", "running", true)));
    fake.stdout(PROXY_FACTS, &proxy_facts("v0.9.2", "running", true));
    fake.stdout(VERSION, "v0.9.2");
    let run = run(&project, "proxy", defaults(), &fake, step(|c| Box::pin(proxy::boot(c))));
    run.ok().prints("Upgrading kamal-proxy without downtime on 1.1.1.2...");
    // 1.1.1.1 runs a recent one: Kamal's boot. 1.1.1.2: the handover, then its version again.
    assert!(!work_on(&run, "1.1.1.1").iter().any(|c| c == RUN_HANDOVER), "1.1.1.1 kept its proxy");
    let work = work_on(&run, "1.1.1.2");
    for step in [CHECK, RUN_HANDOVER, STOP, RUN, REMOVE_HANDOVER] {
        assert!(work.iter().any(|c| c == step), "1.1.1.2 ran {step}: {work:?}");
    }
    assert_eq!(work.last().map(String::as_str), Some(VERSION), "{work:?}");
}

#[test]
fn a_proxy_still_too_old_after_the_upgrade_is_kamals_error() {
    let project = upgrading_old_proxies();
    let fake = serving();
    fake.stdout(PROXY_FACTS, &proxy_facts("v0.8.0", "running", true));
    fake.stdout(VERSION, "v0.8.0");
    let run = run(&project, "proxy", defaults(), &fake, step(|c| Box::pin(proxy::boot(c))));
    assert!(
        run.error().contains(
            "kamal-proxy version v0.8.0 is too old, run `kamal proxy reboot` in order to update to at least v0.9.2"
        ),
        "{}",
        run.error()
    );
}
