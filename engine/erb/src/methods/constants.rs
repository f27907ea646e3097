//! The constants a template can name: `ENV`, `RUBY_VERSION` and friends, the core classes,
//! exceptions, and the libraries Kamal's process has loaded (File, Dir, Time, Date, URI, JSON,
//! YAML, Kamal, Shellwords, Base64...), plus `Dotenv` once required. Answers `None` for what the
//! evaluator does not model; the interpreter then checks whether Ruby would have it.

use crate::context::{RUBY_PATCHLEVEL, RUBY_PLATFORM, RUBY_RELEASE_DATE, RUBY_VERSION};
use crate::error::R;
use crate::interp::Interp;
use crate::value::*;

/// Built-in modules and classes whose methods the evaluator implements (or that are plain
/// classes: exceptions, core types).
const MODULES: &[&str] = &[
    "Object",
    "BasicObject",
    "Module",
    "Class",
    "Kernel",
    "Comparable",
    "Enumerable",
    "String",
    "Symbol",
    "Integer",
    "Float",
    "Numeric",
    "Array",
    "Hash",
    "Range",
    "Regexp",
    "MatchData",
    "Proc",
    "NilClass",
    "TrueClass",
    "FalseClass",
    "Time",
    "Date",
    "File",
    "Dir",
    "IO",
    "URI",
    "Kamal",
    "Process",
    "Math",
    "JSON",
    "Shellwords",
    "Base64",
    "SecureRandom",
    "Socket",
    "Errno",
    "ERB",
];

pub fn toplevel(it: &mut Interp, name: &str) -> R<Option<Value>> {
    let v = match name {
        "ENV" => it.env_obj.clone(),
        "RUBY_VERSION" | "RUBY_ENGINE_VERSION" => Value::frozen_str(RUBY_VERSION),
        "RUBY_ENGINE" => Value::frozen_str("ruby"),
        "RUBY_PLATFORM" => Value::frozen_str(RUBY_PLATFORM),
        "RUBY_RELEASE_DATE" => Value::frozen_str(RUBY_RELEASE_DATE),
        "RUBY_PATCHLEVEL" => Value::Int(RUBY_PATCHLEVEL),
        "YAML" | "Psych" => Value::Module(it.class("Psych")),
        "Dotenv" if it.loaded.contains("dotenv") => Value::Module(it.class("Dotenv")),
        n if MODULES.contains(&n) => Value::Module(it.class(n)),
        n if crate::known::superclass(n).is_some() && !n.contains("::") && n.ends_with("Error")
            || matches!(
                n,
                "Exception"
                    | "StopIteration"
                    | "Interrupt"
                    | "SystemExit"
                    | "NoMemoryError"
                    | "SecurityError"
                    | "SignalException"
                    | "SystemStackError"
            ) =>
        {
            Value::Module(it.class(n))
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

pub fn nested(it: &mut Interp, owner: &str, name: &str) -> R<Option<Value>> {
    let full = format!("{owner}::{name}");
    let v = match (owner, name) {
        ("Kamal", "VERSION") => Value::frozen_str(it.ctx.kamal_version.clone()),
        ("Kamal", "Utils") => Value::Module(it.class("Kamal::Utils")),
        ("Kamal", "ConfigurationError") => Value::Module(it.class("Kamal::ConfigurationError")),
        ("File", "SEPARATOR") | ("File", "Separator") => Value::frozen_str("/"),
        ("File", "ALT_SEPARATOR") => Value::Nil,
        ("File", "PATH_SEPARATOR") => Value::frozen_str(":"),
        ("Float", "INFINITY") => Value::Float(f64::INFINITY),
        ("Float", "NAN") => Value::Float(f64::NAN),
        ("Float", "EPSILON") => Value::Float(f64::EPSILON),
        ("Math", "PI") => Value::Float(std::f64::consts::PI),
        ("Math", "E") => Value::Float(std::f64::consts::E),
        ("Process", "Status") => Value::Module(it.class("Process::Status")),
        ("Dotenv", "VERSION") => Value::frozen_str("3.2.0"),
        ("Psych", "VERSION") => Value::frozen_str("5.2.2"),
        ("JSON", "ParserError" | "JSONError" | "GeneratorError")
        | ("Psych", "SyntaxError" | "Exception" | "DisallowedClass" | "BadAlias" | "AliasesNotEnabled")
        | (
            "URI",
            "Error"
            | "InvalidURIError"
            | "InvalidComponentError"
            | "BadURIError"
            | "Generic"
            | "HTTP"
            | "HTTPS"
            | "FTP"
            | "File"
            | "LDAP"
            | "LDAPS"
            | "MailTo"
            | "WS"
            | "WSS",
        )
        | ("Dotenv", "Error" | "FormatError" | "MissingKeys") => Value::Module(it.class(&full)),
        ("Errno", n) if crate::known::constant_exists(&full) => {
            let _ = n;
            Value::Module(it.class(&full))
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}
