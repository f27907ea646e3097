//! A new user's first steps, as with Kamal: in a fresh git repository `wharf init` writes
//! Kamal's files, `wharf config` prints what `kamal config` prints for them (the Rails comment
//! line's ERB included, version `HEAD` before the first commit), and `wharf deploy --plan`
//! plans the first deploy even though the example server (192.168.0.1) does not exist: the plan
//! says it cannot be reached and plans it as a new server. The example server's name is pointed at
//! a closed port on loopback by an ssh config in a throwaway HOME, so nothing leaves the machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wharf_testkit::runner::Runner;

fn wharf(dir: &Path, home: &Path, args: &[&str]) -> Output {
    Runner::new(crate::WHARF, dir).env("HOME", home).env_remove("VERSION").env_remove("SSH_AUTH_SOCK").run(args)
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=New User", "-c", "user.email=new@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn kamal() -> Option<PathBuf> {
    let bin = std::env::var_os("KAMAL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/wharf-kamal-venv/bin/kamal"));
    let ok = Command::new(&bin).arg("version").output().map(|o| o.status.success()).unwrap_or(false);
    ok.then_some(bin)
}

/// A port on loopback that nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn init_then_config_then_deploy_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(
        home.join(".ssh/config"),
        format!("Host 192.168.0.1\n  HostName 127.0.0.1\n  Port {}\n", closed_port()),
    )
    .unwrap();
    let app = tmp.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    git(&app, &["init", "-q"]);

    let out = wharf(&app, &home, &["init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let deploy_yml = std::fs::read_to_string(app.join("config/deploy.yml")).unwrap();
    assert!(deploy_yml.contains("<%= ENV[\"RBENV_VERSION\"]"), "the template has Kamal's ERB: {deploy_yml}");

    // config: before any commit the version is HEAD (what `git rev-parse HEAD` prints)
    let out = wharf(&app, &home, &["config"]);
    assert!(out.status.success(), "wharf config: {}", text(&out.stderr));
    let config = text(&out.stdout);
    assert!(config.contains(":version: HEAD\n") && config.contains(":hosts:\n- 192.168.0.1\n"), "{config}");
    match kamal() {
        Some(kamal) => {
            // Kamal's own files and answer, side by side
            let other = tmp.path().join("kamal-app");
            std::fs::create_dir_all(&other).unwrap();
            git(&other, &["init", "-q"]);
            let init = Command::new(&kamal).arg("init").current_dir(&other).output().unwrap();
            assert!(init.status.success(), "{}", text(&init.stdout));
            // (.kamal/secrets is Kamal 2.12's, which adds a paragraph on destinations to 2.11's)
            assert_eq!(
                std::fs::read_to_string(app.join("config/deploy.yml")).unwrap(),
                std::fs::read_to_string(other.join("config/deploy.yml")).unwrap(),
                "config/deploy.yml differs from Kamal's"
            );
            let kamal_config =
                Command::new(&kamal).arg("config").current_dir(&other).env("HOME", &home).output().unwrap();
            assert!(kamal_config.status.success());
            assert_eq!(config, text(&kamal_config.stdout));
        }
        None => wharf_testkit::skip_without_tool(
            "init_then_config_then_deploy_plan (its side-by-side part with Kamal)",
            "no Kamal (bash scripts/install-kamal)",
        ),
    }

    // deploy --plan after the first commit: the server is unreachable, planned as a new one
    git(&app, &["add", "-A"]);
    git(&app, &["commit", "-q", "-m", "First"]);
    let out = wharf(&app, &home, &["deploy", "--plan"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "deploy --plan: {stdout}{}", text(&out.stderr));
    assert!(stdout.contains("192.168.0.1 cannot be reached ("), "{stdout}");
    assert!(stdout.contains("Not reached, planned as new servers: 192.168.0.1\n"), "{stdout}");
    assert!(stdout.contains("nothing was changed"), "{stdout}");
    // Each planned change after the number of the exchange it would go out in (`[5] docker run ...`).
    let run_line = stdout.lines().find(|l| {
        let change = l.trim_start().split_once("] ").map(|(_, c)| c).unwrap_or_default();
        change.starts_with("docker run --detach --restart unless-stopped --name my-app-web-")
    });
    assert!(run_line.is_some(), "the plan boots the web container: {stdout}");
    assert!(stdout.contains("docker exec kamal-proxy kamal-proxy deploy my-app-web"), "{stdout}");
}

/// The `KAMAL_*` environment a hook gets, as Kamal gives it: `pre-connect` runs before any
/// connection, so a server that cannot be reached still shows what each command passes.
/// `KAMAL_COMMAND` is the command group (`app`, `proxy`, `lock`...) or the main command
/// (`details`), and `KAMAL_SUBCOMMAND` is never set from the `kamal` binary (Kamal reads it from
/// Thor's first invocation, which is always the main command's). Compared with real Kamal 2.11
/// when it is installed.
#[test]
fn hook_environment_names_the_command_as_kamal_does() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let app = tmp.path().join("app");
    std::fs::create_dir_all(app.join("config")).unwrap();
    std::fs::create_dir_all(app.join(".kamal/hooks")).unwrap();
    std::fs::write(
        app.join("config/deploy.yml"),
        format!(
            "service: app\nimage: app\nservers:\n  - 127.0.0.1\nregistry:\n  server: localhost:5555\n  username: u\n  password: p\nbuilder:\n  arch: amd64\nssh:\n  port: {}\n",
            closed_port()
        ),
    )
    .unwrap();
    std::fs::write(app.join(".kamal/secrets"), "").unwrap();
    let hook = app.join(".kamal/hooks/pre-connect");
    std::fs::write(&hook, "#!/bin/sh\nenv | grep -E '^KAMAL_(COMMAND|SUBCOMMAND)=' | sort > \"$ENV_OUT\"\nexit 1\n")
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    git(&app, &["init", "-q"]);
    git(&app, &["add", "-A"]);
    git(&app, &["commit", "-qm", "first"]);

    let cases: [(&[&str], &str); 5] = [
        (&["app", "details"], "KAMAL_COMMAND=app\n"),
        (&["proxy", "details"], "KAMAL_COMMAND=proxy\n"),
        (&["details"], "KAMAL_COMMAND=details\n"),
        (&["lock", "status"], "KAMAL_COMMAND=lock\n"),
        (&["server", "exec", "true"], "KAMAL_COMMAND=server\n"),
    ];
    let kamal = kamal();
    for (args, want) in cases {
        let out_file = tmp.path().join("env.wharf");
        let _ = std::fs::remove_file(&out_file);
        let out = Runner::new(crate::WHARF, &app)
            .env("HOME", &home)
            .env("ENV_OUT", &out_file)
            .env_remove("VERSION")
            .run(args);
        assert!(!out.status.success(), "the failing pre-connect hook stops {args:?}");
        assert_eq!(std::fs::read_to_string(&out_file).unwrap_or_default(), want, "wharf {args:?}");
        if let Some(kamal) = &kamal {
            let kamal_file = tmp.path().join("env.kamal");
            let _ = std::fs::remove_file(&kamal_file);
            Command::new(kamal)
                .args(args)
                .current_dir(&app)
                .env("HOME", &home)
                .env("ENV_OUT", &kamal_file)
                .env_remove("VERSION")
                .output()
                .unwrap();
            assert_eq!(std::fs::read_to_string(&kamal_file).unwrap_or_default(), want, "kamal {args:?}");
        }
    }
}
