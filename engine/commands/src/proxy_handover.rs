//! The commands of Wharf's zero-downtime proxy reboot (`proxy reboot --zero-downtime`; no Kamal
//! counterpart). Docker lets one container at a time publish a host port, so between the old
//! kamal-proxy's stop and the new one's start a host answers nothing. Here a second proxy, the
//! *handover* container (the new image, same volumes, on the `kamal` network, no published
//! ports), answers in that gap: iptables rules tagged [`RULE_COMMENT`], inserted ahead of
//! Docker's own, send new connections for the published ports to it while Kamal's reboot
//! commands replace `kamal-proxy`; then the rules go and the handover container drains and goes.
//! Connections already open keep their destination (conntrack), so none is cut.
//!
//! Everything the host is left with is what Kamal's reboot leaves: the rules and the container
//! exist only during the reboot.

use crate::cmd::{any, docker, pipe, shell, xargs, Cmd};
use crate::{cmd, parts};
use wharf_config::Configuration;

/// The handover container's name.
pub const CONTAINER: &str = "kamal-proxy-handover";

/// The comment every handover rule carries, by which they are found and removed.
pub const RULE_COMMENT: &str = "wharf-proxy-handover";

/// The `docker container inspect` format that prints whether a proxy container runs and the host
/// ports it publishes: `true 443/tcp=:443 80/tcp=:80`.
const BINDINGS_FORMAT: &str =
    "'{{.State.Running}}{{range $p, $b := .HostConfig.PortBindings}}{{range $b}} {{$p}}={{.HostIp}}:{{.HostPort}}{{end}}{{end}}'";

/// One host port a proxy container publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The host address it is bound to, when not all of them.
    pub host_ip: Option<String>,
    pub host_port: u16,
    pub container_port: u16,
}

/// What [`Handover::inspect`] says of a container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inspected {
    pub running: bool,
    /// Its published TCP ports on IPv4, by port (IPv6 bindings are left out: see [`parse_inspected`]).
    pub bindings: Vec<Binding>,
}

/// Reads [`Handover::inspect`]'s answer (empty when there is no such container). Only TCP over
/// IPv4 from other machines is handed over: Docker serves IPv6 and loopback bindings through
/// docker-proxy (or ip6tables), which these rules do not cover.
pub fn parse_inspected(answer: &str) -> Inspected {
    let mut words = answer.split_whitespace();
    let running = words.next() == Some("true");
    let mut bindings: Vec<Binding> = words
        .filter_map(|w| {
            let (port, host) = w.split_once('=')?;
            let container_port = port.strip_suffix("/tcp")?.parse().ok()?;
            let (ip, host_port) = host.rsplit_once(':')?;
            let host_ip = match ip {
                "" | "0.0.0.0" => None,
                ip => match ip.parse::<std::net::Ipv4Addr>() {
                    Ok(v4) if !v4.is_loopback() => Some(ip.to_string()),
                    _ => return None,
                },
            };
            Some(Binding { host_ip, host_port: host_port.parse().ok()?, container_port })
        })
        .collect();
    bindings.sort_by(|a, b| (a.host_port, &a.host_ip).cmp(&(b.host_port, &b.host_ip)));
    bindings.dedup();
    Inspected { running, bindings }
}

/// The handover commands for one host.
#[derive(Debug, Clone)]
pub struct Handover<'a> {
    config: &'a Configuration,
    proxy: crate::proxy::Proxy<'a>,
}

impl<'a> Handover<'a> {
    pub fn new(config: &'a Configuration, host: &str) -> Handover<'a> {
        Handover { config, proxy: crate::proxy::Proxy::new(config, host) }
    }

    /// `iptables`, through `sudo -n` unless the SSH user is root.
    fn iptables(&self) -> Cmd {
        if self.config.ssh().user() == "root" {
            cmd!["iptables", "-w"]
        } else {
            cmd!["sudo", "-n", "iptables", "-w"]
        }
    }

    /// Checks that the rules can be written: iptables runs with the rights it needs, and Docker's
    /// chains are there (`DOCKER-USER` is where Docker lets its users accept traffic).
    pub fn check_firewall(&self) -> Cmd {
        cmd![
            self.iptables(),
            "-S",
            "DOCKER-USER",
            ">",
            "/dev/null",
            "&&",
            self.iptables(),
            "-t",
            "nat",
            "-S",
            "PREROUTING",
            ">",
            "/dev/null"
        ]
    }

    /// Whether container `name` runs, and its published ports ([`parse_inspected`]).
    pub fn inspect(&self, name: &str) -> Cmd {
        any(parts![
            docker(cmd!["container", "inspect", name, "--format", BINDINGS_FORMAT, "2>", "/dev/null"]),
            cmd!["true"]
        ])
    }

    /// Starts the handover container: the image and run command the new kamal-proxy will have,
    /// the same volumes, on the `kamal` network, publishing nothing, not restarted.
    pub fn run(&self) -> Cmd {
        let front = cmd![
            "run",
            "--name",
            CONTAINER,
            "--network",
            "kamal",
            "--detach",
            "--volume",
            "kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy"
        ];
        match self.proxy.proxy_run_config() {
            Some(run) => docker(cmd![front, run.apps_volume().docker_args(), run.image(), run.run_command()]),
            None => {
                let image = format!(
                    "{}:{} {}",
                    crate::cmd::substitute(&[self.proxy.read_image()]),
                    crate::cmd::substitute(&[self.proxy.read_image_version()]),
                    crate::cmd::substitute(&[self.proxy.read_run_command()])
                );
                pipe(parts![
                    cmd!["echo", image],
                    xargs(docker(cmd![front, self.config.proxy_boot().apps_volume().docker_args()]))
                ])
            }
        }
    }

    /// Waits (up to about 20 s) until the proxy in container `name` answers on its command
    /// socket, which it opens once its restored services' targets are healthy; fails at once when
    /// the container is not running.
    pub fn wait_until_ready(&self, name: &str) -> Cmd {
        let script = format!(
            "i=0; until docker exec {name} kamal-proxy list > /dev/null 2>&1; do \
             [ \"$(docker container inspect --format '{{{{.State.Running}}}}' {name} 2> /dev/null)\" = true ] || exit 1; \
             i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.2; done"
        );
        shell(cmd![script])
    }

    /// The last lines container `name` logged (why it did not get ready).
    pub fn logs(&self, name: &str) -> Cmd {
        docker(cmd!["logs", "--tail", "20", name, "2>&1"])
    }

    /// The handover container's address on the `kamal` network.
    pub fn address(&self) -> Cmd {
        docker(cmd![
            "container",
            "inspect",
            CONTAINER,
            "--format",
            "'{{(index .NetworkSettings.Networks \"kamal\").IPAddress}}'"
        ])
    }

    /// The rules that send new connections for `bindings` to the handover container at `address`:
    /// DNAT for connections from outside (PREROUTING) and from the host itself (OUTPUT), ahead of
    /// Docker's, and their acceptance in `DOCKER-USER`.
    pub fn divert(&self, bindings: &[Binding], address: &str) -> Vec<Cmd> {
        let mut rules = vec![];
        for b in bindings {
            let to = format!("{address}:{}", b.container_port);
            let dest = b.host_ip.as_ref().map(|ip| cmd!["-d", format!("{ip}/32")]);
            let port = b.host_port.to_string();
            // From the host itself, loopback addresses are docker-proxy's (as in Docker's rules).
            let not_loopback = dest.is_none().then(|| cmd!["!", "-d", "127.0.0.0/8"]);
            for (chain, local_only) in [("PREROUTING", None), ("OUTPUT", not_loopback)] {
                rules.push(cmd![
                    self.iptables(),
                    "-t",
                    "nat",
                    "-I",
                    chain,
                    "1",
                    dest.clone(),
                    local_only,
                    "-p",
                    "tcp",
                    "--dport",
                    port.clone(),
                    "-m",
                    "addrtype",
                    "--dst-type",
                    "LOCAL",
                    "-m",
                    "comment",
                    "--comment",
                    RULE_COMMENT,
                    "-j",
                    "DNAT",
                    "--to-destination",
                    to.clone()
                ]);
            }
            rules.push(cmd![
                self.iptables(),
                "-I",
                "DOCKER-USER",
                "1",
                "-d",
                format!("{address}/32"),
                "-p",
                "tcp",
                "--dport",
                b.container_port.to_string(),
                "-m",
                "comment",
                "--comment",
                RULE_COMMENT,
                "-j",
                "ACCEPT"
            ]);
        }
        rules
    }

    /// Removes every handover rule (also those a stopped run left behind), in both tables.
    pub fn undivert(&self) -> Cmd {
        let table = |t: &str| {
            pipe(parts![
                cmd![self.iptables(), "-t", t, "-S"],
                cmd!["grep", "--", RULE_COMMENT],
                cmd!["sed", "'s/^-A/-D/'"],
                cmd!["xargs", "-r", "-L", "1", self.iptables(), "-t", t]
            ])
        };
        cmd![table("nat"), ";", table("filter")]
    }

    /// Stops the handover container (it drains its connections) and removes it.
    pub fn remove(&self) -> Cmd {
        cmd![docker(cmd!["container", "stop", CONTAINER]), "&&", docker(cmd!["container", "rm", CONTAINER])]
    }

    /// Removes a handover container a stopped run left behind (none: no error).
    pub fn remove_leftover(&self) -> Cmd {
        docker(cmd!["container", "rm", "--force", CONTAINER, ">", "/dev/null", "2>&1", "||", "true"])
    }
}
