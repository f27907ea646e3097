//! What Ruby has in Kamal's process when it renders deploy.yml: the methods of each core class,
//! Kernel's functions and the constants (from `known/kamal-ruby-3.3.txt`, dumped from Kamal's own
//! Ruby), and the class hierarchy of the built-in classes. The evaluator asks this when it lacks
//! a method or constant: if Ruby has it, the template needs a real Ruby (never a wrong answer);
//! if not, Ruby itself would raise NoMethodError or NameError, and so does the evaluator.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const TABLES: &str = include_str!("known/kamal-ruby-3.3.txt");

fn tables() -> &'static HashMap<&'static str, HashSet<&'static str>> {
    static T: OnceLock<HashMap<&'static str, HashSet<&'static str>>> = OnceLock::new();
    T.get_or_init(|| {
        TABLES
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k, v.split(' ').filter(|s| !s.is_empty()).collect()))
            .collect()
    })
}

fn has(table: &str, name: &str) -> bool {
    tables().get(table).is_some_and(|t| t.contains(name))
}

/// Whether Ruby defines `name` for `class`: `i:String` (instances) or `s:File` (the module's
/// own methods).
pub fn method_exists(class: &str, name: &str) -> bool {
    if tables().contains_key(class) {
        return has(class, name);
    }
    if let Some(module) = class.strip_prefix("s:") {
        // a module or class without its own table: Module's (or Class's) methods
        let t = if is_class(module) { "i:Class" } else { "i:Module" };
        return has(t, name);
    }
    if let Some(c) = class.strip_prefix("i:") {
        // instances of a class without a table: walk up
        if let Some(sup) = superclass(c) {
            return method_exists(&format!("i:{sup}"), name);
        }
        return has("i:Object", name);
    }
    false
}

/// Whether `name` is a Kernel function callable without a receiver.
pub fn kernel_function(name: &str) -> bool {
    has("private:Object", name) || has("i:Object", name)
}

/// Whether Ruby has the constant (`Foo` or `Foo::Bar`) in Kamal's process.
pub fn constant_exists(path: &str) -> bool {
    match path.rsplit_once("::") {
        Some((owner, name)) => has(&format!("const:{owner}"), name),
        None => has("const:Object", path),
    }
}

/// Whether Kamal's process has loaded the feature (so `require` answers false).
pub fn feature_loaded(feature: &str) -> bool {
    has("loaded_features", feature)
}

/// The superclass of a built-in class.
pub fn superclass(name: &str) -> Option<&'static str> {
    Some(match name {
        "BasicObject" => return None,
        "Object" => "BasicObject",
        "Integer" | "Float" => "Numeric",
        "Exception" | "Numeric" | "String" | "Symbol" | "Array" | "Hash" | "Range" | "Regexp" | "Proc" | "NilClass"
        | "TrueClass" | "FalseClass" | "Time" | "Date" | "MatchData" | "Module" | "Method" | "Struct" | "Set" => {
            "Object"
        }
        "Process::Status" | "URI::Generic" | "Pathname" | "Encoding" | "Random" | "IO" => "Object",
        "File" => "IO",
        "Dir" => "Object",
        "Class" => "Module",
        "DateTime" => "Date",
        "URI::HTTP" | "URI::FTP" | "URI::File" | "URI::LDAP" | "URI::MailTo" | "URI::WS" => "URI::Generic",
        "URI::HTTPS" => "URI::HTTP",
        "URI::WSS" => "URI::WS",
        "URI::LDAPS" => "URI::LDAP",
        // exceptions
        "NoMemoryError" | "ScriptError" | "SecurityError" | "SignalException" | "StandardError" | "SystemExit"
        | "SystemStackError" => "Exception",
        "LoadError" | "NotImplementedError" | "SyntaxError" => "ScriptError",
        "Interrupt" => "SignalException",
        "ArgumentError" | "EncodingError" | "FiberError" | "IOError" | "IndexError" | "LocalJumpError"
        | "NameError" | "RangeError" | "RegexpError" | "RuntimeError" | "SystemCallError" | "ThreadError"
        | "TypeError" | "ZeroDivisionError" => "StandardError",
        "UncaughtThrowError" => "ArgumentError",
        "EOFError" => "IOError",
        "KeyError" | "StopIteration" => "IndexError",
        "NoMethodError" => "NameError",
        "FloatDomainError" => "RangeError",
        "FrozenError" => "RuntimeError",
        "Psych::Exception" => "RuntimeError",
        "Psych::SyntaxError" | "Psych::DisallowedClass" | "Psych::BadAlias" | "Psych::AliasesNotEnabled" => {
            "Psych::Exception"
        }
        "JSON::JSONError" => "StandardError",
        "JSON::ParserError" | "JSON::GeneratorError" => "JSON::JSONError",
        "URI::Error" => "StandardError",
        "URI::InvalidURIError" | "URI::InvalidComponentError" | "URI::BadURIError" => "URI::Error",
        "Kamal::ConfigurationError" => "StandardError",
        "Dotenv::Error" => "StandardError",
        "Dotenv::FormatError" => "SyntaxError",
        "Dotenv::MissingKeys" => "Dotenv::Error",
        n if n.starts_with("Errno::") => "SystemCallError",
        _ => return None,
    })
}

/// Whether a built-in constant names a class (rather than a module).
pub fn is_class(name: &str) -> bool {
    !matches!(
        name,
        "Kernel"
            | "Comparable"
            | "Enumerable"
            | "Math"
            | "Process"
            | "Kamal"
            | "Kamal::Utils"
            | "URI"
            | "File::Constants"
            | "FileTest"
            | "Dotenv"
            | "YAML"
            | "Psych"
            | "JSON"
            | "Errno"
            | "ObjectSpace"
            | "GC"
            | "Signal"
            | "Marshal"
            | "SecureRandom"
            | "Shellwords"
            | "FileUtils"
            | "Base64"
            | "Digest"
            | "Open3"
            | "Etc"
            | "ActiveSupport"
    )
}

/// Modules a built-in class includes (for `is_a?` and `===`).
pub fn includes(class: &str, module: &str) -> bool {
    match module {
        "Kernel" => true,
        "Comparable" => matches!(class, "Integer" | "Float" | "Numeric" | "String" | "Time" | "Date"),
        "Enumerable" => matches!(class, "Array" | "Hash" | "Range" | "Struct" | "Dir"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_what_ruby_has() {
        assert!(method_exists("i:String", "unpack1"));
        assert!(!method_exists("i:String", "no_such_method"));
        assert!(method_exists("i:NilClass", "present?"), "ActiveSupport's blank.rb is loaded in Kamal");
        assert!(!method_exists("i:String", "squish"), "string/filters is not loaded in Kamal");
        assert!(method_exists("s:File", "basename"));
        assert!(kernel_function("format"));
        assert!(constant_exists("Socket"));
        assert!(!constant_exists("Rails"));
        assert!(constant_exists("Kamal::Utils"));
        assert_eq!(superclass("KeyError"), Some("IndexError"));
    }
}
