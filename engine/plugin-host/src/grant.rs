//! The user's side of a capability: what deploy.yml allows a plugin, and the call's limits.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use crate::manifest::{Manifest, ProgramRule, World};

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
#[derive(Clone, Debug, Default)]
pub struct Grant {
    /// Programs the plugin may run, with argument patterns (same syntax as the manifest's).
    /// A rule's `program` may be an absolute path, or a bare name looked up at call time on
    /// the `PATH` of `env` (else the host's). The patterns are the real boundary: `**` on a
    /// program that can run others (`sh`, `env`, `git -c core.sshCommand=...`, `docker run`)
    /// grants running anything.
    pub programs: Vec<ProgramRule>,
    /// Directories the plugin may read (absolute, or relative to `workdir`).
    pub directories: Vec<PathBuf>,
    /// Hosts the plugin may reach over wasi:http (reserved for when network is offered).
    pub hosts: Vec<String>,
    /// Working directory of programs the plugin runs, and base of relative paths (the project
    /// directory, for hooks). `None`: relative paths are refused and programs run in the
    /// system's temporary directory.
    pub workdir: Option<PathBuf>,
    /// The whole environment of programs the plugin runs (it is otherwise empty).
    pub env: Vec<(String, String)>,
    /// Variables the plugin may read and set on its programs (with the manifest's `env`):
    /// the guest's WASI environment holds those of `env` named here and in the manifest.
    pub vars: Vec<String>,
    /// Programs may be given the user's terminal (with the manifest's `terminal`).
    pub terminal: bool,
    /// Overrides of the world's default limits.
    pub memory: Option<u64>,
    pub timeout: Option<Duration>,
    pub output: Option<usize>,
}

impl Grant {
    pub fn new() -> Grant {
        Grant::default()
    }

    /// Allows `program` with arguments matching `args`.
    pub fn program<I, S>(mut self, program: impl Into<String>, args: I) -> Grant
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.programs.push(ProgramRule::new(program, args));
        self
    }

    /// Allows reading `dir` and everything below it.
    pub fn directory(mut self, dir: impl Into<PathBuf>) -> Grant {
        self.directories.push(dir.into());
        self
    }

    pub fn host(mut self, host: impl Into<String>) -> Grant {
        self.hosts.push(host.into());
        self
    }

    pub fn workdir(mut self, dir: impl Into<PathBuf>) -> Grant {
        self.workdir = Some(dir.into());
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Grant {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Lets the plugin read `name` (its value from `env`) and set it on programs it runs.
    pub fn var(mut self, name: impl Into<String>) -> Grant {
        self.vars.push(name.into());
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
        let mut out = vec![];
        for rule in &manifest.capabilities.programs {
            if !self.programs.iter().any(|g| g.program == rule.program) {
                out.push(format!("program {}", rule.program));
            }
        }
        let granted = self.granted_dirs();
        for d in &manifest.capabilities.directories {
            match resolve_dir(d, self.workdir.as_deref()) {
                Some(p) if granted.iter().any(|g| p.starts_with(g)) => {}
                Some(p) => out.push(format!("directory {}", p.display())),
                None => out.push(format!("directory {d}")),
            }
        }
        for h in &manifest.capabilities.hosts {
            let (host, port) = split_host_port(h);
            let covered = self.hosts.iter().any(|g| {
                g == h || host_matches(g, host, port.unwrap_or(0)) && (port.is_some() || split_host_port(g).1.is_none())
            });
            if !covered {
                out.push(format!("host {h}"));
            }
        }
        for v in &manifest.capabilities.env {
            if !self.vars.contains(v) {
                out.push(format!("env {v}"));
            }
        }
        if manifest.capabilities.terminal && !self.terminal {
            out.push("terminal".into());
        }
        out
    }

    fn granted_dirs(&self) -> Vec<PathBuf> {
        self.directories.iter().filter_map(|d| resolve_dir(&d.to_string_lossy(), self.workdir.as_deref())).collect()
    }
}

/// What a call may actually use: the overlap of a manifest and a grant.
#[derive(Clone, Debug, Default)]
pub(crate) struct Effective {
    pub manifest_programs: Vec<ProgramRule>,
    pub grant_programs: Vec<ProgramRule>,
    /// Canonical directories readable by the plugin.
    pub dirs: Vec<PathBuf>,
    /// Canonical working directory, when granted and existing.
    pub workdir: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    /// Variables the plugin may read and set (declared and granted).
    pub vars: Vec<String>,
    /// Programs may be given the terminal (declared and granted).
    pub terminal: bool,
    pub manifest_hosts: Vec<String>,
    pub grant_hosts: Vec<String>,
}

/// Why a program may not be run.
pub(crate) enum ProgramDenial {
    NotDeclared,
    NotGranted,
}

impl Effective {
    pub fn new(manifest: &Manifest, grant: &Grant) -> Effective {
        let workdir = grant.workdir.as_ref().and_then(|w| std::fs::canonicalize(w).ok());
        let granted = grant.granted_dirs();
        let mut dirs: Vec<PathBuf> = vec![];
        for d in &manifest.capabilities.directories {
            let Some(m) = resolve_dir(d, grant.workdir.as_deref()) else { continue };
            for g in &granted {
                let overlap = if m.starts_with(g) {
                    Some(m.clone())
                } else if g.starts_with(&m) {
                    Some(g.clone())
                } else {
                    None
                };
                if let Some(o) = overlap {
                    if !dirs.iter().any(|x| o.starts_with(x)) {
                        dirs.retain(|x| !x.starts_with(&o));
                        dirs.push(o);
                    }
                }
            }
        }
        Effective {
            manifest_programs: manifest.capabilities.programs.clone(),
            grant_programs: grant.programs.clone(),
            dirs,
            workdir,
            env: grant.env.clone(),
            vars: manifest.capabilities.env.iter().filter(|v| grant.vars.contains(v)).cloned().collect(),
            terminal: manifest.capabilities.terminal && grant.terminal,
            manifest_hosts: manifest.capabilities.hosts.clone(),
            grant_hosts: grant.hosts.clone(),
        }
    }

    /// Makes `dir` readable whatever the manifest and grant say (the host's own grant for the
    /// call, such as a builder's context directory).
    pub fn add_dir(&mut self, dir: &Path) {
        if let Ok(d) = std::fs::canonicalize(dir) {
            if !self.dirs.iter().any(|x| d.starts_with(x)) {
                self.dirs.retain(|x| !x.starts_with(&d));
                self.dirs.push(d);
            }
        }
    }

    pub fn program_allowed(&self, program: &str, args: &[String]) -> Result<(), ProgramDenial> {
        if !self.manifest_programs.iter().any(|r| r.allows(program, args)) {
            return Err(ProgramDenial::NotDeclared);
        }
        if !self.grant_programs.iter().any(|r| r.allows(program, args)) {
            return Err(ProgramDenial::NotGranted);
        }
        Ok(())
    }

    /// The guest's WASI environment: the variables of `env` it may read.
    pub fn guest_env(&self) -> Vec<(String, String)> {
        self.env.iter().filter(|(k, _)| self.vars.contains(k)).cloned().collect()
    }

    /// Whether wasi:http may reach `host` on `port`: the manifest's and the grant's lists must
    /// each have a pattern matching it (see [`host_matches`]).
    pub fn host_allowed(&self, host: &str, port: u16) -> bool {
        self.grant_pattern_for(host, port).is_some() && self.manifest_hosts.iter().any(|p| host_matches(p, host, port))
    }

    /// The grant's pattern that allows `host:port`, if any.
    pub fn grant_pattern_for(&self, host: &str, port: u16) -> Option<&str> {
        self.grant_hosts.iter().find(|p| host_matches(p, host, port)).map(String::as_str)
    }

    /// A guest-given path as messages show it: absolute (joined to the working directory) and
    /// lexically normalized, never resolved, so that a denial says nothing of what exists.
    pub fn shown(&self, path: &str) -> PathBuf {
        let p = Path::new(path);
        match (&self.workdir, p.is_absolute()) {
            (Some(w), false) => normalize(&w.join(p)),
            _ => normalize(p),
        }
    }

    /// Resolves a guest-given path (absolute, or relative to the working directory), follows
    /// symbolic links, and returns it when it lies inside a readable directory. A denial names
    /// the path as given (see [`Effective::shown`]) and is the same whether or not it exists.
    pub fn readable(&self, path: &str) -> Result<PathBuf, PathDenial> {
        let p = Path::new(path);
        if !p.is_absolute() && self.workdir.is_none() {
            return Err(PathDenial::NotGranted(normalize(p)));
        }
        let lexical = self.shown(path);
        match std::fs::canonicalize(&lexical) {
            Ok(real) if self.dirs.iter().any(|d| real.starts_with(d)) => Ok(real),
            // "not found" only inside a readable directory: outside, do not reveal what exists
            Err(e) if self.dirs.iter().any(|d| lexical.starts_with(d)) => Err(PathDenial::Io(lexical, e)),
            _ => Err(PathDenial::NotGranted(lexical)),
        }
    }
}

/// Whether a host pattern allows `host` on `port`. A pattern is a host name or address,
/// optionally with `:port` (without one, or with `:*`, any port). Host names match label by label, case
/// insensitively: `*` stands for exactly one whole label (`*.example.com` matches
/// `a.example.com`, not `example.com` nor `a.b.example.com`), and a label is never matched by a
/// part of another (`10.0.0.*` matches `10.0.0.7`, not `10.0.0.evil.example`). A lone `*`
/// matches any host.
pub fn host_matches(pattern: &str, host: &str, port: u16) -> bool {
    let (p_host, p_port) = split_host_port(pattern);
    if let Some(pp) = p_port {
        if pp != port {
            return false;
        }
    }
    if p_host == "*" {
        return true;
    }
    let p_labels: Vec<&str> = p_host.split('.').collect();
    let h_labels: Vec<&str> = host.split('.').collect();
    p_labels.len() == h_labels.len()
        && p_labels
            .iter()
            .zip(&h_labels)
            .all(|(p, h)| !h.is_empty() && (*p == "*" || p.eq_ignore_ascii_case(h)))
}

/// `host[:port]`, `[v6]:port`.
fn split_host_port(pattern: &str) -> (&str, Option<u16>) {
    if let Some(rest) = pattern.strip_prefix('[') {
        if let Some((h, tail)) = rest.split_once(']') {
            return (h, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
    }
    if let Some(h) = pattern.strip_suffix(":*") {
        return split_host_port(h);
    }
    match pattern.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h, Some(port)),
            Err(_) => (pattern, None),
        },
        _ => (pattern, None),
    }
}

pub(crate) enum PathDenial {
    NotGranted(PathBuf),
    Io(PathBuf, std::io::Error),
}

/// An absolute, lexically normalized, and (when it exists) canonical directory: relative paths
/// are joined to `workdir`, `~/` is the user's home. `None` when it cannot be resolved.
fn resolve_dir(d: &str, workdir: Option<&Path>) -> Option<PathBuf> {
    let p = if d == "~" || d.starts_with("~/") {
        let home = std::env::var_os("HOME")?;
        PathBuf::from(home).join(d.trim_start_matches('~').trim_start_matches('/'))
    } else if Path::new(d).is_absolute() {
        PathBuf::from(d)
    } else {
        workdir?.join(d)
    };
    let p = normalize(&p);
    Some(std::fs::canonicalize(&p).unwrap_or(p))
}

/// Removes `.` and resolves `..` without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(dirs: &[&str], programs: Vec<ProgramRule>, hosts: &[&str]) -> Manifest {
        let mut m = Manifest::from_toml("name='t'\nversion='1'\nworld='hook'\napi='0.1.0'", "t").unwrap();
        m.capabilities.directories = dirs.iter().map(|s| s.to_string()).collect();
        m.capabilities.programs = programs;
        m.capabilities.hosts = hosts.iter().map(|s| s.to_string()).collect();
        m
    }

    #[test]
    fn directories_are_the_overlap_of_manifest_and_grant() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("project/config")).unwrap();
        std::fs::create_dir_all(root.join("other")).unwrap();
        std::fs::write(root.join("project/config/deploy.yml"), "service: x").unwrap();
        std::fs::write(root.join("other/secret"), "x").unwrap();
        std::os::unix::fs::symlink(root.join("other/secret"), root.join("project/link")).unwrap();

        let m = manifest(&["."], vec![], &[]);
        // Granted only config/: the overlap is config/.
        let g = Grant::new().workdir(root.join("project")).directory("config");
        let e = Effective::new(&m, &g);
        assert_eq!(e.dirs, vec![root.join("project/config")]);
        assert!(e.readable("config/deploy.yml").is_ok());
        assert!(matches!(e.readable("link"), Err(PathDenial::NotGranted(_))));
        assert!(matches!(e.readable("../other/secret"), Err(PathDenial::NotGranted(_))));
        assert!(matches!(e.readable("config/../../other/secret"), Err(PathDenial::NotGranted(_))));
        assert!(matches!(e.readable("config/missing"), Err(PathDenial::Io(..))));
        assert!(matches!(e.readable("/etc/passwd"), Err(PathDenial::NotGranted(_))));
        // Outside the grant, a file that exists and one that does not are refused alike.
        let exists = match e.readable("/etc/passwd") { Err(PathDenial::NotGranted(p)) => p, _ => unreachable!() };
        let missing = match e.readable("/etc/no-such-file") { Err(PathDenial::NotGranted(p)) => p, _ => unreachable!() };
        assert_eq!((exists, missing), ("/etc/passwd".into(), "/etc/no-such-file".into()));

        // Granted the project, but the manifest declares nothing: nothing is readable.
        let e = Effective::new(&manifest(&[], vec![], &[]), &Grant::new().workdir(root.join("project")).directory("."));
        assert!(e.dirs.is_empty());
        assert!(matches!(e.readable("config/deploy.yml"), Err(PathDenial::NotGranted(_))));

        // The symlink escapes even when the whole project is granted.
        let g = Grant::new().workdir(root.join("project")).directory(".");
        let e = Effective::new(&m, &g);
        assert!(e.readable("config/deploy.yml").is_ok());
        assert!(matches!(e.readable("link"), Err(PathDenial::NotGranted(_))));
        assert!(g.missing(&m).is_empty());
        let m2 = manifest(&["/etc"], vec![ProgramRule::new("git", ["**"])], &["a.example.com"]);
        let g2 = g.clone().host("*.example.com");
        assert_eq!(g2.missing(&m2), vec!["program git".to_string(), "directory /etc".to_string()]);
    }

    #[test]
    fn programs_need_both_sides() {
        let m = manifest(&[], vec![ProgramRule::new("git", ["rev-parse", "*"])], &["hooks.slack.com"]);
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let e = Effective::new(&m, &Grant::new().program("git", ["**"]).host("*.slack.com"));
        assert!(e.program_allowed("git", &s(&["rev-parse", "HEAD"])).is_ok());
        assert!(matches!(e.program_allowed("git", &s(&["push"])), Err(ProgramDenial::NotDeclared)));
        assert!(matches!(e.program_allowed("sh", &s(&["-c", "id"])), Err(ProgramDenial::NotDeclared)));
        let e = Effective::new(&m, &Grant::new().program("git", ["log"]));
        assert!(matches!(e.program_allowed("git", &s(&["rev-parse", "HEAD"])), Err(ProgramDenial::NotGranted)));
        assert!(!e.host_allowed("hooks.slack.com", 443));
        let e = Effective::new(&m, &Grant::new().host("*.slack.com"));
        assert!(e.host_allowed("hooks.slack.com", 443));
        assert!(!e.host_allowed("evil.com", 443));
        // A port narrows: the manifest allows any port, the grant one.
        let e = Effective::new(&m, &Grant::new().host("hooks.slack.com:8443"));
        assert!(e.host_allowed("hooks.slack.com", 8443));
        assert!(!e.host_allowed("hooks.slack.com", 443));
    }

    #[test]
    fn host_patterns_match_whole_labels() {
        assert!(host_matches("10.0.0.*", "10.0.0.7", 80));
        assert!(!host_matches("10.0.0.*", "10.0.0.evil.example", 80));
        assert!(!host_matches("10.0.0.*", "10.0.0.7.evil.example", 80));
        assert!(host_matches("*.example.com", "A.Example.COM", 443));
        assert!(!host_matches("*.example.com", "example.com", 443));
        assert!(!host_matches("*.example.com", "a.b.example.com", 443));
        assert!(!host_matches("*.example.com", "evilexample.com", 443));
        assert!(!host_matches("*.example.com", ".example.com", 443));
        assert!(host_matches("example.com:8443", "example.com", 8443));
        assert!(!host_matches("example.com:8443", "example.com", 443));
        assert!(host_matches("127.0.0.1:*", "127.0.0.1", 1234));
        assert!(host_matches("[::1]:8080", "::1", 8080));
        assert!(host_matches("*", "anything.at.all", 1));
    }

    #[test]
    fn limits_per_world_and_overrides() {
        assert_eq!(Grant::new().limits(World::Hook).timeout, Duration::from_secs(300));
        assert_eq!(Grant::new().limits(World::SecretsAdapter).timeout, Duration::from_secs(30));
        assert_eq!(Grant::new().limits(World::Builder).timeout, Duration::from_secs(3600));
        let l = Grant::new().timeout(Duration::from_secs(2)).memory(1 << 30).limits(World::Hook);
        assert_eq!((l.timeout, l.memory, l.output), (Duration::from_secs(2), 1 << 30, 1 << 20));
    }
}
