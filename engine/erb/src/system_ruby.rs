//! Rendering with a real Ruby, for what the built-in evaluator cannot do: `ruby` on PATH renders
//! the template with ERB exactly as Kamal does (`ERB.new(text, trim_mode: "-").result`), after
//! loading what Kamal's process has (the kamal gem itself when installed, else ActiveSupport's
//! `blank?`/`present?` and stand-ins for `Kamal::VERSION` and `Kamal::Utils.docker_arch`). The
//! output, the environment afterwards and any exception come back through files, so the
//! template's own stdout and stderr pass through untouched.

use crate::context::Context;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// When to use a system Ruby (`WHARF_RUBY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RubyMode {
    /// The built-in evaluator; a system Ruby for what it cannot do (the default).
    Auto,
    /// Never a system Ruby (`WHARF_RUBY=never`).
    Never,
    /// Always a system Ruby (`WHARF_RUBY=always`).
    Always,
}

impl RubyMode {
    /// From `WHARF_RUBY` (`never`, `always`, anything else or unset: auto).
    pub fn from_env(env: &HashMap<String, String>) -> RubyMode {
        match env.get("WHARF_RUBY").map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            Some("never" | "0" | "no" | "off" | "false") => RubyMode::Never,
            Some("always" | "1" | "yes" | "on" | "true") => RubyMode::Always,
            _ => RubyMode::Auto,
        }
    }
}

/// The `ruby` executable on the context's PATH.
pub fn find_ruby(env: &HashMap<String, String>) -> Option<PathBuf> {
    let path = env.get("PATH")?;
    for dir in path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join("ruby");
        if let Ok(meta) = std::fs::metadata(&candidate) {
            use std::os::unix::fs::PermissionsExt;
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return Some(candidate);
            }
        }
    }
    None
}

const PRELUDE: &str = r#"
require "erb"
%w[json yaml uri date socket set securerandom shellwords fileutils pathname base64 digest open3 etc].each do |lib|
  begin
    require lib
  rescue LoadError
  end
end
begin
  require "kamal"
rescue LoadError
  begin
    require "active_support"
    %w[object/blank object/try object/inclusion hash/keys hash/deep_merge hash/except hash/slice
       string/inflections string/inquiry array/conversions enumerable].each do |ext|
      require "active_support/core_ext/#{ext}"
    end
  rescue LoadError
    class Object
      def blank?; respond_to?(:empty?) ? !!empty? : !self; end
      def present?; !blank?; end
      def presence; self if present?; end
    end
    class String
      def blank?; /\A[[:space:]]*\z/.match?(self); end
    end
    class Numeric; def blank?; false; end; end
    class NilClass; def blank?; true; end; end
    class FalseClass; def blank?; true; end; end
    class TrueClass; def blank?; false; end; end
  end
  module Kamal
    VERSION = ENV.fetch("WHARF_KAMAL_VERSION", "2.12.0")
    class ConfigurationError < StandardError; end
    module Utils
      def self.docker_arch
        arch = `docker info --format '{{.Architecture}}'`.strip
        case arch
        when /aarch64/ then "arm64"
        when /x86_64/ then "amd64"
        else arch
        end
      end
    end
  end
end
template_path, out_path, env_path, error_path = ARGV.shift(4)
ENV.delete("WHARF_KAMAL_VERSION")
trim = ENV.delete("WHARF_ERB_TRIM") == "-"
begin
  erb = trim ? ERB.new(File.read(template_path), trim_mode: "-") : ERB.new(File.read(template_path))
  result = erb.result
  File.binwrite(out_path, result)
  File.write(env_path, JSON.generate(ENV.to_h))
rescue Exception => e
  raise if e.is_a?(SystemExit)
  File.write(error_path, JSON.generate({ "class" => e.class.name, "message" => e.message,
    "standard" => e.is_a?(StandardError).to_s }))
  File.write(env_path, JSON.generate(ENV.to_h))
  exit! 3
end
"#;

/// What a system Ruby made of a template.
pub enum RubyOutcome {
    Rendered {
        output: String,
        env: HashMap<String, String>,
    },
    Raised {
        class: String,
        message: String,
        standard: bool,
        env: HashMap<String, String>,
    },
    Exited(i32),
    /// Ruby could not be run or answered in a way this module does not understand.
    Failed(String),
}

/// Renders `template` with `ruby` in the context's directory and environment (`trim`:
/// `trim_mode: "-"`).
pub fn render(ruby: &Path, template: &str, ctx: &Context, trim: bool) -> RubyOutcome {
    let dir = match tempfile_dir() {
        Ok(d) => d,
        Err(e) => return RubyOutcome::Failed(format!("could not create a temporary directory: {e}")),
    };
    let template_path = dir.join("template.erb");
    let out_path = dir.join("output");
    let env_path = dir.join("env.json");
    let error_path = dir.join("error.json");
    let prelude_path = dir.join("render.rb");
    let outcome = (|| {
        std::fs::write(&template_path, template).map_err(|e| e.to_string())?;
        std::fs::write(&prelude_path, PRELUDE).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(ruby);
        cmd.arg(&prelude_path)
            .arg(&template_path)
            .arg(&out_path)
            .arg(&env_path)
            .arg(&error_path)
            .env_clear()
            .envs(&ctx.env)
            .env("WHARF_KAMAL_VERSION", &ctx.kamal_version)
            .env("WHARF_ERB_TRIM", if trim { "-" } else { "" })
            .current_dir(&ctx.cwd)
            .stdin(Stdio::inherit());
        let output = if ctx.inherit_stdio {
            cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
            let status = cmd.status().map_err(|e| format!("could not run {}: {e}", ruby.display()))?;
            (status, vec![], vec![])
        } else {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let o = cmd.output().map_err(|e| format!("could not run {}: {e}", ruby.display()))?;
            (o.status, o.stdout, o.stderr)
        };
        Ok::<_, String>(output)
    })();
    let result = match outcome {
        Err(e) => RubyOutcome::Failed(e),
        Ok((status, stdout, stderr)) => {
            let read_env = || -> HashMap<String, String> {
                std::fs::read_to_string(&env_path)
                    .ok()
                    .and_then(|t| crate::methods::format::parse_json(&t, false))
                    .map(json_map)
                    .unwrap_or_else(|| ctx.env.clone())
            };
            if let Ok(out) = std::fs::read(&out_path) {
                RubyOutcome::Rendered { output: String::from_utf8_lossy(&out).into_owned(), env: read_env() }
            } else if let Ok(err) = std::fs::read_to_string(&error_path) {
                match crate::methods::format::parse_json(&err, false).map(json_map) {
                    Some(m) => RubyOutcome::Raised {
                        class: m.get("class").cloned().unwrap_or_default(),
                        message: m.get("message").cloned().unwrap_or_default(),
                        standard: m.get("standard").map(|s| s == "true").unwrap_or(true),
                        env: read_env(),
                    },
                    None => RubyOutcome::Failed("unreadable error report".into()),
                }
            } else {
                let mut detail = String::from_utf8_lossy(&stderr).into_owned();
                if detail.is_empty() {
                    detail = String::from_utf8_lossy(&stdout).into_owned();
                }
                match status.code() {
                    Some(code) if detail.is_empty() || code != 1 => RubyOutcome::Exited(code),
                    Some(code) => RubyOutcome::Failed(format!("ruby exited with {code}: {}", detail.trim())),
                    None => RubyOutcome::Failed("ruby was killed by a signal".into()),
                }
            }
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn json_map(v: crate::value::Value) -> HashMap<String, String> {
    let mut out = HashMap::new();
    if let crate::value::Value::Hash(h) = v {
        for (k, v) in h.borrow().pairs() {
            if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                out.insert(k, v);
            }
        }
    }
    out
}

fn tempfile_dir() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    for attempt in 0..100u32 {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let dir = base.join(format!("wharf-erb-{}-{nanos}-{attempt}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary directory name"))
}
