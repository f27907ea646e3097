//! `wharf secrets` (Kamal's test/cli/secrets_test.rb): `fetch` through an adapter (Kamal's
//! `test` adapter answers each name reversed), `extract` one value from fetched JSON, `print`
//! the project's resolved secrets. Nothing runs on a server; the output is asserted exactly.

use crate::harness::*;
use wharf_deploy::{output, secrets, GlobalOptions};
use wharf_secrets::cli::FetchArgs;

fn options() -> GlobalOptions {
    GlobalOptions { config_file: "config/deploy.yml".into(), ..Default::default() }
}

fn fetch(account: Option<&str>) -> String {
    let project = Project::kamal("deploy_with_accessories.yml");
    let args = FetchArgs {
        adapter: "test".into(),
        account: account.map(str::to_string),
        from: None,
        names: vec!["foo".into(), "bar".into(), "baz".into()],
        inline: false,
    };
    let (result, lines) = output::capture(|| secrets::fetch(&options(), &project.path(), &args));
    result.unwrap();
    lines.join("\n").trim().to_string()
}

#[test]
fn fetch_with_the_test_adapter() {
    assert_eq!(fetch(Some("myaccount")), r#"{"foo":"oof","bar":"rab","baz":"zab"}"#);
}

#[test]
fn fetch_missing_account() {
    assert_eq!(fetch(None), "No value provided for required options '--account'");
}

fn extract(name: &str, json: &str) -> String {
    let (result, lines) = output::capture(|| secrets::extract(name, json));
    result.unwrap();
    lines.join("\n").trim().to_string()
}

#[test]
fn extract_a_value() {
    assert_eq!(extract("foo", r#"{"foo":"oof", "bar":"rab", "baz":"zab"}"#), "oof");
}

#[test]
fn extract_matches_from_the_end() {
    assert_eq!(extract("foo", r#"{"abc/foo":"oof", "bar":"rab", "baz":"zab"}"#), "oof");
}

#[test]
fn extract_a_missing_name_is_an_error_naming_it() {
    let (result, _) = output::capture(|| secrets::extract("nope", r#"{"foo":"oof"}"#));
    let error = result.unwrap_err();
    assert!(error.message.contains("nope"), "{}", error.message);
}

#[test]
fn print() {
    let project = Project::kamal("deploy_with_accessories.yml");
    project.file(".kamal/secrets", "SECRET1=ABC\nSECRET2=${SECRET1}DEF\n");
    let (result, lines) = output::capture(|| secrets::print(&options(), &project.path()));
    result.unwrap();
    assert_eq!(lines.join("\n").trim(), "SECRET1=ABC\nSECRET2=ABCDEF");
}
