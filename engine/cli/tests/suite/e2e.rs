//! End to end on real servers (hostlab: sshd, dockerd, registry), driving the built `wharf` binary
//! as a user does, checking what users see: HTTP answers on the servers' port 80, containers on
//! the servers, exit codes and error texts.

use crate::WHARF;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wharf_testkit::lab::*;

#[test]
fn example_app_setup_deploy_rollback_exec_remove() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    let v1 = app.git(&["rev-parse", "HEAD"]);
    let setup = app.ok(&["setup", "-v"]);
    // The app's post-deploy hook ran after the lock was released, with Kamal's environment
    // (its output is shown with -v, as Kamal does).
    assert!(setup.contains(&format!("post-deploy: hello@{} to 10.200.0.1,10.200.0.2 in ", &v1[..7])), "{setup}");
    for host in ["10.200.0.1", "10.200.0.2"] {
        let (status, body) = curl(host, "/", None);
        assert_eq!(status, 200, "{host}");
        assert_eq!(body, format!("Hello from hello-web-{v1} on {host}"));
        assert_eq!(curl(host, "/version", None), (200, v1.clone()));
    }
    // The env file holds the secret (from `kamal secrets fetch` with the test adapter), mode 0600.
    assert_eq!(on_host(lab, "10.200.0.1", "stat -c %a .kamal/apps/hello/env/roles/web.env"), "600");
    assert_eq!(on_host(lab, "10.200.0.1", "cat .kamal/apps/hello/env/roles/web.env"), "SECRET_TOKEN=NEKOT");

    // A second version, deployed under continuous load: no failed request.
    app.write(
        "start.sh",
        &std::fs::read_to_string(app.path().join("start.sh")).unwrap().replace("${GREETING:-Hello}", "Version two:"),
    );
    let v2 = app.commit("v2");
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load = {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let (status, _) = curl("10.200.0.1", "/", None);
                if status == 200 {
                    ok.fetch_add(1, Ordering::Relaxed)
                } else {
                    failed.fetch_add(1, Ordering::Relaxed)
                };
            }
        })
    };
    app.ok(&["deploy"]);
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    assert!(ok.load(Ordering::Relaxed) > 20, "the load ran during the deploy");
    assert_eq!(failed.load(Ordering::Relaxed), 0, "requests failed during the deploy");
    for host in ["10.200.0.1", "10.200.0.2"] {
        assert_eq!(curl(host, "/version", None), (200, v2.clone()));
        assert!(curl(host, "/", None).1.starts_with("Version two:"));
    }
    assert!(app.ok(&["audit"]).contains(&format!("Booted app version {v2}")));

    // Rollback to the first version: its container is still on the servers.
    app.ok(&["rollback", &v1]);
    for host in ["10.200.0.1", "10.200.0.2"] {
        assert_eq!(curl(host, "/version", None), (200, v1.clone()));
    }
    let missing = app.wharf(&["rollback", "0000000"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("The app version '0000000' is not available as a container"),
        "{}",
        stderr(&missing)
    );

    // app exec (a new container of the running version) and app logs.
    let exec = app.ok(&["app", "exec", "busybox echo exec-ok"]);
    assert!(exec.contains("App Host: 10.200.0.1") && exec.contains("App Host: 10.200.0.2"), "{exec}");
    assert_eq!(exec.matches("exec-ok").count(), 2, "{exec}");
    let reuse = app.ok(&["app", "exec", "--reuse", "busybox", "cat", "/www/index.html"]);
    assert!(reuse.contains(&format!("Hello from hello-web-{v1} on 10.200.0.2")), "{reuse}");
    app.ok(&["app", "logs", "-n", "5"]);
    let details = app.ok(&["details"]);
    assert!(details.contains("kamal-proxy") && details.contains(&format!("hello-web-{v1}")), "{details}");

    // remove: the app and its directory are gone; the proxy too, unless other apps still use it
    // (Kamal keeps it then), in which case it answers 404 for this app.
    app.ok(&["remove", "-y"]);
    let status = curl("10.200.0.1", "/", None).0;
    assert!(status == 0 || status == 404, "the app still answers after remove ({status})");
    assert_eq!(on_host(lab, "10.200.0.1", "ls -d .kamal/apps/hello 2>/dev/null"), "");
    assert_eq!(on_host(lab, "10.200.0.1", "docker ps -a --filter label=service=hello -q"), "");
}

#[test]
fn roles_accessory_destination_and_alias() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    let extra = r#"
accessories:
  store:
    image: localhost:5000/busybox:latest
    host: 10.200.0.3
    port: "8081:80"
    cmd: httpd -f -p 80 -h /www
aliases:
  greeting: app exec --reuse -r web "busybox cat /www/index.html"
"#;
    let mut yml = deploy_yml("multi", "multi.test", "", extra);
    yml = yml.replace(
        "servers:\n  web:\n    - 10.200.0.1\n    - 10.200.0.2\n",
        "servers:\n  web:\n    - 10.200.0.1\n    - 10.200.0.2\n  workers:\n    hosts:\n      - 10.200.0.3\n    cmd: /bin/busybox sh -c 'trap \"exit 0\" TERM; while true; do sleep 1; done'\n",
    );
    app.write("config/deploy.yml", &yml);
    app.write("config/deploy.staging.yml", "env:\n  clear:\n    GREETING: Staging\n");
    // With a destination, Kamal reads .kamal/secrets-common and .kamal/secrets.<destination>.
    app.write(".kamal/secrets.staging", "REGISTRY_PASSWORD=unused\nSECRET_TOKEN=staging-token\n");
    let v1 = app.commit("multi");

    let out = app.ok(&["-d", "staging", "setup"]);
    assert!(out.contains("Booted") || out.contains("Finished all"), "{out}");
    for host in ["10.200.0.1", "10.200.0.2"] {
        let (status, body) = curl(host, "/", Some("multi.test"));
        assert_eq!(status, 200, "{host}");
        assert_eq!(body, format!("Staging from multi-web-staging-{v1} on {host}"));
    }
    // The worker runs on the third host (no proxy there for it), labelled with its destination.
    assert_eq!(
        on_host(
            lab,
            "10.200.0.3",
            "docker ps --filter label=role=workers --filter label=destination=staging --format '{{.Names}}'"
        ),
        format!("multi-workers-staging-{v1}")
    );
    // The accessory answers on its published port.
    assert!(eventually(Duration::from_secs(10), || curl("10.200.0.3:8081", "/", None) == (200, "hostlab".into())));
    assert_eq!(on_host(lab, "10.200.0.3", "docker ps --format '{{.Names}}' --filter name=multi-store"), "multi-store");

    // An alias from deploy.yml is a command.
    let greeting = app.ok(&["-d", "staging", "greeting"]);
    assert!(greeting.contains(&format!("Staging from multi-web-staging-{v1}")), "{greeting}");

    // Accessory lifecycle steps on their own, as in Kamal.
    app.ok(&["-d", "staging", "accessory", "stop", "store"]);
    assert_eq!(curl("10.200.0.3:8081", "/", None).0, 0, "the stopped accessory does not answer");
    app.ok(&["-d", "staging", "accessory", "remove_container", "store"]);
    assert_eq!(on_host(lab, "10.200.0.3", "docker ps -a --format '{{.Names}}' --filter name=multi-store"), "");
    app.ok(&["-d", "staging", "accessory", "pull_image", "store"]);
    app.ok(&["-d", "staging", "accessory", "boot", "store"]);
    assert!(eventually(Duration::from_secs(10), || curl("10.200.0.3:8081", "/", None) == (200, "hostlab".into())));

    app.ok(&["-d", "staging", "remove", "-y"]);
    assert_eq!(curl("10.200.0.3:8081", "/", None).0, 0, "the accessory is removed");
    assert!(!curl("10.200.0.1", "/", Some("multi.test")).1.starts_with("Staging"), "the app is removed");
    assert_eq!(on_host(lab, "10.200.0.3", "docker ps -a --filter label=service=multi -q"), "");
}

#[test]
fn a_deploy_lock_held_by_someone_else_is_refused_with_holder_and_time() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    app.write("config/deploy.yml", &deploy_yml("locked", "locked.test", "", ""));
    app.commit("locked");
    app.ok(&["lock", "acquire", "-m", "Database migration in progress"]);
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out)
            .contains("ERROR (Kamal::Cli::LockError): Deploy lock found. Run 'kamal lock help' for more information"),
        "{}",
        stderr(&out)
    );
    let shown = stdout(&out);
    assert!(shown.contains("Deploy lock already in place!"), "{shown}");
    assert!(shown.contains("Locked by: Tester at 20"), "{shown}");
    assert!(shown.contains("Message: Database migration in progress"), "{shown}");
    let status = app.ok(&["lock", "status"]);
    assert!(status.contains("Database migration in progress"), "{status}");
    app.ok(&["lock", "release"]);
    assert!(app.ok(&["lock", "status"]).contains("There is no deploy lock"));
}

#[test]
fn a_broken_deploy_keeps_the_old_version_serving_and_releases_the_lock() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    app.write("config/deploy.yml", &deploy_yml("broken", "broken.test", "", ""));
    let good = app.commit("good");
    app.ok(&["deploy"]);
    assert_eq!(curl("10.200.0.1", "/version", Some("broken.test")), (200, good.clone()));

    // The next version never answers its health check (given up after 5 s, not the 20 s the
    // first deploy had for a container to start on a busy machine).
    let start = std::fs::read_to_string(app.path().join("start.sh")).unwrap();
    app.write("start.sh", &start.replace("echo ok > /www/up", "true"));
    app.write(
        "config/deploy.yml",
        &deploy_yml("broken", "broken.test", "", "").replace("deploy_timeout: 20", "deploy_timeout: 5"),
    );
    app.commit("broken");
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1), "a failed deploy exits 1");
    assert!(stderr(&out).contains("target failed to become healthy"), "{}", stderr(&out));
    for host in ["10.200.0.1", "10.200.0.2"] {
        assert_eq!(
            curl(host, "/version", Some("broken.test")),
            (200, good.clone()),
            "{host} still serves the old version"
        );
    }
    assert!(app.ok(&["lock", "status"]).contains("There is no deploy lock"), "the lock was released");
    app.ok(&["remove", "-y"]);
}

#[test]
fn plan_prints_every_command_and_changes_nothing() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    app.write("config/deploy.yml", &deploy_yml("planned", "planned.test", "", ""));
    let version = app.commit("plan");
    let before = on_host(lab, "10.200.0.1", "docker ps -a --format '{{.Names}}' | sort");
    let plan = app.ok(&["deploy", "--plan", "-P"]);
    assert!(plan.contains("nothing was changed"), "{plan}");
    assert!(plan.contains("10.200.0.1:") && plan.contains("10.200.0.2:"), "{plan}");
    assert!(
        plan.contains(&format!("docker run --detach --restart unless-stopped --name planned-web-{version}")),
        "{plan}"
    );
    assert!(plan.contains("kamal-proxy deploy planned-web"), "{plan}");
    assert!(plan.contains("mkdir .kamal/lock-planned"), "{plan}");
    assert_eq!(
        on_host(lab, "10.200.0.1", "docker ps -a --format '{{.Names}}' | sort"),
        before,
        "nothing changed on the server"
    );
    assert_eq!(on_host(lab, "10.200.0.1", "ls .kamal | grep -c lock-planned || true"), "0");
}

#[test]
fn bad_configuration_gets_kamals_message_and_exit_1() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    app.write(
        "config/deploy.yml",
        &deploy_yml("bad", "bad.test", "", "proxy_colour: red\n")
            .replace("servers:\n  web:\n    - 10.200.0.1", "servers:\n  web:\n    - [10.200.0.1]"),
    );
    app.commit("bad");
    // As Kamal: unknown keys of a level first, then each key's value.
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("ERROR (Kamal::ConfigurationError): unknown key: proxy_colour"), "{err}");
    app.write(
        "config/deploy.yml",
        &deploy_yml("bad", "bad.test", "", "")
            .replace("servers:\n  web:\n    - 10.200.0.1", "servers:\n  web:\n    - [10.200.0.1]"),
    );
    app.commit("bad host");
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("ERROR (Kamal::ConfigurationError): servers/web/0: should be a string or a hash"), "{err}");
}

#[test]
fn sigterm_during_a_deploy_stops_cleanly_and_releases_the_lock() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    // A slow health check keeps the deploy inside the lock long enough to interrupt it.
    let yml = deploy_yml("interrupted", "interrupted.test", "", "").replace("deploy_timeout: 20", "deploy_timeout: 30");
    app.write("config/deploy.yml", &yml);
    let good = app.commit("good");
    app.ok(&["deploy"]);
    let start = std::fs::read_to_string(app.path().join("start.sh")).unwrap();
    app.write("start.sh", &start.replace("echo ok > /www/up", "true"));
    app.commit("never healthy");
    let mut child = app
        .runner()
        .command(&["deploy"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the lock is taken, then send SIGTERM.
    assert!(eventually(Duration::from_secs(60), || {
        !on_host(lab, "10.200.0.1", "ls -d .kamal/lock-interrupted 2>/dev/null").is_empty()
    }));
    std::thread::sleep(Duration::from_secs(2));
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    eprintln!("{err}");
    assert_eq!(status.code(), Some(1), "an interrupted deploy exits 1");
    assert!(err.contains("Interrupted by SIGTERM"), "{err}");
    assert_eq!(on_host(lab, "10.200.0.1", "ls -d .kamal/lock-interrupted 2>/dev/null"), "", "the lock was released");
    for host in ["10.200.0.1", "10.200.0.2"] {
        assert_eq!(
            curl(host, "/version", Some("interrupted.test")),
            (200, good.clone()),
            "{host} still serves the old version"
        );
    }
    app.ok(&["remove", "-y"]);
    // The interrupted deploy's last batch still runs on the servers after Wharf stopped (a
    // `docker run` of the new version can finish after `remove`), and `remove`, as Kamal's,
    // stops only the current container: the test removes what is left, once nothing new comes.
    for host in ["10.200.0.1", "10.200.0.2"] {
        let mut quiet = 0;
        eventually(Duration::from_secs(30), || {
            let left = on_host(lab, host, "docker ps -aq --filter label=service=interrupted | xargs -r docker rm -f");
            quiet = if left.is_empty() { quiet + 1 } else { 0 };
            std::thread::sleep(Duration::from_millis(500));
            quiet >= 6
        });
    }
}

#[test]
fn a_failing_hook_aborts_the_deploy_and_releases_the_lock() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    app.write("config/deploy.yml", &deploy_yml("hooked", "hooked.test", "", ""));
    app.write(
        ".kamal/hooks/pre-deploy",
        "#!/bin/sh\necho \"checks failed for $KAMAL_SERVICE_VERSION (lock: $KAMAL_LOCK)\"\nexit 3\n",
    );
    std::process::Command::new("chmod")
        .args(["+x", app.path().join(".kamal/hooks/pre-deploy").to_str().unwrap()])
        .status()
        .unwrap();
    let version = app.commit("hooked");
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("ERROR (Kamal::Cli::HookError): Hook `pre-deploy` failed:"), "{err}");
    assert!(err.contains(&format!("checks failed for hooked@{} (lock: true)", &version[..7])), "{err}");
    assert!(app.ok(&["lock", "status"]).contains("There is no deploy lock"));
    assert_eq!(on_host(lab, "10.200.0.1", "docker ps -a --filter label=service=hooked -q"), "", "nothing was booted");
    // -H skips hooks.
    app.ok(&["deploy", "-H"]);
    assert_eq!(curl("10.200.0.1", "/version", Some("hooked.test")), (200, version));
    app.ok(&["remove", "-y"]);
}

/// The pids of every sshd (the listener and each connection's) in lab host `i`'s network namespace.
fn sshd_pids(lab: &Lab, i: u32) -> Vec<String> {
    let pids = std::process::Command::new("ip").args(["netns", "pids", &lab.host_netns(i)]).output().unwrap();
    String::from_utf8_lossy(&pids.stdout)
        .split_whitespace()
        .filter(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim().starts_with("sshd")))
        .map(str::to_string)
        .collect()
}

/// Starts lab host `i`'s sshd again, in the namespaces of its dockerd (as hostlab started it).
fn restart_sshd(lab: &Lab, i: u32) {
    let dir = lab.var("HOSTLAB_DIR");
    let dockerd = std::fs::read_to_string(format!("{dir}/h{i}/dockerd.pid")).unwrap();
    let out = std::process::Command::new("nsenter")
        .args(["-t", dockerd.trim(), "--net", "--mount", "--uts", "/usr/sbin/sshd"])
        .args(["-f", &format!("{dir}/h{i}/sshd_config"), "-E", &format!("{dir}/h{i}/sshd.log")])
        .output()
        .unwrap();
    assert!(out.status.success(), "sshd: {}", String::from_utf8_lossy(&out.stderr));
    assert!(eventually(Duration::from_secs(20), || {
        try_on_host(lab, HOSTS[i as usize - 1], "echo up").as_deref() == Some("up")
    }));
}

#[test]
fn a_host_lost_mid_deploy_fails_naming_it_and_a_rerun_converges() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    app.write("config/deploy.yml", &deploy_yml("lost", "lost.test", "", ""));
    let v1 = app.commit("v1");
    app.ok(&["deploy"]);
    let start = std::fs::read_to_string(app.path().join("start.sh")).unwrap();
    app.write("start.sh", &start.replace("${GREETING:-Hello}", "Version two:"));
    // As the new version boots, 10.200.0.2's sshd dies: every sshd process of it, so the
    // connection Wharf holds drops and a new one is refused.
    let marker = app.path().join("killed");
    app.write(
        ".kamal/hooks/pre-app-boot",
        &format!(
            "#!/bin/sh\n[ -e {m} ] && exit 0\ntouch {m}\nfor p in $(ip netns pids {ns}); do\n  case \"$(cat /proc/$p/comm)\" in sshd*) kill -KILL $p;; esac\ndone\n",
            m = marker.display(),
            ns = lab.host_netns(2)
        ),
    );
    std::process::Command::new("chmod")
        .args(["+x", app.path().join(".kamal/hooks/pre-app-boot").to_str().unwrap()])
        .status()
        .unwrap();
    let v2 = app.commit("v2");
    let out = app.wharf(&["deploy"]);
    let killed_while_down = sshd_pids(lab, 2).is_empty();
    if killed_while_down {
        restart_sshd(lab, 2);
    }
    assert!(killed_while_down, "the hook did not take 10.200.0.2's sshd down");
    assert_eq!(out.status.code(), Some(1), "a deploy that lost a host exits 1");
    let err = stderr(&out);
    assert!(err.contains("10.200.0.2"), "the error names the host: {err}");
    assert!(!err.contains("10.200.0.1:"), "only the lost host failed: {err}");
    // The lock was released, and the host that was reachable is consistent: its proxy serves
    // the container that runs, the new version.
    assert!(app.ok(&["lock", "status"]).contains("There is no deploy lock"), "the lock was released");
    assert_eq!(curl("10.200.0.1", "/version", Some("lost.test")), (200, v2.clone()));
    let running = on_host(
        lab,
        "10.200.0.1",
        "docker ps --filter label=service=lost --filter label=role=web --format '{{.Names}}'",
    );
    assert_eq!(running, format!("lost-web-{v2}"), "one app container runs on 10.200.0.1");
    // The lost host still serves what it served (its containers never stopped).
    assert_eq!(curl("10.200.0.2", "/version", Some("lost.test")), (200, v1.clone()));

    // With the host back, the same deploy converges.
    app.ok(&["deploy"]);
    for host in ["10.200.0.1", "10.200.0.2"] {
        assert_eq!(curl(host, "/version", Some("lost.test")), (200, v2.clone()), "{host}");
        let running =
            on_host(lab, host, "docker ps --filter label=service=lost --filter label=role=web --format '{{.Names}}'");
        assert_eq!(running, format!("lost-web-{v2}"), "{host}");
    }
    app.ok(&["remove", "-y"]);
}

/// Wharf's fleet transaction (`--fleet-transaction`), under load on three servers: the new
/// version never becomes healthy on the third, so the two that had switched go back; no request
/// fails, every server serves the old version, the deploy exits 1 and releases the lock. Without
/// it, Kamal's behaviour: the two stay on the new version.
#[test]
fn fleet_transaction_reverts_the_servers_that_switched_when_one_fails() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    let yml = deploy_yml("fleet", "fleet.test", "", "")
        .replace("    - 10.200.0.2\n", "    - 10.200.0.2\n    - 10.200.0.3\n")
        .replace("deploy_timeout: 20", "deploy_timeout: 5");
    app.write("config/deploy.yml", &yml);
    let good = app.commit("good");
    app.ok(&["deploy"]);
    let hosts = ["10.200.0.1", "10.200.0.2", "10.200.0.3"];
    // The next version never answers its health check on the third server.
    let start = std::fs::read_to_string(app.path().join("start.sh")).unwrap();
    app.write("start.sh", &start.replace("echo ok > /www/up", "[ \"$KAMAL_HOST\" = 10.200.0.3 ] || echo ok > /www/up"));
    let bad = app.commit("bad on one server");

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let load: Vec<_> = hosts
        .iter()
        .map(|host| {
            let (stop, ok, failed, host) = (stop.clone(), ok.clone(), failed.clone(), host.to_string());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match curl(&host, "/version", Some("fleet.test")).0 {
                        200 => ok.fetch_add(1, Ordering::Relaxed),
                        _ => failed.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    let out = app.wharf(&["deploy", "--fleet-transaction", "--output", "json"]);
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.join().unwrap();
    }
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Said in words (Kamal's lines are on stderr with --output json) and in the stream.
    assert!(
        stderr(&out).contains("Fleet transaction: reverting 10.200.0.1, 10.200.0.2 to the previous version"),
        "{}",
        stderr(&out)
    );
    let events: Vec<serde_json::Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let revert: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "fleet_revert").collect();
    assert_eq!(revert.len(), 1, "{events:?}");
    assert_eq!(revert[0]["hosts"], serde_json::json!(["10.200.0.1", "10.200.0.2"]));
    assert_eq!(revert[0]["version"], bad.as_str());
    assert_eq!(events.last().unwrap()["outcome"], "failed");
    assert!(ok.load(Ordering::Relaxed) > 30, "the load ran during the deploy");
    assert_eq!(failed.load(Ordering::Relaxed), 0, "requests failed during the deploy and the revert");
    for host in hosts {
        assert_eq!(
            curl(host, "/version", Some("fleet.test")),
            (200, good.clone()),
            "{host} is back on the old version"
        );
        let running = on_host(lab, host, &format!("docker ps --filter name=fleet-web-{bad} --format '{{{{.Names}}}}'"));
        assert_eq!(running, "", "{host}: the new version is stopped");
    }
    assert!(app.ok(&["lock", "status"]).contains("There is no deploy lock"), "the lock was released");

    // Without it (Kamal's behaviour): the servers that switched stay switched.
    let out = app.wharf(&["deploy"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(curl("10.200.0.1", "/version", Some("fleet.test")), (200, bad.clone()));
    assert_eq!(curl("10.200.0.3", "/version", Some("fleet.test")), (200, good));
    app.ok(&["remove", "-y"]);
}
