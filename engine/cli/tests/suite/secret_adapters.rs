//! Kamal's secrets adapters as Wharf's built-in plugins, through the `wharf` binary, with the
//! fake vendor CLIs of `plugins/builtin/fake-clis` first on `PATH`:
//! - side by side with the real Kamal (2.11): the same `secrets fetch` in two copies of the same
//!   fake vault must print the same thing (or the same `ERROR (Class): message`) and make the
//!   same CLI calls in the same order (skipped, saying why, when Kamal is not installed);
//! - `$(kamal secrets fetch ...)` / `$(wharf secrets ...)` lines of `.kamal/secrets` through
//!   `wharf secrets print`;
//! - the errors Wharf prints.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::{json, Value};

const KAMAL_VENV: &str = "/opt/wharf-kamal-venv";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// `$KAMAL_BIN`, else the venv's Kamal, if it runs.
fn kamal_bin() -> Option<PathBuf> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin =
            std::env::var_os("KAMAL_BIN").map(PathBuf::from).unwrap_or_else(|| Path::new(KAMAL_VENV).join("bin/kamal"));
        let ok = Command::new(&bin).arg("version").output().map(|o| o.status.success()).unwrap_or(false);
        ok.then_some(bin)
    })
    .clone()
}

/// A fake vault (`<tool>.json` files, `calls.log`) and a working directory.
struct Vault {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Vault {
    fn new(files: &[(&str, Value)]) -> Vault {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("vault")).unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        for (tool, data) in files {
            std::fs::write(dir.path().join("vault").join(format!("{tool}.json")), data.to_string()).unwrap();
        }
        Vault { dir, env: vec![] }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.path().join("vault/calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Runs `program args` in the vault's directory with the fakes first on PATH.
    fn run(&self, program: &Path, args: &[&str]) -> Output {
        let path = format!("{}:{}", repo().join("plugins/builtin/fake-clis").display(), std::env::var("PATH").unwrap());
        Runner::new(program, self.path())
            .env("PATH", path)
            .env("HOME", self.path().join("home"))
            // Wharf's precompiled plugins, kept across tests and runs.
            .env("XDG_CACHE_HOME", Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"))
            .env("WHARF_FAKE_CLI_DIR", self.path().join("vault"))
            .env_remove("DOPPLER_TOKEN")
            .env_remove("BW_SESSION")
            .env_remove("BWS_ACCESS_TOKEN")
            .envs(self.env.iter().cloned())
            .run(args)
    }

    fn wharf(&self, args: &[&str]) -> Output {
        self.run(Path::new(crate::WHARF), args)
    }
}

use wharf_testkit::runner::{stderr, stdout, Runner};

/// The `ERROR (Class): message` line of an output (Kamal prints it on stdout, Wharf on stderr),
/// colours removed.
fn error_line(text: &str) -> Option<String> {
    let plain = text.replace("\u{1b}[31m", "").replace("\u{1b}[0m", "");
    plain.lines().find(|l| l.trim_start().starts_with("ERROR (")).map(|l| l.trim().to_string())
}

/// What `secrets fetch` gave: the JSON printed, or the error line.
fn outcome(o: &Output) -> String {
    match error_line(&stdout(o)).or_else(|| error_line(&stderr(o))) {
        Some(e) => e,
        None => stdout(o),
    }
}

/// One side-by-side case: the vault, the environment and the `secrets fetch` arguments.
struct Case {
    name: &'static str,
    files: Vec<(&'static str, Value)>,
    env: Vec<(&'static str, &'static str)>,
    args: Vec<&'static str>,
    /// What both must print (the JSON, or the error line).
    expect: &'static str,
}

fn case(name: &'static str, files: Vec<(&'static str, Value)>, args: &[&'static str], expect: &'static str) -> Case {
    Case { name, files, env: vec![], args: args.to_vec(), expect }
}

/// Runs Wharf (and Kamal, when installed) on a case; returns Wharf's calls.
fn side_by_side(c: &Case, kamal: Option<&Path>, differences: impl Fn(&mut Vec<String>)) -> Vec<String> {
    let mut args = vec!["secrets", "fetch"];
    args.extend(c.args.iter().copied());
    let mut w = Vault::new(&c.files);
    w.env = c.env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let wo = w.wharf(&args);
    assert_eq!(
        outcome(&wo).trim_end(),
        c.expect,
        "{}: wharf {args:?}\nstdout: {}\nstderr: {}",
        c.name,
        stdout(&wo),
        stderr(&wo)
    );
    assert_eq!(wo.status.success(), !c.expect.starts_with("ERROR"), "{}: exit status", c.name);
    if let Some(kamal) = kamal {
        let mut k = Vault::new(&c.files);
        k.env = w.env.clone();
        let ko = k.run(kamal, &args);
        assert_eq!(
            outcome(&ko).trim_end(),
            c.expect,
            "{}: kamal {args:?}\nstdout: {}\nstderr: {}",
            c.name,
            stdout(&ko),
            stderr(&ko)
        );
        let mut wharf_calls = w.calls();
        differences(&mut wharf_calls);
        assert_eq!(k.calls(), wharf_calls, "{}: the calls differ (left: Kamal, right: Wharf)", c.name);
    }
    w.calls()
}

fn kamal_or_announce(test: &str) -> Option<PathBuf> {
    let k = kamal_bin();
    if k.is_none() {
        wharf_testkit::skip_without_tool(
            &format!("the Kamal side of {test}"),
            "Kamal is not installed (bash scripts/install-kamal); Wharf alone is checked",
        );
    }
    k
}

fn op_data(signed_in: bool) -> Value {
    let field = |item: &str, section: &str, label: &str, value: &str| {
        json!({"id": "aaaa", "section": {"id": "cccc", "label": section}, "type": "CONCEALED", "label": label,
               "value": value, "reference": format!("op://myvault/{item}/{section}/{label}")})
    };
    json!({
        "accounts": {"myaccount": {"signed_in": signed_in, "session": "1234567890"}},
        "vaults": {"myvault": {
            "myitem": {"fields": [field("myitem", "section", "SECRET1", "VALUE1"), field("myitem", "section", "SECRET2", "VALUE2")]},
            "myitem2": {"fields": [field("myitem2", "section2", "SECRET3", "VALUE3")]},
        }}
    })
}

fn bw_data(status: &str) -> Value {
    json!({
        "account": "email@example.com", "status": status, "session": "0987654321",
        "items": {
            "mypassword": {"object": "item", "name": "mypassword", "type": 1, "login": {"username": null, "password": "secret123"}},
            "myitem": {"object": "item", "type": 1, "login": {"password": null},
                       "fields": [{"name": "field1", "value": "secret1", "type": 1}, {"name": "field2", "value": "s p$a'c\"e", "type": 1}]},
            "mynote": {"object": "item", "type": 2, "notes": "NOTES", "secureNote": {"type": 0}},
        }
    })
}

fn bws_data() -> Value {
    json!({
        "access_token": "tok",
        "projects": [{"id": "82aeb5bd-6958-4a89-8197-eacab758acce", "name": "p"}],
        "secrets": [
            {"id": "82aeb5bd-6958-4a89-8197-eacab758acce", "key": "KAMAL_REGISTRY_PASSWORD", "value": "some_password",
             "projectId": "82aeb5bd-6958-4a89-8197-eacab758acce"},
            {"id": "6f8cdf27-de2b-4c77-a35d-07df8050e332", "key": "MY_OTHER_SECRET", "value": "my=wierd\"secret", "projectId": null},
        ]
    })
}

fn lpass_data(logged_in: bool) -> Value {
    json!({
        "account": "email@example.com", "logged_in": logged_in,
        "entries": [
            {"id": "1", "name": "SECRET1", "fullname": "SECRET1", "password": "secret1"},
            {"id": "2", "name": "FSECRET1", "fullname": "FOLDER1/FSECRET1", "password": "fsecret1"},
        ]
    })
}

fn doppler_data(logged_in: bool) -> Value {
    json!({
        "logged_in": logged_in,
        "projects": {"my-project": {"prd": {"SECRET1": "secret1", "FSECRET1": "fsecret1"}}},
        "service_tokens": {"dp.st.xxxxxxxxxxxxxxxxxxxxxx": "my-project/prd"}
    })
}

fn aws_data() -> Value {
    json!({
        "profiles": ["default"],
        "secrets": {"secret": "{\"KEY1\":\"VALUE1\", \"KEY2\":\"VALUE2\"}", "plain": "a-string-secret"}
    })
}

fn gcloud_data(accounts: &[&str]) -> Value {
    json!({
        "accounts": accounts, "login_account": "email@example.com", "default_project": "dp",
        "service_accounts": ["sa@example.com"],
        "projects": {"dp": {"mypassword": ["secret123"]}, "some-project": {"item1": ["secret1", "secret1-v2"]}}
    })
}

fn passbolt_data() -> Value {
    let p = "dcbe0e39-42d8-42db-9637-8256b9f2f8e3";
    json!({
        "folders": [{"id": p, "name": "my-project", "folder_parent_id": ""},
                    {"id": "6a3f21fc-aa40-4ba9-852c-7477fdd0310d", "name": "subfolder", "folder_parent_id": p}],
        "resources": [
            {"id": "r1", "name": "SECRET1", "password": "secret1", "folder_parent_id": ""},
            {"id": "r2", "name": "FSECRET1", "password": "p-fsecret1", "folder_parent_id": p},
            {"id": "r3", "name": "SSECRET", "password": "s-secret", "folder_parent_id": "6a3f21fc-aa40-4ba9-852c-7477fdd0310d"},
        ]
    })
}

fn enpass_data() -> Value {
    let e = |title: &str, label: &str, pw: &str| json!({"title": title, "label": label, "password": pw});
    json!({"vaults": {"vault-path": [e("FooBar", "SECRET_1", "my-password-1"), e("FooBar", "SECRET_2", "my-password-2"), e("FooBar", "", "p3")]}})
}

#[test]
fn fetch_side_by_side_with_kamal() {
    let kamal = kamal_or_announce("fetch_side_by_side_with_kamal");
    let kamal = kamal.as_deref();
    let cases = vec![
        // 1Password
        case("op signin", vec![("op", op_data(false))],
            &["-a", "1password", "--account", "myaccount", "--from", "op://myvault", "myitem/section/SECRET1", "myitem/section/SECRET2", "myitem2/section2/SECRET3"],
            r#"{"myvault/myitem/section/SECRET1":"VALUE1","myvault/myitem/section/SECRET2":"VALUE2","myvault/myitem2/section2/SECRET3":"VALUE3"}"#),
        // `op signin --raw` ends its session with a newline: Kamal passes it on, escaped as `\n`.
        case("op signin newline", vec![("op", { let mut d = op_data(false); d["accounts"]["myaccount"]["session"] = json!("1234567890\n"); d })],
            &["-a", "1password", "--account", "myaccount", "myvault/myitem/section/SECRET1"],
            r#"{"myvault/myitem/section/SECRET1":"VALUE1"}"#),
        case("op fetch all", vec![("op", op_data(true))], &["-a", "1password", "--account", "myaccount", "--from", "op://myvault/myitem"],
            r#"{"myvault/myitem/section/SECRET1":"VALUE1","myvault/myitem/section/SECRET2":"VALUE2"}"#),
        case("op not installed", vec![("op", json!({"version_fails": true}))], &["-a", "1password", "--account", "a", "x/y"],
            "ERROR (RuntimeError): 1Password CLI is not installed"),
        case("op login fails", vec![("op", json!({}))], &["-a", "1password", "--account", "a", "x/y"],
            "ERROR (RuntimeError): Failed to login to 1Password"),
        case("op missing field", vec![("op", op_data(true))], &["-a", "1password", "--account", "myaccount", "myvault/myitem/section/NOPE"],
            "ERROR (RuntimeError): Could not read section.NOPE from myitem in the myvault 1Password vault"),
        case("op no account", vec![], &["-a", "1password", "x"], "No value provided for required options '--account'"),
        // Bitwarden
        case("bw login and unlock", vec![("bw", bw_data("unauthenticated"))],
            &["-a", "bitwarden", "--account", "email@example.com", "mypassword", "myitem/field1", "myitem/field2"],
            r#"{"mypassword":"secret123","myitem/field1":"secret1","myitem/field2":"s p$a'c\"e"}"#),
        case("bw unlocked from", vec![("bw", bw_data("unlocked"))], &["-a", "bitwarden", "--account", "email@example.com", "--from", "myitem", "field1"],
            r#"{"myitem/field1":"secret1"}"#),
        case("bw note", vec![("bw", bw_data("unlocked"))], &["-a", "bitwarden", "--account", "email@example.com", "mynote"],
            "ERROR (RuntimeError): Item mynote is not a login type item and no fields were specified"),
        case("bw wrong account", vec![("bw", bw_data("unauthenticated"))], &["-a", "bitwarden", "--account", "x@example.com", "mypassword"],
            "ERROR (RuntimeError): Failed to login to and unlock Bitwarden"),
        case("bw missing item", vec![("bw", bw_data("unlocked"))], &["-a", "bitwarden", "--account", "email@example.com", "nope"],
            "ERROR (RuntimeError): Could not read nope from Bitwarden"),
        // Bitwarden Secrets Manager
        Case { env: vec![("BWS_ACCESS_TOKEN", "tok")], ..case("bws get", vec![("bws", bws_data())],
            &["-a", "bitwarden-sm", "82aeb5bd-6958-4a89-8197-eacab758acce", "6f8cdf27-de2b-4c77-a35d-07df8050e332"],
            r#"{"KAMAL_REGISTRY_PASSWORD":"some_password","MY_OTHER_SECRET":"my=wierd\"secret"}"#) },
        Case { env: vec![("BWS_ACCESS_TOKEN", "tok")], ..case("bws project all", vec![("bws", bws_data())],
            &["-a", "bitwarden-sm", "--from", "82aeb5bd-6958-4a89-8197-eacab758acce", "all"],
            r#"{"KAMAL_REGISTRY_PASSWORD":"some_password"}"#) },
        case("bws no token", vec![("bws", bws_data())], &["-a", "bitwarden-sm", "all"],
            "ERROR (RuntimeError): Could not authenticate to Bitwarden Secrets Manager. Did you set a valid access token?"),
        Case { env: vec![("BWS_ACCESS_TOKEN", "tok")], ..case("bws nothing", vec![("bws", bws_data())], &["-a", "bitwarden-sm"],
            "ERROR (RuntimeError): You must specify what to retrieve from Bitwarden Secrets Manager") },
        // LastPass
        case("lpass login", vec![("lpass", lpass_data(false))], &["-a", "lastpass", "--account", "email@example.com", "SECRET1", "FOLDER1/FSECRET1"],
            r#"{"SECRET1":"secret1","FOLDER1/FSECRET1":"fsecret1"}"#),
        case("lpass by name", vec![("lpass", lpass_data(true))], &["-a", "lastpass", "--account", "email@example.com", "FSECRET1"],
            "ERROR (RuntimeError): Could not find FSECRET1 in LastPass"),
        case("lpass missing", vec![("lpass", lpass_data(true))], &["-a", "lastpass", "--account", "email@example.com", "--from", "F", "A", "B"],
            r#"ERROR (RuntimeError): Could not read ["F/A", "F/B"] from LastPass"#),
        // Doppler
        case("doppler login", vec![("doppler", doppler_data(false))], &["-a", "doppler", "--from", "my-project/prd", "SECRET1", "FSECRET1"],
            r#"{"SECRET1":"secret1","FSECRET1":"fsecret1"}"#),
        Case { env: vec![("DOPPLER_TOKEN", "dp.st.xxxxxxxxxxxxxxxxxxxxxx")], ..case("doppler service token", vec![("doppler", doppler_data(false))],
            &["-a", "doppler", "SECRET1"], r#"{"SECRET1":"secret1"}"#) },
        case("doppler no project", vec![("doppler", doppler_data(true))], &["-a", "doppler", "SECRET1"],
            "ERROR (RuntimeError): Missing project or config from '--from=project/config' option"),
        // AWS
        case("aws", vec![("aws", aws_data())], &["-a", "aws_secrets_manager", "--account", "default", "secret", "plain"],
            r#"{"secret/KEY1":"VALUE1","secret/KEY2":"VALUE2","plain":"a-string-secret"}"#),
        case("aws errors", vec![("aws", aws_data())], &["-a", "aws_secrets_manager", "unknown1", "unknown2"],
            "ERROR (RuntimeError): unknown1: Secrets Manager can't find the specified secret. unknown2: Secrets Manager can't find the specified secret."),
        case("aws bad profile", vec![("aws", aws_data())], &["-a", "aws_secrets_manager", "--account", "nope", "secret"],
            "ERROR (RuntimeError): Could not read  from AWS Secrets Manager"),
        // GCP
        case("gcp login", vec![("gcloud", gcloud_data(&[]))], &["-a", "gcp", "--account", "default", "mypassword"],
            r#"{"default/mypassword":"secret123"}"#),
        case("gcp impersonation", vec![("gcloud", gcloud_data(&["email@example.com"]))],
            &["-a", "gcp_secret_manager", "--account", "email@example.com|sa@example.com", "some-project/item1/1", "some-project/item1"],
            r#"{"some-project/item1":"secret1-v2"}"#),
        case("gcp no login", vec![("gcloud", json!({}))], &["-a", "gcp", "--account", "default", "x"],
            "ERROR (RuntimeError): could not login to gcloud"),
        // Enpass
        case("enpass", vec![("enpass-cli", enpass_data())], &["-a", "enpass", "--from", "vault-path", "FooBar/SECRET_1", "FooBar"],
            r#"{"FooBar/SECRET_1":"my-password-1","FooBar/SECRET_2":"my-password-2","FooBar":"p3"}"#),
        case("enpass not installed", vec![("enpass-cli", json!({"version_fails": true}))], &["-a", "enpass", "--from", "v", "x"],
            "ERROR (RuntimeError): Enpass CLI is not installed"),
        // Errors of other Ruby classes
        case("passbolt nothing", vec![("passbolt", passbolt_data())], &["-a", "passbolt"],
            "ERROR (ArgumentError): No secrets given to fetch"),
        case("enpass no vault", vec![("enpass-cli", enpass_data())], &["-a", "enpass", "--from", "nope", "x"],
            "ERROR (JSON::ParserError): unexpected end of input at line 1 column 1"),
        case("enpass no from", vec![("enpass-cli", enpass_data())], &["-a", "enpass", "x"],
            "ERROR (NoMethodError): undefined method `shellescape' for nil"),
        case("op fetch all without from", vec![("op", op_data(true))], &["-a", "1password", "--account", "myaccount"],
            "ERROR (NoMethodError): undefined method `delete_prefix' for nil"),
        // What Kamal's Ruby raises on unexpected output
        case("op not json", vec![("op", json!({"accounts": {"a": {"signed_in": true}}, "raw_item_output": "garbage here\nline2\n"}))],
            &["-a", "1password", "--account", "a", "v/i/f"],
            "ERROR (JSON::ParserError): unexpected character: 'garbage' at line 1 column 1"),
        case("op bad json", vec![("op", json!({"accounts": {"a": {"signed_in": true}}, "raw_item_output": "  {\"a\": tru}"}))],
            &["-a", "1password", "--account", "a", "v/i/f"],
            "ERROR (JSON::ParserError): unexpected token 'tru}' at line 1 column 9"),
        case("op empty", vec![("op", json!({"accounts": {"a": {"signed_in": true}}, "raw_item_output": ""}))],
            &["-a", "1password", "--account", "a", "v/i/f"],
            "ERROR (JSON::ParserError): unexpected end of input at line 1 column 1"),
        case("op numbers", vec![("op", json!({"accounts": {"a": {"signed_in": true}}, "raw_item_output": "[1,2]"}))],
            &["-a", "1password", "--account", "a", "v/i/f", "v/i/g"],
            "ERROR (TypeError): no implicit conversion of String into Integer"),
        case("op object", vec![("op", json!({"accounts": {"a": {"signed_in": true}}, "raw_item_output": "{\"a\":1}"}))],
            &["-a", "1password", "--account", "a", "v/i/f", "v/i/g"],
            "ERROR (NoMethodError): undefined method `delete_prefix' for nil"),
        case("op null", vec![("op", json!({"accounts": {"a": {"signed_in": true}}, "raw_item_output": "[null]"}))],
            &["-a", "1password", "--account", "a", "v/i/f", "v/i/g"],
            "ERROR (NoMethodError): undefined method `[]' for nil"),
        // Unknown adapters
        case("unknown", vec![], &["-a", "nope", "x"], "ERROR (RuntimeError): Unknown secrets adapter: nope"),
    ];
    // Two cases at a time: each starts Kamal (Ruby, about 2 CPU-seconds), and this is the
    // suite's longest test without servers, often the last one running.
    std::thread::scope(|scope| {
        for half in cases.chunks(cases.len().div_ceil(2)) {
            scope.spawn(move || {
                for c in half {
                    let calls = side_by_side(c, kamal, |_| {});
                    if c.args[1] != "nope" && !c.name.contains("no account") {
                        assert!(!calls.is_empty(), "{}: no CLI call", c.name);
                    }
                }
            });
        }
    });
}

#[test]
fn fetch_bitwarden_passes_the_session_in_the_environment() {
    let kamal = kamal_or_announce("fetch_bitwarden_passes_the_session_in_the_environment");
    let c = case(
        "bw session",
        vec![("bw", bw_data("locked"))],
        &["-a", "bitwarden", "--account", "email@example.com", "mypassword"],
        r#"{"mypassword":"secret123"}"#,
    );
    let calls = side_by_side(&c, kamal.as_deref(), |_| {});
    assert_eq!(
        calls,
        [
            "bw --version",
            "bw status",
            "bw unlock --raw",
            "BW_SESSION=0987654321 bw status",
            "BW_SESSION=0987654321 bw sync",
            "BW_SESSION=0987654321 bw get item mypassword"
        ]
    );
}

/// Passbolt: Kamal 2.11 does not ask for the password column (fixed in Kamal 2.12, which Wharf
/// follows): its calls are Wharf's without `--column name --column password`, and it prints
/// `null` passwords.
#[test]
fn fetch_passbolt_like_kamal_2_12() {
    let kamal = kamal_or_announce("fetch_passbolt_like_kamal_2_12");
    let strip = |calls: &mut Vec<String>| {
        for c in calls.iter_mut() {
            *c = c.replace(" --column name --column password", "");
        }
    };
    let root = Case {
        name: "passbolt root",
        files: vec![("passbolt", passbolt_data())],
        env: vec![],
        args: vec!["-a", "passbolt", "SECRET1"],
        expect: r#"{"SECRET1":"secret1"}"#,
    };
    let folders = Case {
        name: "passbolt folders",
        files: vec![("passbolt", passbolt_data())],
        env: vec![],
        args: vec!["-a", "passbolt", "--from", "my-project", "FSECRET1", "subfolder/SSECRET"],
        expect: r#"{"FSECRET1":"p-fsecret1","SSECRET":"s-secret"}"#,
    };
    let missing = Case {
        name: "passbolt missing",
        files: vec![("passbolt", passbolt_data())],
        env: vec![],
        args: vec!["-a", "passbolt", "SECRET1", "NOPE"],
        expect: "ERROR (RuntimeError): Could not find the following secrets in Passbolt: NOPE",
    };
    for c in [&root, &folders] {
        let calls = side_by_side(c, None, |_| {});
        if let Some(kamal) = kamal.as_deref() {
            let k = Vault::new(&c.files);
            let mut args = vec!["secrets", "fetch"];
            args.extend(c.args.iter().copied());
            let out = k.run(kamal, &args);
            let mut expected = calls.clone();
            strip(&mut expected);
            assert_eq!(k.calls(), expected, "{}", c.name);
            let printed: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
            let ours: Value = serde_json::from_str(c.expect).unwrap();
            let nulls: serde_json::Map<String, Value> =
                ours.as_object().unwrap().keys().map(|k| (k.clone(), Value::Null)).collect();
            assert_eq!(printed, Value::Object(nulls), "{}: Kamal 2.11 prints null passwords", c.name);
        }
    }
    assert_eq!(
        side_by_side(&folders, None, |_| {})[2..],
        [
            r#"passbolt list folders --filter 'Name == "my-project"' --json"#,
            r#"passbolt list folders --filter 'Name == "subfolder" && FolderParentID == "dcbe0e39-42d8-42db-9637-8256b9f2f8e3"' --json"#,
            r#"passbolt list resources --filter '(Name == "FSECRET1" && FolderParentID == "dcbe0e39-42d8-42db-9637-8256b9f2f8e3") || (Name == "SSECRET" && FolderParentID == "6a3f21fc-aa40-4ba9-852c-7477fdd0310d")' --folder dcbe0e39-42d8-42db-9637-8256b9f2f8e3 --folder 6a3f21fc-aa40-4ba9-852c-7477fdd0310d --column name --column password --json"#,
        ]
    );
    side_by_side(&missing, None, |_| {});
}

/// A project whose `.kamal/secrets` fetches through the adapters.
fn project(vault: &Vault, secrets: &str) {
    std::fs::create_dir_all(vault.path().join("config")).unwrap();
    std::fs::create_dir_all(vault.path().join(".kamal")).unwrap();
    std::fs::write(
        vault.path().join("config/deploy.yml"),
        "service: app\nimage: app\nservers:\n  - 192.0.2.1\nregistry:\n  server: localhost:5555\n  username: u\n  password: p\nbuilder:\n  arch: amd64\n",
    )
    .unwrap();
    std::fs::write(vault.path().join(".kamal/secrets"), secrets).unwrap();
}

#[test]
fn secrets_file_fetches_through_the_plugins() {
    let kamal = kamal_or_announce("secrets_file_fetches_through_the_plugins");
    let secrets = r#"SECRETS=$(kamal secrets fetch -a bitwarden --account email@example.com mypassword myitem/field1 myitem/field2)
PASSWORD=$(kamal secrets extract mypassword $SECRETS)
FIELD2=$(kamal secrets extract field2 ${SECRETS})
OPS=$(kamal secrets fetch -a 1password --account myaccount --from op://myvault/myitem section/SECRET2)
OP=$(kamal secrets extract SECRET2 $OPS)
"#;
    let files = vec![("bw", bw_data("locked")), ("op", op_data(false))];
    // As Kamal 2.11 prints it: the fetch's output is shell-escaped (`--inline`), and dotenv
    // expands `$a` in the extracted value.
    let expected = r#"SECRETS=\{\"mypassword\":\"secret123\",\"myitem/field1\":\"secret1\",\"myitem/field2\":\"s\ p$a\'c\\\"e\"\}
PASSWORD=secret123
FIELD2=s p'c"e
OPS=\{\"myvault/myitem/section/SECRET2\":\"VALUE2\"\}
OP=VALUE2
"#;
    let calls = [
        "bw --version",
        "bw status",
        "bw unlock --raw",
        "BW_SESSION=0987654321 bw status",
        "BW_SESSION=0987654321 bw sync",
        "BW_SESSION=0987654321 bw get item mypassword",
        "BW_SESSION=0987654321 bw get item myitem",
        "op --version",
        "op account get --account myaccount",
        "op signin --account myaccount --force --raw",
        "op item get myitem --vault myvault --format json --account myaccount --session 1234567890 --fields label=section.SECRET2",
    ];

    let w = Vault::new(&files);
    project(&w, secrets);
    let out = w.wharf(&["secrets", "print"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), expected);
    assert_eq!(w.calls(), calls);

    // `$(wharf secrets ...)` is the same.
    let w = Vault::new(&files);
    project(&w, &secrets.replace("kamal secrets", "wharf secrets"));
    let out = w.wharf(&["secrets", "print"]);
    assert_eq!(stdout(&out), expected, "{}", stderr(&out));
    assert_eq!(w.calls(), calls);

    if let Some(kamal) = kamal {
        let k = Vault::new(&files);
        project(&k, secrets);
        let out = k.run(&kamal, &["secrets", "print"]);
        assert_eq!(stdout(&out), expected, "kamal: {}", stderr(&out));
        assert_eq!(k.calls(), calls, "kamal's calls");
    }
}

/// `$(kamal secrets extract X $(kamal secrets fetch ...))` in one line: Kamal runs the outer
/// command in-process with the inner one as plain words (no nested substitution), so it fails
/// having fetched nothing; Wharf does the same.
#[test]
fn nested_inline_commands_fail_like_kamal() {
    let kamal = kamal_or_announce("nested_inline_commands_fail_like_kamal");
    let secrets =
        "X=$(kamal secrets extract field1 $(kamal secrets fetch -a bitwarden --account email@example.com myitem/field1))\n";
    let words = r#"was called with arguments ["field1", "$(kamal", "secrets", "fetch", "-a", "bitwarden", "--account", "email@example.com", "myitem/field1)"]"#;
    let w = Vault::new(&[("bw", bw_data("unlocked"))]);
    project(&w, secrets);
    let out = w.wharf(&["secrets", "print"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains(words), "{}", stderr(&out));
    assert!(w.calls().is_empty());
    if let Some(kamal) = kamal {
        let k = Vault::new(&[("bw", bw_data("unlocked"))]);
        project(&k, secrets);
        let out = k.run(&kamal, &["secrets", "print"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains(words), "kamal: {}", stderr(&out));
        assert!(k.calls().is_empty());
    }
}

#[test]
fn a_failing_adapter_in_the_secrets_file_is_an_error() {
    let kamal = kamal_or_announce("a_failing_adapter_in_the_secrets_file_is_an_error");
    let secrets =
        "S=$(kamal secrets fetch -a bitwarden --account email@example.com nope)\nX=$(kamal secrets extract f $S)\n";
    let line = "ERROR (RuntimeError): Could not read nope from Bitwarden";
    let w = Vault::new(&[("bw", bw_data("unlocked"))]);
    project(&w, secrets);
    let out = w.wharf(&["secrets", "print"]);
    assert!(!out.status.success());
    assert_eq!(error_line(&stderr(&out)).as_deref(), Some(line), "{}", stderr(&out));
    if let Some(kamal) = kamal {
        let k = Vault::new(&[("bw", bw_data("unlocked"))]);
        project(&k, secrets);
        let out = k.run(&kamal, &["secrets", "print"]);
        assert_eq!(outcome(&out), line);
        assert_eq!(k.calls(), w.calls());
    }
}

#[test]
fn the_plugin_is_precompiled_once() {
    let w = Vault::new(&[("enpass-cli", enpass_data())]);
    let cache = tempfile::tempdir().unwrap();
    let run = || {
        let mut args = vec!["secrets", "fetch", "-a", "enpass", "--from", "vault-path", "FooBar/SECRET_1"];
        args.truncate(7);
        let path = format!("{}:{}", repo().join("plugins/builtin/fake-clis").display(), std::env::var("PATH").unwrap());
        Command::new(crate::WHARF)
            .args(&args)
            .current_dir(w.path())
            .env("PATH", path)
            .env("XDG_CACHE_HOME", cache.path())
            .env("WHARF_FAKE_CLI_DIR", w.path().join("vault"))
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(stdout(&first).trim(), r#"{"FooBar/SECRET_1":"my-password-1"}"#, "{}", stderr(&first));
    let files = |dir: &Path| -> Vec<PathBuf> {
        let mut out = vec![];
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    stack.push(e.path());
                } else {
                    out.push(e.path());
                }
            }
        }
        out.sort();
        out
    };
    let cached = files(&cache.path().join("wharf/plugins"));
    assert_eq!(cached.len(), 1, "{cached:?}");
    let modified = std::fs::metadata(&cached[0]).unwrap().modified().unwrap();
    let second = run();
    assert_eq!(stdout(&second), stdout(&first));
    assert_eq!(files(&cache.path().join("wharf/plugins")), cached);
    assert_eq!(std::fs::metadata(&cached[0]).unwrap().modified().unwrap(), modified, "compiled again");
}

/// AWS: Kamal 2.12 (which Wharf follows) turns non-string JSON values into strings and takes a
/// `SecretString` that is a JSON primitive as the value; Kamal 2.11 prints the raw JSON values
/// and fails on a primitive. The calls are the same.
#[test]
fn fetch_aws_like_kamal_2_12() {
    let kamal = kamal_or_announce("fetch_aws_like_kamal_2_12");
    let data = json!({"secrets": {"port": "5432", "obj": "{\"a\":1,\"b\":{\"c\":true}}"}});
    let cases = [
        (
            ["-a", "aws_secrets_manager", "port"],
            r#"{"port":"5432"}"#,
            "ERROR (NoMethodError): undefined method `each' for an instance of Integer",
        ),
        (
            ["-a", "aws_secrets_manager", "obj"],
            r#"{"obj/a":"1","obj/b":"{\"c\":true}"}"#,
            r#"{"obj/a":1,"obj/b":{"c":true}}"#,
        ),
    ];
    for (args, wharf_prints, kamal_2_11_prints) in cases {
        let mut argv = vec!["secrets", "fetch"];
        argv.extend(args);
        let w = Vault::new(&[("aws", data.clone())]);
        let out = w.wharf(&argv);
        assert_eq!(outcome(&out).trim_end(), wharf_prints, "{}", stderr(&out));
        if let Some(kamal) = kamal.as_deref() {
            let k = Vault::new(&[("aws", data.clone())]);
            let out = k.run(kamal, &argv);
            assert_eq!(outcome(&out).trim_end(), kamal_2_11_prints);
            assert_eq!(k.calls(), w.calls());
        }
    }
}
