//! The `options:` hash of a role or an accessory: extra `docker run` flags, with `restart`
//! taken out as the restart policy (Kamal's `option_args` and `restart_policy`, which roles and
//! accessories share).

use crate::ruby::{get, to_s};
use crate::utils::optionize_mapping;
use serde_yaml::{Mapping, Value};

/// The `options` hash of `config` (a role's specializations or an accessory's config).
pub(crate) fn of(config: &Value) -> Mapping {
    match get(config, "options") {
        Some(Value::Mapping(m)) => m.clone(),
        _ => Mapping::new(),
    }
}

/// `options` as docker flags (`--memory "2g"`), except `restart`.
pub(crate) fn args(config: &Value) -> Vec<String> {
    let mut options = of(config);
    options.retain(|k, _| to_s(k) != "restart");
    optionize_mapping(&options)
}

/// `options.restart`, default `unless-stopped`.
pub(crate) fn restart_policy(config: &Value) -> String {
    of(config)
        .iter()
        .find(|(k, _)| to_s(k) == "restart")
        .map(|(_, v)| to_s(v))
        .unwrap_or_else(|| "unless-stopped".into())
}
