//! Differential test: every template in `cases.txt` rendered by the built-in evaluator gives
//! what Kamal's own Ruby gave (`cases.expected.txt`, recorded by `scripts/record-erb-cases`):
//! the same text, or the same exception class and message. Each template renders in a fresh
//! evaluator in `tests/fixtures` with the recorder's fixed environment.

use std::collections::HashMap;
use std::path::PathBuf;
use wharf_erb::{Context, Evaluator, RenderError};

fn fixed_env() -> HashMap<String, String> {
    [
        ("HOME", "/home/wharf"),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "C.UTF-8"),
        ("TZ", "UTC"),
        ("A", "1"),
        ("EMPTY", ""),
        ("HOSTS", "10.0.0.1, 10.0.0.2,10.0.0.3"),
        ("RAILS_ENV", "production"),
        ("URL", "postgres://user:secret@db.example.com:5432/app_production?pool=5"),
        ("DOCKER_HOST", "unix:///nonexistent/docker.sock"),
        ("GIT_DIR", "/nonexistent/.git"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `(name, text)` sections split on `=== name` lines.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![];
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("=== ") {
            out.push((name.trim_end().to_string(), String::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line);
        }
    }
    out
}

#[test]
fn same_as_kamals_ruby() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests");
    let fixtures = dir.join("fixtures");
    let cases = sections(&std::fs::read_to_string(dir.join("cases.txt")).unwrap());
    let expected: HashMap<String, String> =
        sections(&std::fs::read_to_string(dir.join("cases.expected.txt")).unwrap()).into_iter().collect();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let mut failures = vec![];
    for (name, template) in &cases {
        let (mut ctx, _out, _err) = Context::captured(fixed_env(), fixtures.clone());
        ctx.kamal_version = "2.11.0".into();
        let mut evaluator = Evaluator::new(ctx);
        let got = match evaluator.render(template) {
            Ok(s) => format!("OK\n{s}"),
            Err(RenderError::Raised { class, message, .. }) => format!("ERROR ({class}): {message}"),
            Err(RenderError::Exit(code)) => format!("EXIT {code}"),
            Err(other) => format!("NOT BUILT IN: {other:?}"),
        };
        let mut got = got.replace(&fixtures.display().to_string(), "@DIR@");
        if !got.ends_with('\n') {
            got.push('\n');
        }
        let want = &expected[name];
        if &got != want {
            failures.push(format!("--- {name}\nruby:\n{want}wharf:\n{got}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
