//! `Kamal::Configuration::Volume`: a `--volume host:container[:options]` mount, with relative
//! host paths under `$PWD`.

use crate::ruby::absolute_path;

/// A docker volume mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// The host path (relative paths are taken from `$PWD` on the host).
    pub host_path: String,
    /// The path in the container.
    pub container_path: String,
    /// Mount options (`ro`, `z`, ...).
    pub options: Option<String>,
}

impl Volume {
    /// A mount.
    pub fn new(host_path: impl Into<String>, container_path: impl Into<String>, options: Option<String>) -> Volume {
        Volume { host_path: host_path.into(), container_path: container_path.into(), options }
    }

    /// `["--volume", "<host>:<container>[:<options>]"]`.
    pub fn docker_args(&self) -> Vec<String> {
        vec!["--volume".to_string(), self.docker_args_string()]
    }

    /// `<host>:<container>[:<options>]`, the host path prefixed with `$PWD/` when relative.
    pub fn docker_args_string(&self) -> String {
        let host =
            if absolute_path(&self.host_path) { self.host_path.clone() } else { format!("$PWD/{}", self.host_path) };
        let mut s = format!("{host}:{}", self.container_path);
        if let Some(o) = self.options.as_ref().filter(|o| !crate::ruby::blank_str(o)) {
            s.push(':');
            s.push_str(o);
        }
        s
    }
}
