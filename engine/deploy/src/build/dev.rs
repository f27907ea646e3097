//! `build dev [--output TYPE] [--no-cache]`: Kamal's development build. The working directory
//! (no clone) is built and tagged `<version>-dirty` and `latest-dirty`, exported to the local
//! image store by default, after warnings naming the uncommitted and untracked files that the
//! build context will carry. Kamal lists the context's files by building and running a
//! busybox image; Wharf reads `.dockerignore` instead (no image to pull, same answer).

use super::{ensure_docker_installed, remote::classic_build};
use crate::commander::Commander;
use crate::error::{CliError, Result};
use crate::{local, output};
use std::path::Path;
use wharf_commands::Builder;

pub async fn dev(c: &Commander, output_type: &str, no_cache: bool) -> Result<()> {
    let buildx = ensure_docker_installed(c)?;
    let ignore = DockerIgnore::read(&c.dir.join(".dockerignore"));
    let included = |files: Vec<String>| -> Vec<String> {
        let mut kept: Vec<String> = files.into_iter().filter(|f| !ignore.excludes(f)).collect();
        kept.sort();
        kept
    };
    let uncommitted = included(crate::git::uncommitted_files(&c.dir));
    if !uncommitted.is_empty() {
        warn_files("WARNING: Files with uncommitted changes will be present in the dev container:", &uncommitted);
    }
    let untracked = included(crate::git::untracked_files(&c.dir));
    if !untracked.is_empty() {
        warn_files("WARNING: Untracked files will be present in the dev container:", &untracked);
    }
    let mut env = c.config.builder().secrets()?;
    let builder = Builder::new(&c.config).with_dockerfile_present(c.dir.join(c.config.builder().dockerfile()).exists());
    let build = if buildx {
        builder.push(output_type, true, no_cache).map_err(|e| CliError::runtime(e.to_string()))?
    } else if output_type == "docker" {
        // No buildx: the classic builder writes to the local image store, which is `docker`.
        let tags = [format!("{}-dirty", c.config.absolute_image()), format!("{}-dirty", c.config.latest_image())];
        env.push(("DOCKER_BUILDKIT".into(), "0".into()));
        classic_build(c, &tags, no_cache)
    } else {
        return Err(CliError::new(
            "Kamal::Cli::DependencyError",
            format!("Docker buildx plugin is not installed locally (needed for --output={output_type})"),
        ));
    };
    local::exec_shown(c, &build, &c.dir, &env, true)?;
    Ok(())
}

fn warn_files(heading: &str, files: &[String]) {
    output::say(heading);
    for f in files {
        output::say(&format!("  {f}"));
    }
    output::say("");
}

/// The patterns of a `.dockerignore`, as Docker reads them: one per line, `#` comments, `!`
/// exceptions, a leading `/` ignored, `*` and `?` within a path segment, `**` across any
/// number of them; a pattern that matches a directory excludes what is in it; the last pattern
/// that matches decides.
struct DockerIgnore {
    patterns: Vec<(bool, Vec<String>)>,
}

impl DockerIgnore {
    fn read(path: &Path) -> DockerIgnore {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (exception, pattern) = match l.strip_prefix('!') {
                    Some(p) => (true, p.trim()),
                    None => (false, l),
                };
                let segments = pattern.split('/').filter(|s| !s.is_empty() && *s != ".").map(str::to_string).collect();
                (exception, segments)
            })
            .collect();
        DockerIgnore { patterns }
    }

    /// Whether the build context leaves out `file` (relative to the context).
    fn excludes(&self, file: &str) -> bool {
        let path: Vec<&str> = file.split('/').filter(|s| !s.is_empty()).collect();
        let mut excluded = false;
        for (exception, pattern) in &self.patterns {
            // The file, or a directory it is in.
            let matched = (1..=path.len()).any(|n| segments_match(pattern, &path[..n]));
            if matched {
                excluded = !exception;
            }
        }
        excluded
    }
}

fn segments_match(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => (0..=path.len()).any(|skip| segments_match(rest, &path[skip..])),
        Some((first, rest)) => {
            !path.is_empty() && wildcard_match(first.as_bytes(), path[0].as_bytes()) && segments_match(rest, &path[1..])
        }
    }
}

/// `*` (any run) and `?` (one character) within one segment.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| wildcard_match(rest, &text[skip..])),
        Some((b'?', rest)) => !text.is_empty() && wildcard_match(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && wildcard_match(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::DockerIgnore;

    fn ignore(text: &str) -> DockerIgnore {
        let dir = std::env::temp_dir().join(format!("wharf-dockerignore-{}", fastrand::u64(..)));
        std::fs::write(&dir, text).unwrap();
        let read = DockerIgnore::read(&dir);
        let _ = std::fs::remove_file(&dir);
        read
    }

    #[test]
    fn dockerignore_patterns_as_docker_reads_them() {
        let i = ignore("# comment\n/.git\nlog/*\n**/*.tmp\ntmp\n!tmp/keep\nnode_modules/\n");
        assert!(i.excludes(".git/config"));
        assert!(i.excludes("log/development.log"));
        assert!(!i.excludes("log"));
        assert!(i.excludes("a/b/c.tmp"));
        assert!(i.excludes("x.tmp"));
        assert!(i.excludes("tmp/cache/x"));
        assert!(!i.excludes("tmp/keep"));
        assert!(i.excludes("node_modules/pkg/index.js"));
        assert!(!i.excludes("app/models/user.rb"));
        assert!(!ignore("").excludes("anything"));
    }
}
