//! What `kamal config` prints: `Kamal::Utils.redacted(config.to_h).to_yaml`.
//!
//! Kamal's `to_h` has Ruby symbol keys, so the YAML keys print as `:roles:`, `:hosts:`, ...
//! (that is what Kamal 2.12 prints). Nothing in `to_h` is a redactable value in Kamal (its
//! command says "including secrets!"): `ssh_options.key_data` is printed resolved, as in Kamal.

use crate::error::ConfigError;
use crate::model::Configuration;
use crate::yaml::{to_yaml, Node};

/// `Configuration#to_h` as a Ruby-like node (symbol keys, nil entries left out): roles, hosts,
/// primary_host, version, repository, absolute_image, service_with_version, volume_args,
/// ssh_options, sshkit, builder, accessories, logging.
pub fn to_h(config: &Configuration) -> Result<Node, ConfigError> {
    let strs = |v: Vec<String>| Node::Array(v.into_iter().map(Node::str).collect());
    let mut pairs: Vec<(Node, Node)> = vec![];
    pairs.push((Node::sym("roles"), strs(config.role_names())));
    pairs.push((Node::sym("hosts"), strs(config.all_hosts())));
    if let Some(h) = config.primary_host() {
        pairs.push((Node::sym("primary_host"), Node::str(h)));
    }
    if config.has_version() {
        pairs.push((Node::sym("version"), Node::str(config.version())));
    }
    pairs.push((Node::sym("repository"), Node::str(config.repository())));
    pairs.push((Node::sym("absolute_image"), Node::str(config.absolute_image())));
    pairs.push((Node::sym("service_with_version"), Node::str(config.service_with_version())));
    pairs.push((Node::sym("volume_args"), strs(config.volume_args())));
    pairs.push((Node::sym("ssh_options"), config.ssh().to_h()?));
    pairs.push((Node::sym("sshkit"), Node::Value(config.sshkit().to_h())));
    pairs.push((Node::sym("builder"), Node::Value(config.builder().to_h().clone())));
    if let Some(acc) = config.raw_config().get("accessories").filter(|v| !v.is_null()) {
        pairs.push((Node::sym("accessories"), Node::Value(acc.clone())));
    }
    pairs.push((Node::sym("logging"), strs(config.logging_args())));
    Ok(Node::Hash(pairs))
}

/// The text `kamal config` prints (a YAML document, `---` first, ending in a newline).
pub fn config_yaml(config: &Configuration) -> Result<String, ConfigError> {
    to_yaml(&to_h(config)?)
}
