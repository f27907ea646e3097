//! `Secrets` end to end on real files in temporary directories: Kamal's `test/secrets_test.rb`,
//! `test/secrets/dotenv_inline_command_substitution_test.rb`, the integration app's
//! `.kamal/secrets` with the `test` adapter, and Wharf's own guarantees (lazy, once, no values in
//! errors or `Debug`).

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use wharf_secrets::cli::print_lines;
use wharf_secrets::{Secrets, SecretsError};

/// A temporary project with `.kamal/<name>` files.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join(".kamal")).unwrap();
    for (name, content) in files {
        fs::write(dir.path().join(".kamal").join(name), content).unwrap();
    }
    dir
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn secrets(dir: &Path, destination: Option<&str>) -> Secrets {
    Secrets::new(destination).with_base_dir(dir).with_env(env(&[]))
}

#[test]
fn fetch() {
    let dir = project(&[("secrets", "SECRET=ABC")]);
    assert_eq!(secrets(dir.path(), None).get("SECRET").unwrap(), "ABC");
}

#[test]
fn key_presence() {
    let dir = project(&[("secrets", "SECRET1=ABC\nBLANK=\"  \"\nEMPTY=")]);
    let s = secrets(dir.path(), None);
    assert!(s.has_key("SECRET1").unwrap());
    assert!(!s.has_key("SECRET2").unwrap());
    // Kamal's `key?` is `present?`: blank values do not count.
    assert!(!s.has_key("BLANK").unwrap());
    assert!(!s.has_key("EMPTY").unwrap());
    assert_eq!(s.get("EMPTY").unwrap(), "");
}

#[test]
fn command_interpolation() {
    let dir = project(&[("secrets", "SECRET=$(echo ABC)")]);
    assert_eq!(secrets(dir.path(), None).get("SECRET").unwrap(), "ABC");
}

#[test]
fn variable_references() {
    let dir = project(&[("secrets", "SECRET1=ABC\nSECRET2=${SECRET1}DEF")]);
    let s = secrets(dir.path(), None);
    assert_eq!(s.get("SECRET1").unwrap(), "ABC");
    assert_eq!(s.get("SECRET2").unwrap(), "ABCDEF");
}

#[test]
fn env_references() {
    let dir = project(&[("secrets", "SECRET1=$SECRET1")]);
    let s = Secrets::new(None).with_base_dir(dir.path()).with_env(env(&[("SECRET1", "ABC")]));
    assert_eq!(s.get("SECRET1").unwrap(), "ABC");
}

#[test]
fn secrets_file_value_overrides_env() {
    let dir = project(&[("secrets", "SECRET1=DEF\nSECRET2=$SECRET1")]);
    let s = Secrets::new(None).with_base_dir(dir.path()).with_env(env(&[("SECRET1", "ABC")]));
    assert_eq!(s.get("SECRET1").unwrap(), "DEF");
    assert_eq!(s.get("SECRET2").unwrap(), "DEF");
}

#[test]
fn process_environment_by_default() {
    // PATH is set in any test run; nothing else about it is assumed.
    let path = std::env::var("PATH").unwrap();
    let dir = project(&[("secrets", "P=$PATH")]);
    assert_eq!(Secrets::new(None).with_base_dir(dir.path()).get("P").unwrap(), path);
}

#[test]
fn destinations() {
    let dir = project(&[
        ("secrets.dest", "SECRET=DEF"),
        ("secrets", "SECRET=ABC"),
        ("secrets-common", "SECRET=GHI\nSECRET2=JKL"),
    ]);
    assert_eq!(secrets(dir.path(), None).get("SECRET").unwrap(), "ABC");
    assert_eq!(secrets(dir.path(), Some("dest")).get("SECRET").unwrap(), "DEF");
    assert_eq!(secrets(dir.path(), Some("nodest")).get("SECRET").unwrap(), "GHI");

    assert_eq!(secrets(dir.path(), None).get("SECRET2").unwrap(), "JKL");
    assert_eq!(secrets(dir.path(), Some("dest")).get("SECRET2").unwrap(), "JKL");
    assert_eq!(secrets(dir.path(), Some("nodest")).get("SECRET2").unwrap(), "JKL");

    let s = secrets(dir.path(), Some("dest"));
    assert_eq!(s.secrets_filenames(), [".kamal/secrets-common", ".kamal/secrets.dest"]);
    assert_eq!(s.secrets_files(), [".kamal/secrets-common", ".kamal/secrets.dest"]);
    // Common first, overridden in place, then the destination's new keys.
    assert_eq!(s.names().unwrap(), ["SECRET", "SECRET2"]);
    assert_eq!(print_lines(&s.to_map().unwrap()), "SECRET=DEF\nSECRET2=JKL\n");
}

#[test]
fn no_secrets_files() {
    let dir = project(&[]);
    let err = secrets(dir.path(), None).get("SECRET").unwrap_err();
    assert!(matches!(err, SecretsError::NoSecretFiles { .. }));
    assert_eq!(
        err.to_string(),
        "Secret 'SECRET' not found, no secret files (.kamal/secrets-common, .kamal/secrets) provided"
    );
    let err = secrets(dir.path(), Some("dest")).get("SECRET").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Secret 'SECRET' not found, no secret files (.kamal/secrets-common, .kamal/secrets.dest) provided"
    );
}

#[test]
fn missing_secret_lists_the_files_that_exist() {
    let dir = project(&[("secrets-common", "A=1"), ("secrets", "B=2")]);
    let err = secrets(dir.path(), None).get("X").unwrap_err();
    assert_eq!(err.to_string(), "Secret 'X' not found in .kamal/secrets-common, .kamal/secrets");
    let SecretsError::NotFound { name, files } = err else { panic!() };
    assert_eq!((name.as_str(), files.len()), ("X", 2));

    let only_main = project(&[("secrets", "B=2")]);
    let err = secrets(only_main.path(), None).get("X").unwrap_err();
    assert_eq!(err.to_string(), "Secret 'X' not found in .kamal/secrets");

    let only_common = project(&[("secrets-common", "A=1")]);
    let err = secrets(only_common.path(), Some("prod")).get("X").unwrap_err();
    assert_eq!(err.to_string(), "Secret 'X' not found in .kamal/secrets-common");
}

#[test]
fn custom_secrets_path() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("custom/path")).unwrap();
    let err = Secrets::new(None)
        .with_base_dir(dir.path())
        .with_secrets_path("custom/path/secrets")
        .get("SECRET")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Secret 'SECRET' not found, no secret files (custom/path/secrets-common, custom/path/secrets) provided"
    );

    fs::write(dir.path().join("custom/path/secrets"), "SECRET=BASE").unwrap();
    fs::write(dir.path().join("custom/path/secrets.prod"), "SECRET=PROD").unwrap();
    let custom = |dest: Option<&str>| secrets(dir.path(), dest).with_secrets_path("custom/path/secrets");
    assert_eq!(custom(None).get("SECRET").unwrap(), "BASE");
    assert_eq!(custom(Some("prod")).get("SECRET").unwrap(), "PROD");

    fs::write(dir.path().join("custom/path/secrets-common"), "COMMON=SHARED\nSECRET=COMMON").unwrap();
    fs::write(dir.path().join("custom/path/secrets"), "SECRET=OVERRIDE").unwrap();
    let s = custom(None);
    assert_eq!(s.get("COMMON").unwrap(), "SHARED");
    assert_eq!(s.get("SECRET").unwrap(), "OVERRIDE");
}

#[test]
fn files_are_parsed_separately() {
    // Each file is its own dotenv parse: `$COMMON` in .kamal/secrets sees the environment, not
    // .kamal/secrets-common (as in Kamal).
    let dir = project(&[("secrets-common", "COMMON=from-common"), ("secrets", "A=[$COMMON]")]);
    let s = Secrets::new(None).with_base_dir(dir.path()).with_env(env(&[("COMMON", "from-env")]));
    assert_eq!(s.get("A").unwrap(), "[from-env]");
    assert_eq!(s.get("COMMON").unwrap(), "from-common");
}

#[test]
fn print() {
    let dir = project(&[("secrets", "SECRET1=ABC\nSECRET2=${SECRET1}DEF\n")]);
    assert_eq!(print_lines(&secrets(dir.path(), None).to_map().unwrap()), "SECRET1=ABC\nSECRET2=ABCDEF\n");
}

#[test]
fn inline_kamal_secrets_with_the_test_adapter() {
    let file = "SECRETS=$(kamal secrets fetch --adapter test --account x A B)\nA=$(kamal secrets extract A $SECRETS)\n\
                LONG=$(kamal secrets fetch --adapter test --account x --from vault SECRET_ONE)\n\
                ONE=$(wharf secrets extract SECRET_ONE ${LONG})\n";
    let dir = project(&[("secrets", file)]);
    let s = secrets(dir.path(), None);
    assert_eq!(s.get("A").unwrap(), "A");
    // The fetch result is kept shell-escaped, as Kamal keeps it.
    assert_eq!(s.get("SECRETS").unwrap(), r#"\{\"A\":\"A\",\"B\":\"B\"\}"#);
    assert_eq!(s.get("LONG").unwrap(), r#"\{\"vault/SECRET_ONE\":\"ENO_TERCES/tluav\"\}"#);
    assert_eq!(s.get("ONE").unwrap(), "ENO_TERCES/tluav");
}

#[test]
fn kamal_integration_app_secrets() {
    // test/integration/docker/deployer/app/.kamal/secrets and what main_test.rb expects of it.
    let secrets_file = "SECRETS=$(kamal secrets fetch --adapter test --account test INTERPOLATED_SECRET1 INTERPOLATED_SECRET2 INTERPOLATED_中文 INTERPOLATED_LPARENRPAREN)\n\
INTERPOLATED_SECRET1=$(kamal secrets extract INTERPOLATED_SECRET1 ${SECRETS})\n\
INTERPOLATED_SECRET2=$(kamal secrets extract INTERPOLATED_SECRET2 ${SECRETS})\n\
INTERPOLATED_SECRET3=$(kamal secrets extract INTERPOLATED_中文 ${SECRETS})\n\
INTERPOLATED_SECRET4=$(kamal secrets extract INTERPOLATED_LPARENRPAREN ${SECRETS})\n";
    let common = "SECRET_TOKEN='1234 with \"中文\"'\nSECRET_TAG='TAGME'\n";
    let dir = project(&[("secrets", secrets_file), ("secrets-common", common)]);
    let s = secrets(dir.path(), None);
    assert_eq!(s.get("SECRET_TOKEN").unwrap(), "1234 with \"中文\"");
    assert_eq!(s.get("SECRET_TAG").unwrap(), "TAGME");
    assert_eq!(s.get("INTERPOLATED_SECRET1").unwrap(), "1TERCES_DETALOPRETNI");
    assert_eq!(s.get("INTERPOLATED_SECRET2").unwrap(), "2TERCES_DETALOPRETNI");
    assert_eq!(s.get("INTERPOLATED_SECRET3").unwrap(), "文中_DETALOPRETNI");
    assert_eq!(s.get("INTERPOLATED_SECRET4").unwrap(), ")(_DETALOPRETNI");
}

#[test]
fn inline_hook_gets_argv_after_secrets_with_inline() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let hook = Box::new(move |argv: &[String]| {
        seen.lock().unwrap().push(argv.to_vec());
        Ok("results\n".to_string())
    });
    let file = "FOO=$(kamal secrets fetch ...)\nBAR=$( wharf  secrets extract 'a b' \"c\" )\nBAZ=$(kamalsecrets x)";
    let dir = project(&[("secrets", file)]);
    let s = secrets(dir.path(), None).with_inline_hook(hook);
    let err = s.get("FOO").unwrap_err();
    // `kamalsecrets x` matches Kamal's regex and reaches Thor as command `x`.
    assert_eq!(err.to_string(), "Could not find command \"x\".");
    assert_eq!(calls.lock().unwrap().len(), 2);

    let file = "FOO=$(kamal secrets fetch ...)\nBAR=$( wharf  secrets extract 'a b' \"c\" )";
    let dir = project(&[("secrets", file)]);
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let hook = Box::new(move |argv: &[String]| {
        seen.lock().unwrap().push(argv.to_vec());
        Ok("results\n".to_string())
    });
    let s = secrets(dir.path(), None).with_inline_hook(hook);
    assert_eq!(s.get("FOO").unwrap(), "results");
    assert_eq!(s.get("BAR").unwrap(), "results");
    assert_eq!(*calls.lock().unwrap(), [vec!["fetch", "...", "--inline"], vec!["extract", "a b", "c", "--inline"]]);
}

#[test]
fn inline_escaped_parentheses_reach_the_hook_unescaped() {
    // Kamal's "handles escaped parentheses in command arguments"; in a file the backslashes are
    // doubled, since dotenv unescapes the value before substituting.
    let file = r#"KEY1=$(kamal secrets extract KEY1 \\{\\"KEY1\\":\\"pass\\)word\\"\\})"#;
    let dir = project(&[("secrets", file)]);
    let s = secrets(dir.path(), None);
    assert_eq!(s.get("KEY1").unwrap(), "pass)word");
}

#[test]
fn inline_errors_are_kamals_messages() {
    let dir = project(&[("secrets", "A=$(kamal secrets extract A {})")]);
    let err = secrets(dir.path(), None).get("A").unwrap_err();
    assert_eq!(err.to_string(), "Could not find secret A");
    let SecretsError::Command { file, command, .. } = &err else { panic!("{err:?}") };
    assert_eq!((file.as_str(), command.as_str()), (".kamal/secrets", "kamal secrets extract A {}"));

    let dir = project(&[("secrets", "A=$(kamal secrets fetch -a nope x)")]);
    assert_eq!(secrets(dir.path(), None).get("A").unwrap_err().to_string(), "Unknown secrets adapter: nope");
}

#[test]
fn shell_failures_name_command_and_file_not_values() {
    let dir = project(&[
        ("secrets-common", "TOKEN=hunter2"),
        ("secrets", "TOKEN=hunter2\nA=$(echo $TOKEN >/dev/null; exit 4)"),
    ]);
    let err = secrets(dir.path(), None).get("A").unwrap_err();
    assert_eq!(err.to_string(), "Command `echo $TOKEN >/dev/null; exit 4` in .kamal/secrets failed: exit status 4");
    assert!(!format!("{err:?}").contains("hunter2"));
    assert!(!err.to_string().contains("hunter2"));
}

#[test]
fn shell_commands_run_in_the_base_directory() {
    let dir = project(&[("secrets", "KEY=$(cat config/master.key)")]);
    fs::create_dir_all(dir.path().join("config")).unwrap();
    fs::write(dir.path().join("config/master.key"), "abc123\n").unwrap();
    assert_eq!(secrets(dir.path(), None).get("KEY").unwrap(), "abc123");
}

#[test]
fn export_of_unset_variable() {
    let dir = project(&[("secrets", "A=1\nexport B")]);
    let err = secrets(dir.path(), None).get("A").unwrap_err();
    assert_eq!(err.to_string(), r#"Line "export B" has an unset variable"#);
    assert!(matches!(err, SecretsError::UnsetVariable { ref file, .. } if file == ".kamal/secrets"));
}

#[test]
fn unreadable_and_odd_files() {
    let dir = project(&[("secrets-common", "A=1")]);
    fs::create_dir_all(dir.path().join(".kamal/secrets")).unwrap();
    // A directory exists (so it is listed) but reads as empty, as Dotenv.parse ignores EISDIR.
    let s = secrets(dir.path(), None);
    assert_eq!(s.get("A").unwrap(), "1");
    assert_eq!(s.get("B").unwrap_err().to_string(), "Secret 'B' not found in .kamal/secrets-common, .kamal/secrets");

    let dir = project(&[]);
    fs::write(dir.path().join(".kamal/secrets"), b"A=\xff\xfe").unwrap();
    let err = secrets(dir.path(), None).get("A").unwrap_err();
    assert_eq!(err.to_string(), "invalid byte sequence in UTF-8");
}

#[test]
fn loads_lazily_and_once() {
    let dir = project(&[]);
    let s = secrets(dir.path(), None);
    // Nothing is read at construction: a file written before the first access counts.
    fs::write(dir.path().join(".kamal/secrets"), "A=$(echo run >> runs.log; echo first)").unwrap();
    let s = Arc::new(s);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || s.get("A").unwrap())
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), "first");
    }
    assert_eq!(fs::read_to_string(dir.path().join("runs.log")).unwrap(), "run\n");
    // Later changes are not seen.
    fs::write(dir.path().join(".kamal/secrets"), "A=second").unwrap();
    assert_eq!(s.get("A").unwrap(), "first");
}

#[test]
fn a_failed_load_is_retried() {
    let dir = project(&[("secrets", "A=$(cat flag)")]);
    let s = secrets(dir.path(), None);
    assert!(matches!(s.get("A"), Err(SecretsError::Command { .. })));
    fs::write(dir.path().join("flag"), "ok").unwrap();
    assert_eq!(s.get("A").unwrap(), "ok");
}

#[test]
fn recursive_loading_is_an_error_not_a_deadlock() {
    let cell: Arc<OnceLock<Arc<Secrets>>> = Arc::new(OnceLock::new());
    let inner = cell.clone();
    let hook = Box::new(move |_: &[String]| inner.get().unwrap().get("A").map_err(|e| e.to_string()));
    let dir = project(&[("secrets", "A=$(kamal secrets print)")]);
    let s = Arc::new(secrets(dir.path(), None).with_inline_hook(hook));
    cell.set(s.clone()).unwrap();
    let err = s.get("A").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Secrets in .kamal/secrets are already being loaded: a command in them reads the secrets"
    );
}

#[test]
fn debug_never_shows_values() {
    let dir = project(&[("secrets", "PASSWORD=hunter2")]);
    let s = secrets(dir.path(), None);
    assert_eq!(s.get("PASSWORD").unwrap(), "hunter2");
    let debug = format!("{s:?}");
    assert!(debug.contains("PASSWORD") && debug.contains("[REDACTED]"), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(!format!("{:?}", s.to_map().unwrap()).contains("hunter2"));
}

#[test]
fn from_map_needs_no_files() {
    let s = Secrets::from_map([("A", "1")].into_iter().collect());
    assert_eq!(s.get("A").unwrap(), "1");
    assert_eq!(s.names().unwrap(), ["A"]);
}
