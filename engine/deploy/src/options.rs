//! The options every command takes (Kamal's class options: `-v`, `-q`, `-h`, `-r`, `-p`, `-c`,
//! `-d`, `-H`, `--version`, `--lock-wait...`), independent of how the command line was parsed.

#[derive(Clone, Debug)]
pub struct GlobalOptions {
    /// `-v`: show each command, its output and how it finished.
    pub verbose: bool,
    /// `-q`: minimal output.
    pub quiet: bool,
    /// `--version`: the app version to act on (default: from git).
    pub version: Option<String>,
    /// `-p`: the primary host only.
    pub primary: bool,
    /// `-h`: these hosts (comma-separated, `*` wildcards).
    pub hosts: Option<String>,
    /// `-r`: these roles (comma-separated, `*` wildcards).
    pub roles: Option<String>,
    /// `-c`: the configuration file, relative to the project directory.
    pub config_file: String,
    /// `-d`: the destination (deploy.DEST.yml).
    pub destination: Option<String>,
    /// `-H`: skip hooks.
    pub skip_hooks: bool,
    /// `--lock-wait`: wait for a held deploy lock instead of failing.
    pub lock_wait: bool,
    pub lock_wait_timeout: u64,
    pub lock_wait_interval: u64,
    /// The local docker's architecture, when known (tests); `None`: asked of docker when first
    /// needed (`docker info`, as Kamal's `Kamal::Utils.docker_arch`).
    pub docker_arch: Option<String>,
}

impl Default for GlobalOptions {
    fn default() -> Self {
        GlobalOptions {
            verbose: false,
            quiet: false,
            version: None,
            primary: false,
            hosts: None,
            roles: None,
            config_file: "config/deploy.yml".into(),
            destination: None,
            skip_hooks: false,
            lock_wait: false,
            lock_wait_timeout: 900,
            lock_wait_interval: 15,
            docker_arch: None,
        }
    }
}
