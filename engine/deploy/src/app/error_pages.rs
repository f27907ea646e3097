//! Kamal's `Cli::App::ErrorPages`: with `error_pages_path` set, the `4??.html` and `5??.html`
//! files found there are copied, before any host boots, to every app host's
//! `.kamal/proxy/apps-config/<app>/error_pages/<version>/`, the directory `kamal-proxy deploy
//! --error-pages=...` names (inside the proxy container). Older versions' pages are removed once
//! the old version is stopped (`App::clean_up_error_pages` in boot).
//!
//! Kamal copies the files into a local temporary `<version>` directory and uploads it with
//! `upload!(dir, error_pages_directory, recursive: true)`, i.e. scp -r: the `<version>`
//! directory is created on the server (mode 0755 from the local `mkdir`) and every file keeps
//! its local permission bits, as the copy got them under the usual 022 umask (SCP uses the
//! `mode:` option only for in-memory uploads). Wharf uploads the files one by one into a
//! `mkdir -p`'d `<version>` directory with the same modes.

use crate::commander::Commander;
use crate::error::{CliError, Result};
use std::path::Path;
use wharf_commands::base::make_directory;
use wharf_commands::App;
use wharf_config::ruby::file_join;

/// One page to upload: its file name, content and mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub name: String,
    pub content: Vec<u8>,
    pub mode: u32,
}

/// The pages of the version being booted.
#[derive(Debug, Clone)]
pub struct ErrorPages {
    pub version: String,
    pub pages: Vec<Page>,
}

/// `ERROR_PAGES_GLOB = "{4??.html,5??.html}"`, for one file name.
pub fn matches_glob(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".html") else {
        return false;
    };
    let mut chars = stem.chars();
    matches!(chars.next(), Some('4' | '5')) && chars.count() == 2
}

/// The matching files of `dir`, as Ruby's `Dir[File.join(dir, ERROR_PAGES_GLOB)]` lists them
/// (the `4??` ones, then the `5??` ones, each sorted); none when `dir` cannot be listed.
pub fn find(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut names: Vec<String> =
        entries.flatten().filter_map(|e| e.file_name().into_string().ok()).filter(|n| matches_glob(n)).collect();
    names.sort_by(|a, b| (!a.starts_with('4'), a).cmp(&(!b.starts_with('4'), b)));
    names
}

impl ErrorPages {
    /// The pages to upload: `None` without `error_pages_path` or when it holds no page (Kamal
    /// then uploads nothing, and creates no directory). The path is relative to the current
    /// directory, as in Kamal.
    pub fn load(c: &Commander) -> Result<Option<Self>> {
        let Some(path) = c.config.error_pages_path() else {
            return Ok(None);
        };
        let dir = c.dir.join(&path);
        let mut pages = vec![];
        for name in find(&dir) {
            let file = dir.join(&name);
            let read = |e: std::io::Error| CliError::runtime(format!("{e} @ rb_sysopen - {}", file.display()));
            let content = std::fs::read(&file).map_err(read)?;
            pages.push(Page { name, content, mode: local_mode(&file) });
        }
        if pages.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self { version: c.config.version(), pages }))
    }

    /// `.kamal/proxy/apps-config/<app>/error_pages/<version>`.
    pub fn version_directory(&self, c: &Commander) -> String {
        file_join(&[&c.config.proxy_boot().error_pages_directory(), &self.version])
    }

    /// `Kamal::Cli::App::ErrorPages#run` on `host`.
    pub async fn upload(&self, c: &Commander, host: &str) -> Result<()> {
        c.exec(host, &App::new(&c.config, None, Some(host)).create_error_pages_directory()).await?;
        let dir = self.version_directory(c);
        c.exec(host, &make_directory(&dir)).await?;
        for page in &self.pages {
            c.upload(host, &page.content, &file_join(&[&dir, &page.name]), page.mode).await?;
        }
        Ok(())
    }
}

/// The permission bits a copy of `file` gets under a 022 umask (`FileUtils.cp`, then scp).
fn local_mode(file: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(file) {
            return meta.permissions().mode() & 0o777 & !0o022;
        }
    }
    0o644
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_is_kamals() {
        for name in ["404.html", "500.html", "503.html", "4xx.html", "5é9.html"] {
            assert!(matches_glob(name), "{name}");
        }
        for name in ["200.html", "40.html", "4040.html", "404.htm", "404.HTML", "x404.html", ".404.html", "404.html~"] {
            assert!(!matches_glob(name), "{name}");
        }
    }

    #[test]
    fn find_lists_4xx_then_5xx() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["503.html", "404.html", "500.html", "422.html", "index.html", "502.htm"] {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        assert_eq!(find(dir.path()), ["404.html", "422.html", "500.html", "503.html"]);
        assert!(find(&dir.path().join("missing")).is_empty());
    }
}
