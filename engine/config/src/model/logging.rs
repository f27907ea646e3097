//! `Kamal::Configuration::Logging`: the docker log driver and options, root and per role.

use crate::ruby::{deep_merge, get, present_opt, to_s};
use crate::utils::{argumentize_mapping, optionize};
use serde_yaml::{Mapping, Value};

/// A `logging` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Logging {
    config: Value,
}

impl Logging {
    pub(crate) fn new(config: Option<&Value>) -> Logging {
        Logging { config: config.filter(|v| !v.is_null()).cloned().unwrap_or(Value::Mapping(Mapping::new())) }
    }

    /// The raw section.
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// `driver`.
    pub fn driver(&self) -> Option<String> {
        get(&self.config, "driver").filter(|v| !v.is_null()).map(to_s)
    }

    /// `options` (empty when unset).
    pub fn options(&self) -> Mapping {
        match get(&self.config, "options") {
            Some(Value::Mapping(m)) => m.clone(),
            _ => Mapping::new(),
        }
    }

    /// `merge`: `other` deep-merged over this one.
    pub fn merge(&self, other: &Logging) -> Logging {
        Logging { config: deep_merge(&self.config, &other.config) }
    }

    /// `--log-driver "x" --log-opt k="v"...`, or Kamal's default `--log-opt max-size="10m"`.
    pub fn args(&self) -> Vec<String> {
        let driver = get(&self.config, "driver");
        let options = self.options();
        if present_opt(driver) || !options.is_empty() {
            let mut out = vec![];
            if let Some(d) = driver.filter(|d| !d.is_null()) {
                out.extend(optionize([("log-driver".to_string(), d)], None));
            }
            out.extend(argumentize_mapping("--log-opt", &options));
            out
        } else {
            let mut m = Mapping::new();
            m.insert("max-size".into(), "10m".into());
            argumentize_mapping("--log-opt", &m)
        }
    }
}
