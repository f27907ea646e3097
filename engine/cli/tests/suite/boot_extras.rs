//! End to end on hostlab: what Kamal's `app boot` prepares on the servers before booting a
//! version, as users see it: asset bridging between versions (`asset_path`), the app's own error
//! pages in maintenance (`error_pages_path`), and custom TLS certificates (`proxy.ssl` with
//! `certificate_pem` / `private_key_pem`; the private key 0600, owned by the proxy's user).

use crate::WHARF;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use wharf_testkit::lab::*;

/// Runs `wharf remove -y` when dropped, so a failed test leaves nothing behind.
struct Removed<'a>(&'a AppDir);

impl Drop for Removed<'_> {
    fn drop(&mut self) {
        self.0.wharf(&["remove", "-y"]);
    }
}

fn make_executable(app: &AppDir, file: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(app.path().join(file), std::fs::Permissions::from_mode(0o755)).unwrap();
}

const HOSTS_2: [&str; 2] = ["10.200.0.1", "10.200.0.2"];

#[test]
fn assets_of_the_old_and_new_versions_are_served_by_both_during_and_after_the_switch() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    let _removed = Removed(&app);
    app.write("config/deploy.yml", &deploy_yml("bxassets", "assets.test", "", "asset_path: /www/assets\n"));
    let dockerfile = std::fs::read_to_string(app.path().join("Dockerfile")).unwrap();
    app.write(
        "Dockerfile",
        &dockerfile.replace("COPY start.sh /start.sh", "COPY start.sh /start.sh\nCOPY assets/ /www/assets/"),
    );
    // Before any host boots the new version (after the assets step), what the old version serves.
    app.write(
        ".kamal/hooks/pre-app-boot",
        r#"#!/bin/sh
for host in 10.200.0.1 10.200.0.2; do
  version=$(curl -s -m 5 -H 'Host: assets.test' http://$host/version)
  v1=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Host: assets.test' http://$host/assets/v1.css)
  v2=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H 'Host: assets.test' http://$host/assets/v2.css)
  echo "before-boot $host version=$version v1.css=$v1 v2.css=$v2"
done
"#,
    );
    make_executable(&app, ".kamal/hooks/pre-app-boot");
    app.write("assets/v1.css", "body { color: red } /* v1 */\n");
    let v1 = app.commit("v1 assets");
    app.ok(&["deploy"]);
    for host in HOSTS_2 {
        assert_eq!(curl(host, "/version", Some("assets.test")), (200, v1.clone()), "{host}");
        assert_eq!(curl(host, "/assets/v1.css", Some("assets.test")), (200, "body { color: red } /* v1 */".into()));
        assert_eq!(curl(host, "/assets/v2.css", Some("assets.test")).0, 404, "{host}");
        assert_eq!(
            on_host(lab, host, &format!("ls .kamal/apps/bxassets/assets/extracted/web-{v1}")),
            "v1.css",
            "{host}: the assets extracted from the image"
        );
    }

    // Version 2 drops v1.css and brings v2.css.
    std::fs::remove_file(app.path().join("assets/v1.css")).unwrap();
    app.write("assets/v2.css", "body { color: blue } /* v2 */\n");
    let v2 = app.commit("v2 assets");

    // Under load: v1.css never fails; once v2.css is served, it always is.
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let load = {
        let (stop, seen, failures) = (stop.clone(), seen.clone(), failures.clone());
        std::thread::spawn(move || {
            let mut v2_served = false;
            while !stop.load(Ordering::Relaxed) {
                let (s1, _) = curl("10.200.0.1", "/assets/v1.css", Some("assets.test"));
                let (s2, _) = curl("10.200.0.1", "/assets/v2.css", Some("assets.test"));
                seen.fetch_add(1, Ordering::Relaxed);
                if s1 != 200 {
                    failures.lock().unwrap().push(format!("v1.css answered {s1}"));
                }
                if s2 == 200 {
                    v2_served = true;
                } else if v2_served {
                    failures.lock().unwrap().push(format!("v2.css answered {s2} after being served"));
                }
            }
        })
    };
    // -v: Kamal (and Wharf) show a hook's output only when verbose.
    let out = app.ok(&["deploy", "-v"]);
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    assert!(seen.load(Ordering::Relaxed) > 10, "the load ran during the deploy");
    assert_eq!(*failures.lock().unwrap(), Vec::<String>::new());

    // The old version already served the new version's assets before any host booted it.
    for host in HOSTS_2 {
        let line = format!("before-boot {host} version={v1} v1.css=200 v2.css=200");
        assert!(out.contains(&line), "{line} in:\n{out}");
    }
    // The new version serves both sets from its volume; the old version's directories are gone.
    for host in HOSTS_2 {
        assert_eq!(curl(host, "/version", Some("assets.test")), (200, v2.clone()), "{host}");
        assert_eq!(curl(host, "/assets/v1.css", Some("assets.test")), (200, "body { color: red } /* v1 */".into()));
        assert_eq!(curl(host, "/assets/v2.css", Some("assets.test")), (200, "body { color: blue } /* v2 */".into()));
        assert_eq!(on_host(lab, host, "ls .kamal/apps/bxassets/assets/volumes"), format!("web-{v2}"));
        assert_eq!(on_host(lab, host, "ls .kamal/apps/bxassets/assets/extracted"), format!("web-{v2}"));
        assert_eq!(
            on_host(lab, host, &format!("ls .kamal/apps/bxassets/assets/volumes/web-{v2}")),
            "v1.css\nv2.css",
            "{host}"
        );
        assert_eq!(
            on_host(lab, host, &format!("ls .kamal/apps/bxassets/assets/extracted/web-{v2}")),
            "v2.css",
            "{host}"
        );
        let mounts =
            on_host(lab, host, &format!("docker inspect -f '{{{{range .Mounts}}}}{{{{.Source}}}}:{{{{.Destination}}}} {{{{end}}}}' bxassets-web-{v2}"));
        assert!(mounts.contains(&format!(".kamal/apps/bxassets/assets/volumes/web-{v2}:/www/assets")), "{mounts}");
        // The temporary container the assets were copied out of is gone.
        assert_eq!(on_host(lab, host, "docker ps -a -q --filter name=bxassets-web-assets"), "");
    }
}

#[test]
fn error_pages_are_uploaded_for_the_version_and_shown_in_maintenance() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    let _removed = Removed(&app);
    app.write("config/deploy.yml", &deploy_yml("bxerrors", "errors.test", "", "error_pages_path: public\n"));
    let page = |marker: &str| {
        format!("<!doctype html>\n<h1>{marker}</h1>\n<p>{{{{ if .Message }}}}{{{{ .Message }}}}{{{{ else }}}}Down{{{{ end }}}}</p>\n")
    };
    app.write("public/503.html", &page("BX-MAINTENANCE-ONE"));
    app.write("public/404.html", "<h1>BX-NOT-FOUND</h1>\n");
    app.write("public/index.html", "not an error page\n");
    app.write("public/200.html", "not an error page either\n");
    let v1 = app.commit("error pages");
    app.ok(&["deploy"]);
    let dir = format!(".kamal/proxy/apps-config/bxerrors/error_pages/{v1}");
    for host in HOSTS_2 {
        assert_eq!(on_host(lab, host, &format!("ls {dir}")), "404.html\n503.html", "{host}");
        assert_eq!(on_host(lab, host, &format!("stat -c %a {dir} {dir}/503.html {dir}/404.html")), "755\n644\n644");
        assert_eq!(on_host(lab, host, &format!("cat {dir}/503.html")), page("BX-MAINTENANCE-ONE").trim());
        assert_eq!(curl(host, "/version", Some("errors.test")), (200, v1.clone()), "{host}");
    }

    app.ok(&["app", "maintenance", "--message", "Back soon"]);
    for host in HOSTS_2 {
        let (status, body) = curl(host, "/", Some("errors.test"));
        assert_eq!(status, 503, "{host}: {body}");
        assert!(body.contains("<h1>BX-MAINTENANCE-ONE</h1>") && body.contains("<p>Back soon</p>"), "{host}: {body}");
    }
    app.ok(&["app", "live"]);
    for host in HOSTS_2 {
        assert_eq!(curl(host, "/version", Some("errors.test")), (200, v1.clone()), "{host}");
    }

    // The next version brings its own pages; the previous version's are removed.
    app.write("public/503.html", &page("BX-MAINTENANCE-TWO"));
    let v2 = app.commit("error pages two");
    app.ok(&["deploy"]);
    for host in HOSTS_2 {
        assert_eq!(on_host(lab, host, "ls .kamal/proxy/apps-config/bxerrors/error_pages"), v2, "{host}");
    }
    app.ok(&["app", "maintenance"]);
    for host in HOSTS_2 {
        let (status, body) = curl(host, "/", Some("errors.test"));
        assert_eq!(status, 503, "{host}: {body}");
        assert!(body.contains("<h1>BX-MAINTENANCE-TWO</h1>") && body.contains("<p>Down</p>"), "{host}: {body}");
    }
    app.ok(&["app", "live"]);
    assert_eq!(curl("10.200.0.1", "/version", Some("errors.test")), (200, v2));
}

#[test]
fn a_custom_certificate_from_secrets_is_served_for_https() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    let _removed = Removed(&app);
    let tls = tempfile::tempdir().unwrap();
    let (cert, cert_pem, key_pem) = self_signed_certificate(tls.path(), "secure.test");
    let secrets = std::fs::read_to_string(app.path().join(".kamal/secrets")).unwrap();
    app.write(
        ".kamal/secrets",
        &format!("{secrets}CERT=\"{}\"\nKEY=\"{}\"\n", cert_pem.trim_end(), key_pem.trim_end()),
    );
    let ssl = "  ssl:\n    certificate_pem: CERT\n    private_key_pem: KEY\n";
    app.write("config/deploy.yml", &deploy_yml("bxsecure", "secure.test", ssl, ""));
    let v1 = app.commit("custom certificate");
    let out = app.ok(&["deploy"]);
    for host in HOSTS_2 {
        assert!(out.contains(&format!("Writing SSL certificates for web on {host}")), "{out}");
        let tls_dir = ".kamal/proxy/apps-config/bxsecure/tls/web";
        assert_eq!(on_host(lab, host, &format!("cat {tls_dir}/cert.pem")), cert_pem.trim_end(), "{host}");
        assert_eq!(on_host(lab, host, &format!("cat {tls_dir}/key.pem")), key_pem.trim_end(), "{host}");
        // The certificate is public (0644, as Kamal writes it); the private key is readable by
        // the proxy's user alone (Kamal: 0644, readable by every user on the server). The proxy
        // image here runs as uid 1000.
        assert_eq!(
            on_host(lab, host, &format!("stat -c '%a %U:%G' {tls_dir}/cert.pem")),
            "644 root:root",
            "{host}: certificate"
        );
        assert_eq!(
            on_host(lab, host, &format!("stat -c '%a %u:%g' {tls_dir}/key.pem")),
            "600 1000:1000",
            "{host}: key"
        );

        let curl = Command::new("curl")
            .args(["-sS", "-m", "5", "-w", "\n%{http_code}", "--resolve", &format!("secure.test:443:{host}")])
            .arg("--cacert")
            .arg(&cert)
            .arg("https://secure.test/")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&curl.stdout).to_string();
        assert!(curl.status.success(), "{host}: {text}{}", String::from_utf8_lossy(&curl.stderr));
        assert_eq!(text, format!("Hello from bxsecure-web-{v1} on {host}\n\n200"), "{host}");
    }
}
