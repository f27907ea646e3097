//! `Kamal::Configuration::Output`: where Kamal also sends its output (`otel.endpoint`,
//! `file.path`).

use crate::ruby::{dig_str, present};
use serde_yaml::Value;

/// The `output` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    config: Value,
}

impl Output {
    pub(crate) fn new(config: Option<&Value>) -> Output {
        Output { config: config.cloned().unwrap_or(Value::Null) }
    }

    /// Whether any output is configured.
    pub fn enabled(&self) -> bool {
        present(&self.config)
    }

    /// The raw section.
    pub fn to_h(&self) -> &Value {
        &self.config
    }

    /// `otel.endpoint` (an OpenTelemetry collector).
    pub fn otel_endpoint(&self) -> Option<String> {
        dig_str(&self.config, &["otel", "endpoint"])
    }

    /// `file.path` (a directory for log files).
    pub fn file_path(&self) -> Option<String> {
        dig_str(&self.config, &["file", "path"])
    }
}
