//! `wharf upgrade` on a server as Kamal 1 left it: Traefik on port 80, the app and an accessory
//! on Docker's default network, the app's image tagged `latest`. Afterwards the server is as
//! Kamal 2 leaves it: kamal-proxy serving the app, the `kamal` network, no Traefik.

use crate::WHARF;
use std::time::Duration;
use wharf_testkit::lab::*;

const HOST: &str = "10.200.0.3";

#[test]
fn upgrade_replaces_traefik_with_kamal_proxy_and_moves_the_accessory() {
    let Some((_guard, lab)) = lab() else { return };
    let app = AppDir::new(lab, WHARF);
    let accessory = r#"accessories:
  cache:
    image: localhost:5000/busybox:latest
    host: 10.200.0.3
    cmd: /bin/busybox sh -c 'trap "exit 0" TERM; while true; do sleep 1; done'
"#;
    let yml = deploy_yml("kupg", "kupg.test", "", accessory)
        .replace("    - 10.200.0.1\n    - 10.200.0.2\n", "    - 10.200.0.3\n");
    app.write("config/deploy.yml", &yml);
    let version = app.commit("kupg");
    app.ok(&["build", "push"]);

    // Kamal 1's server: nothing of Kamal 2 (no proxy or its state volume, no `kamal` network).
    on_host(
        lab,
        HOST,
        "docker ps -aq | xargs -r docker rm -f >/dev/null; docker network rm kamal >/dev/null 2>&1; \
         docker volume rm kamal-proxy-config >/dev/null 2>&1; true",
    );
    let image = format!("10.200.0.254:5000/wharf/kupg:{version}");
    let setup = format!(
        "printf 'FROM localhost:5000/busybox:latest\\nLABEL org.opencontainers.image.title=Traefik\\n' | DOCKER_BUILDKIT=0 docker build -q -t traefik:v2.11 - >/dev/null \
         && docker run -d --name traefik --restart unless-stopped --publish 80:80 traefik:v2.11 /bin/busybox sh -c 'mkdir -p /w && echo traefik > /w/index.html && exec /bin/busybox httpd -f -p 80 -h /w' >/dev/null \
         && docker pull -q {image} >/dev/null && docker tag {image} 10.200.0.254:5000/wharf/kupg:latest \
         && docker run -d --name kupg-web-{version} --label service=kupg --label role=web --label destination= \
            --env KAMAL_CONTAINER_NAME=kupg-web-{version} --env KAMAL_VERSION={version} {image} >/dev/null \
         && docker run -d --name kupg-cache --label service=kupg-cache localhost:5000/busybox:latest \
            /bin/busybox sh -c 'trap \"exit 0\" TERM; while true; do sleep 1; done' >/dev/null && echo ready"
    );
    assert_eq!(on_host(lab, HOST, &setup), "ready");
    assert!(eventually(Duration::from_secs(10), || curl(HOST, "/", None) == (200, "traefik".into())));

    let out = app.ok(&["upgrade", "-y"]);
    assert!(out.contains("Upgrading all hosts...") && out.contains("Upgraded all hosts"), "{out}");
    assert!(out.contains(&format!("Upgrading proxy on {HOST}...")), "{out}");
    assert!(out.contains(&format!("Upgrading all accessories on {HOST}...")), "{out}");

    // Traefik is gone, container and image; kamal-proxy serves the app booted from `latest`.
    assert_eq!(on_host(lab, HOST, "docker ps -aq --filter name=^traefik$"), "");
    assert_eq!(on_host(lab, HOST, "docker image ls -q traefik"), "");
    assert_eq!(on_host(lab, HOST, "docker inspect -f '{{.State.Running}}' kamal-proxy"), "true");
    assert_eq!(curl(HOST, "/", Some("kupg.test")), (200, format!("Hello from kupg-web-latest on {HOST}")));
    // Kamal 1's app container is stopped; the accessory runs again, on the `kamal` network.
    assert_eq!(on_host(lab, HOST, &format!("docker inspect -f '{{{{.State.Running}}}}' kupg-web-{version}")), "false");
    let networks = on_host(
        lab,
        HOST,
        "docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' kupg-cache",
    );
    assert_eq!(networks.trim(), "kamal");
    assert_eq!(on_host(lab, HOST, "docker inspect -f '{{.State.Running}}' kupg-cache"), "true");
    let audit = on_host(lab, HOST, "cat .kamal/kupg-audit.log");
    assert!(audit.contains("Rebooted proxy") && audit.contains("[web] Booted app version latest"), "{audit}");
    // The lock is released.
    assert_eq!(on_host(lab, HOST, "ls -d .kamal/lock-kupg 2>/dev/null"), "");

    // A deploy of the version afterwards works as on any Kamal 2 server.
    app.ok(&["deploy"]);
    assert_eq!(curl(HOST, "/version", Some("kupg.test")), (200, version.clone()));
    app.ok(&["remove", "-y"]);
}
