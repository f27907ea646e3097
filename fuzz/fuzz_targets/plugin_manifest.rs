//! Fuzz target `plugin_manifest`: `plugin.toml` text through `Manifest::from_toml` (TOML, serde,
//! the manifest's checks), then the plugin host's two matchers on what it declares: argument
//! patterns (`ProgramRule::allows`) and host patterns (`host_matches`), and a user's grant
//! against the manifest (`Grant::missing`, `Grant::limits`).
//!
//! The input is the manifest, optionally followed by a line `%%` and probe lines: `grant-program
//! PROG PATTERN...`, `grant-host PATTERN`, `grant-dir DIR`, `grant-env NAME` build the grant; any
//! other line is a call `PROG ARG...` checked against every program rule (when the manifest does
//! not parse, the first call's words serve as the rule), and each of its words, as
//! `host[:port]`, against every host pattern. Nothing runs and nothing is connected to.
//!
//! Beyond "no panic", two properties the plugin docs promise are asserted:
//! - options are safe by construction: a rule none of whose patterns starts with `-` (and that
//!   does not end in `**unchecked`) never allows an option (an argument starting with `-`) before
//!   the first `--`;
//! - a host pattern without `*` matches only its own name: the host (case aside) is part of it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_plugin_host::{host_matches, Grant, Manifest, ProgramRule, ANY_ARGUMENTS};

/// Checks one call against one rule, and the option-safety property.
fn check_call(rule: &ProgramRule, call: &[String]) {
    let Some((program, args)) = call.split_first() else { return };
    if !rule.allows(program, args) {
        return;
    }
    let option_patterns = rule.args.iter().any(|p| p.starts_with('-'));
    let unchecked = rule.args.last().is_some_and(|p| p == ANY_ARGUMENTS);
    if !option_patterns && !unchecked {
        let operands_from = args.iter().position(|a| a == "--").unwrap_or(args.len());
        assert!(
            args[..operands_from].iter().all(|a| !a.starts_with('-')),
            "rule {rule:?} without option patterns allowed an option: {args:?}"
        );
    }
}

/// `host[:port]` as a call word gives it (no port: 443).
fn host_and_port(word: &str) -> (&str, u16) {
    match word.rsplit_once(':') {
        Some((host, port)) => match port.parse() {
            Ok(port) => (host, port),
            Err(_) => (word, 443),
        },
        None => (word, 443),
    }
}

fn check_host(pattern: &str, word: &str) {
    let (host, port) = host_and_port(word);
    if host_matches(pattern, host, port) && !pattern.contains('*') {
        assert!(
            pattern.to_ascii_lowercase().contains(&host.to_ascii_lowercase()),
            "pattern {pattern:?} without a wildcard matched {host:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = wharf_fuzz::text(data) else { return };
    let (manifest_text, probes) = text.split_once("\n%%\n").unwrap_or((text, ""));
    let manifest = Manifest::from_toml(manifest_text, "fuzz");

    let mut grant = Grant::new().workdir(wharf_fuzz::scratch_dir("plugin"));
    let mut grant_hosts = vec![];
    let mut calls: Vec<Vec<String>> = vec![];
    for line in probes.lines() {
        let words = wharf_fuzz::words(line);
        match (words.first().map(String::as_str), words.get(1)) {
            (Some("grant-program"), Some(program)) => grant = grant.program(program.clone(), words[2..].to_vec()),
            (Some("grant-host"), Some(host)) => {
                grant = grant.host(host.clone());
                grant_hosts.push(host.clone());
            }
            (Some("grant-dir"), Some(dir)) => grant = grant.directory(dir.clone()),
            (Some("grant-env"), Some(name)) => grant = grant.var(name.clone()),
            (Some(_), _) => calls.push(words),
            (None, _) => {}
        }
    }

    let (rules, manifest_hosts) = match &manifest {
        Ok(m) => (m.capabilities.programs.clone(), m.capabilities.hosts.clone()),
        Err(e) => {
            let _ = e.to_string();
            let rule =
                calls.first().and_then(|w| w.split_first()).map(|(p, args)| ProgramRule::new(p.clone(), args.to_vec()));
            (rule.into_iter().collect(), vec![])
        }
    };
    for rule in &rules {
        // a rule's own patterns, taken literally, as a call
        let own: Vec<String> = std::iter::once(rule.program.clone()).chain(rule.args.iter().cloned()).collect();
        check_call(rule, &own);
        for call in &calls {
            check_call(rule, call);
        }
    }
    for pattern in manifest_hosts.iter().chain(&grant_hosts) {
        for word in calls.iter().flatten() {
            check_host(pattern, word);
        }
    }
    if let Ok(m) = &manifest {
        let _ = grant.missing(m);
        let _ = grant.limits(m.world);
    }
});
