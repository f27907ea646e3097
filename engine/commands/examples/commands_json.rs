//! Prints the commands for a JSON list of cases (config, destination, version, secrets, calls),
//! one output per call, as JSON: a tool for comparing Wharf's commands with another
//! implementation's on many configurations at once.
//!
//! Each call is `[object, constructor args, method, args]`, named as in Kamal
//! (`["app", {"role": "web", "host": "1.1.1.1"}, "logs", {"since": "5m"}]`). The clock is
//! 2024-05-01T12:00:00Z, the performer `dhh@example.com`, the git user
//! `David Heinemeier Hansson`, the revision `0123abcd`, the git root `/home/dev/my app`.
//!
//! Usage: `cargo run -p wharf-commands --example commands_json -- cases.json`

use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::Arc;
use wharf_commands::*;
use wharf_config::{Configuration, LoadOptions, MapSecrets};

fn s(args: &Json, key: &str) -> Option<String> {
    match args.get(key) {
        None | Some(Json::Null) => None,
        Some(Json::String(v)) => Some(v.clone()),
        Some(v) => Some(v.to_string()),
    }
}

fn b(args: &Json, key: &str, default: bool) -> bool {
    args.get(key).and_then(Json::as_bool).unwrap_or(default)
}

fn pos(args: &Json) -> Vec<String> {
    args.get("_pos")
        .and_then(Json::as_array)
        .map(|a| a.iter().map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string())).collect())
        .unwrap_or_default()
}

fn env_pairs(args: &Json) -> Vec<(String, String)> {
    args.get("env")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter().map(|(k, v)| (k.clone(), v.as_str().map(String::from).unwrap_or_else(|| v.to_string()))).collect()
        })
        .unwrap_or_default()
}

fn details(args: &Json) -> Details {
    let mut d = Details::new();
    if let Some(m) = args.as_object() {
        for (k, v) in m {
            if k == "_pos" || k == "secrets" {
                continue;
            }
            d = d.with_opt(k.clone(), v.as_str().map(String::from));
        }
    }
    d
}

fn stamp() -> Stamp {
    Stamp::new("2024-05-01T12:00:00Z", "dhh@example.com")
}

fn c(cmd: Cmd) -> Option<String> {
    Some(cmd.to_string())
}

fn call(
    config: &Configuration,
    secrets: &[(String, String)],
    obj: &str,
    ctor: &Json,
    meth: &str,
    args: &Json,
) -> Option<String> {
    let p = pos(args);
    let ps: Vec<&str> = p.iter().map(String::as_str).collect();
    match obj {
        "app" => {
            let role = s(ctor, "role").and_then(|r| config.role(&r));
            let host = s(ctor, "host");
            let a = App::new(config, role, host.as_deref());
            let logs = LogsOptions {
                container_id: match s(args, "container_id") {
                    Some(id) => ContainerId::Id(id),
                    None => ContainerId::CurrentRunning,
                },
                timestamps: b(args, "timestamps", true),
                since: s(args, "since"),
                lines: s(args, "lines"),
                grep: s(args, "grep"),
                grep_options: s(args, "grep_options"),
            };
            match meth {
                "run" => c(a.run(s(args, "hostname").as_deref())),
                "start" => c(a.start()),
                "status" => c(a.status(&s(args, "version").unwrap())),
                "stop" => c(a.stop(s(args, "version").as_deref())),
                "info" => c(a.info()),
                "current_running_container_id" => c(a.current_running_container_id()),
                "container_id_for_version" => c(a.container_id_for_version(ps[0], b(args, "only_running", false))),
                "current_running_version" => c(a.current_running_version()),
                "list_versions" => {
                    let statuses: Vec<String> = args
                        .get("statuses")
                        .and_then(Json::as_array)
                        .map(|v| v.iter().map(|x| x.as_str().unwrap().to_string()).collect())
                        .unwrap_or_default();
                    let st: Vec<&str> = statuses.iter().map(String::as_str).collect();
                    c(a.list_versions(&ps, &st))
                }
                "ensure_env_directory" => c(a.ensure_env_directory()),
                "extract_assets" => c(a.extract_assets()),
                "sync_asset_volumes" => c(a.sync_asset_volumes(s(args, "old_version").as_deref())),
                "clean_up_assets" => c(a.clean_up_assets()),
                "list_containers" => c(a.list_containers()),
                "list_container_names" => c(a.list_container_names()),
                "remove_container" => c(a.remove_container(&s(args, "version").unwrap())),
                "rename_container" => {
                    c(a.rename_container(&s(args, "version").unwrap(), &s(args, "new_version").unwrap()))
                }
                "remove_containers" => c(a.remove_containers()),
                "container_health_log" => c(a.container_health_log(&s(args, "version").unwrap())),
                "create_error_pages_directory" => c(a.create_error_pages_directory()),
                "clean_up_error_pages" => c(a.clean_up_error_pages()),
                "execute_in_existing_container" => c(a.execute_in_existing_container(
                    &ps,
                    if b(args, "interactive", false) { Interactive::Tty } else { Interactive::No },
                    &env_pairs(args),
                )),
                "execute_in_new_container" => c(a.execute_in_new_container(
                    &ps,
                    &ExecOptions {
                        interactive: if b(args, "interactive", false) { Interactive::Tty } else { Interactive::No },
                        detach: b(args, "detach", false),
                        env: env_pairs(args),
                        exec_id: Some("abc123".into()),
                    },
                )),
                "execute_in_existing_container_over_ssh" => {
                    Some(a.execute_in_existing_container_over_ssh(&ps, &env_pairs(args), true))
                }
                "execute_in_new_container_over_ssh" => {
                    Some(a.execute_in_new_container_over_ssh(&ps, &env_pairs(args), true, Some("abc123")))
                }
                "list_images" => c(a.list_images()),
                "remove_images" => c(a.remove_images()),
                "tag_latest_image" => c(a.tag_latest_image()),
                "logs" => c(a.logs(&logs)),
                "follow_logs" => Some(a.follow_logs(&s(args, "host").unwrap(), &logs)),
                "deploy" => c(a.deploy(&s(args, "target").unwrap())),
                "remove" => c(a.remove()),
                "live" => c(a.live()),
                "maintenance" => {
                    c(a.maintenance(args.get("drain_timeout").and_then(Json::as_u64), s(args, "message").as_deref()))
                }
                "remove_proxy_app_directory" => c(a.remove_proxy_app_directory()),
                "create_ssl_directory" => c(a.create_ssl_directory()),
                _ => panic!("unknown app method {meth}"),
            }
        }
        "accessory" => {
            let a = Accessory::new(config, &s(ctor, "name").unwrap()).unwrap();
            let logs = AccessoryLogsOptions {
                timestamps: b(args, "timestamps", true),
                since: s(args, "since"),
                lines: s(args, "lines"),
                grep: s(args, "grep"),
                grep_options: s(args, "grep_options"),
            };
            let interactive = if b(args, "interactive", false) { Interactive::Tty } else { Interactive::No };
            match meth {
                "run" => c(a.run(s(args, "host").as_deref())),
                "start" => c(a.start()),
                "stop" => c(a.stop()),
                "info" => c(a.info(b(args, "all", false), b(args, "quiet", false))),
                "logs" => c(a.logs(&logs)),
                "follow_logs" => Some(a.follow_logs(
                    b(args, "timestamps", true),
                    s(args, "grep").as_deref(),
                    s(args, "grep_options").as_deref(),
                )),
                "execute_in_existing_container" => c(a.execute_in_existing_container(&ps, interactive)),
                "execute_in_new_container" => c(a.execute_in_new_container(&ps, interactive)),
                "execute_in_existing_container_over_ssh" => Some(a.execute_in_existing_container_over_ssh(&ps, true)),
                "execute_in_new_container_over_ssh" => Some(a.execute_in_new_container_over_ssh(&ps, true)),
                "pull_image" => c(a.pull_image()),
                "remove_service_directory" => c(a.remove_service_directory()),
                "remove_container" => c(a.remove_container()),
                "remove_image" => c(a.remove_image()),
                "ensure_env_directory" => c(a.ensure_env_directory()),
                "deploy" => c(a.deploy(&s(args, "target").unwrap())),
                "remove" => c(a.remove()),
                "make_directory_for" => c(a.make_directory_for(ps[0])),
                _ => panic!("unknown accessory method {meth}"),
            }
        }
        "auditor" => {
            let a = Auditor::new(config, details(ctor));
            match meth {
                "record" => c(a.record(ps[0], &stamp(), &details(args))),
                "reveal" => c(a.reveal()),
                _ => panic!("unknown auditor method {meth}"),
            }
        }
        "builder" => {
            let bu = Builder::new(config);
            let git = GitClone::new(config, "/home/dev/my app", "0123abcd", "/tmp", "/home/dev/my app/sub dir");
            match meth {
                "name" => Some(bu.name().to_string()),
                "create" => bu.create().map(|x| x.to_string()),
                "remove" => bu.remove().map(|x| x.to_string()),
                "push" => Some(
                    match bu.push(
                        ps.first().copied().unwrap_or("registry"),
                        b(args, "tag_as_dirty", false),
                        b(args, "no_cache", false),
                    ) {
                        Ok(x) => x.to_string(),
                        Err(e) => format!("ERROR {e}"),
                    },
                ),
                "clean" => c(bu.clean()),
                "pull" => c(bu.pull()),
                "info" => c(bu.info()),
                "inspect_builder" => bu.inspect_builder().map(|x| x.to_string()),
                "validate_image" => c(bu.validate_image()),
                "first_mirror" => c(bu.first_mirror()),
                "login_to_registry_locally?" => Some(bu.login_to_registry_locally().to_string()),
                "push_env" => {
                    Some(bu.push_env().iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n"))
                }
                "ensure_docker_installed" => c(bu.ensure_docker_installed()),
                "clone_status" => c(bu.clone_status(&git)),
                "clone_revision" => c(bu.clone_revision(&git)),
                "clone_reset_steps" => {
                    Some(bu.clone_reset_steps(&git).iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n"))
                }
                _ => panic!("unknown builder method {meth}"),
            }
        }
        "docker" => {
            let d = Docker::new();
            match meth {
                "install" => c(d.install()),
                "installed?" => c(d.installed()),
                "running?" => c(d.running()),
                "superuser?" => c(d.superuser()),
                "root?" => c(d.root()),
                "in_docker_group?" => c(d.in_docker_group()),
                "add_to_docker_group" => c(d.add_to_docker_group()),
                "refresh_session" => c(d.refresh_session()),
                "create_network" => c(d.create_network()),
                _ => panic!("unknown docker method {meth}"),
            }
        }
        "hook" => {
            let h = Hook::new(config);
            match meth {
                "run" => c(h.run(ps[0])),
                "env" => {
                    let with_secrets = b(args, "secrets", false);
                    let env = h.env(&stamp(), with_secrets.then_some(secrets), &details(args));
                    Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n"))
                }
                _ => panic!("unknown hook method {meth}"),
            }
        }
        "lock" => {
            let l = Lock::new(config);
            match meth {
                "acquire" => c(l.acquire(ps[0], ps[1], "David Heinemeier Hansson", "2024-05-01T12:00:00Z")),
                "release" => c(l.release()),
                "status" => c(l.status()),
                _ => panic!("unknown lock method {meth}"),
            }
        }
        "proxy" => {
            let p = Proxy::new(config, &s(ctor, "host").unwrap());
            let logs = ProxyLogsOptions {
                timestamps: b(args, "timestamps", true),
                since: s(args, "since"),
                lines: s(args, "lines"),
                grep: s(args, "grep"),
                grep_options: s(args, "grep_options"),
            };
            match meth {
                "run" => c(p.run()),
                "start" => c(p.start()),
                "stop" => c(p.stop(s(args, "name").as_deref())),
                "start_or_run" => c(p.start_or_run()),
                "info" => c(p.info()),
                "version" => c(p.version()),
                "logs" => c(p.logs(&logs)),
                "follow_logs" => Some(p.follow_logs(
                    &s(args, "host").unwrap(),
                    b(args, "timestamps", true),
                    s(args, "grep").as_deref(),
                    s(args, "grep_options").as_deref(),
                )),
                "remove_container" => c(p.remove_container()),
                "remove_image" => c(p.remove_image()),
                "cleanup_traefik" => c(p.cleanup_traefik()),
                "ensure_proxy_directory" => c(p.ensure_proxy_directory()),
                "remove_proxy_directory" => c(p.remove_proxy_directory()),
                "ensure_apps_config_directory" => c(p.ensure_apps_config_directory()),
                "boot_config" => c(p.boot_config()),
                "read_boot_options" => c(p.read_boot_options()),
                "read_image" => c(p.read_image()),
                "read_image_version" => c(p.read_image_version()),
                "read_run_command" => c(p.read_run_command()),
                "reset_boot_options" => c(p.reset_boot_options()),
                "reset_image" => c(p.reset_image()),
                "reset_image_version" => c(p.reset_image_version()),
                "reset_run_command" => c(p.reset_run_command()),
                _ => panic!("unknown proxy method {meth}"),
            }
        }
        "prune" => {
            let p = Prune::new(config);
            match meth {
                "dangling_images" => c(p.dangling_images()),
                "tagged_images" => c(p.tagged_images()),
                "app_containers" => c(p.app_containers(args.get("retain").and_then(Json::as_u64).unwrap())),
                _ => panic!("unknown prune method {meth}"),
            }
        }
        "registry" => {
            let r = Registry::new(config);
            let rc = s(args, "registry_config").map(|n| config.accessory(&n).unwrap().registry().unwrap());
            match meth {
                "login" => match r.login(rc) {
                    Ok(x) => x.map(|x| x.to_string()),
                    Err(e) => Some(format!("ERROR {e}")),
                },
                "logout" => c(r.logout(rc)),
                "setup" => c(r.setup(rc)),
                "remove" => c(r.remove()),
                "local?" => Some(r.local().to_string()),
                _ => panic!("unknown registry method {meth}"),
            }
        }
        "server" => {
            let sv = Server::new(config);
            match meth {
                "ensure_run_directory" => c(sv.ensure_run_directory()),
                "remove_app_directory" => c(sv.remove_app_directory()),
                "app_directory_count" => c(sv.app_directory_count()),
                _ => panic!("unknown server method {meth}"),
            }
        }
        _ => panic!("unknown object {obj}"),
    }
}

fn main() {
    let path = std::env::args().nth(1).expect("cases.json");
    let cases: Vec<Json> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut results = vec![];
    for case in &cases {
        let secrets: Vec<(String, String)> = case
            .get("secrets")
            .and_then(Json::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect())
            .unwrap_or_default();
        // `config_text` (JSON text, read as YAML flow style) keeps the keys in order.
        let raw: serde_yaml::Value = match case.get("config_text").and_then(Json::as_str) {
            Some(text) => wharf_config::yaml::load_str(text, None).unwrap(),
            None => serde_yaml::to_value(&case["config"]).unwrap(),
        };
        let options = LoadOptions {
            destination: case.get("destination").and_then(Json::as_str).map(String::from),
            version: case.get("version").and_then(Json::as_str).map(String::from),
            env: HashMap::new(),
            secrets: Arc::new(MapSecrets::new(secrets.clone())),
            docker_arch: Some("amd64".into()),
            ..Default::default()
        };
        let config = match Configuration::new(raw, &options) {
            Ok(c) => c,
            Err(e) => {
                results.push(json!({"name": case["name"], "error": e.to_string()}));
                continue;
            }
        };
        let mut outputs = vec![];
        for call_spec in case["calls"].as_array().unwrap() {
            let spec = call_spec.as_array().unwrap();
            let obj = spec[0].as_str().unwrap();
            let ctor = spec.get(1).cloned().unwrap_or(Json::Null);
            let meth = spec[2].as_str().unwrap();
            let args = spec.get(3).cloned().unwrap_or(json!({}));
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                call(&config, &secrets, obj, &ctor, meth, &args)
            }))
            .unwrap_or_else(|_| Some("PANIC".into()));
            outputs.push(out.map(Json::String).unwrap_or(Json::Null));
        }
        results.push(json!({"name": case["name"], "outputs": outputs}));
    }
    println!("{}", serde_json::to_string_pretty(&results).unwrap());
}
