//! Each built-in secrets adapter run through the plugin host against its fake CLI
//! (`plugins/builtin/fake-clis`): the results, the exact calls (in order, with `BW_SESSION`),
//! the login flows, `--from`, fetch-all, and every error text, as Kamal's
//! `test/secrets/*_adapter_test.rb` have them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};
use wharf_plugin_host::{CallOptions, Grant, HostConfig, LogRecord, Manifest, Plugin, PluginError, PluginHost};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn fakes() -> PathBuf {
    repo().join("plugins/builtin/fake-clis")
}

fn host() -> &'static PluginHost {
    static HOST: OnceLock<PluginHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache");
        PluginHost::new(HostConfig { cache_dir: Some(cache), ..HostConfig::default() }).unwrap()
    })
}

fn plugin(name: &str) -> (Plugin, Manifest) {
    static PLUGINS: OnceLock<Mutex<HashMap<String, Plugin>>> = OnceLock::new();
    let builtin = wharf_builtin_plugins::find(name).unwrap_or_else(|| panic!("no built-in plugin {name}"));
    let manifest = Manifest::from_toml(builtin.manifest, name).unwrap();
    let mut plugins = PLUGINS.get_or_init(Default::default).lock().unwrap();
    let p = plugins.entry(name.to_string()).or_insert_with(|| host().load(manifest.clone(), builtin.wasm).unwrap());
    (p.clone(), manifest)
}

/// A fake vault: `<tool>.json` files and the call log, in a temporary directory.
struct Vault {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    path: String,
    /// Withhold the terminal the manifest asks for.
    no_terminal: bool,
}

impl Vault {
    fn new() -> Vault {
        let path = format!("{}:{}", fakes().display(), std::env::var("PATH").unwrap_or_default());
        Vault { dir: tempfile::tempdir().unwrap(), env: vec![], path, no_terminal: false }
    }

    fn with(self, tool: &str, data: Value) -> Vault {
        std::fs::write(self.dir.path().join(format!("{tool}.json")), data.to_string()).unwrap();
        self
    }

    fn env(mut self, k: &str, v: &str) -> Vault {
        self.env.push((k.into(), v.into()));
        self
    }

    /// No fake CLI on PATH: the vendor CLI is not installed.
    fn without_cli(mut self) -> Vault {
        self.path = "/nonexistent".into();
        self
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn state(&self, tool: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.dir.path().join(format!("{tool}.json"))).unwrap()).unwrap()
    }

    /// Runs adapter `name`'s fetch with the grant Wharf gives a built-in adapter: its CLI with
    /// any arguments, the environment (PATH with the fakes first), the manifest's variables.
    async fn fetch(&self, name: &str, account: Option<&str>, from: Option<&str>, names: &[&str]) -> Fetched {
        let (plugin, manifest) = plugin(name);
        let mut grant = Grant::new().workdir(self.dir.path());
        for rule in &manifest.capabilities.programs {
            grant = grant.program(rule.program.clone(), [wharf_plugin_host::ANY_ARGUMENTS]);
        }
        for v in &manifest.capabilities.env {
            grant = grant.var(v.clone());
        }
        grant = grant
            .terminal(manifest.capabilities.terminal && !self.no_terminal)
            .env("PATH", &self.path)
            .env("HOME", self.dir.path().to_string_lossy())
            .env("WHARF_FAKE_CLI_DIR", self.dir.path().to_string_lossy());
        for (k, v) in &self.env {
            grant = grant.env(k.clone(), v.clone());
        }
        let logs = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = logs.clone();
        let opts = CallOptions::new().log(Arc::new(move |r: &LogRecord| sink.lock().unwrap().push(r.message.clone())));
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let result = plugin.fetch_secrets(account, from, &names, &grant, &opts).await.map_err(|e| match e {
            PluginError::Failed { message, .. } => message,
            other => other.to_string(),
        });
        let logs = logs.lock().unwrap().clone();
        Fetched { result, logs }
    }
}

struct Fetched {
    result: Result<Vec<(String, String)>, String>,
    logs: Vec<String>,
}

impl Fetched {
    #[track_caller]
    fn ok(&self, expected: &[(&str, &str)]) {
        let expected: Vec<(String, String)> = expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(self.result.as_ref().map_err(String::as_str), Ok(&expected), "logs: {:?}", self.logs);
    }

    #[track_caller]
    fn err(&self, message: &str) {
        assert_eq!(self.result.as_ref().map(|_| ()), Err(&message.to_string()), "logs: {:?}", self.logs);
    }
}

/// An error of a Ruby class other than `RuntimeError`, as the adapters return it.
fn raised(class: &str, message: &str) -> String {
    format!("\u{1}{class}\u{1}{message}")
}

#[track_caller]
fn assert_calls(vault: &Vault, expected: &[&str]) {
    assert_eq!(vault.calls(), expected);
}

// ---------------------------------------------------------------------------------- 1Password

fn op_field(vault: &str, item: &str, section: &str, label: &str, value: &str) -> Value {
    json!({
        "id": "aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "section": {"id": "cccccccccccccccccccccccccc", "label": section},
        "type": "CONCEALED",
        "label": label,
        "value": value,
        "reference": format!("op://{vault}/{item}/{section}/{label}"),
    })
}

fn op_vault(signed_in: bool) -> Vault {
    Vault::new().with(
        "op",
        json!({
            "accounts": {"myaccount": {"signed_in": signed_in, "session": "1234567890"}},
            "vaults": {"myvault": {
                "myitem": {"id": "ucbtiii777", "title": "A title", "fields": [
                    op_field("myvault", "myitem", "section", "SECRET1", "VALUE1"),
                    op_field("myvault", "myitem", "section", "SECRET2", "VALUE2"),
                    op_field("myvault", "myitem", "section2", "SECRET3", "VALUE3"),
                ]},
                "myitem2": {"fields": [op_field("myvault", "myitem2", "section", "SECRET3", "VALUE3")]},
                "login": {"fields": [{"id": "password", "type": "CONCEALED", "label": "password", "value": "pw",
                                      "reference": "op://myvault/login/password"}]},
            }}
        }),
    )
}

#[tokio::test]
async fn onepassword_fetch_fields_from_item() {
    let v = op_vault(true);
    v.fetch(
        "1password",
        Some("myaccount"),
        Some("op://myvault/myitem"),
        &["section/SECRET1", "section/SECRET2", "section2/SECRET3"],
    )
    .await
    .ok(&[
        ("myvault/myitem/section/SECRET1", "VALUE1"),
        ("myvault/myitem/section/SECRET2", "VALUE2"),
        ("myvault/myitem/section2/SECRET3", "VALUE3"),
    ]);
    assert_calls(
        &v,
        &[
            "op --version",
            "op account get --account myaccount",
            "op item get myitem --vault myvault --format json --account myaccount --fields label=section.SECRET1,label=section.SECRET2,label=section2.SECRET3",
        ],
    );
}

#[tokio::test]
async fn onepassword_multiple_items_single_field_and_default_password() {
    let v = op_vault(true);
    v.fetch(
        "1password",
        Some("myaccount"),
        Some("op://myvault"),
        &["myitem/section/SECRET1", "myitem/section/SECRET2", "myitem2/section/SECRET3", "login"],
    )
    .await
    .ok(&[
        ("myvault/myitem/section/SECRET1", "VALUE1"),
        ("myvault/myitem/section/SECRET2", "VALUE2"),
        ("myvault/myitem2/section/SECRET3", "VALUE3"),
        ("myvault/login", "pw"),
    ]);
    assert_eq!(
        v.calls()[2..],
        [
            "op item get myitem --vault myvault --format json --account myaccount --fields label=section.SECRET1,label=section.SECRET2",
            "op item get myitem2 --vault myvault --format json --account myaccount --fields label=section.SECRET3",
            "op item get login --vault myvault --format json --account myaccount --fields label=password",
        ]
    );
}

#[tokio::test]
async fn onepassword_fetch_all_fields() {
    let v = op_vault(true);
    v.fetch("1password", Some("myaccount"), Some("op://myvault/myitem"), &[]).await.ok(&[
        ("myvault/myitem/section/SECRET1", "VALUE1"),
        ("myvault/myitem/section/SECRET2", "VALUE2"),
        ("myvault/myitem/section2/SECRET3", "VALUE3"),
    ]);
    assert_eq!(v.calls()[2], "op item get myitem --vault myvault --format json --account myaccount");
}

#[tokio::test]
async fn onepassword_signin_passes_the_session() {
    let v = op_vault(false);
    v.fetch("1password", Some("myaccount"), Some("op://myvault/myitem"), &["section/SECRET1"])
        .await
        .ok(&[("myvault/myitem/section/SECRET1", "VALUE1")]);
    assert_calls(
        &v,
        &[
            "op --version",
            "op account get --account myaccount",
            "op signin --account myaccount --force --raw",
            "op item get myitem --vault myvault --format json --account myaccount --session 1234567890 --fields label=section.SECRET1",
        ],
    );
    assert_eq!(v.state("op")["accounts"]["myaccount"]["signed_in"], true);
}

#[tokio::test]
async fn onepassword_errors() {
    let v = op_vault(true).without_cli();
    v.fetch("1password", Some("myaccount"), None, &["a/b/c"]).await.err("1Password CLI is not installed");
    let v = Vault::new().with("op", json!({"version_fails": true}));
    v.fetch("1password", Some("myaccount"), None, &["a/b/c"]).await.err("1Password CLI is not installed");
    let v = Vault::new().with("op", json!({"accounts": {}}));
    v.fetch("1password", Some("myaccount"), None, &["a/b/c"]).await.err("Failed to login to 1Password");
    let v = op_vault(true);
    v.fetch("1password", Some("myaccount"), Some("op://myvault/myitem"), &["section/NOPE", "section/SECRET1"])
        .await
        .err("Could not read section.NOPE, section.SECRET1 from myitem in the myvault 1Password vault");
    v.fetch("1password", Some("myaccount"), Some("op://myvault/missing"), &[])
        .await
        .err("Could not read from missing in the myvault 1Password vault");
    v.fetch("1password", None, None, &["a"]).await.err("Missing required option '--account'");
}

// ---------------------------------------------------------------------------------- Bitwarden

fn bw_vault(status: &str) -> Vault {
    Vault::new().with(
        "bw",
        json!({
            "account": "email@example.com",
            "status": status,
            "session": "0987654321",
            "items": {
                "mypassword": {"object": "item", "name": "mypassword", "type": 1,
                               "login": {"username": null, "password": "secret123"}},
                "myitem": {"object": "item", "name": "myitem", "type": 1,
                           "fields": [{"name": "field1", "value": "secret1", "type": 1, "linkedId": null},
                                      {"name": "field2", "value": "blam", "type": 1, "linkedId": null},
                                      {"name": "field3", "value": "fewgrwjgk", "type": 1, "linkedId": null}],
                           "login": {"username": null, "password": null}},
                "mynote": {"object": "item", "name": "noteitem", "type": 2, "notes": "NOTES", "secureNote": {"type": 0}},
                "mynotefields": {"object": "item", "type": 2, "secureNote": {"type": 0},
                                 "fields": [{"name": "field1", "value": "secret1", "type": 1, "linkedId": null},
                                            {"name": "field4", "value": "auto", "type": 1, "linkedId": null}]},
            }
        }),
    )
}

#[tokio::test]
async fn bitwarden_unlocked() {
    let v = bw_vault("unlocked");
    v.fetch(
        "bitwarden",
        Some("email@example.com"),
        None,
        &["mypassword", "myitem/field1", "myitem/field2", "mynotefields"],
    )
    .await
    .ok(&[
        ("mypassword", "secret123"),
        ("myitem/field1", "secret1"),
        ("myitem/field2", "blam"),
        ("mynotefields/field1", "secret1"),
        ("mynotefields/field4", "auto"),
    ]);
    assert_calls(
        &v,
        &[
            "bw --version",
            "bw status",
            "bw sync",
            "bw get item mypassword",
            "bw get item myitem",
            "bw get item mynotefields",
        ],
    );
}

#[tokio::test]
async fn bitwarden_from() {
    let v = bw_vault("unlocked");
    v.fetch("bitwarden", Some("email@example.com"), Some("myitem"), &["field1", "field2", "field3"]).await.ok(&[
        ("myitem/field1", "secret1"),
        ("myitem/field2", "blam"),
        ("myitem/field3", "fewgrwjgk"),
    ]);
}

#[tokio::test]
async fn bitwarden_unauthenticated_logs_in_and_unlocks_with_a_session() {
    let v = bw_vault("unauthenticated");
    v.fetch("bitwarden", Some("email@example.com"), None, &["mypassword"]).await.ok(&[("mypassword", "secret123")]);
    assert_calls(
        &v,
        &[
            "bw --version",
            "bw status",
            "bw login email@example.com",
            "bw status",
            "bw unlock --raw",
            "BW_SESSION=0987654321 bw status",
            "BW_SESSION=0987654321 bw sync",
            "BW_SESSION=0987654321 bw get item mypassword",
        ],
    );
}

#[tokio::test]
async fn bitwarden_errors() {
    let v = bw_vault("unlocked").without_cli();
    v.fetch("bitwarden", Some("email@example.com"), None, &["mynote"]).await.err("Bitwarden CLI is not installed");
    let v = bw_vault("unlocked");
    v.fetch("bitwarden", Some("email@example.com"), None, &["mynote"])
        .await
        .err("Item mynote is not a login type item and no fields were specified");
    v.fetch("bitwarden", Some("email@example.com"), None, &["nope"]).await.err("Could not read nope from Bitwarden");
    v.fetch("bitwarden", Some("email@example.com"), None, &["myitem/nope"])
        .await
        .err("Could not find field nope in item myitem in Bitwarden");
    let v = bw_vault("unauthenticated");
    v.fetch("bitwarden", Some("other@example.com"), None, &["mypassword"])
        .await
        .err("Failed to login to and unlock Bitwarden");
    // The login runs with the user's terminal (it prompts for the master password, and its
    // errors go straight to the user, as under Kamal), so its stderr is not in the plugin's log.
    let v = bw_vault("unauthenticated");
    let f = v.fetch("bitwarden", Some("other@example.com"), None, &["mypassword"]).await;
    assert!(f.logs.iter().any(|l| l.starts_with("process: bw login other@example.com (exit 1")), "{:?}", f.logs);
    assert!(!f.logs.iter().any(|l| l.contains("Username or password is incorrect")), "{:?}", f.logs);
    // Without the terminal granted, the login is refused, naming the plugin and the capability.
    let mut v = bw_vault("unauthenticated");
    v.no_terminal = true;
    v.fetch("bitwarden", Some("other@example.com"), None, &["mypassword"])
        .await
        .err("plugin bitwarden: capability terminal not granted");
}

// ------------------------------------------------------------------------------- Bitwarden SM

fn bws_vault() -> Vault {
    Vault::new().with(
        "bws",
        json!({
            "access_token": "tok",
            "projects": [{"id": "82aeb5bd-6958-4a89-8197-eacab758acce", "name": "proj"}],
            "secrets": [
                {"id": "82aeb5bd-6958-4a89-8197-eacab758acce", "key": "KAMAL_REGISTRY_PASSWORD", "value": "some_password",
                 "projectId": "82aeb5bd-6958-4a89-8197-eacab758acce"},
                {"id": "6f8cdf27-de2b-4c77-a35d-07df8050e332", "key": "MY_OTHER_SECRET", "value": "my=wierd\"secret",
                 "projectId": "82aeb5bd-6958-4a89-8197-eacab758acce"},
                {"id": "11111111-de2b-4c77-a35d-07df8050e332", "key": "SSH_PRIVATE_KEY", "value": "some_key\nwith_linebreak",
                 "projectId": null},
            ]
        }),
    )
    .env("BWS_ACCESS_TOKEN", "tok")
}

#[tokio::test]
async fn bitwarden_sm_items_and_lists() {
    let v = bws_vault();
    v.fetch(
        "bitwarden-sm",
        None,
        None,
        &["82aeb5bd-6958-4a89-8197-eacab758acce", "11111111-de2b-4c77-a35d-07df8050e332"],
    )
    .await
    .ok(&[("KAMAL_REGISTRY_PASSWORD", "some_password"), ("SSH_PRIVATE_KEY", "some_key\nwith_linebreak")]);
    assert_calls(
        &v,
        &[
            "bws --version",
            "bws project list",
            "bws secret get 82aeb5bd-6958-4a89-8197-eacab758acce",
            "bws secret get 11111111-de2b-4c77-a35d-07df8050e332",
        ],
    );
    let v = bws_vault();
    v.fetch("bitwarden-sm", None, None, &["all"]).await.ok(&[
        ("KAMAL_REGISTRY_PASSWORD", "some_password"),
        ("MY_OTHER_SECRET", "my=wierd\"secret"),
        ("SSH_PRIVATE_KEY", "some_key\nwith_linebreak"),
    ]);
    assert_eq!(v.calls()[2], "bws secret list");
    let v = bws_vault();
    v.fetch("bitwarden-sm", None, Some("82aeb5bd-6958-4a89-8197-eacab758acce"), &["all"])
        .await
        .ok(&[("KAMAL_REGISTRY_PASSWORD", "some_password"), ("MY_OTHER_SECRET", "my=wierd\"secret")]);
    assert_eq!(v.calls()[2], "bws secret list 82aeb5bd-6958-4a89-8197-eacab758acce");
}

#[tokio::test]
async fn bitwarden_sm_errors() {
    let v = bws_vault();
    v.fetch("bitwarden-sm", None, None, &[])
        .await
        .err("You must specify what to retrieve from Bitwarden Secrets Manager");
    v.fetch("bitwarden-sm", None, None, &["00000000-0000-0000-0000-000000000000"])
        .await
        .err("Could not read 00000000-0000-0000-0000-000000000000 from Bitwarden Secrets Manager");
    v.fetch("bitwarden-sm", None, None, &["nope/all"])
        .await
        .err("Could not read secrets from Bitwarden Secrets Manager");
    let v = bws_vault().env("BWS_ACCESS_TOKEN", "wrong");
    v.fetch("bitwarden-sm", None, None, &["all"])
        .await
        .err("Could not authenticate to Bitwarden Secrets Manager. Did you set a valid access token?");
    let v = bws_vault().without_cli();
    v.fetch("bitwarden-sm", None, None, &[]).await.err("Bitwarden Secrets Manager CLI is not installed");
}

// ----------------------------------------------------------------------------------- LastPass

fn lpass_vault(logged_in: bool) -> Vault {
    let entry = |id: &str, name: &str, fullname: &str, pw: &str| json!({"id": id, "name": name, "fullname": fullname, "username": "", "password": pw});
    Vault::new().with(
        "lpass",
        json!({
            "account": "email@example.com",
            "logged_in": logged_in,
            "entries": [
                entry("1234567891234567891", "SECRET1", "SECRET1", "secret1"),
                entry("1234567891234567892", "FSECRET1", "FOLDER1/FSECRET1", "fsecret1"),
                entry("1234567891234567893", "FSECRET2", "FOLDER1/FSECRET2", "fsecret2"),
            ]
        }),
    )
}

#[tokio::test]
async fn lastpass_fetch_and_from_and_signin() {
    let v = lpass_vault(true);
    v.fetch("lastpass", Some("email@example.com"), None, &["SECRET1", "FOLDER1/FSECRET1", "FOLDER1/FSECRET2"])
        .await
        .ok(&[("SECRET1", "secret1"), ("FOLDER1/FSECRET1", "fsecret1"), ("FOLDER1/FSECRET2", "fsecret2")]);
    assert_calls(
        &v,
        &[
            "lpass --version",
            "lpass status --color never",
            "lpass show SECRET1 FOLDER1/FSECRET1 FOLDER1/FSECRET2 --json",
        ],
    );
    let v = lpass_vault(true);
    v.fetch("lastpass", Some("email@example.com"), Some("FOLDER1"), &["FSECRET1", "FSECRET2"])
        .await
        .ok(&[("FOLDER1/FSECRET1", "fsecret1"), ("FOLDER1/FSECRET2", "fsecret2")]);
    let v = lpass_vault(false);
    v.fetch("lastpass", Some("email@example.com"), None, &["SECRET1"]).await.ok(&[("SECRET1", "secret1")]);
    assert_calls(
        &v,
        &[
            "lpass --version",
            "lpass status --color never",
            "lpass login email@example.com",
            "lpass show SECRET1 --json",
        ],
    );
}

#[tokio::test]
async fn lastpass_errors() {
    let v = lpass_vault(true);
    v.fetch("lastpass", Some("email@example.com"), None, &["SECRET1", "NOPE"])
        .await
        .err(r#"Could not read ["SECRET1", "NOPE"] from LastPass"#);
    // Found by name, but keyed by its full name.
    v.fetch("lastpass", Some("email@example.com"), None, &["FSECRET1", "SECRET1"])
        .await
        .err("Could not find FSECRET1 in LastPass");
    let v = lpass_vault(false);
    v.fetch("lastpass", Some("other@example.com"), None, &["SECRET1"]).await.err("Failed to login to LastPass");
    let v = lpass_vault(true).without_cli();
    v.fetch("lastpass", Some("email@example.com"), None, &["SECRET1"]).await.err("LastPass CLI is not installed");
}

// ------------------------------------------------------------------------------------ Doppler

fn doppler_vault(logged_in: bool) -> Vault {
    Vault::new().with(
        "doppler",
        json!({
            "logged_in": logged_in,
            "projects": {"my-project": {"prd": {"SECRET1": "secret1", "FSECRET1": "fsecret1", "FSECRET2": "fsecret2"}}},
            "service_tokens": {"dp.st.xxxxxxxxxxxxxxxxxxxxxx": "my-project/prd"}
        }),
    )
}

#[tokio::test]
async fn doppler_fetch_from_and_folder_in_secret() {
    let expected = [("SECRET1", "secret1"), ("FSECRET1", "fsecret1"), ("FSECRET2", "fsecret2")];
    let v = doppler_vault(true);
    v.fetch("doppler", None, Some("my-project/prd"), &["SECRET1", "FSECRET1", "FSECRET2"]).await.ok(&expected);
    assert_calls(
        &v,
        &[
            "doppler --version",
            "doppler me --json",
            "doppler secrets get SECRET1 FSECRET1 FSECRET2 --json -p my-project -c prd",
        ],
    );
    let v = doppler_vault(true);
    v.fetch("doppler", None, None, &["my-project/prd/SECRET1", "my-project/prd/FSECRET1", "my-project/prd/FSECRET2"])
        .await
        .ok(&expected);
    assert_eq!(v.calls()[2], "doppler secrets get SECRET1 FSECRET1 FSECRET2 --json -p my-project -c prd");
}

#[tokio::test]
async fn doppler_service_token_and_signin() {
    let v = doppler_vault(false).env("DOPPLER_TOKEN", "dp.st.xxxxxxxxxxxxxxxxxxxxxx");
    v.fetch("doppler", None, None, &["SECRET1", "FSECRET1"])
        .await
        .ok(&[("SECRET1", "secret1"), ("FSECRET1", "fsecret1")]);
    assert_calls(&v, &["doppler --version", "doppler me --json", "doppler secrets get SECRET1 FSECRET1 --json"]);
    let v = doppler_vault(false);
    v.fetch("doppler", None, Some("my-project/prd"), &["SECRET1"]).await.ok(&[("SECRET1", "secret1")]);
    assert_calls(
        &v,
        &[
            "doppler --version",
            "doppler me --json",
            "doppler login -y",
            "doppler secrets get SECRET1 --json -p my-project -c prd",
        ],
    );
}

#[tokio::test]
async fn doppler_errors() {
    let v = doppler_vault(true);
    v.fetch("doppler", None, None, &["FSECRET1", "FSECRET2"])
        .await
        .err("Missing project or config from '--from=project/config' option");
    v.fetch("doppler", None, Some("my-project/prd"), &["NOPE"])
        .await
        .err(r#"Could not read ["my-project/prd/NOPE"] from Doppler"#);
    let v = Vault::new().with("doppler", json!({"login_fails": true}));
    v.fetch("doppler", None, Some("p/c"), &["A"]).await.err("Failed to login to Doppler");
    let v = doppler_vault(true).without_cli();
    v.fetch("doppler", None, None, &["HOST", "PORT"]).await.err("Doppler CLI is not installed");
}

// ---------------------------------------------------------------------------------------- AWS

fn aws_vault() -> Vault {
    Vault::new().with(
        "aws",
        json!({
            "profiles": ["default", "staging"],
            "secrets": {
                "secret": "{\"KEY1\":\"VALUE1\", \"KEY2\":\"VALUE2\"}",
                "secret2": "{\"KEY3\":\"VALUE3\"}",
                "plain": "a-string-secret",
                "port": "5432",
                "nothing": "null",
                "myapp/RailsUser": "{\"host\":\"db.example\",\"port\":5432,\"ssl\":true,\"weight\":1.5,\"missing\":null,\"replicas\":{\"read\":\"r.example\",\"port\":5433},\"tags\":[\"prod\",\"db\"]}",
            }
        }),
    )
}

#[tokio::test]
async fn aws_fetch_objects_strings_and_primitives() {
    let v = aws_vault();
    v.fetch("aws_secrets_manager", Some("default"), None, &["secret", "secret2", "plain", "port", "nothing"]).await.ok(
        &[
            ("secret/KEY1", "VALUE1"),
            ("secret/KEY2", "VALUE2"),
            ("secret2/KEY3", "VALUE3"),
            ("plain", "a-string-secret"),
            ("port", "5432"),
            ("nothing", "null"),
        ],
    );
    assert_calls(
        &v,
        &[
            "aws --version",
            "aws secretsmanager batch-get-secret-value --secret-id-list secret secret2 plain port nothing --profile default --output json",
        ],
    );
    let v = aws_vault();
    v.fetch("aws_secrets_manager", None, Some("myapp"), &["RailsUser"]).await.ok(&[
        ("myapp/RailsUser/host", "db.example"),
        ("myapp/RailsUser/port", "5432"),
        ("myapp/RailsUser/ssl", "true"),
        ("myapp/RailsUser/weight", "1.5"),
        ("myapp/RailsUser/missing", "null"),
        ("myapp/RailsUser/replicas", r#"{"read":"r.example","port":5433}"#),
        ("myapp/RailsUser/tags", r#"["prod","db"]"#),
    ]);
    assert_eq!(
        v.calls()[1],
        "aws secretsmanager batch-get-secret-value --secret-id-list myapp/RailsUser --output json"
    );
}

#[tokio::test]
async fn aws_errors() {
    let v = aws_vault();
    v.fetch("aws_secrets_manager", Some("default"), None, &["unknown1", "unknown2"]).await.err(
        "unknown1: Secrets Manager can't find the specified secret. unknown2: Secrets Manager can't find the specified secret.",
    );
    // Kamal interpolates the failed command's output (empty here), not the names.
    v.fetch("aws_secrets_manager", Some("nope"), None, &["secret"])
        .await
        .err("Could not read  from AWS Secrets Manager");
    let v = aws_vault().without_cli();
    v.fetch("aws_secrets_manager", None, None, &["SECRET1"]).await.err("AWS CLI is not installed");
}

// ---------------------------------------------------------------------------------------- GCP

fn gcp_vault(accounts: &[&str]) -> Vault {
    Vault::new().with(
        "gcloud",
        json!({
            "accounts": accounts,
            "login_account": "email@example.com",
            "default_project": "default-project",
            "service_accounts": ["service-user@example.com", "service-user2@example.com"],
            "projects": {
                "default-project": {"mypassword": ["old", "secret123"]},
                "other-project": {"item1": ["secret1"], "item2": ["secret2"]},
                "some-project": {"item1": ["secret1", "secret1-v2"]},
            }
        }),
    )
}

#[tokio::test]
async fn gcp_fetch_default_from_and_versions() {
    let v = gcp_vault(&["email@example.com"]);
    v.fetch("gcp_secret_manager", Some("default"), None, &["mypassword"])
        .await
        .ok(&[("default/mypassword", "secret123")]);
    assert_calls(
        &v,
        &[
            "gcloud --version",
            "gcloud auth list --format=json",
            "gcloud secrets versions access latest --secret=mypassword --format=json",
        ],
    );
    let v = gcp_vault(&["email@example.com"]);
    v.fetch("gcp_secret_manager", Some("default"), Some("other-project"), &["item1", "item2"])
        .await
        .ok(&[("other-project/item1", "secret1"), ("other-project/item2", "secret2")]);
    let v = gcp_vault(&["email@example.com"]);
    v.fetch(
        "gcp_secret_manager",
        Some("email@example.com|service-user@example.com,service-user2@example.com"),
        None,
        &["some-project/item1/1"],
    )
    .await
    .ok(&[("some-project/item1", "secret1")]);
    assert_eq!(
        v.calls()[2],
        "gcloud secrets versions access 1 --secret=item1 --project=some-project --account=email@example.com --impersonate-service-account=service-user@example.com,service-user2@example.com --format=json"
    );
}

#[tokio::test]
async fn gcp_login_and_errors() {
    let v = gcp_vault(&[]);
    v.fetch("gcp_secret_manager", Some("default"), None, &["mypassword"])
        .await
        .ok(&[("default/mypassword", "secret123")]);
    assert_eq!(
        v.calls()[1..4],
        ["gcloud auth list --format=json", "gcloud auth login", "gcloud auth list --format=json"]
    );
    let v = Vault::new().with("gcloud", json!({"accounts": []}));
    v.fetch("gcp_secret_manager", Some("default"), None, &["mypassword"]).await.err("could not login to gcloud");
    let v = gcp_vault(&["email@example.com"]).without_cli();
    v.fetch("gcp_secret_manager", Some("default"), None, &["item1"]).await.err("gcloud CLI is not installed");
    // gcloud prints nothing on stdout when a secret is missing: Kamal's JSON.parse fails.
    let v = gcp_vault(&["email@example.com"]);
    v.fetch("gcp_secret_manager", Some("default"), None, &["nope"])
        .await
        .err(&raised("JSON::ParserError", "unexpected end of input at line 1 column 1"));
}

// ----------------------------------------------------------------------------------- Passbolt

fn passbolt_vault() -> Vault {
    let res = |id: &str, name: &str, pw: &str, parent: &str| json!({"id": id, "name": name, "password": pw, "folder_parent_id": parent, "username": ""});
    let p = "dcbe0e39-42d8-42db-9637-8256b9f2f8e3";
    let sub = "6a3f21fc-aa40-4ba9-852c-7477fdd0310d";
    let other = "14e11dd8-b279-4689-8bd9-fa33ebb527da";
    Vault::new().with(
        "passbolt",
        json!({
            "folders": [
                {"id": p, "name": "my-project", "folder_parent_id": ""},
                {"id": sub, "name": "subfolder", "folder_parent_id": p},
                {"id": other, "name": "other-project", "folder_parent_id": ""},
            ],
            "resources": [
                res("r1", "SECRET1", "secret1", ""),
                res("r2", "FSECRET1", "fsecret1", ""),
                res("r3", "FSECRET2", "fsecret2", ""),
                res("r4", "SECRET1", "p-secret1", p),
                res("r5", "FSECRET1", "p-fsecret1", p),
                res("r6", "FSECRET2", "o-fsecret2", other),
                res("r7", "SECRET1", "s-secret1", sub),
            ]
        }),
    )
}

#[tokio::test]
async fn passbolt_root_folders_and_nested() {
    let v = passbolt_vault();
    // Without folders the filter matches resources of every folder: the last one of a name wins.
    v.fetch("passbolt", None, None, &["SECRET1", "FSECRET1", "FSECRET2"]).await.ok(&[
        ("SECRET1", "s-secret1"),
        ("FSECRET1", "p-fsecret1"),
        ("FSECRET2", "o-fsecret2"),
    ]);
    assert_calls(
        &v,
        &[
            "passbolt --version",
            "passbolt verify",
            r#"passbolt list resources --filter 'Name == "SECRET1" || Name == "FSECRET1" || Name == "FSECRET2"' --column name --column password --json"#,
        ],
    );
    let v = passbolt_vault();
    v.fetch("passbolt", None, None, &["my-project/SECRET1", "my-project/FSECRET1", "other-project/FSECRET2"])
        .await
        .ok(&[("SECRET1", "p-secret1"), ("FSECRET1", "p-fsecret1"), ("FSECRET2", "o-fsecret2")]);
    assert_eq!(
        v.calls()[2..],
        [
            r#"passbolt list folders --filter 'Name == "my-project" || Name == "other-project"' --json"#,
            r#"passbolt list resources --filter '(Name == "SECRET1" && FolderParentID == "dcbe0e39-42d8-42db-9637-8256b9f2f8e3") || (Name == "FSECRET1" && FolderParentID == "dcbe0e39-42d8-42db-9637-8256b9f2f8e3") || (Name == "FSECRET2" && FolderParentID == "14e11dd8-b279-4689-8bd9-fa33ebb527da")' --folder dcbe0e39-42d8-42db-9637-8256b9f2f8e3 --folder 14e11dd8-b279-4689-8bd9-fa33ebb527da --column name --column password --json"#,
        ]
    );
    let v = passbolt_vault();
    v.fetch("passbolt", None, Some("my-project/subfolder"), &["SECRET1"]).await.ok(&[("SECRET1", "s-secret1")]);
    assert_eq!(
        v.calls()[2..],
        [
            r#"passbolt list folders --filter 'Name == "my-project"' --json"#,
            r#"passbolt list folders --filter 'Name == "subfolder" && FolderParentID == "dcbe0e39-42d8-42db-9637-8256b9f2f8e3"' --json"#,
            r#"passbolt list resources --filter '(Name == "SECRET1" && FolderParentID == "6a3f21fc-aa40-4ba9-852c-7477fdd0310d")' --folder dcbe0e39-42d8-42db-9637-8256b9f2f8e3 --folder 6a3f21fc-aa40-4ba9-852c-7477fdd0310d --column name --column password --json"#,
        ]
    );
}

#[tokio::test]
async fn passbolt_errors() {
    let v = passbolt_vault();
    v.fetch("passbolt", None, None, &[]).await.err(&raised("ArgumentError", "No secrets given to fetch"));
    v.fetch("passbolt", None, None, &["SECRET1", "NOPE"])
        .await
        .err("Could not find the following secrets in Passbolt: NOPE");
    v.fetch("passbolt", None, None, &["nofolder/SECRET1", "my-project/x/SECRET1"])
        .await
        .err("Could not find the following folders in Passbolt: nofolder, my-project/x");
    let v = Vault::new().with("passbolt", json!({"verified": false}));
    v.fetch("passbolt", None, None, &["A"]).await.err("Failed to login to Passbolt");
    let v = passbolt_vault().without_cli();
    v.fetch("passbolt", None, None, &["HOST", "PORT"]).await.err("Passbolt CLI is not installed");
}

// ------------------------------------------------------------------------------------- Enpass

fn enpass_vault() -> Vault {
    let e = |title: &str, label: &str, pw: &str| json!({"category": "computer", "label": label, "login": "", "password": pw, "title": title, "type": "password"});
    Vault::new().with(
        "enpass-cli",
        json!({"vaults": {"vault-path": [
            e("FooBar", "SECRET_1", "my-password-1"),
            e("FooBar", "SECRET_2", "my-password-2"),
            e("FooBar", "", "my-password-3"),
            e("Twice", "X", "a"),
            e("Twice", "X", "b"),
            e("Other", "SECRET_1", "other"),
        ]}}),
    )
}

#[tokio::test]
async fn enpass_fetch_one_many_and_all() {
    let v = enpass_vault();
    v.fetch("enpass", None, Some("vault-path"), &["FooBar/SECRET_1"]).await.ok(&[("FooBar/SECRET_1", "my-password-1")]);
    assert_calls(&v, &["enpass-cli version", "enpass-cli -json -vault vault-path show FooBar"]);
    v.fetch("enpass", None, Some("vault-path"), &["FooBar/SECRET_1", "FooBar/SECRET_2"])
        .await
        .ok(&[("FooBar/SECRET_1", "my-password-1"), ("FooBar/SECRET_2", "my-password-2")]);
    v.fetch("enpass", None, Some("vault-path"), &["FooBar"]).await.ok(&[
        ("FooBar/SECRET_1", "my-password-1"),
        ("FooBar/SECRET_2", "my-password-2"),
        ("FooBar", "my-password-3"),
    ]);
}

#[tokio::test]
async fn enpass_errors() {
    let v = enpass_vault();
    v.fetch("enpass", None, Some("vault-path"), &["Twice"]).await.err("Twice/X is present more than once");
    v.fetch("enpass", None, Some("missing"), &["FooBar"])
        .await
        .err(&raised("JSON::ParserError", "unexpected end of input at line 1 column 1"));
    v.fetch("enpass", None, None, &["FooBar"])
        .await
        .err(&raised("NoMethodError", "undefined method `shellescape' for nil"));
    let v = enpass_vault().without_cli();
    v.fetch("enpass", None, Some("vault-path"), &["mynote"]).await.err("Enpass CLI is not installed");
}
