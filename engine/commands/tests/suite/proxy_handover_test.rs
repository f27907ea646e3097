//! `Handover`: the commands of Wharf's zero-downtime proxy reboot (no Kamal counterpart): the
//! handover container, the readiness wait, the iptables rules and their removal.

use crate::common::*;
use serde_yaml::Value;
use wharf_commands::proxy_handover::{parse_inspected, Binding, Handover, Inspected};

const BASE: &str = r#"{"service":"app","image":"dhh/app","registry":{"username":"dhh","password":"secret"},"servers":["1.1.1.1"],"builder":{"arch":"amd64"}}"#;

fn with<R>(raw: &Value, f: impl FnOnce(&Handover) -> R) -> R {
    let c = config(raw, None, Some("123"), &[]);
    f(&Handover::new(&c, "1.1.1.1"))
}

fn all(port: u16, to: u16) -> Binding {
    Binding { host_ip: None, host_port: port, container_port: to }
}

#[test]
fn inspected_bindings() {
    assert_eq!(parse_inspected(""), Inspected::default());
    assert_eq!(
        parse_inspected("true 443/tcp=:443 80/tcp=:80"),
        Inspected { running: true, bindings: vec![all(80, 80), all(443, 443)] }
    );
    // Stopped; a custom HTTP port; all-addresses written out; IPv6 and loopback left to
    // docker-proxy; a UDP port and duplicates left out; by port.
    assert_eq!(
        parse_inspected(
            "false 80/tcp=0.0.0.0:8080 80/tcp=:::8080 80/tcp=127.0.0.1:80 80/tcp=10.0.0.5:80 443/udp=:443 80/tcp=:8080"
        ),
        Inspected {
            running: false,
            bindings: vec![
                Binding { host_ip: Some("10.0.0.5".into()), host_port: 80, container_port: 80 },
                all(8080, 80)
            ]
        }
    );
}

#[test]
fn inspect_and_address() {
    let raw = yaml(BASE);
    assert_eq!(
        with(&raw, |h| h.inspect("kamal-proxy").to_string()),
        "docker container inspect kamal-proxy --format '{{.State.Running}}{{range $p, $b := .HostConfig.PortBindings}}{{range $b}} {{$p}}={{.HostIp}}:{{.HostPort}}{{end}}{{end}}' 2> /dev/null || true"
    );
    assert_eq!(
        with(&raw, |h| h.address().to_string()),
        "docker container inspect kamal-proxy-handover --format '{{(index .NetworkSettings.Networks \"kamal\").IPAddress}}'"
    );
}

#[test]
fn handover_container_from_the_boot_config() {
    // The image and run command the new kamal-proxy gets, without its published ports.
    let e = r#"echo $(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") $(cat .kamal/proxy/run_command 2> /dev/null || echo "") | xargs docker run --name kamal-proxy-handover --network kamal --detach --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config"#;
    assert_eq!(with(&yaml(BASE), |h| h.run().to_string()), e);
}

#[test]
fn handover_container_from_proxy_run() {
    let raw = set(&yaml(BASE), "proxy", r#"{"run":{"version":"v1.2.3","metrics_port":9090}}"#);
    let e = r#"docker run --name kamal-proxy-handover --network kamal --detach --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config basecamp/kamal-proxy:v1.2.3 kamal-proxy run --metrics-port "9090""#;
    assert_eq!(with(&raw, |h| h.run().to_string()), e);
}

#[test]
fn rules_for_all_addresses_and_for_one() {
    let bindings = [all(80, 80), Binding { host_ip: Some("10.0.0.5".into()), host_port: 8443, container_port: 443 }];
    let rules: Vec<String> =
        with(&yaml(BASE), |h| h.divert(&bindings, "172.18.0.9").iter().map(|r| r.to_string()).collect());
    assert_eq!(
        rules,
        [
            "iptables -w -t nat -I PREROUTING 1 -p tcp --dport 80 -m addrtype --dst-type LOCAL -m comment --comment wharf-proxy-handover -j DNAT --to-destination 172.18.0.9:80",
            "iptables -w -t nat -I OUTPUT 1 ! -d 127.0.0.0/8 -p tcp --dport 80 -m addrtype --dst-type LOCAL -m comment --comment wharf-proxy-handover -j DNAT --to-destination 172.18.0.9:80",
            "iptables -w -I DOCKER-USER 1 -d 172.18.0.9/32 -p tcp --dport 80 -m comment --comment wharf-proxy-handover -j ACCEPT",
            "iptables -w -t nat -I PREROUTING 1 -d 10.0.0.5/32 -p tcp --dport 8443 -m addrtype --dst-type LOCAL -m comment --comment wharf-proxy-handover -j DNAT --to-destination 172.18.0.9:443",
            "iptables -w -t nat -I OUTPUT 1 -d 10.0.0.5/32 -p tcp --dport 8443 -m addrtype --dst-type LOCAL -m comment --comment wharf-proxy-handover -j DNAT --to-destination 172.18.0.9:443",
            "iptables -w -I DOCKER-USER 1 -d 172.18.0.9/32 -p tcp --dport 443 -m comment --comment wharf-proxy-handover -j ACCEPT",
        ]
    );
}

#[test]
fn rules_removed_by_their_comment() {
    assert_eq!(
        with(&yaml(BASE), |h| h.undivert().to_string()),
        "iptables -w -t nat -S | grep -- wharf-proxy-handover | sed 's/^-A/-D/' | xargs -r -L 1 iptables -w -t nat ; \
         iptables -w -t filter -S | grep -- wharf-proxy-handover | sed 's/^-A/-D/' | xargs -r -L 1 iptables -w -t filter"
    );
}

#[test]
fn firewall_check_and_a_non_root_user() {
    assert_eq!(
        with(&yaml(BASE), |h| h.check_firewall().to_string()),
        "iptables -w -S DOCKER-USER > /dev/null && iptables -w -t nat -S PREROUTING > /dev/null"
    );
    let raw = set(&yaml(BASE), "ssh", r#"{"user":"deploy"}"#);
    assert_eq!(
        with(&raw, |h| h.check_firewall().to_string()),
        "sudo -n iptables -w -S DOCKER-USER > /dev/null && sudo -n iptables -w -t nat -S PREROUTING > /dev/null"
    );
    let rules = with(&raw, |h| h.divert(&[all(80, 80)], "172.18.0.9")[0].to_string());
    assert!(rules.starts_with("sudo -n iptables -w -t nat -I PREROUTING 1 "), "{rules}");
}

#[test]
fn readiness_wait_and_removal() {
    let raw = yaml(BASE);
    assert_eq!(
        with(&raw, |h| h.wait_until_ready("kamal-proxy").to_string()),
        r#"sh -c 'i=0; until docker exec kamal-proxy kamal-proxy list > /dev/null 2>&1; do [ "$(docker container inspect --format '\''{{.State.Running}}'\'' kamal-proxy 2> /dev/null)" = true ] || exit 1; i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.2; done'"#
    );
    assert_eq!(
        with(&raw, |h| h.remove().to_string()),
        "docker container stop kamal-proxy-handover && docker container rm kamal-proxy-handover"
    );
    assert_eq!(
        with(&raw, |h| h.remove_leftover().to_string()),
        "docker container rm --force kamal-proxy-handover > /dev/null 2>&1 || true"
    );
}
