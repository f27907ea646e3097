//! OpenSSH client config (`ssh_config(5)`): the subset net-ssh honours and Kamal users rely on.
//!
//! Supported keywords: Host (patterns with `*`, `?`, `!negation`), Match (`all`, `host`,
//! `originalhost`, `user`, `localuser`, `final`; `exec` and `canonical` never match), Include,
//! HostName (`%h`), User, Port, IdentityFile (repeatable), IdentitiesOnly, IdentityAgent,
//! ProxyJump, ProxyCommand, UserKnownHostsFile, GlobalKnownHostsFile, StrictHostKeyChecking,
//! ConnectTimeout, ForwardAgent. Other keywords are ignored.
//!
//! As in OpenSSH, the first value obtained for a keyword wins (lines before the first `Host`
//! apply to every host), except IdentityFile, which accumulates. ProxyJump and ProxyCommand share
//! one slot: whichever comes first wins, and `none` counts as a value.

use std::path::{Path, PathBuf};

/// Parsed config files, in the order given.
#[derive(Clone, Debug, Default)]
pub struct SshConfig {
    files: Vec<ConfigFile>,
}

#[derive(Clone, Debug)]
struct ConfigFile {
    /// Directory relative Include paths are resolved against.
    base_dir: PathBuf,
    directives: Vec<Directive>,
}

#[derive(Clone, Debug)]
enum Directive {
    Host(Vec<String>),
    Match(Vec<String>),
    Include(Vec<String>),
    /// keyword (lowercase), arguments, raw rest of line (for ProxyCommand).
    Set(String, Vec<String>, String),
}

/// ProxyJump / ProxyCommand as found in ssh_config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigProxy {
    Jump(String),
    Command(String),
    /// `ProxyJump none` / `ProxyCommand none`.
    Disabled,
}

/// The settings ssh_config gives one host. Values are raw (tokens such as `%h` and `~` are
/// expanded when the connection is set up).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostConfig {
    pub host_name: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<String>,
    pub identities_only: Option<bool>,
    pub identity_agent: Option<String>,
    pub proxy: Option<ConfigProxy>,
    pub user_known_hosts_files: Option<Vec<String>>,
    pub global_known_hosts_files: Option<Vec<String>>,
    pub strict_host_key_checking: Option<String>,
    pub connect_timeout: Option<u64>,
    pub forward_agent: Option<bool>,
}

const MAX_INCLUDE_DEPTH: usize = 16;

impl SshConfig {
    /// Reads the files; missing or unreadable files are skipped (as net-ssh does).
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> SshConfig {
        let mut cfg = SshConfig::default();
        for p in paths {
            let path = expand_tilde(&p.as_ref().to_string_lossy());
            if let Ok(text) = std::fs::read_to_string(&path) {
                let base = Path::new(&path).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
                cfg.files.push(ConfigFile { base_dir: base, directives: parse(&text) });
            }
        }
        cfg
    }

    /// Parses one file's text; relative Include paths resolve against `base_dir`.
    pub fn parse(text: &str, base_dir: &Path) -> SshConfig {
        SshConfig { files: vec![ConfigFile { base_dir: base_dir.to_path_buf(), directives: parse(text) }] }
    }

    /// The settings for `host` (the name as given, before HostName substitution).
    pub fn resolve(&self, host: &str) -> HostConfig {
        let mut out = HostConfig::default();
        let host = host.to_ascii_lowercase();
        for f in &self.files {
            apply(&f.directives, &f.base_dir, &host, &mut out, true, 0);
        }
        out
    }
}

fn apply(directives: &[Directive], base: &Path, host: &str, out: &mut HostConfig, start_active: bool, depth: usize) {
    let mut active = start_active;
    for d in directives {
        match d {
            Directive::Host(patterns) => active = host_matches(host, patterns),
            Directive::Match(criteria) => active = match_matches(host, criteria, out),
            Directive::Include(paths) => {
                if active && depth < MAX_INCLUDE_DEPTH {
                    for p in paths {
                        for file in include_files(base, p) {
                            if let Ok(text) = std::fs::read_to_string(&file) {
                                apply(&parse(&text), base, host, out, true, depth + 1);
                            }
                        }
                    }
                }
            }
            Directive::Set(key, args, raw) => {
                if active {
                    set(out, key, args, raw, host);
                }
            }
        }
    }
}

fn set(out: &mut HostConfig, key: &str, args: &[String], raw: &str, host: &str) {
    let first = match args.first() {
        Some(a) => a.as_str(),
        None => return,
    };
    let proxy = |make: fn(String) -> ConfigProxy, value: String| {
        Some(if first.eq_ignore_ascii_case("none") { ConfigProxy::Disabled } else { make(value) })
    };
    match key {
        "hostname" => set_once(&mut out.host_name, || Some(percent_h(first, host))),
        "user" => set_once(&mut out.user, || Some(first.to_string())),
        "port" => set_once(&mut out.port, || first.parse().ok()),
        "identityfile" if !out.identity_files.iter().any(|f| f == first) => out.identity_files.push(first.to_string()),
        "identitiesonly" => set_once(&mut out.identities_only, || yes_no(first)),
        "identityagent" => set_once(&mut out.identity_agent, || Some(first.to_string())),
        "proxyjump" => set_once(&mut out.proxy, || proxy(ConfigProxy::Jump, args.join(","))),
        "proxycommand" => set_once(&mut out.proxy, || proxy(ConfigProxy::Command, raw.to_string())),
        "userknownhostsfile" => set_once(&mut out.user_known_hosts_files, || Some(args.to_vec())),
        "globalknownhostsfile" => set_once(&mut out.global_known_hosts_files, || Some(args.to_vec())),
        "stricthostkeychecking" => set_once(&mut out.strict_host_key_checking, || Some(first.to_ascii_lowercase())),
        "connecttimeout" => set_once(&mut out.connect_timeout, || first.parse().ok()),
        // ForwardAgent may also name a socket; treat that as "yes".
        "forwardagent" => set_once(&mut out.forward_agent, || Some(yes_no(first).unwrap_or(true))),
        _ => {}
    }
}

/// First value wins.
fn set_once<T>(slot: &mut Option<T>, value: impl FnOnce() -> Option<T>) {
    if slot.is_none() {
        *slot = value();
    }
}

fn yes_no(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

fn percent_h(value: &str, host: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('h') => out.push_str(host),
                Some('%') => out.push('%'),
                Some(o) => {
                    out.push('%');
                    out.push(o);
                }
                None => out.push('%'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `Host` line: whitespace-separated patterns; a matching negated pattern vetoes the block.
fn host_matches(host: &str, patterns: &[String]) -> bool {
    let mut any = false;
    for p in patterns.iter().flat_map(|p| p.split(',')) {
        if let Some(neg) = p.strip_prefix('!') {
            if wildcard_match(neg, host) {
                return false;
            }
        } else if wildcard_match(p, host) {
            any = true;
        }
    }
    any
}

fn match_matches(host: &str, criteria: &[String], sofar: &HostConfig) -> bool {
    let mut i = 0;
    if criteria.is_empty() {
        return false;
    }
    while i < criteria.len() {
        let (negate, word) = match criteria[i].strip_prefix('!') {
            Some(w) => (true, w.to_ascii_lowercase()),
            None => (false, criteria[i].to_ascii_lowercase()),
        };
        i += 1;
        let result = match word.as_str() {
            "all" | "final" => true,
            "canonical" => false,
            "host" | "originalhost" | "user" | "localuser" | "exec" => {
                let Some(arg) = criteria.get(i) else { return false };
                i += 1;
                match word.as_str() {
                    "host" => {
                        let h = sofar.host_name.clone().unwrap_or_else(|| host.to_string());
                        host_matches(&h.to_ascii_lowercase(), std::slice::from_ref(arg))
                    }
                    "originalhost" => host_matches(host, std::slice::from_ref(arg)),
                    "user" => host_matches(sofar.user.as_deref().unwrap_or("root"), std::slice::from_ref(arg)),
                    "localuser" => host_matches(&local_user(), std::slice::from_ref(arg)),
                    _ => false, // exec: never run commands from a config file
                }
            }
            _ => false,
        };
        if result == negate {
            return false;
        }
    }
    true
}

/// Case-insensitive glob with `*` and `?` (OpenSSH `match_pattern`).
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    glob(&pattern.to_lowercase(), &text.to_lowercase())
}

fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn parse(text: &str) -> Vec<Directive> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let split = line.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(line.len());
        let (keyword, rest) = line.split_at(split);
        let mut rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix('=') {
            rest = r.trim_start();
        }
        let key = keyword.to_ascii_lowercase();
        let args = split_args(rest);
        if args.is_empty() {
            continue;
        }
        out.push(match key.as_str() {
            "host" => Directive::Host(args),
            "match" => Directive::Match(args),
            "include" => Directive::Include(args),
            _ => Directive::Set(key, args, rest.to_string()),
        });
    }
    out
}

/// Whitespace-separated arguments; double quotes group; an unquoted `#` starts a comment.
fn split_args(s: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut in_arg = false;
    let mut quoted = false;
    for c in s.chars() {
        if quoted {
            if c == '"' {
                quoted = false;
            } else {
                cur.push(c);
            }
        } else if c == '"' {
            quoted = true;
            in_arg = true;
        } else if c.is_whitespace() {
            if in_arg {
                args.push(std::mem::take(&mut cur));
                in_arg = false;
            }
        } else if c == '#' && !in_arg {
            break;
        } else {
            cur.push(c);
            in_arg = true;
        }
    }
    if in_arg {
        args.push(cur);
    }
    args
}

fn include_files(base: &Path, pattern: &str) -> Vec<PathBuf> {
    let expanded = expand_tilde(pattern);
    let path = if Path::new(&expanded).is_absolute() { PathBuf::from(&expanded) } else { base.join(&expanded) };
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().to_string()) else { return vec![] };
    if !name.contains(['*', '?']) {
        return vec![path];
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| glob(&name, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The local user's home directory (`$HOME`, else `/root`).
pub(crate) fn home_dir() -> PathBuf {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/root"))
}

pub(crate) fn local_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "root".to_string())
}

/// `~` and `~/...` expand to the home directory.
pub(crate) fn expand_tilde(path: &str) -> String {
    if path == "~" {
        home_dir().to_string_lossy().to_string()
    } else if let Some(rest) = path.strip_prefix("~/") {
        home_dir().join(rest).to_string_lossy().to_string()
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = r#"
# global
ConnectTimeout 7

Host web-* !web-bad
  HostName %h.example.com
  User deploy
  IdentityFile ~/.ssh/web
  IdentitiesOnly yes

Host web-? db
  Port=2222
  User ignored
  IdentityFile "~/.ssh/with space"
  ProxyJump bastion@jump:2200

Host *
  User fallback
  ProxyCommand nc %h %p
  IdentityFile ~/.ssh/id_ed25519
  UserKnownHostsFile /tmp/k1 /tmp/k2
  StrictHostKeyChecking accept-new
"#;

    #[test]
    fn first_match_wins_identity_files_accumulate() {
        let c = SshConfig::parse(CFG, Path::new("/tmp"));
        let h = c.resolve("web-1");
        assert_eq!(h.host_name.as_deref(), Some("web-1.example.com"));
        assert_eq!(h.user.as_deref(), Some("deploy"));
        assert_eq!(h.port, Some(2222));
        assert_eq!(h.identity_files, vec!["~/.ssh/web", "~/.ssh/with space", "~/.ssh/id_ed25519"]);
        assert_eq!(h.identities_only, Some(true));
        assert_eq!(h.proxy, Some(ConfigProxy::Jump("bastion@jump:2200".into())));
        assert_eq!(h.connect_timeout, Some(7));
        assert_eq!(h.user_known_hosts_files, Some(vec!["/tmp/k1".into(), "/tmp/k2".into()]));
        assert_eq!(h.strict_host_key_checking.as_deref(), Some("accept-new"));
    }

    #[test]
    fn negation_and_question_mark() {
        let c = SshConfig::parse(CFG, Path::new("/tmp"));
        let bad = c.resolve("web-bad");
        assert_eq!(bad.host_name, None);
        assert_eq!(bad.user.as_deref(), Some("fallback"));
        assert_eq!(bad.proxy, Some(ConfigProxy::Command("nc %h %p".into())));
        let long = c.resolve("WEB-12");
        assert_eq!(long.user.as_deref(), Some("deploy"));
        assert_eq!(long.port, None, "web-? must not match web-12");
        let db = c.resolve("db");
        assert_eq!(db.port, Some(2222));
        assert_eq!(db.user.as_deref(), Some("ignored"));
    }

    #[test]
    fn proxy_none_occupies_the_slot_and_match_blocks() {
        let c = SshConfig::parse(
            "Match originalhost a* !user nobody\n ProxyJump none\nHost *\n ProxyCommand ssh -W %h:%p x\n",
            Path::new("/"),
        );
        assert_eq!(c.resolve("abc").proxy, Some(ConfigProxy::Disabled));
        assert_eq!(c.resolve("zzz").proxy, Some(ConfigProxy::Command("ssh -W %h:%p x".into())));
    }

    #[test]
    fn include_relative_with_glob() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("conf.d")).unwrap();
        std::fs::write(dir.path().join("conf.d/a.conf"), "Host inc\n  User included\n").unwrap();
        std::fs::write(dir.path().join("main"), "Include conf.d/*.conf\nHost *\n  User other\n").unwrap();
        let c = SshConfig::load(&[dir.path().join("main")]);
        assert_eq!(c.resolve("inc").user.as_deref(), Some("included"));
        assert_eq!(c.resolve("x").user.as_deref(), Some("other"));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("10.0.*", "10.0.1.2"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("h?st*", "HOST1"));
        assert!(!wildcard_match("h?st", "hoost"));
        assert!(wildcard_match("*.example.*", "a.b.example.com"));
    }
}
