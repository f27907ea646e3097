//! Running a command-line program under test (`wharf`, `kamal`, `kamal-proxy`): the binary, a
//! working directory and an environment, set once and reused; each run's command line and
//! output are echoed to stderr, which the test harness shows when the test fails.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// See the module documentation. Built with [`Runner::new`] and the `env*` methods.
#[derive(Clone, Debug)]
pub struct Runner {
    program: PathBuf,
    dir: PathBuf,
    /// In order; `None` removes the variable.
    env: Vec<(OsString, Option<OsString>)>,
}

impl Runner {
    /// `program` (a path: a test's `env!("CARGO_BIN_EXE_wharf")`), run in `dir`.
    pub fn new(program: impl AsRef<Path>, dir: impl AsRef<Path>) -> Runner {
        Runner { program: program.as_ref().to_path_buf(), dir: dir.as_ref().to_path_buf(), env: vec![] }
    }

    /// Sets `key` to `value` for every run.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Runner {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    /// Sets each of `vars`.
    pub fn envs<K: Into<OsString>, V: Into<OsString>>(mut self, vars: impl IntoIterator<Item = (K, V)>) -> Runner {
        for (k, v) in vars {
            self.env.push((k.into(), Some(v.into())));
        }
        self
    }

    /// Removes `key` from the environment of every run (one the machine may have set).
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Runner {
        self.env.push((key.into(), None));
        self
    }

    /// The command for `args`, not started (for tests that spawn it and signal it).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(args).current_dir(&self.dir);
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    }

    /// Runs with `args` and waits; its output, echoed to stderr.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.command(args).output().unwrap_or_else(|e| panic!("{}: {e}", self.program.display()));
        eprintln!("{}", self.echo(args, &out));
        out
    }

    /// Runs with `args`, asserting exit 0; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{} {args:?} failed:\n{}", self.name(), self.echo(args, &out));
        stdout(&out)
    }

    fn name(&self) -> String {
        self.program.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    fn echo(&self, args: &[&str], out: &Output) -> String {
        format!("$ {} {}\n{}{}", self.name(), args.join(" "), stdout(out), stderr(out))
    }
}

/// A program's stdout, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A program's stderr, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
