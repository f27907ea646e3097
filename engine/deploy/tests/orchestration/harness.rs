//! What every orchestration test uses: a project in a temporary directory (deploy.yml, secrets,
//! hooks), a commander whose executor is a scripted [`FakeExecutor`], and a run that returns
//! the command's result, the lines it printed and the commands it sent, per host.

#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use wharf_deploy::execution::FakeExecutor;
use wharf_deploy::{output, CliError, Commander, GlobalOptions};

/// A fixed moment for audit lines and hooks: 2024-01-01T00:00:00Z.
pub const CLOCK: i64 = 1_704_067_200;
pub const PERFORMER: &str = "deployer@example.com";

/// A project directory with a deploy.yml.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new(deploy_yml: &str) -> Project {
        let dir = tempfile::tempdir().expect("temporary project directory");
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::create_dir_all(dir.path().join(".kamal")).unwrap();
        std::fs::write(dir.path().join("config/deploy.yml"), deploy_yml).unwrap();
        std::fs::write(dir.path().join(".kamal/secrets"), "").unwrap();
        Project { dir }
    }

    /// A project whose deploy.yml is Kamal's test fixture `name`, with the files Kamal's
    /// fixtures name (`test/fixtures/files/...`) and the secrets Kamal's CLI tests set.
    pub fn kamal(name: &str) -> Project {
        let project = Project::new(&wharf_testkit::kamal_fixture(name));
        copy_dir(&wharf_testkit::kamal_fixtures().join("files"), &project.dir.path().join("test/fixtures/files"));
        project.file(".kamal/secrets", "RAILS_MASTER_KEY=123\nMYSQL_ROOT_PASSWORD=secret123\n");
        project
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Writes a file of the project (parents made).
    pub fn file(&self, path: &str, content: &str) -> &Self {
        let p = self.dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    /// Makes the project a git repository with one commit of everything in it (as Kamal's CLI
    /// tests run inside Kamal's own repository); the commit's revision.
    pub fn git_commit(&self) -> String {
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
                .args(args)
                .current_dir(self.dir.path())
                .output()
                .expect("git");
            assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "test"]);
        git(&["rev-parse", "HEAD"])
    }

    /// The revision of the project's git HEAD.
    pub fn revision(&self) -> String {
        let out = std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(self.dir.path())
            .output()
            .expect("git");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Kamal's clone directory for this project (`<tmp>/kamal-clones/app-<sha>`).
    pub fn clone_directory(&self) -> String {
        wharf_commands::builder::clone_directory(
            Some("app"),
            &std::env::temp_dir().display().to_string(),
            &self.path().display().to_string(),
        )
    }

    /// Kamal's `with_build_directory`: the clone's build directory with a Dockerfile in it (the
    /// fake runs no `git clone`); its path.
    pub fn build_directory(&self) -> String {
        let name = self.path().file_name().unwrap().to_string_lossy().to_string();
        let dir = format!("{}/{name}", self.clone_directory());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(format!("{dir}/Dockerfile"), "FROM scratch\n").unwrap();
        dir
    }

    /// An executable hook `.kamal/hooks/NAME` running `script` (sh).
    pub fn hook(&self, name: &str, script: &str) -> &Self {
        use std::os::unix::fs::PermissionsExt;
        let p = self.dir.path().join(".kamal/hooks").join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        self
    }
}

impl Drop for Project {
    /// Removes the clone directory a build test made outside the project.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.clone_directory());
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// What a run produced.
pub struct Run {
    pub result: Result<(), CliError>,
    /// Every line printed (colours off).
    pub lines: Vec<String>,
    pub fake: FakeExecutor,
}

impl Run {
    pub fn output(&self) -> String {
        self.lines.join("\n")
    }

    /// The run succeeded; otherwise panics with the error and the output.
    pub fn ok(&self) -> &Self {
        if let Err(e) = &self.result {
            panic!("expected success, got ERROR ({}): {}\noutput:\n{}", e.class, e.message, self.output());
        }
        self
    }

    /// The run failed; its error's message.
    pub fn error(&self) -> String {
        match &self.result {
            Ok(()) => panic!("expected an error, the run succeeded\noutput:\n{}", self.output()),
            Err(e) => format!("ERROR ({}): {}", e.class, e.message),
        }
    }

    /// The output contains `text`.
    pub fn prints(&self, text: &str) -> &Self {
        assert!(self.output().contains(text), "expected output to contain {text:?}; output:\n{}", self.output());
        self
    }

    pub fn does_not_print(&self, text: &str) -> &Self {
        assert!(!self.output().contains(text), "expected output without {text:?}; output:\n{}", self.output());
        self
    }

    pub fn commands_on(&self, host: &str) -> Vec<String> {
        self.fake.commands_on(host)
    }

    pub fn commands(&self) -> Vec<String> {
        self.fake.commands()
    }

    /// `command` ran on `host`, exactly.
    pub fn ran_on(&self, host: &str, command: &str) -> &Self {
        let on = self.commands_on(host);
        assert!(on.iter().any(|c| c == command), "expected {command:?} on {host}; it ran:\n{}", on.join("\n"));
        self
    }

    /// `command` ran nowhere.
    pub fn never_ran(&self, command: &str) -> &Self {
        let all = self.commands();
        assert!(
            !all.iter().any(|c| c.contains(command)),
            "expected no command containing {command:?}; ran:\n{}",
            all.join("\n")
        );
        self
    }

    /// These commands ran on `host` in this order (others may run between them).
    pub fn ran_in_order(&self, host: &str, commands: &[&str]) -> &Self {
        let on = self.commands_on(host);
        let mut at = 0;
        for want in commands {
            match on[at..].iter().position(|c| c == want) {
                Some(i) => at += i + 1,
                None => panic!("expected {want:?} on {host} after position {at}; it ran:\n{}", on.join("\n")),
            }
        }
        self
    }
}

/// A command of the deploy library, given the commander.
pub type Step = Box<dyn for<'a> FnOnce(&'a Commander) -> Pin<Box<dyn Future<Output = Result<(), CliError>> + 'a>>>;

/// Builds a [`Step`] from an async function call: `step(|c| Box::pin(proxy::boot(c)))`.
pub fn step<F>(f: F) -> Step
where
    F: for<'a> FnOnce(&'a Commander) -> Pin<Box<dyn Future<Output = Result<(), CliError>> + 'a>> + 'static,
{
    Box::new(f)
}

/// Runs `step` for `command` in `project` with `global` options, commands answered by `fake`.
/// As in Kamal's CLI tests (`ENV["VERSION"] = "999"`), the configuration's version is 999
/// unless `global` gives `--version`, while the command itself sees only the `--version` given.
pub fn run(project: &Project, command: &str, global: GlobalOptions, fake: &FakeExecutor, step: Step) -> Run {
    let mut global = global;
    // As on Kamal's test machines: a local docker on amd64.
    global.docker_arch.get_or_insert_with(|| "amd64".into());
    let mut load = global.clone();
    if load.version.is_none() {
        load.version = Some("999".into());
    }
    let dir = project.path();
    let (result, lines) = output::capture(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (config, secrets) =
                wharf_deploy::load::load_config(&load, &dir, wharf_deploy::load::VersionNeed::Required)?;
            let mut c = Commander::with_executor(
                config,
                global.clone(),
                dir.clone(),
                secrets,
                command,
                None,
                Box::new(fake.clone()),
            )?;
            c.performer = PERFORMER.into();
            c.clock = Some(CLOCK);
            c.run_hook("pre-connect", &[])?;
            let result = step(&c).await;
            // As the CLI does: what is still held back goes out at the end.
            let flushed = c.flush_all().await;
            result.and(flushed)
        })
    });
    Run { result, lines, fake: fake.clone() }
}

/// Options with these hosts (`-h`).
pub fn hosts(list: &str) -> GlobalOptions {
    GlobalOptions { hosts: Some(list.into()), ..Default::default() }
}

/// Options with these roles (`-r`).
pub fn roles(list: &str) -> GlobalOptions {
    GlobalOptions { roles: Some(list.into()), ..Default::default() }
}

/// `-v`.
pub fn verbose() -> GlobalOptions {
    GlobalOptions { verbose: true, ..Default::default() }
}

/// Default options.
/// The audit line Kamal appends for `line` (fixed clock, the test performer, service `app`).
pub fn app_audit(line: &str) -> String {
    format!("mkdir -p .kamal && echo \"[2024-01-01T00:00:00Z] [{PERFORMER}] {line}\" >> .kamal/app-audit.log")
}

pub fn defaults() -> GlobalOptions {
    GlobalOptions::default()
}

/// A registry stand-in on this machine's loopback: answers every request `200` (all the
/// reachability check asks). Its port.
pub fn registry_on_loopback() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    port
}

/// Wharf asks this where Kamal creates the network and asks for the version.
pub const PROXY_FACTS: &str = r#"docker inspect --type container kamal-proxy --format '{{.Name}} {{.Id}} {{.State.Status}} {{.Config.Image}}{{if index .NetworkSettings.Networks "kamal"}} kamal{{end}}'"#;

/// What [`PROXY_FACTS`] answers for a kamal-proxy of `version` in `status`, on the `kamal` network or not.
pub fn proxy_facts(version: &str, status: &str, on_network: bool) -> String {
    let id = "d0f7f3e1f5a104b11c919d5b6171f9762871084f6f514f6bf40af88da86a8185";
    format!("/kamal-proxy {id} {status} basecamp/kamal-proxy:{version}{}", if on_network { " kamal" } else { "" })
}

/// The start of Wharf's `docker inspect` of kamal-proxy: alone (`proxy boot`) or with the new
/// version's containers (a deploy's facts).
pub const INSPECT_PROXY: &str = "docker inspect --type container kamal-proxy";

/// Wharf's listing of service `app`'s running containers (a deploy's facts).
pub const LISTING: &str = r#"docker ps --filter label=service=app --filter label=destination= --format '{{.Label "role"}} {{.State}} {{.Names}}'"#;

/// Servers whose kamal-proxy v0.9.2 runs on the `kamal` network.
pub fn proxy_running(fake: &FakeExecutor) {
    fake.stdout(INSPECT_PROXY, &proxy_facts("v0.9.2", "running", true));
}

/// Servers running these `(role, version)` containers of service `app`, newest first.
pub fn running_containers(fake: &FakeExecutor, containers: &[(&str, &str)]) {
    let lines: Vec<String> = containers.iter().map(|(role, v)| format!("{role} running app-{role}-{v}")).collect();
    fake.stdout(LISTING, &lines.join("\n"));
}
