//! The user's side of a capability: what deploy.yml allows a plugin, and the call's limits.
//!
//! A [`Grant`] is made of each capability's own part (`process::Allow`, `files::Allow`, ...,
//! see [`crate::capabilities`]), the working directory, and overrides of the [`Limits`].

use std::path::PathBuf;
use std::time::Duration;

use crate::capabilities::process::ProgramRule;
use crate::capabilities::{env, files, http, process, terminal};
use crate::manifest::{Manifest, World};

/// Resource limits of one plugin call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory (all memories of the component together), in bytes.
    pub memory: u64,
    /// Wall-clock time for the whole call, host calls included.
    pub timeout: Duration,
    /// Bytes of log messages, stdout and stderr together; also the cap on each of a program's
    /// captured stdout and stderr.
    pub output: usize,
}

impl Limits {
    /// 128 MiB for every world.
    pub const DEFAULT_MEMORY: u64 = 128 << 20;

    /// The defaults for a world: hooks 300 s, secrets adapters 30 s, builders 3600 s; 128 MiB;
    /// 1 MiB of output (16 MiB for builders, whose tools are chatty).
    pub fn for_world(world: World) -> Limits {
        let (timeout, output) = match world {
            World::Hook => (300, 1 << 20),
            World::SecretsAdapter => (30, 1 << 20),
            World::Builder => (3600, 16 << 20),
        };
        Limits { memory: Self::DEFAULT_MEMORY, timeout: Duration::from_secs(timeout), output }
    }
}

/// What the user allows one plugin (built by the engine from deploy.yml). A capability is
/// usable only when the plugin's manifest declares it *and* the grant allows it.
///
/// The default grant allows nothing: no programs, no directories, no hosts, default limits.
/// Built with the methods below; each capability's part is its own module's `Allow`.
#[derive(Clone, Debug, Default)]
pub struct Grant {
    /// Programs the plugin may run ([`process::Allow`]).
    pub(crate) process: process::Allow,
    /// Directories the plugin may read ([`files::Allow`]).
    pub(crate) files: files::Allow,
    /// Hosts the plugin may reach over wasi:http ([`http::Allow`]).
    pub(crate) http: http::Allow,
    /// Variables the plugin may read and set, and the environment of its programs
    /// ([`env::Allow`]).
    pub(crate) env: env::Allow,
    /// Programs may be given the user's terminal ([`terminal::Allow`]).
    pub(crate) terminal: terminal::Allow,
    /// Working directory of programs the plugin runs, and base of relative paths (the project
    /// directory, for hooks). `None`: relative paths are refused and programs run in the
    /// system's temporary directory.
    pub(crate) workdir: Option<PathBuf>,
    /// Overrides of the world's default limits.
    pub(crate) memory: Option<u64>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) output: Option<usize>,
}

impl Grant {
    pub fn new() -> Grant {
        Grant::default()
    }

    /// Allows `program` with arguments matching `args` (same syntax as the manifest's). A bare
    /// name is looked up at call time on the `PATH` of the grant's environment (else the
    /// host's). The patterns are the real boundary: `**` on a program that can run others
    /// (`sh`, `env`, `git -c core.sshCommand=...`, `docker run`) grants running anything.
    pub fn program<I, S>(mut self, program: impl Into<String>, args: I) -> Grant
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.process.programs.push(ProgramRule::new(program, args));
        self
    }

    /// Allows reading `dir` and everything below it (absolute, or relative to the working
    /// directory).
    pub fn directory(mut self, dir: impl Into<PathBuf>) -> Grant {
        self.files.directories.push(dir.into());
        self
    }

    /// Allows reading each of `dirs` (see [`Grant::directory`]).
    pub fn directories<I, P>(mut self, dirs: I) -> Grant
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        self.files.directories.extend(dirs.into_iter().map(Into::into));
        self
    }

    /// Allows reaching hosts matching `host` over wasi:http (see [`host_matches`](crate::host_matches)).
    pub fn host(mut self, host: impl Into<String>) -> Grant {
        self.http.hosts.push(host.into());
        self
    }

    /// Allows each of `hosts` (see [`Grant::host`]).
    pub fn hosts<I, S>(mut self, hosts: I) -> Grant
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.http.hosts.extend(hosts.into_iter().map(Into::into));
        self
    }

    pub fn workdir(mut self, dir: impl Into<PathBuf>) -> Grant {
        self.workdir = Some(dir.into());
        self
    }

    /// Adds `key=value` to the environment of programs the plugin runs (it is otherwise
    /// empty), which is also where the variables the plugin may read get their values.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Grant {
        self.env.values.push((key.into(), value.into()));
        self
    }

    /// Adds each of `vars` to the environment (see [`Grant::env`]).
    pub fn envs<I, K, V>(mut self, vars: I) -> Grant
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env.values.extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Sets `key` in the environment, replacing any value it had (see [`Grant::env`]).
    pub fn set_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Grant {
        let key = key.into();
        self.env.values.retain(|(n, _)| *n != key);
        self.env.values.push((key, value.into()));
        self
    }

    /// Lets the plugin read `name` (its value from `env`) and set it on programs it runs.
    pub fn var(mut self, name: impl Into<String>) -> Grant {
        self.env.vars.push(name.into());
        self
    }

    /// Lets the plugin read and set each of `names` (see [`Grant::var`]).
    pub fn vars<I, S>(mut self, names: I) -> Grant
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.env.vars.extend(names.into_iter().map(Into::into));
        self
    }

    /// Whether programs may be given the user's terminal (with the manifest's `terminal`).
    pub fn terminal(mut self, allowed: bool) -> Grant {
        self.terminal.terminal = allowed;
        self
    }

    pub fn memory(mut self, bytes: u64) -> Grant {
        self.memory = Some(bytes);
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Grant {
        self.timeout = Some(timeout);
        self
    }

    pub fn output(mut self, bytes: usize) -> Grant {
        self.output = Some(bytes);
        self
    }

    /// The limits of a call: the world's defaults with this grant's overrides.
    pub fn limits(&self, world: World) -> Limits {
        let d = Limits::for_world(world);
        Limits {
            memory: self.memory.unwrap_or(d.memory),
            timeout: self.timeout.unwrap_or(d.timeout),
            output: self.output.unwrap_or(d.output),
        }
    }

    /// The capabilities `manifest` declares that this grant does not (fully) allow, named as in
    /// errors (`program git`, `directory /srv/app`, `host example.com`). Empty when everything
    /// declared is granted. The engine can use it to warn, or to refuse to run the plugin.
    pub fn missing(&self, manifest: &Manifest) -> Vec<String> {
        crate::capabilities::missing(manifest, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_world_and_overrides() {
        assert_eq!(Grant::new().limits(World::Hook).timeout, Duration::from_secs(300));
        assert_eq!(Grant::new().limits(World::SecretsAdapter).timeout, Duration::from_secs(30));
        assert_eq!(Grant::new().limits(World::Builder).timeout, Duration::from_secs(3600));
        let l = Grant::new().timeout(Duration::from_secs(2)).memory(1 << 30).limits(World::Hook);
        assert_eq!((l.timeout, l.memory, l.output), (Duration::from_secs(2), 1 << 30, 1 << 20));
    }
}
