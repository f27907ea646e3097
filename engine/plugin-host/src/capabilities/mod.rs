//! The plugin capabilities, one module each, as Spin's `factor-*` crates are: each owns its
//! part of the manifest's `[capabilities]` (the fields it reads and their validation), its part
//! of the user's grant (a small `Allow` type inside [`Grant`]), the check (declared *and*
//! granted: an `Effective` per call, with denials naming the plugin and the capability), and
//! the host implementation (the `wharf:plugin` host functions or the WASI wiring).
//!
//! | module | `plugin.toml` | grant | host |
//! |---|---|---|---|
//! | [`process`] | `programs` | `programs` | `wharf:plugin/process` |
//! | [`files`] | `directories` | `directories` (and `workdir`, the base of relative paths) | `wharf:plugin/files`, WASI preopens (read-only) |
//! | [`http`] | `hosts` | `hosts` | `wasi:http/outgoing-handler` |
//! | [`env`] | `env` | `vars`, and the environment's values | the guest's WASI environment, programs' variables |
//! | [`log`] | (always) | (the output limit) | `wharf:plugin/log`, the guest's stdout and stderr, masking |
//! | [`terminal`] | `terminal` | `terminal` | programs' stdin and stderr |
//!
//! This module puts them together: [`Capabilities`] (the manifest's table), [`Effective`] (what
//! one call may use), [`missing`] (what a grant leaves out), [`add_to_linker`].

pub mod env;
pub mod files;
pub mod http;
pub mod log;
pub mod process;
pub mod terminal;

use serde::Deserialize;
use wasmtime::component::Linker;

use self::process::ProgramRule;
use crate::grant::Grant;
use crate::manifest::Manifest;
use crate::state::{Call, State};

/// What a plugin asks for: `plugin.toml`'s `[capabilities]`. Each field belongs to one
/// capability module, which validates it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// [`process`]: programs it may run, with argument patterns.
    #[serde(default)]
    pub programs: Vec<ProgramRule>,
    /// [`files`]: directories it may read.
    #[serde(default)]
    pub directories: Vec<String>,
    /// [`http`]: hosts it may reach over wasi:http.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// [`env`]: environment variables the plugin may read (its WASI environment holds those
    /// that are granted and set) and set on the programs it runs.
    #[serde(default)]
    pub env: Vec<String>,
    /// [`terminal`]: whether programs it runs may be given the user's terminal (to prompt for
    /// a login).
    #[serde(default)]
    pub terminal: bool,
}

impl Capabilities {
    /// Each capability's validation of its fields, in order: the message of the first error.
    pub(crate) fn validate(&self) -> Result<(), String> {
        process::validate(&self.programs)?;
        files::validate(&self.directories)?;
        env::validate(&self.env)?;
        Ok(())
    }
}

/// A denial as the guest sees it: `plugin X: capability C not granted`.
pub(crate) fn not_granted(call: &Call, capability: &str) -> String {
    format!("plugin {}: capability {capability} not granted", call.plugin)
}

/// The capabilities `manifest` declares that `grant` does not (fully) allow, named as in
/// errors (see [`Grant::missing`]).
pub(crate) fn missing(manifest: &Manifest, grant: &Grant) -> Vec<String> {
    let c = &manifest.capabilities;
    let mut out = vec![];
    process::missing(&c.programs, &grant.process, &mut out);
    files::missing(&c.directories, &grant.files, grant.workdir.as_deref(), &mut out);
    http::missing(&c.hosts, &grant.http, &mut out);
    env::missing(&c.env, &grant.env, &mut out);
    terminal::missing(c.terminal, &grant.terminal, &mut out);
    out
}

/// What a call may actually use: the overlap of a manifest and a grant, per capability.
#[derive(Clone, Debug, Default)]
pub(crate) struct Effective {
    pub process: process::Effective,
    pub files: files::Effective,
    pub http: http::Effective,
    pub env: env::Effective,
    pub terminal: terminal::Effective,
}

impl Effective {
    pub fn new(manifest: &Manifest, grant: &Grant) -> Effective {
        let c = &manifest.capabilities;
        Effective {
            process: process::Effective::new(&c.programs, &grant.process),
            files: files::Effective::new(&c.directories, &grant.files, grant.workdir.as_deref()),
            http: http::Effective::new(&c.hosts, &grant.http),
            env: env::Effective::new(&c.env, &grant.env),
            terminal: terminal::Effective::new(c.terminal, &grant.terminal),
        }
    }
}

/// Adds every capability's host functions to the linker (WASI itself is added by the host).
pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    http::add_to_linker(linker)?;
    log::add_to_linker(linker)?;
    process::add_to_linker(linker)?;
    files::add_to_linker(linker)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::files::PathDenial;
    use super::process::ProgramDenial;
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
        assert_eq!(e.files.dirs, vec![root.join("project/config")]);
        assert!(e.files.readable("config/deploy.yml").is_ok());
        assert!(matches!(e.files.readable("link"), Err(PathDenial::NotGranted(_))));
        assert!(matches!(e.files.readable("../other/secret"), Err(PathDenial::NotGranted(_))));
        assert!(matches!(e.files.readable("config/../../other/secret"), Err(PathDenial::NotGranted(_))));
        assert!(matches!(e.files.readable("config/missing"), Err(PathDenial::Io(..))));
        assert!(matches!(e.files.readable("/etc/passwd"), Err(PathDenial::NotGranted(_))));
        // Outside the grant, a file that exists and one that does not are refused alike.
        let exists = match e.files.readable("/etc/passwd") {
            Err(PathDenial::NotGranted(p)) => p,
            _ => unreachable!(),
        };
        let missing = match e.files.readable("/etc/no-such-file") {
            Err(PathDenial::NotGranted(p)) => p,
            _ => unreachable!(),
        };
        assert_eq!((exists, missing), ("/etc/passwd".into(), "/etc/no-such-file".into()));

        // Granted the project, but the manifest declares nothing: nothing is readable.
        let e = Effective::new(&manifest(&[], vec![], &[]), &Grant::new().workdir(root.join("project")).directory("."));
        assert!(e.files.dirs.is_empty());
        assert!(matches!(e.files.readable("config/deploy.yml"), Err(PathDenial::NotGranted(_))));

        // The symlink escapes even when the whole project is granted.
        let g = Grant::new().workdir(root.join("project")).directory(".");
        let e = Effective::new(&m, &g);
        assert!(e.files.readable("config/deploy.yml").is_ok());
        assert!(matches!(e.files.readable("link"), Err(PathDenial::NotGranted(_))));
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
        assert!(e.process.program_allowed("git", &s(&["rev-parse", "HEAD"])).is_ok());
        assert!(matches!(e.process.program_allowed("git", &s(&["push"])), Err(ProgramDenial::NotDeclared)));
        assert!(matches!(e.process.program_allowed("sh", &s(&["-c", "id"])), Err(ProgramDenial::NotDeclared)));
        let e = Effective::new(&m, &Grant::new().program("git", ["log"]));
        assert!(matches!(e.process.program_allowed("git", &s(&["rev-parse", "HEAD"])), Err(ProgramDenial::NotGranted)));
        assert!(!e.http.host_allowed("hooks.slack.com", 443));
        let e = Effective::new(&m, &Grant::new().host("*.slack.com"));
        assert!(e.http.host_allowed("hooks.slack.com", 443));
        assert!(!e.http.host_allowed("evil.com", 443));
        // A port narrows: the manifest allows any port, the grant one.
        let e = Effective::new(&m, &Grant::new().host("hooks.slack.com:8443"));
        assert!(e.http.host_allowed("hooks.slack.com", 8443));
        assert!(!e.http.host_allowed("hooks.slack.com", 443));
    }
}
