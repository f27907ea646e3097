//! The ERB in deploy.yml, rendered as Kamal renders it: by [`wharf_erb`]'s Ruby evaluator, with a
//! system Ruby for what the evaluator lacks (`WHARF_RUBY=never|always` to choose). This module
//! turns its outcomes into [`ConfigError`]s that read as Kamal's: the Ruby exception Kamal would
//! print (`ERROR (KeyError): key not found: "X"`), or a clear statement naming file, line and
//! construct when Ruby is needed and not available.
//!
//! [`ErbSession::sandboxed`] renders text that is not the user's own deploy.yml (the fuzzer's
//! input): no commands, no system Ruby, a small step budget, output discarded.

use crate::error::ConfigError;
use std::collections::HashMap;
use std::path::PathBuf;
use wharf_erb::{Context, NoRuby, Renderer, RubyMode, TemplateError};

/// The step budget of a sandboxed template: far more than a real deploy.yml's ERB takes, and a
/// few milliseconds of evaluation at most.
pub const SANDBOX_MAX_STEPS: u64 = 100_000;

/// Renders templates of one configuration load: methods and constants one file defines stay
/// defined for the next, and ENV changes (`ENV[...] =`, `Dotenv.load`) carry over.
pub struct ErbSession {
    renderer: Renderer,
}

impl ErbSession {
    /// A session reading and writing `env`, running in `cwd` (Kamal's working directory);
    /// `WHARF_RUBY` in `env` picks when a system Ruby is used.
    pub fn new(env: HashMap<String, String>, cwd: PathBuf) -> ErbSession {
        let mode = RubyMode::from_env(&env);
        let mut ctx = Context::new(env, cwd);
        ctx.kamal_version = crate::KAMAL_VERSION.to_string();
        ErbSession { renderer: Renderer::new(ctx, mode) }
    }

    /// A session for ERB that is not the user's own (a fuzzer's input): commands (backticks,
    /// `%x()`, `system`, `sleep`) are refused, a system Ruby is never run whatever `WHARF_RUBY`
    /// says, evaluation stops after [`SANDBOX_MAX_STEPS`] steps, and what the template prints
    /// (`puts`, `warn`) is discarded. ENV is the session's own map, as always (the process's
    /// environment is never changed); files can still be read (`File.read`, `Dotenv.load`), none
    /// written. Anything refused ends the rendering with an error.
    pub fn sandboxed(env: HashMap<String, String>, cwd: PathBuf) -> ErbSession {
        let mut ctx = Context::new(env, cwd);
        ctx.kamal_version = crate::KAMAL_VERSION.to_string();
        ctx.allow_commands = false;
        ctx.max_steps = SANDBOX_MAX_STEPS;
        ctx.inherit_stdio = false;
        ctx.out = Box::new(std::io::sink());
        ctx.err = Box::new(std::io::sink());
        ErbSession { renderer: Renderer::new(ctx, RubyMode::Never) }
    }

    /// Renders a config file's text (`ERB.new(text, trim_mode: "-").result`); `file` is the
    /// path named in errors.
    pub fn render(&mut self, template: &str, file: &str) -> Result<String, ConfigError> {
        self.renderer.render(template, file).map_err(|e| error(e, file))
    }

    /// Renders without a trim mode (`ERB.new(text).result`, Kamal's accessory files).
    pub fn render_untrimmed(&mut self, template: &str, file: &str) -> Result<String, ConfigError> {
        self.renderer.render_untrimmed(template, file).map_err(|e| error(e, file))
    }

    /// ENV as the templates left it.
    pub fn env(&self) -> &HashMap<String, String> {
        &self.renderer.context().env
    }

    /// Replaces ENV (for a file whose rendering is reused from a cache).
    pub fn set_env(&mut self, env: HashMap<String, String>) {
        self.renderer.context_mut().env = env;
    }
}

/// Renders one template in the process's working directory with `env`.
pub fn render(template: &str, file: &str, env: &HashMap<String, String>) -> Result<String, ConfigError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    ErbSession::new(env.clone(), cwd).render(template, file)
}

/// Renders an accessory's file as Kamal does (`ERB.new(File.read(local_file)).result`, no trim
/// mode).
pub fn render_untrimmed(template: &str, file: &str, env: &HashMap<String, String>) -> Result<String, ConfigError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    ErbSession::new(env.clone(), cwd).render_untrimmed(template, file)
}

fn error(e: TemplateError, file: &str) -> ConfigError {
    match e {
        TemplateError::Raised { class, message, standard } => ConfigError::ruby(class, message).uncaught(!standard),
        TemplateError::Exit(code) => ConfigError::exit(code),
        TemplateError::NeedsRuby { line, what, syntax, ruby } => {
            let problem = if syntax {
                format!("{file}:{line}: the built-in Ruby evaluator cannot parse this template ({what})")
            } else {
                format!("{file}:{line}: the built-in Ruby evaluator does not support {what}")
            };
            let remedy = match ruby {
                NoRuby::NotFound => {
                    "; Kamal renders it with Ruby: install Ruby (a `ruby` on PATH) and Wharf renders this file with it"
                        .to_string()
                }
                NoRuby::Disabled => "; WHARF_RUBY=never keeps Wharf from rendering it with a system Ruby".to_string(),
                NoRuby::Failed(why) => format!("; rendering it with the system Ruby failed: {why}"),
            };
            ConfigError::new(crate::ErrorKind::Erb, format!("{problem}{remedy}"))
        }
    }
}
