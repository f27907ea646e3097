//! known_hosts files: OpenSSH format with comma-separated patterns, `*`/`?` wildcards,
//! `!negation`, `[host]:port`, hashed names (`|1|salt|hash`), `@revoked` (refused) and
//! `@cert-authority` (ignored: host certificates are not negotiated).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::ssh_key::{Algorithm, PublicKey};
use sha1::Sha1;

use crate::ssh_config::wildcard_match;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The presented key is recorded for the host.
    Known,
    /// Keys are recorded for the host, none is the presented one; `file:line` of the first.
    Changed { known_at: String },
    /// Nothing is recorded for the host.
    Unknown,
    /// The presented key is `@revoked`.
    Revoked { known_at: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

#[derive(Debug)]
struct Entry {
    file: PathBuf,
    line: usize,
    marker: Marker,
    patterns: String,
    /// None when the key type is not supported (still counts as "a key is recorded").
    key: Option<PublicKey>,
}

#[derive(Debug, Default)]
pub(crate) struct KnownHosts {
    entries: Vec<Entry>,
}

/// How a host appears in known_hosts: `host`, or `[host]:port` off port 22.
pub(crate) fn host_name_for(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_ascii_lowercase()
    } else {
        format!("[{}]:{port}", host.to_ascii_lowercase())
    }
}

impl KnownHosts {
    /// Reads every existing file; unreadable files and malformed lines are skipped.
    pub(crate) fn load(files: &[PathBuf]) -> KnownHosts {
        let mut kh = KnownHosts::default();
        for file in files {
            let Ok(text) = std::fs::read_to_string(file) else { continue };
            for (i, line) in text.lines().enumerate() {
                if let Some(e) = parse_line(file, i + 1, line) {
                    kh.entries.push(e);
                }
            }
        }
        kh
    }

    fn matching<'a>(&'a self, names: &'a [String]) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| names.iter().any(|n| patterns_match(&e.patterns, n)))
    }

    pub(crate) fn check(&self, names: &[String], key: &PublicKey) -> Verdict {
        for e in self.matching(names) {
            if e.marker == Marker::Revoked && e.key.as_ref().is_some_and(|k| k.key_data() == key.key_data()) {
                return Verdict::Revoked { known_at: format!("{}:{}", e.file.display(), e.line) };
            }
        }
        let mut recorded = None;
        for e in self.matching(names).filter(|e| e.marker == Marker::None) {
            if e.key.as_ref().is_some_and(|k| k.key_data() == key.key_data()) {
                return Verdict::Known;
            }
            recorded.get_or_insert_with(|| format!("{}:{}", e.file.display(), e.line));
        }
        match recorded {
            Some(known_at) => Verdict::Changed { known_at },
            None => Verdict::Unknown,
        }
    }

    /// Algorithms of the keys recorded for the host, to be preferred in key exchange (as
    /// OpenSSH and net-ssh do), so a host with several host keys presents the recorded one.
    pub(crate) fn known_algorithms(&self, names: &[String]) -> Vec<Algorithm> {
        let mut algs: Vec<Algorithm> = Vec::new();
        for e in self.matching(names).filter(|e| e.marker == Marker::None) {
            if let Some(k) = &e.key {
                let a = k.algorithm();
                if !algs.contains(&a) {
                    algs.push(a);
                }
            }
        }
        algs
    }
}

fn parse_line(file: &Path, line_no: usize, line: &str) -> Option<Entry> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let marker = match first {
        "@revoked" => Marker::Revoked,
        "@cert-authority" => Marker::CertAuthority,
        m if m.starts_with('@') => return None,
        _ => Marker::None,
    };
    if marker != Marker::None {
        first = fields.next()?;
    }
    let _key_type = fields.next()?;
    let blob = fields.next()?;
    let key = russh::keys::parse_public_key_base64(blob).ok();
    Some(Entry { file: file.to_path_buf(), line: line_no, marker, patterns: first.to_string(), key })
}

fn patterns_match(field: &str, name: &str) -> bool {
    let mut positive = false;
    for p in field.split(',') {
        if p.starts_with("|1|") {
            if hashed_match(p, name) {
                positive = true;
            }
        } else if let Some(neg) = p.strip_prefix('!') {
            if wildcard_match(neg, name) {
                return false;
            }
        } else if wildcard_match(p, name) {
            positive = true;
        }
    }
    positive
}

fn hashed_match(entry: &str, name: &str) -> bool {
    let mut parts = entry.split('|').skip(2);
    let (Some(salt), Some(hash)) = (parts.next(), parts.next()) else { return false };
    let (Ok(salt), Ok(hash)) = (BASE64.decode(salt.as_bytes()), BASE64.decode(hash.as_bytes())) else {
        return false;
    };
    let Ok(mac) = Hmac::<Sha1>::new_from_slice(&salt) else { return false };
    mac.chain_update(name.as_bytes()).verify_slice(&hash).is_ok()
}

/// Appends `names key` to `file` (creating it, and its directory with mode 0700).
pub(crate) fn append(file: &Path, names: &str, key: &PublicKey) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::create_dir_all(dir)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            }
        }
    }
    let mut f = std::fs::OpenOptions::new().read(true).append(true).create(true).open(file)?;
    let mut needs_newline = false;
    if f.seek(SeekFrom::End(-1)).is_ok() {
        let mut b = [0u8; 1];
        f.read_exact(&mut b)?;
        needs_newline = b[0] != b'\n';
    }
    let mut key = key.clone();
    key.set_comment("");
    let openssh = key.to_openssh().map_err(std::io::Error::other)?;
    let line = format!("{}{names} {}\n", if needs_newline { "\n" } else { "" }, openssh.trim_end());
    f.write_all(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const K2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G1sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";

    fn key(b: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b).unwrap()
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn plain_wildcard_port_negation_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("kh");
        std::fs::write(
            &f,
            format!(
                "# comment\n\
                 web1,10.0.0.1 ssh-ed25519 {K1}\n\
                 [db]:2222 ssh-ed25519 {K2}\n\
                 *.prod,!bad.prod ssh-ed25519 {K1}\n\
                 |1|O33ESRMWPVkMYIwJ1Uw+n877jTo=|nuuC5vEqXlEZ/8BXQR7m619W6Ak= ssh-ed25519 {K2}\n\
                 @revoked * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILIG2T/B0l0gaqj3puu510tu9N1OkQ4znY3LYuEm5zCF\n"
            ),
        )
        .unwrap();
        let kh = KnownHosts::load(&[f.clone(), dir.path().join("missing")]);
        assert_eq!(kh.check(&names(&["web1"]), &key(K1)), Verdict::Known);
        assert_eq!(kh.check(&names(&["other", "10.0.0.1"]), &key(K1)), Verdict::Known);
        assert!(
            matches!(kh.check(&names(&["web1"]), &key(K2)), Verdict::Changed { known_at } if known_at.ends_with("kh:2"))
        );
        assert_eq!(kh.check(&names(&[&host_name_for("db", 2222)]), &key(K2)), Verdict::Known);
        assert_eq!(kh.check(&names(&["db"]), &key(K2)), Verdict::Unknown);
        assert_eq!(kh.check(&names(&["a.prod"]), &key(K1)), Verdict::Known);
        assert_eq!(kh.check(&names(&["bad.prod"]), &key(K1)), Verdict::Unknown);
        // russh's test vector: |1|O33E... hashes "pijul.org"... or not; either way it must not
        // match an unrelated name.
        assert_eq!(kh.check(&names(&["nohash"]), &key(K2)), Verdict::Unknown);
        let revoked = key("AAAAC3NzaC1lZDI1NTE5AAAAILIG2T/B0l0gaqj3puu510tu9N1OkQ4znY3LYuEm5zCF");
        assert!(matches!(kh.check(&names(&["web1"]), &revoked), Verdict::Revoked { .. }));
    }

    #[test]
    fn hashed_names() {
        // Build a hashed entry the way ssh-keygen -H does.
        let salt = [7u8; 20];
        let mac = Hmac::<Sha1>::new_from_slice(&salt).unwrap().chain_update(b"hashed.example").finalize();
        let entry = format!("|1|{}|{}", BASE64.encode(&salt), BASE64.encode(&mac.into_bytes()));
        assert!(patterns_match(&entry, "hashed.example"));
        assert!(!patterns_match(&entry, "other.example"));
    }

    #[test]
    fn append_then_known() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sub/known_hosts");
        append(&f, "h1,10.1.1.1", &key(K1)).unwrap();
        std::fs::OpenOptions::new().append(true).open(&f).unwrap().write_all(b"x ssh-ed25519 AAAA").unwrap();
        append(&f, "h2", &key(K2)).unwrap();
        let kh = KnownHosts::load(&[f]);
        assert_eq!(kh.check(&names(&["10.1.1.1"]), &key(K1)), Verdict::Known);
        assert_eq!(kh.check(&names(&["h2"]), &key(K2)), Verdict::Known);
    }
}
