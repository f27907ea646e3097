//! wharf-ssh against real sshd servers from /work/shared/hostlab (two hosts, 10.200.0.1-2).
//!
//! The lab is brought up once per test binary (if it is not already up) and left running for
//! other tests. Every wait is bounded. hostlab's own variables (`HOSTLAB_DIR`, `HOSTLAB_NET`,
//! `HOSTLAB_PREFIX`, `HOSTLAB_REGISTRY_PORT`) select another lab instance; `WHARF_HOSTLAB`
//! another script.

use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use wharf_ssh::{
    fan_out, ExecOptions, HostKeyPolicy, LogEvent, LogLevel, Pool, Redactor, SshConfigFiles, SshError, SshOptions,
    Stream,
};

const STEP: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// The lab

struct Lab {
    /// The first two hosts (10.200.0.1, 10.200.0.2 by default).
    hosts: [String; 2],
    /// Network namespace prefix (`HOSTLAB_PREFIX`, default `hl`).
    netns_prefix: String,
    dir: PathBuf,
    key: PathBuf,
    ssh_config: PathBuf,
    known_hosts: PathBuf,
}

static LAB: OnceLock<Result<Lab, String>> = OnceLock::new();

/// The lab, brought up once; `None` (the test skips, saying why) where it cannot run here.
fn lab() -> Option<&'static Lab> {
    if wharf_testkit::skip_without_hostlab() {
        return None;
    }
    match LAB.get_or_init(bring_up) {
        Ok(l) => Some(l),
        Err(e) => panic!("hostlab is not available: {e}"),
    }
}

fn script() -> PathBuf {
    wharf_testkit::hostlab_script()
}

fn read_env() -> Option<Vec<(String, String)>> {
    let out = Command::new("timeout").arg("30").arg(script()).arg("env").stderr(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect(),
    )
}

fn alive(pid_file: &Path) -> bool {
    let Ok(pid) = std::fs::read_to_string(pid_file) else { return false };
    std::fs::read_to_string(format!("/proc/{}/status", pid.trim()))
        .map(|s| s.lines().any(|l| l.starts_with("State:") && !l.contains('Z')))
        .unwrap_or(false)
}

fn lab_is_up(env: &[(String, String)]) -> bool {
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (Some(dir), Some(hosts)) = (get("HOSTLAB_DIR"), get("HOSTLAB_HOSTS")) else { return false };
    let hosts: Vec<&str> = hosts.split_whitespace().collect();
    hosts.len() >= 2
        && (1..=2).all(|i| alive(&Path::new(&dir).join(format!("h{i}/sshd.pid"))))
        && hosts[..2].iter().all(|h| {
            std::net::TcpStream::connect_timeout(&format!("{h}:22").parse().unwrap(), Duration::from_secs(2)).is_ok()
        })
}

fn bring_up() -> Result<Lab, String> {
    let uid = Command::new("id").arg("-u").output().map_err(|e| format!("id -u: {e}"))?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Err("these tests need root (hostlab creates network namespaces)".into());
    }
    if !script().exists() {
        return Err(format!("{} not found", script().display()));
    }
    let env = match read_env() {
        Some(env) if lab_is_up(&env) => env,
        _ => {
            // Serialise with other test binaries doing the same; `up` is idempotent.
            let out = Command::new("timeout")
                .args(["600", "flock", "-o", "/tmp/hostlab.lock"])
                .arg(script())
                .args(["up", "2"])
                .output()
                .map_err(|e| format!("running hostlab.sh: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "`hostlab.sh up 2` failed ({}):\n{}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            let env = read_env().ok_or("hostlab.sh env failed after up")?;
            if !lab_is_up(&env) {
                return Err(format!("hostlab came up but its hosts are not reachable: {env:?}"));
            }
            env
        }
    };
    let get = |k: &str| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| PathBuf::from(v)).ok_or(format!("hostlab env lacks {k}"))
    };
    let hosts = get("HOSTLAB_HOSTS")?.to_string_lossy().to_string();
    let hosts: Vec<&str> = hosts.split_whitespace().collect();
    Ok(Lab {
        hosts: [hosts[0].to_string(), hosts[1].to_string()],
        netns_prefix: std::env::var("HOSTLAB_PREFIX").unwrap_or_else(|_| "hl".into()),
        dir: get("HOSTLAB_DIR")?,
        key: get("HOSTLAB_KEY")?,
        ssh_config: get("HOSTLAB_SSH_CONFIG")?,
        known_hosts: get("HOSTLAB_KNOWN_HOSTS")?,
    })
}

impl Lab {
    fn pair(&self) -> (&str, &str) {
        (&self.hosts[0], &self.hosts[1])
    }
    /// An address on the lab network with nothing behind it.
    fn blackhole(&self) -> String {
        let (net, _) = self.hosts[0].rsplit_once('.').unwrap();
        format!("{net}.199")
    }
}

/// Options that use only the lab's key and known_hosts, strictly.
fn opts(lab: &Lab) -> SshOptions {
    SshOptions {
        keys: Some(vec![lab.key.clone()]),
        identity_agent: Some("none".into()),
        config: SshConfigFiles::Disabled,
        user_known_hosts_files: Some(vec![lab.known_hosts.clone()]),
        global_known_hosts_files: Some(vec![]),
        verify_host_key: Some(HostKeyPolicy::Always),
        connect_timeout: Some(Duration::from_secs(10)),
        ..Default::default()
    }
}

async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(STEP, f).await.unwrap_or_else(|_| panic!("{what}: no result within {STEP:?}"))
}

fn sh(cmd: &str) -> String {
    let out = Command::new("timeout").args(["30", "sh", "-c", cmd]).output().expect("spawn sh");
    assert!(out.status.success(), "`{cmd}` failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn keygen(dir: &Path, name: &str, args: &str) -> PathBuf {
    let path = dir.join(name);
    if !path.exists() {
        // Generate aside and rename (public key first), so concurrent runs never see half a key.
        let tmp = dir.join(format!("{name}.tmp{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        sh(&format!("ssh-keygen -q -N '' -C wharf-ssh-test {args} -f '{}'", tmp.display()));
        std::fs::rename(format!("{}.pub", tmp.display()), format!("{}.pub", path.display())).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

/// Authorise a public key on host1 (idempotent; `hostlab up` resets the file when it restarts a host).
fn authorize_on_h1(lab: &Lab, key: &Path) {
    let public = std::fs::read_to_string(format!("{}.pub", key.display())).unwrap();
    let ak = lab.dir.join("h1/authorized_keys");
    static LOCK: Mutex<()> = Mutex::new(());
    let _g = LOCK.lock().unwrap();
    let current = std::fs::read_to_string(&ak).unwrap_or_default();
    if !current.contains(public.trim()) {
        let mut f = std::fs::OpenOptions::new().append(true).open(&ak).unwrap();
        if !current.ends_with('\n') && !current.is_empty() {
            f.write_all(b"\n").unwrap();
        }
        f.write_all(public.as_bytes()).unwrap();
    }
}

fn capture_logs(pool: &Pool) -> Arc<Mutex<Vec<LogEvent>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    pool.set_logger(Arc::new(move |e: &LogEvent| sink.lock().unwrap().push(e.clone())));
    events
}

struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_output_exit_codes_stdin_streaming_timeout() {
    let Some(lab) = lab() else { return };
    let (h1, h2) = lab.pair();
    let pool = Pool::new(opts(lab));

    let out = bounded("exec", pool.exec(h1, "echo out; echo err >&2; exit 3")).await.unwrap();
    assert_eq!(out.exit_status, 3);
    assert_eq!(out.stdout, b"out\n");
    assert_eq!(out.stderr, b"err\n");
    assert!(!out.success());

    assert_eq!(bounded("capture", pool.capture(h1, "hostname")).await.unwrap(), "host1");
    assert_eq!(bounded("capture", pool.capture(h2, "hostname")).await.unwrap(), "host2");

    match bounded("checked", pool.exec_checked(h1, "echo boom >&2; exit 4")).await {
        Err(SshError::CommandFailed { host, exit_status, stderr, .. }) => {
            assert_eq!((host.as_str(), exit_status, stderr.as_str()), (h1, 4, "boom\n"));
        }
        other => panic!("expected CommandFailed, got {other:?}"),
    }

    let out = bounded("stdin", pool.exec_with_stdin(h1, "cat; echo done >&2", b"line1\nline2\n")).await.unwrap();
    assert_eq!((out.stdout_str().as_ref(), out.stderr_str().as_ref()), ("line1\nline2\n", "done\n"));

    // 1.4 MB each way: window and flow control.
    let big = vec![b'x'; 1_400_000];
    let out = bounded("big stdin", pool.exec_with_stdin(h1, "wc -c", &big)).await.unwrap();
    assert_eq!(out.stdout_str().trim(), "1400000");
    // A command that never reads its (larger than the window) stdin still finishes.
    let out = bounded("unread stdin", pool.exec_with_stdin(h1, "echo skipped", &vec![b'z'; 5_000_000])).await.unwrap();
    assert_eq!(out.stdout, b"skipped\n");
    let out = bounded("big stdout", pool.exec(h1, "head -c 1400000 /dev/zero | tr '\\0' y")).await.unwrap();
    assert_eq!(out.stdout.len(), 1_400_000);

    let mut lines = Vec::new();
    let out = bounded(
        "streaming",
        pool.exec_streaming(h1, "for i in 1 2 3; do echo line$i; done; printf 'e1\\r\\ne2' >&2", |l| {
            lines.push((l.host.to_string(), l.stream, l.text.to_string()))
        }),
    )
    .await
    .unwrap();
    assert!(out.success());
    let stdout: Vec<_> = lines.iter().filter(|l| l.1 == Stream::Stdout).map(|l| l.2.as_str()).collect();
    let stderr: Vec<_> = lines.iter().filter(|l| l.1 == Stream::Stderr).map(|l| l.2.as_str()).collect();
    assert_eq!(stdout, ["line1", "line2", "line3"]);
    assert_eq!(stderr, ["e1", "e2"]);
    assert!(lines.iter().all(|l| l.0 == h1));

    let t = Instant::now();
    let r = bounded(
        "timeout",
        pool.exec_with(
            h1,
            "sleep 10",
            ExecOptions { timeout: Some(Duration::from_millis(300)), ..Default::default() },
            None,
        ),
    )
    .await;
    assert!(matches!(r, Err(SshError::CommandTimeout { ref host, .. }) if host == h1), "{r:?}");
    assert!(t.elapsed() < Duration::from_secs(3));
    // The connection is still fine after a timed-out command.
    assert_eq!(bounded("after timeout", pool.capture(h1, "echo ok")).await.unwrap(), "ok");
    assert_eq!(pool.stats().connections_opened, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tcp_connection_for_20_commands() {
    let Some(lab) = lab() else { return };
    let h1 = lab.hosts[0].as_str();
    let pool = Pool::new(opts(lab));
    // 10 at once (they must share one connection attempt), then 10 one after another.
    let mut seen = Vec::new();
    let concurrent = (0..10).map(|_| {
        let pool = pool.clone();
        async move { pool.capture(h1, "echo $SSH_CONNECTION").await }
    });
    for r in bounded("10 concurrent", futures::future::join_all(concurrent)).await {
        seen.push(r.unwrap());
    }
    for _ in 0..10 {
        seen.push(bounded("sequential", pool.capture(h1, "echo $SSH_CONNECTION")).await.unwrap());
    }
    assert_eq!(seen.len(), 20);
    // SSH_CONNECTION = "client_ip client_port server_ip server_port": one client port => one TCP connection.
    assert!(seen.iter().all(|s| s == &seen[0]), "commands used different connections: {seen:?}");
    assert_eq!(pool.stats().connections_opened, 1);
    let client_port = seen[0].split_whitespace().nth(1).unwrap().to_string();

    // And the server side sees exactly one established connection from that port.
    let ns = format!("{}1", lab.netns_prefix);
    let ss = sh(&format!("ip netns exec {ns} ss -Htn state established '( sport = :22 )'"));
    let ours: Vec<&str> = ss.lines().filter(|l| l.trim_end().ends_with(&format!(":{client_port}"))).collect();
    assert_eq!(ours.len(), 1, "ss in {ns}:\n{ss}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_via_ssh_config() {
    let Some(lab) = lab() else { return };
    let pool = Pool::new(SshOptions {
        config: SshConfigFiles::Files(vec![lab.ssh_config.clone()]),
        identity_agent: Some("none".into()),
        ..Default::default()
    });
    // host2 is only an alias in that file: HostName, User, IdentityFile, UserKnownHostsFile and
    // StrictHostKeyChecking all come from it.
    assert_eq!(bounded("alias", pool.capture("host2", "hostname")).await.unwrap(), "host2");
    assert_eq!(bounded("alias", pool.capture("host1", "whoami")).await.unwrap(), "root");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ed25519_via_agent_and_keys_only() {
    let Some(lab) = lab() else { return };
    let h1 = lab.hosts[0].as_str();
    let tmp = tempfile::tempdir().unwrap();
    let sock = tmp.path().join("agent.sock");
    let agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ssh-agent");
    let _agent = KillOnDrop(agent);
    let t = Instant::now();
    while !sock.exists() {
        assert!(t.elapsed() < Duration::from_secs(10), "ssh-agent did not create its socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    sh(&format!("SSH_AUTH_SOCK='{}' ssh-add -q '{}'", sock.display(), lab.key.display()));

    let agent_only =
        SshOptions { keys: Some(vec![]), identity_agent: Some(sock.to_string_lossy().to_string()), ..opts(lab) };
    let pool = Pool::new(agent_only.clone());
    let logs = capture_logs(&pool);
    assert_eq!(bounded("agent", pool.capture(h1, "hostname")).await.unwrap(), "host1");
    let connected: Vec<String> =
        logs.lock().unwrap().iter().filter(|e| e.message.starts_with("Connected")).map(|e| e.message.clone()).collect();
    assert!(connected.iter().any(|m| m.ends_with("with agent)")), "{connected:?}");

    // forward_agent: the remote side sees our agent.
    let pool = Pool::new(SshOptions { forward_agent: Some(true), ..agent_only.clone() });
    let listed = bounded("forward_agent", pool.capture(h1, "ssh-add -l")).await.unwrap();
    assert!(listed.contains("ED25519") && listed.contains("hostlab"), "{listed}");
    let pool = Pool::new(agent_only.clone());
    let out = bounded("no forward_agent", pool.exec(h1, "ssh-add -l")).await.unwrap();
    assert_eq!(out.exit_status, 2, "no agent without forward_agent: {out:?}");

    // keys_only with no keys: the agent's identity may not be offered.
    let pool = Pool::new(SshOptions { keys_only: Some(true), ..agent_only });
    let err = bounded("keys_only", pool.exec(h1, "true")).await.unwrap_err();
    assert_eq!(err.to_string(), format!("Authentication failed for root@{h1} (tried: no identities)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_ecdsa_and_key_data() {
    let Some(lab) = lab() else { return };
    let (h1, h2) = lab.pair();
    let keys = lab.dir.join("wharf-ssh-test-keys");
    std::fs::create_dir_all(&keys).unwrap();
    let rsa = keygen(&keys, "id_rsa", "-t rsa -b 3072");
    let ecdsa = keygen(&keys, "id_ecdsa", "-t ecdsa -b 256");
    let ecdsa384 = keygen(&keys, "id_ecdsa384", "-t ecdsa -b 384");
    let rsa_pem = keygen(&keys, "id_rsa_pem", "-t rsa -b 2048 -m PEM");
    for k in [&rsa, &ecdsa, &ecdsa384, &rsa_pem] {
        authorize_on_h1(lab, k);
    }
    let sshd_log = lab.dir.join("h1/sshd.log");
    let logged_before = std::fs::read_to_string(&sshd_log).map(|l| l.len()).unwrap_or(0);
    for k in [&rsa, &ecdsa, &ecdsa384, &rsa_pem] {
        let pool = Pool::new(SshOptions { keys: Some(vec![k.clone()]), ..opts(lab) });
        let r = bounded("key", pool.capture(h1, "echo $SSH_CONNECTION")).await;
        assert!(r.is_ok(), "{}: {r:?}", k.display());
    }
    // RSA signatures must be rsa-sha2 (OpenSSH 9 refuses ssh-rsa/SHA-1 by default, so success
    // above already proves it; the sshd log names the key type). Only this test's part of the
    // log counts.
    let log = std::fs::read_to_string(&sshd_log).unwrap();
    let log = log.get(logged_before..).unwrap_or_default();
    assert!(
        log.lines().any(|l| l.contains("Accepted publickey for root") && l.contains(": RSA SHA256:")),
        "sshd log lacks an RSA login: {log}"
    );

    let pool = Pool::new(SshOptions {
        keys: Some(vec![]),
        key_data: vec![std::fs::read_to_string(&lab.key).unwrap()],
        ..opts(lab)
    });
    assert_eq!(bounded("key_data", pool.capture(h2, "hostname")).await.unwrap(), "host2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_names_user_and_host() {
    let Some(lab) = lab() else { return };
    let (h1, h2) = lab.pair();
    let tmp = tempfile::tempdir().unwrap();
    let stranger = keygen(tmp.path(), "id_stranger", "-t ed25519");
    let missing = tmp.path().join("nope");
    let pool = Pool::new(SshOptions { keys: Some(vec![stranger.clone(), missing.clone()]), ..opts(lab) });
    let err = bounded("wrong key", pool.exec(h1, "true")).await.unwrap_err();
    assert!(matches!(err, SshError::Auth { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "Authentication failed for root@{h1} (tried: {}, {} (not found))",
            stranger.display(),
            missing.display()
        )
    );
    let pool = Pool::new(SshOptions { user: Some("deploy".into()), ..opts(lab) });
    let err = bounded("wrong user", pool.exec(h2, "true")).await.unwrap_err();
    assert!(err.to_string().starts_with(&format!("Authentication failed for deploy@{h2} (tried: ")), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_keys_mismatch_unknown_and_accept_new() {
    let Some(lab) = lab() else { return };
    let h1 = lab.hosts[0].as_str();
    let tmp = tempfile::tempdir().unwrap();
    let h1_key = std::fs::read_to_string(lab.dir.join("h1/ssh_host_ed25519_key.pub")).unwrap();
    let h2_key = std::fs::read_to_string(lab.dir.join("h2/ssh_host_ed25519_key.pub")).unwrap();
    let h2_key: Vec<&str> = h2_key.split_whitespace().take(2).collect();

    // A changed key is refused, whatever the policy (but Never).
    let wrong = tmp.path().join("wrong_known_hosts");
    std::fs::write(&wrong, format!("{h1} {} {}\n", h2_key[0], h2_key[1])).unwrap();
    for policy in [HostKeyPolicy::Always, HostKeyPolicy::AcceptNew, HostKeyPolicy::AcceptNewOrLocalTunnel] {
        let pool = Pool::new(SshOptions {
            user_known_hosts_files: Some(vec![wrong.clone()]),
            verify_host_key: Some(policy),
            ..opts(lab)
        });
        let err = bounded("mismatch", pool.exec(h1, "true")).await.unwrap_err();
        match &err {
            SshError::HostKeyMismatch { host, known_at, .. } => {
                assert_eq!(host, h1);
                assert_eq!(known_at, &format!("{}:1", wrong.display()));
            }
            other => panic!("{policy:?}: expected HostKeyMismatch, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("Host key verification failed for {h1}: its ED25519 SHA256:")), "{msg}");
        assert!(msg.contains(&format!("ssh-keygen -R {h1}")), "{msg}");
    }
    // Nothing was appended to the file.
    assert_eq!(std::fs::read_to_string(&wrong).unwrap().lines().count(), 1);

    // Unknown host, strict: refused.
    let empty = tmp.path().join("sub/known_hosts");
    let pool = Pool::new(SshOptions { user_known_hosts_files: Some(vec![empty.clone()]), ..opts(lab) });
    let err = bounded("unknown", pool.exec(h1, "true")).await.unwrap_err();
    assert!(matches!(&err, SshError::HostKeyUnknown { host, .. } if host == h1), "{err:?}");

    // Unknown host, default policy (net-ssh's accept_new_or_local_tunnel): accepted and recorded.
    let pool =
        Pool::new(SshOptions { user_known_hosts_files: Some(vec![empty.clone()]), verify_host_key: None, ..opts(lab) });
    assert_eq!(bounded("accept-new", pool.capture(h1, "hostname")).await.unwrap(), "host1");
    let recorded = std::fs::read_to_string(&empty).unwrap();
    let want: Vec<&str> = h1_key.split_whitespace().take(2).collect();
    assert_eq!(recorded, format!("{h1} {} {}\n", want[0], want[1]));
    // ... and then verified strictly.
    let pool = Pool::new(SshOptions { user_known_hosts_files: Some(vec![empty.clone()]), ..opts(lab) });
    assert_eq!(bounded("recorded", pool.capture(h1, "hostname")).await.unwrap(), "host1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jump_host_and_proxy_command() {
    let Some(lab) = lab() else { return };
    let (h1, h2) = lab.pair();
    // Kamal's `proxy: root@host1`. One start permit: the jump and the target must not deadlock.
    let pool = Pool::new(SshOptions { proxy: Some(format!("root@{h1}")), max_concurrent_starts: 1, ..opts(lab) });
    let conn = bounded("jump", pool.capture(h2, "hostname; echo $SSH_CONNECTION")).await.unwrap();
    let mut lines = conn.lines();
    assert_eq!(lines.next(), Some("host2"));
    assert!(lines.next().unwrap().starts_with(&format!("{h1} ")), "host2 should see host1 as the client: {conn}");
    // A bare host gets root@, as Kamal does.
    let pool2 = Pool::new(SshOptions { proxy: Some(h1.to_string()), ..opts(lab) });
    assert!(bounded("jump", pool2.capture(h2, "echo $SSH_CONNECTION")).await.unwrap().starts_with(h1));
    assert_eq!(pool.stats().connections_opened, 2, "one to the jump host, one through it");

    // ProxyJump from ssh_config.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("config");
    std::fs::write(
        &cfg,
        format!(
            "Host behind\n  HostName {h2}\n  ProxyJump gw\nHost gw\n  HostName {h1}\n  User root\nHost *\n  IdentityFile {}\n  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n",
            lab.key.display(),
            lab.known_hosts.display()
        ),
    )
    .unwrap();
    let pool = Pool::new(SshOptions {
        config: SshConfigFiles::Files(vec![cfg]),
        identity_agent: Some("none".into()),
        ..Default::default()
    });
    assert!(bounded("ProxyJump", pool.capture("behind", "echo $SSH_CONNECTION")).await.unwrap().starts_with(h1));

    // proxy_command with %h %p, via OpenSSH's -W on host1.
    let pool = Pool::new(SshOptions {
        proxy_command: Some(format!("ssh -F {} -W %h:%p host1", lab.ssh_config.display())),
        ..opts(lab)
    });
    let out = bounded("proxy_command", pool.capture(h2, "hostname; echo $SSH_CONNECTION")).await.unwrap();
    assert!(out.starts_with(&format!("host2\n{h1} ")), "{out}");

    let pool = Pool::new(SshOptions { proxy_command: Some("echo no-way >&2; exit 1".into()), ..opts(lab) });
    let err = bounded("bad proxy_command", pool.exec(h2, "true")).await.unwrap_err();
    assert!(
        matches!(&err, SshError::ProxyCommand { host, message, .. } if host == h2 && message.contains("no-way")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_atomically_with_mode() {
    let Some(lab) = lab() else { return };
    let h1 = lab.hosts[0].as_str();
    let pool = Pool::new(opts(lab));
    let dir = &format!("/root/wharf-ssh-test-upload-{}", std::process::id());
    bounded("mkdir", pool.exec_checked(h1, &format!("rm -rf {dir} && mkdir -p {dir}"))).await.unwrap();
    let path = format!("{dir}/app.env");
    let content = b"SECRET_KEY_BASE=abc'\"$x\nDATABASE_PASSWORD=p@ss\n";
    bounded("upload", pool.upload(h1, content, &path, 0o600)).await.unwrap();
    assert_eq!(bounded("stat", pool.capture(h1, &format!("stat -c %a {path}"))).await.unwrap(), "600");
    assert_eq!(bounded("cat", pool.exec(h1, &format!("cat {path}"))).await.unwrap().stdout, content);
    // Overwrite with other content and mode; no temporary files are left behind.
    bounded("upload", pool.upload(h1, b"X=1\n", &path, 0o640)).await.unwrap();
    assert_eq!(bounded("stat", pool.capture(h1, &format!("stat -c %a {path}"))).await.unwrap(), "640");
    assert_eq!(bounded("ls", pool.capture(h1, &format!("ls -A {dir}"))).await.unwrap(), "app.env");
    // Relative paths are relative to the remote home, like Kamal's .kamal/ files.
    let rel = format!("{}/rel.env", dir.trim_start_matches("/root/"));
    bounded("upload", pool.upload(h1, b"rel\n", &rel, 0o600)).await.unwrap();
    assert_eq!(bounded("cat", pool.capture(h1, &format!("cat {dir}/rel.env"))).await.unwrap(), "rel");
    // A missing directory is a CommandFailed naming the host.
    let err = bounded("upload", pool.upload(h1, b"x", "/nonexistent-dir/x.env", 0o600)).await.unwrap_err();
    assert!(matches!(&err, SshError::CommandFailed { host, .. } if host == h1), "{err:?}");
    bounded("cleanup", pool.exec_checked(h1, &format!("rm -rf {dir}"))).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_run_from_standard_input_out_of_sight() {
    let Some(lab) = lab() else { return };
    let h1 = lab.hosts[0].as_str();
    let pool = Pool::new(opts(lab));
    let token = format!("wharf-secret-{}", std::process::id());
    // The script lists every command line on the server while it runs: its text is in none.
    let script = format!("secret='{token}'\nps -eo args\necho \"length ${{#secret}}\"\necho err >&2\nexit 3\n");
    let out = bounded("script", pool.exec_script(h1, script.as_bytes(), ExecOptions::default())).await.unwrap();
    assert_eq!((out.exit_status, out.stderr_str().as_ref()), (3, "err\n"));
    let stdout = out.stdout_str();
    assert!(stdout.contains("ps -eo args") && stdout.contains(&format!("length {}", token.len())), "{stdout}");
    assert!(!stdout.contains(&token), "the script is in a command line on the server:\n{stdout}");
    // The next scripts take the shell started ahead, one after another and at once; a large
    // one waits for the window as it fills.
    for i in 0..3 {
        let script = format!("echo {i}");
        let out = bounded("again", pool.exec_script(h1, script.as_bytes(), ExecOptions::default())).await;
        assert_eq!(out.unwrap().stdout_str(), format!("{i}\n"));
    }
    let scripts: Vec<String> = (0..4).map(|i| format!("sleep 0.2; echo {i}")).collect();
    let at_once = scripts.iter().map(|s| pool.exec_script(h1, s.as_bytes(), ExecOptions::default()));
    let outs = bounded("at once", futures::future::join_all(at_once)).await;
    let outs: Vec<String> = outs.into_iter().map(|o| o.unwrap().stdout_str().into_owned()).collect();
    assert_eq!(outs, ["0\n", "1\n", "2\n", "3\n"]);
    let big = format!("wc -c <<'EOF'\n{}\nEOF\n", "y".repeat(1_400_000));
    let out = bounded("big", pool.exec_script(h1, big.as_bytes(), ExecOptions::default())).await.unwrap();
    assert_eq!(out.stdout_str().trim(), "1400001");
    assert_eq!(pool.stats().connections_opened, 1);
    // Warmed (a connection, a channel and a shell made ahead), a host answers its first
    // command and script over that connection.
    let h2 = lab.hosts[1].as_str();
    bounded("warm", pool.warm(h2)).await.unwrap();
    assert_eq!(pool.stats().connections_opened, 2);
    let out = bounded("warmed script", pool.exec_script(h2, b"hostname", ExecOptions::default())).await.unwrap();
    assert_eq!(out.stdout_str(), "host2\n");
    assert_eq!(bounded("warmed command", pool.capture(h2, "hostname")).await.unwrap(), "host2");
    assert_eq!(pool.stats().connections_opened, 2);
}

/// A one-shot-per-connection HTTP server on the test machine's loopback.
fn http_server(body: &'static str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = write!(s, "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_port_forward() {
    let Some(lab) = lab() else { return };
    let h1 = lab.hosts[0].as_str();
    let pool = Pool::new(opts(lab));
    let local = http_server("hello-from-the-test-machine");

    // Server-chosen port.
    let fwd = bounded("forward", pool.forward_remote_port(h1, 0, local)).await.unwrap();
    let port = fwd.remote_port();
    assert_ne!(port, 0);
    let url = format!("http://127.0.0.1:{port}/");
    for _ in 0..3 {
        let body = bounded("curl", pool.capture(h1, &format!("curl -fsS -m 5 {url}"))).await.unwrap();
        assert_eq!(body, "hello-from-the-test-machine");
    }
    assert_eq!(
        bounded("wget", pool.capture(h1, &format!("wget -qO- -T 5 {url}"))).await.unwrap(),
        "hello-from-the-test-machine"
    );
    bounded("close", fwd.close()).await.unwrap();
    let after = bounded("curl", pool.exec(h1, &format!("curl -fsS -m 5 {url}"))).await.unwrap();
    assert!(!after.success(), "the port still answers after close");

    // A fixed port, as Kamal's local registry uses; dropping the guard cancels it.
    let fixed = 20000 + (std::process::id() % 20000) as u16;
    let fwd = bounded("forward", pool.forward_remote_port(h1, fixed, local)).await.unwrap();
    assert_eq!(fwd.remote_port(), fixed);
    let url = format!("http://127.0.0.1:{fixed}/");
    assert_eq!(
        bounded("curl", pool.capture(h1, &format!("curl -fsS -m 5 {url}"))).await.unwrap(),
        "hello-from-the-test-machine"
    );
    // The same port twice is refused.
    let err = bounded("forward", pool.forward_remote_port(h1, fixed, local)).await.unwrap_err();
    assert!(matches!(&err, SshError::ForwardRefused { host, port, .. } if host == h1 && *port == fixed), "{err:?}");
    drop(fwd);
    let t = Instant::now();
    loop {
        let out = bounded("curl", pool.exec(h1, &format!("curl -fsS -m 5 {url}"))).await.unwrap();
        if !out.success() {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "forward still active after drop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_reports_every_failed_host() {
    let Some(lab) = lab() else { return };
    let (h1, h2) = lab.pair();
    let pool = Pool::new(opts(lab));
    let hosts = [h1, h2, "127.0.0.1:1", h1];
    let p = pool.clone();
    let err = bounded(
        "fan_out",
        fan_out(hosts, move |host| {
            let pool = p.clone();
            async move { pool.exec_checked(&host, "test \"$(hostname)\" = host1").await }
        }),
    )
    .await
    .unwrap_err();
    assert_eq!(err.hosts(), [h2, "127.0.0.1:1"]);
    assert!(matches!(err.failures[0].1, SshError::CommandFailed { exit_status: 1, .. }));
    assert!(matches!(err.failures[1].1, SshError::ConnectionRefused { port: 1, .. }));
    let msg = err.to_string();
    assert!(msg.starts_with("Exceptions on 2 hosts:\n"), "{msg}");
    assert!(
        msg.contains(&format!("Exception while executing on host {h2}: Command failed on {h2} with exit status 1")),
        "{msg}"
    );
    assert!(msg.contains("Exception while executing on host 127.0.0.1:1: Connection refused by 127.0.0.1:1"), "{msg}");

    let p = pool.clone();
    let ok = bounded(
        "fan_out",
        fan_out([h1, h2], move |host| {
            let pool = p.clone();
            async move { pool.capture(&host, "hostname").await }
        }),
    )
    .await
    .unwrap();
    assert_eq!(ok, [(h1.to_string(), "host1".to_string()), (h2.to_string(), "host2".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed() {
    let Some(lab) = lab() else { return };
    let h1 = lab.hosts[0].as_str();
    let pool = Pool::new(SshOptions { pool_idle_timeout: Duration::from_millis(800), ..opts(lab) });
    let first = bounded("exec", pool.capture(h1, "echo $SSH_CONNECTION")).await.unwrap();
    assert_eq!(pool.stats().open_connections, 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(pool.stats().open_connections, 0, "idle connection was not closed");
    let second = bounded("exec", pool.capture(h1, "echo $SSH_CONNECTION")).await.unwrap();
    assert_ne!(first, second);
    assert_eq!(pool.stats().connections_opened, 2);
    // Busy connections are kept: a command longer than the idle timeout.
    bounded("long", pool.exec_checked(h1, "sleep 1.2")).await.unwrap();
    assert_eq!(bounded("exec", pool.capture(h1, "echo $SSH_CONNECTION")).await.unwrap(), second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_redacted_in_logs_errors_and_streams() {
    let Some(lab) = lab() else { return };
    let h1 = lab.hosts[0].as_str();
    let pool = Pool::new(opts(lab));
    pool.set_redactor(Redactor::new(["hunter2-secret"]));
    let logs = capture_logs(&pool);
    let mut streamed = Vec::new();
    let out =
        bounded("exec", pool.exec_streaming(h1, "echo 'pw=hunter2-secret'", |l| streamed.push(l.text.to_string())))
            .await
            .unwrap();
    assert_eq!(out.stdout_str(), "pw=hunter2-secret\n", "captured output stays raw");
    assert_eq!(streamed, ["pw=[REDACTED]"]);
    let err =
        bounded("fail", pool.exec_checked(h1, "echo hunter2-secret >&2; false hunter2-secret")).await.unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let logs = logs.lock().unwrap();
    assert!(logs.iter().any(|e| e.level == LogLevel::Info && e.message == "Running echo 'pw=[REDACTED]'"), "{logs:?}");
    assert!(logs.iter().all(|e| !e.message.contains("hunter2")), "{logs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_errors_are_bounded_and_named() {
    let Some(lab) = lab() else { return };
    let h1 = lab.hosts[0].as_str();
    // DNS: fails after dns_retries retries with backoff.
    let pool = Pool::new(SshOptions { dns_retries: 2, ..opts(lab) });
    let t = Instant::now();
    let err = bounded("dns", pool.exec("no-such-host.invalid", "true")).await.unwrap_err();
    assert!(matches!(&err, SshError::Dns { host, .. } if host == "no-such-host.invalid"), "{err:?}");
    assert!(t.elapsed() >= Duration::from_millis(300), "two retries sleep 0.1 s + 0.2 s");
    // Nothing on the address: a connect timeout (or unreachable), within the bound.
    let pool = Pool::new(SshOptions { connect_timeout: Some(Duration::from_secs(1)), ..opts(lab) });
    let t = Instant::now();
    let blackhole = lab.blackhole();
    let err = bounded("blackhole", pool.exec(&blackhole, "true")).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    assert!(
        matches!(&err, SshError::ConnectTimeout { host, .. } | SshError::Connect { host, .. } if host == &blackhole),
        "{err:?}"
    );
    // Refused.
    let err = bounded("refused", pool.exec(&format!("{h1}:2"), "true")).await.unwrap_err();
    assert_eq!(err.to_string(), format!("Connection refused by {h1}:2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timings_against_openssh() {
    let Some(lab) = lab() else { return };
    let h1 = lab.hosts[0].as_str();
    let pool = Pool::new(opts(lab));
    let t = Instant::now();
    bounded("connect", pool.connect(h1)).await.unwrap();
    let connect = t.elapsed();
    let n = 30;
    let t = Instant::now();
    for _ in 0..n {
        bounded("exec", pool.exec_checked(h1, "true")).await.unwrap();
    }
    let per_cmd = t.elapsed() / n;
    let t = Instant::now();
    let conc = (0..n).map(|_| pool.exec_checked(h1, "true"));
    for r in bounded("concurrent", futures::future::join_all(conc)).await {
        r.unwrap();
    }
    let concurrent = t.elapsed();

    let runs = 5;
    let t = Instant::now();
    for _ in 0..runs {
        let st = Command::new("timeout")
            .args(["30", "ssh", "-F"])
            .arg(&lab.ssh_config)
            .args(["host1", "true"])
            .status()
            .unwrap();
        assert!(st.success());
    }
    let openssh = t.elapsed() / runs;
    eprintln!(
        "timings vs {h1}: wharf-ssh connect {:.1} ms; per command {:.2} ms sequential, {n} concurrent in {:.1} ms; \
         OpenSSH `ssh host1 true` {:.1} ms",
        connect.as_secs_f64() * 1e3,
        per_cmd.as_secs_f64() * 1e3,
        concurrent.as_secs_f64() * 1e3,
        openssh.as_secs_f64() * 1e3
    );
    assert!(per_cmd < connect * 2 + Duration::from_millis(50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_storm_is_bounded_by_max_concurrent_starts() {
    let Some(lab) = lab() else { return };
    let (h1, h2) = lab.pair();
    // 40 distinct hosts (ssh_config aliases of the two servers), 5 setups at a time.
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("config");
    std::fs::write(&cfg, format!("Host odd-*\n  HostName {h1}\nHost even-*\n  HostName {h2}\n")).unwrap();
    let pool =
        Pool::new(SshOptions { config: SshConfigFiles::Files(vec![cfg]), max_concurrent_starts: 5, ..opts(lab) });
    let hosts: Vec<String> = (0..40).map(|i| format!("{}-{i}", if i % 2 == 1 { "odd" } else { "even" })).collect();
    let p = pool.clone();
    let t = Instant::now();
    let results = bounded(
        "storm",
        fan_out(hosts.clone(), move |host| {
            let pool = p.clone();
            async move { pool.capture(&host, "hostname").await }
        }),
    )
    .await
    .unwrap();
    let took = t.elapsed();
    for (host, name) in &results {
        assert_eq!(name, if host.starts_with("odd") { "host1" } else { "host2" });
    }
    let stats = pool.stats();
    assert_eq!((stats.connections_opened, stats.open_connections), (40, 40));
    assert!(stats.peak_concurrent_starts <= 5 && stats.peak_concurrent_starts > 1, "{stats:?}");
    eprintln!("40 hosts, max_concurrent_starts 5: connected and ran in {:.0} ms ({stats:?})", took.as_secs_f64() * 1e3);
}
