//! Commands checked against Kamal 2.12 itself: these expected strings were printed by Kamal's
//! own command classes (Ruby) for the same configurations, clock (2024-05-01T12:00:00Z),
//! performer (dhh@example.com), git user, revision, root and working directory.

use crate::common::*;
use wharf_commands::*;

const BASE: &str = r#"{"service": "app", "image": "dhh/app", "registry": {"username": "dhh", "password": "secret"}, "servers": {"web": ["1.1.1.1", "1.1.1.3"], "workers": {"hosts": ["1.1.1.2"], "cmd": "bin/jobs"}}, "builder": {"arch": "amd64"}}"#;
const RICH: &str = r##"{"service": "app", "image": "dhh/app", "registry": {"server": "ghcr.io", "username": ["REG_USER"], "password": ["REG_PASS"]}, "servers": {"web": {"hosts": [{"1.1.1.1": ["tag1", "tag2"]}], "labels": {"rl": "1"}, "options": {"memory": "2g", "cap-add": true, "add-host": ["a:1", "b:2"], "restart": "always"}, "env": {"R": "role"}, "logging": {"options": {"max-file": "5"}}, "asset_path": "/x/y:ro"}, "workers": {"hosts": ["1.1.1.2"], "cmd": "bin/jobs --queue 'a b'", "proxy": {"app_port": 3000, "host": "w.example.com"}, "stop_timeout": 4}}, "builder": {"arch": ["amd64", "arm64"], "remote": "ssh://root@builder.example.com:2222", "cache": {"type": "registry", "options": "mode=max", "image": "cache-img"}, "args": {"RUBY": "3.3", "Q": "a \"b\""}, "secrets": ["GITHUB_TOKEN"], "target": "prod", "ssh": "default", "provenance": "mode=min", "sbom": true, "dockerfile": "Dockerfile.prod"}, "env": {"clear": {"A": "plain", "B": "with \"quotes\" and $DOLLAR and ${BRACED} and `tick`", "C": 5, "D": true, "U": "h\u00e9llo w\u00f6rld", "H": "#{x}", "E": ""}, "secret": ["RAILS_MASTER_KEY", "DB:DATABASE_PASSWORD"], "tags": {"tag1": {"T": "1"}, "tag2": {"clear": {"T2": "2"}, "secret": ["S2"]}}}, "labels": {"root": "yes", "my.label": "x y"}, "logging": {"driver": "json-file", "options": {"max-size": "1g", "tag": "{{.Name}}"}}, "volumes": ["/a:/b", "data:/data:ro"], "asset_path": "/rails/public/assets", "error_pages_path": "public", "drain_timeout": 11, "deploy_timeout": 22, "readiness_delay": 3, "stop_timeout": 9, "proxy": {"host": "a.example.com,b.example.com", "app_port": 8080, "ssl": true, "response_timeout": 10, "healthcheck": {"path": "/up", "interval": 2, "timeout": 3}, "buffering": {"requests": true, "responses": false, "memory": 1000, "max_request_body": 10, "max_response_body": 0}, "path_prefix": "/app,/api", "strip_path_prefix": false, "forward_headers": true, "ssl_redirect": false, "logging": {"request_headers": ["X-A"], "response_headers": ["X-B", "X-C"]}}, "ssh": {"user": "deploy", "port": 2222, "proxy": "bastion", "keys": ["~/.ssh/a", "~/.ssh/b"], "keys_only": true, "config": ["c1", "c2"]}, "accessories": {"db": {"image": "mysql:8", "host": "1.1.1.5", "port": "127.0.0.1:3306:3306", "env": {"clear": {"MYSQL_ROOT_HOST": "%"}, "secret": ["MYSQL_PASS"]}, "files": ["config/my.cnf:/etc/mysql/my.cnf", {"local": "init.sql", "remote": "/docker-entrypoint-initdb.d/init.sql", "mode": "0644", "owner": "mysql"}], "directories": ["data:/var/lib/mysql", "/abs:/abs:z"], "volumes": ["/v:/v"], "options": {"cpus": 2, "restart": "no"}, "labels": {"l": "v"}, "cmd": "--flag 'x'", "network": "custom"}, "cache": {"image": "redis:7", "roles": ["web"], "proxy": {"host": "cache.example.com", "app_port": 6379, "ssl": false}, "registry": {"server": "reg.example.com", "username": "u", "password": ["ACC_PASS"]}}, "tagged": {"image": "busybox", "hosts": ["1.1.1.1", "1.1.1.2"], "service": "custom-busy"}}}"##;
const PROXY_RUN: &str = r#"{"service": "app", "image": "dhh/app", "registry": {"username": "dhh", "password": "secret"}, "servers": {"web": ["1.1.1.1", "1.1.1.3"], "workers": {"hosts": ["1.1.1.2"], "cmd": "bin/jobs"}}, "builder": {"arch": "amd64"}, "proxy": {"run": {"registry": "r:1", "version": "v0.9.3", "bind_ips": ["::1", "10.0.0.1"], "http_port": 8080, "https_port": 8443, "log_max_size": "20m", "options": {"memory": "1g", "sysctl": ["a=1", "b=2"]}, "metrics_port": 9000, "debug": true}}}"#;
const RICH_SECRETS: &[(&str, &str)] = &[
    (r#"RAILS_MASTER_KEY"#, r#"mk"#),
    (r#"DATABASE_PASSWORD"#, r#"dbp"#),
    (r#"S2"#, r#"s2"#),
    (r#"REG_USER"#, r#"ru'"$"#),
    (r#"REG_PASS"#, r#"p@ss wörd "q" $X `y`"#),
    (r#"GITHUB_TOKEN"#, r#"ght"#),
    (r#"MYSQL_PASS"#, r#"mp"#),
    (r#"ACC_PASS"#, r#"ap"#),
];

fn stamp() -> Stamp {
    Stamp::new("2024-05-01T12:00:00Z", "dhh@example.com")
}

#[test]
fn lock_details_are_base64_with_ruby_line_breaks() {
    let c = config(&yaml(BASE), None, Some("999"), &[]);
    assert_eq!(
        Lock::new(&c)
            .acquire(r#"Deploying "fast" ünïcode 'q' $x"#, "v123", "David Heinemeier Hansson", "2024-05-01T12:00:00Z")
            .to_string(),
        r#"mkdir .kamal/lock-app && echo "TG9ja2VkIGJ5OiBEYXZpZCBIZWluZW1laWVyIEhhbnNzb24gYXQgMjAyNC0w
NS0wMVQxMjowMDowMFoKVmVyc2lvbjogdjEyMwpNZXNzYWdlOiBEZXBsb3lp
bmcgImZhc3QiIMO8bsOvY29kZSAncScgJHg=
" > .kamal/lock-app/details"#
    );
}

#[test]
fn audit_line_is_escaped_for_the_shell() {
    let c = config(&yaml(BASE), None, Some("999"), &[]);
    assert_eq!(
        Auditor::new(&c, Details::new()).record(r#"Pushed "x" $HOME `id` it's"#, &stamp(), &Details::new()).to_string(),
        r#"mkdir -p .kamal && echo "[2024-05-01T12:00:00Z] [dhh@example.com] Pushed \"x\" \$HOME \`id\` it's" >> .kamal/app-audit.log"#
    );
    assert_eq!(
        Auditor::new(&c, Details::new().with("role", "web"))
            .record("Booted", &stamp(), &Details::new().with("detail", "value"))
            .to_string(),
        r#"mkdir -p .kamal && echo "[2024-05-01T12:00:00Z] [dhh@example.com] [web] [value] Booted" >> .kamal/app-audit.log"#
    );
}

#[test]
fn clone_directories_and_reset_steps() {
    let c = config(&yaml(BASE), None, Some("999"), &[]);
    let git = GitClone::new(&c, "/home/dev/my app", "0123abcd", "/tmp", "/home/dev/my app/sub dir");
    let steps: Vec<String> = Builder::new(&c).clone_reset_steps(&git).iter().map(|s| s.to_string()).collect();
    assert_eq!(
        steps.join("\n"),
        r#"git -C /tmp/kamal-clones/app-a03087a0308ec/my\ app/sub\ dir remote set-url origin /home/dev/my\ app
git -C /tmp/kamal-clones/app-a03087a0308ec/my\ app/sub\ dir fetch origin
git -C /tmp/kamal-clones/app-a03087a0308ec/my\ app/sub\ dir reset --hard 0123abcd
git -C /tmp/kamal-clones/app-a03087a0308ec/my\ app/sub\ dir clean -fdx
git -C /tmp/kamal-clones/app-a03087a0308ec/my\ app/sub\ dir submodule update --init
git -C /tmp/kamal-clones/app-a03087a0308ec/my\ app/sub\ dir gc --auto --quiet"#
    );
}

#[test]
fn registry_login_escapes_and_redacts() {
    let c = config(&yaml(RICH), None, Some("999"), RICH_SECRETS);
    let login = Registry::new(&c).login(None).unwrap().unwrap();
    assert_eq!(login.to_string(), r#"docker login ghcr.io -u "ru'\"\$" -p "p@ss w"ö"rd \"q\" \$X \`y\`""#);
    assert_eq!(login.to_redacted_string(), "docker login ghcr.io -u [REDACTED] -p [REDACTED]");
}

#[test]
fn app_run_with_env_tags_labels_options_logging_and_assets() {
    let c = config(&yaml(RICH), None, Some("999"), RICH_SECRETS);
    assert_eq!(
        App::for_role(&c, "web", "1.1.1.1").unwrap().run(None).to_string(),
        r#"docker run --detach --restart always --name app-web-999 --network kamal --env KAMAL_CONTAINER_NAME="app-web-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.1" --env A="plain" --env B="with \"quotes\" and \$DOLLAR and ${BRACED} and \`tick\`" --env C="5" --env D="true" --env U="h"é"llo w"ö"rld" --env H="\#{x}" --env E --env R="role" --env T="1" --env T2="2" --env-file .kamal/apps/app/env/roles/web.env --log-driver "json-file" --log-opt max-size="1g" --log-opt tag="{{.Name}}" --log-opt max-file="5" --volume /a:/b --volume data:/data:ro --volume $PWD/.kamal/apps/app/assets/volumes/web-999:/x/y:ro --label service="app" --label role="web" --label destination --label root="yes" --label my.label="x y" --label rl="1" --memory "2g" --cap-add --add-host "a:1" --add-host "b:2" ghcr.io/dhh/app:999"#
    );
    assert_eq!(
        App::for_role(&c, "workers", "1.1.1.2").unwrap().run(None).to_string(),
        r#"docker run --detach --restart unless-stopped --name app-workers-999 --network kamal --env KAMAL_CONTAINER_NAME="app-workers-999" --env KAMAL_VERSION="999" --env KAMAL_HOST="1.1.1.2" --env A="plain" --env B="with \"quotes\" and \$DOLLAR and ${BRACED} and \`tick\`" --env C="5" --env D="true" --env U="h"é"llo w"ö"rld" --env H="\#{x}" --env E --env-file .kamal/apps/app/env/roles/workers.env --log-driver "json-file" --log-opt max-size="1g" --log-opt tag="{{.Name}}" --volume /a:/b --volume data:/data:ro --volume $PWD/.kamal/apps/app/assets/volumes/workers-999:/rails/public/assets --label service="app" --label role="workers" --label destination --label root="yes" --label my.label="x y" ghcr.io/dhh/app:999 bin/jobs --queue 'a b'"#
    );
}

#[test]
fn proxy_deploy_with_every_option() {
    let c = config(&yaml(RICH), None, Some("999"), RICH_SECRETS);
    assert_eq!(
        App::for_role(&c, "web", "1.1.1.1").unwrap().deploy("172.0.0.9").to_string(),
        r#"docker exec kamal-proxy kamal-proxy deploy app-web --target="172.0.0.9:8080" --host="a.example.com" --host="b.example.com" --tls --deploy-timeout="22s" --drain-timeout="11s" --health-check-interval="2s" --health-check-timeout="3s" --health-check-path="/up" --target-timeout="10s" --buffer-requests --buffer-responses="false" --buffer-memory="1000" --max-request-body="10" --max-response-body="0" --path-prefix="/app" --path-prefix="/api" --strip-path-prefix="false" --forward-headers --tls-redirect="false" --log-request-header="X-A" --log-response-header="X-B" --log-response-header="X-C" --error-pages="/home/kamal-proxy/.apps-config/app/error_pages/999""#
    );
    assert_eq!(
        App::for_role(&c, "workers", "1.1.1.2").unwrap().deploy("172.0.0.9").to_string(),
        r#"docker exec kamal-proxy kamal-proxy deploy app-workers --target="172.0.0.9:3000" --host="w.example.com" --tls --deploy-timeout="22s" --drain-timeout="11s" --health-check-interval="2s" --health-check-timeout="3s" --health-check-path="/up" --target-timeout="10s" --buffer-requests --buffer-responses="false" --buffer-memory="1000" --max-request-body="10" --max-response-body="0" --path-prefix="/app" --path-prefix="/api" --strip-path-prefix="false" --forward-headers --tls-redirect="false" --log-request-header="X-A" --log-response-header="X-B" --log-response-header="X-C" --error-pages="/home/kamal-proxy/.apps-config/app/error_pages/999""#
    );
}

#[test]
fn accessory_run_with_files_directories_and_registry() {
    let c = config(&yaml(RICH), None, Some("999"), RICH_SECRETS);
    assert_eq!(
        Accessory::new(&c, "db").unwrap().run(None).to_string(),
        r#"docker run --name app-db --detach --restart no --network custom --log-driver "json-file" --log-opt max-size="1g" --log-opt tag="{{.Name}}" --publish 127.0.0.1:3306:3306 --env MYSQL_ROOT_HOST="%" --env-file .kamal/apps/app/env/accessories/db.env --volume /v:/v --volume $PWD/app-db/etc/mysql/my.cnf:/etc/mysql/my.cnf --volume $PWD/app-db/docker-entrypoint-initdb.d/init.sql:/docker-entrypoint-initdb.d/init.sql --volume $PWD/app-db/data:/var/lib/mysql --volume /abs:/abs:z --label service="app-db" --label l="v" --cpus "2" mysql:8 --flag 'x'"#
    );
    assert_eq!(
        Accessory::new(&c, "cache").unwrap().run(None).to_string(),
        r#"docker run --name app-cache --detach --restart unless-stopped --network kamal --log-driver "json-file" --log-opt max-size="1g" --log-opt tag="{{.Name}}" --env-file .kamal/apps/app/env/accessories/cache.env --label service="app-cache" reg.example.com/redis:7"#
    );
}

#[test]
fn hybrid_build_with_registry_cache_args_and_secrets() {
    let c = config(&yaml(RICH), None, Some("999"), RICH_SECRETS);
    let push = Builder::new(&c).push("registry", false, false).unwrap();
    assert_eq!(
        push.to_string(),
        r#"docker buildx build --output=type=registry --platform linux/amd64,linux/arm64 --builder kamal-hybrid-docker-container-ssh---root-builder-example-com-2222 -t ghcr.io/dhh/app:999 -t ghcr.io/dhh/app:latest --cache-to type=registry,ref=ghcr.io/cache-img,mode=max --cache-from type=registry,ref=ghcr.io/cache-img --label service="app" --build-arg RUBY="3.3" --build-arg Q="a \"b\"" --secret id="GITHUB_TOKEN" --file Dockerfile.prod --target prod --ssh default --provenance mode=min --sbom true . 2>&1"#
    );
    assert!(push.to_redacted_string().contains("--build-arg RUBY=[REDACTED] --build-arg Q=[REDACTED]"));
}

#[test]
fn proxy_run_from_run_config_and_from_boot_files() {
    let c = config(&yaml(PROXY_RUN), None, Some("999"), &[]);
    assert_eq!(
        Proxy::new(&c, "1.1.1.1").run().to_string(),
        r#"docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config --publish [::1]:8080:80 --publish [::1]:8443:443 --publish 10.0.0.1:8080:80 --publish 10.0.0.1:8443:443 --log-opt max-size=20m --expose=9000 --memory "1g" --sysctl "a=1" --sysctl "b=2" r:1/basecamp/kamal-proxy:v0.9.3 kamal-proxy run --debug --metrics-port "9000""#
    );
    assert_eq!(
        Proxy::new(&c, "1.1.1.2").run().to_string(),
        r#"echo $(cat .kamal/proxy/options 2> /dev/null || echo "--publish 80:80 --publish 443:443 --log-opt max-size=10m") $(cat .kamal/proxy/image 2> /dev/null || echo "basecamp/kamal-proxy"):$(cat .kamal/proxy/image_version 2> /dev/null || echo "v0.9.2") $(cat .kamal/proxy/run_command 2> /dev/null || echo "") | xargs docker run --name kamal-proxy --network kamal --detach --restart unless-stopped --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy --volume $PWD/.kamal/proxy/apps-config:/home/kamal-proxy/.apps-config"#
    );
}
