//! Differential regression test against Kamal itself. `tests/kamal_outputs/*.out` were produced
//! by running Kamal 2.12's own configuration code (lib/kamal/configuration*, Ruby 3.1, Psych 4,
//! libyaml 0.2.5) on each config: `kamal config` output for version 999, or
//! `ERROR (<Class>): <message>`. Wharf must print exactly the same.
//!
//! - `case_*.yml`: validation and resolution edge cases (one `.out` each);
//! - `dest.yml` + `dest.staging.yml`: ERB with `ENV`, destination merge (`dest.out`,
//!   `dest.staging.out`);
//! - `fixture_<name>[.<destination>].out`: Kamal's test fixtures (wharf-testkit's fixtures/kamal).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use wharf_config::{summary, Configuration, LoadOptions, NoSecrets};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn wharf_output(file: &Path, destination: Option<&str>) -> String {
    let options = LoadOptions {
        config_file: file.to_path_buf(),
        destination: destination.map(String::from),
        version: Some("999".into()),
        env: Default::default(),
        secrets: Arc::new(NoSecrets),
        docker_arch: Some("amd64".into()),
        ..Default::default()
    };
    match Configuration::load(options).and_then(|c| summary::config_yaml(&c)) {
        Ok(s) => s,
        Err(e) => format!("ERROR ({}): {}\n", e.ruby_class(), e),
    }
}

fn expected(name: &str) -> String {
    let mut s = std::fs::read_to_string(dir().join("kamal_outputs").join(name)).unwrap();
    // the outputs were captured with `puts`
    if s.ends_with("\n\n") {
        s.pop();
    }
    s
}

#[test]
fn same_output_as_kamal() {
    let mut checked = 0;
    let mut failures = vec![];
    let mut entries: Vec<String> = std::fs::read_dir(dir().join("kamal_outputs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".out"))
        .collect();
    entries.sort();
    for name in entries {
        let stem = name.trim_end_matches(".out");
        let (file, destination) = if let Some(f) = stem.strip_prefix("fixture_") {
            match f.split_once('.') {
                Some((base, d)) => (wharf_testkit::kamal_fixture_path(&format!("{base}.yml")), Some(d.to_string())),
                None => (wharf_testkit::kamal_fixture_path(&format!("{f}.yml")), None),
            }
        } else {
            match stem.split_once('.') {
                Some((base, d)) => (dir().join("kamal_outputs").join(format!("{base}.yml")), Some(d.to_string())),
                None => (dir().join("kamal_outputs").join(format!("{stem}.yml")), None),
            }
        };
        let mut want = expected(&name);
        if want.starts_with("ERROR") {
            // fixtures and cases are read from different directories under each tool
            let fixtures = wharf_testkit::kamal_fixtures();
            want = want.replace("/work/main/engine/config/tests/fixtures", &fixtures.display().to_string());
        }
        let got = wharf_output(&file, destination.as_deref());
        if got != want {
            failures.push(format!("{name}:\n--- kamal\n{want}--- wharf\n{got}"));
        }
        checked += 1;
    }
    assert!(checked > 90, "only {checked} outputs");
    assert!(failures.is_empty(), "{} differ:\n{}", failures.len(), failures.join("\n"));
}
