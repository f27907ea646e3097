//! ERB templates rendered as Kamal renders deploy.yml (`ERB.new(text, trim_mode: "-").result`),
//! by a small Ruby evaluator, with a system Ruby for what it cannot do.
//!
//! Layers, in the order a template goes through them:
//! - [`template`]: ERB's compiler: the template becomes the Ruby program ERB would run.
//! - `lexer` and `parser`: that program becomes a syntax tree ([`ast`]).
//! - `interp` and `methods`: the tree is evaluated with Ruby's semantics and the methods of the
//!   core classes, ActiveSupport's extensions Kamal loads, ENV, File, Dir, Time, URI, dotenv,
//!   backticks and `system`. `known` lists what Ruby has in Kamal's process, so that a method the
//!   evaluator lacks is never mistaken for one Ruby lacks.
//! - [`system_ruby`]: a real Ruby renders what the evaluator cannot ([`Renderer`] decides).
//!
//! The result is the rendered text, or the exception Ruby would have raised (class and message,
//! as Kamal prints them), or a clear statement that the template needs a real Ruby.

pub mod ast;
mod context;
pub mod error;
mod interp;
mod known;
mod lexer;
mod methods;
mod parser;
pub mod system_ruby;
pub mod template;
mod value;

pub use context::{Captured, Context, RUBY_VERSION};
pub use system_ruby::RubyMode;
pub use value::float_to_s;

use error::{Ctrl, Stop};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Why the built-in evaluator did not render a template.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderError {
    /// Ruby itself would raise this (Kamal prints `ERROR (<class>): <message>`). `standard`: a
    /// StandardError, which Kamal rescues and prints as its ERROR line; other exceptions
    /// (LoadError, SyntaxError...) crash Kamal with Ruby's own report.
    Raised { class: String, message: String, line: u32, standard: bool },
    /// Ruby has this, the evaluator does not (`what` names it).
    Unsupported { line: u32, what: String },
    /// The evaluator could not parse the template's Ruby (Ruby may or may not).
    Syntax { line: u32, message: String },
    /// The template called `exit` or `abort`: the process would end with this status.
    Exit(i32),
}

/// The built-in evaluator. Methods, modules and constants a template defines stay defined for
/// the next template rendered by the same evaluator (as in one Ruby process); local variables
/// do not (ERB starts each template with a fresh top-level binding).
pub struct Evaluator {
    interp: interp::Interp,
}

impl Evaluator {
    pub fn new(ctx: Context) -> Evaluator {
        Evaluator { interp: interp::Interp::new(ctx) }
    }

    /// Renders one template (`ERB.new(template, trim_mode: "-")`).
    pub fn render(&mut self, template: &str) -> Result<String, RenderError> {
        self.render_program(&template::compile(template))
    }

    /// Renders one template without a trim mode (`ERB.new(template)`).
    pub fn render_untrimmed(&mut self, template: &str) -> Result<String, RenderError> {
        self.render_program(&template::compile_untrimmed(template))
    }

    fn render_program(&mut self, program: &str) -> Result<String, RenderError> {
        let tree =
            parser::parse_program(program).map_err(|e| RenderError::Syntax { line: e.line, message: e.message })?;
        match self.interp.run_toplevel(&tree) {
            Ok(v) => Ok(v.as_str().unwrap_or_default()),
            Err(Ctrl::Raise(e)) => Err(RenderError::Raised {
                class: e.class.name.clone(),
                message: e.message.clone(),
                line: e.line,
                standard: e.class.inherits("StandardError"),
            }),
            Err(Ctrl::Stop(Stop::Unsupported { line, what })) => Err(RenderError::Unsupported { line, what }),
            Err(Ctrl::Stop(Stop::Exit(code))) => Err(RenderError::Exit(code)),
            Err(_) => Err(RenderError::Raised {
                class: "LocalJumpError".into(),
                message: "unexpected jump".into(),
                line: 0,
                standard: true,
            }),
        }
    }

    pub fn context(&self) -> &Context {
        &self.interp.ctx
    }

    pub fn context_mut(&mut self) -> &mut Context {
        &mut self.interp.ctx
    }

    pub fn into_context(self) -> Context {
        self.interp.ctx
    }
}

/// Why a template could not be rendered at all.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateError {
    /// The exception Ruby raises (from the built-in evaluator or a system Ruby); `standard`: a
    /// StandardError (Kamal prints those as its ERROR line).
    Raised { class: String, message: String, standard: bool },
    /// Neither the built-in evaluator nor a system Ruby could render it: `what` says what the
    /// evaluator lacks at `line`; `ruby` says why no system Ruby rendered it.
    NeedsRuby { line: u32, what: String, syntax: bool, ruby: NoRuby },
    /// `exit`/`abort` in the template.
    Exit(i32),
}

/// Why no system Ruby rendered a template.
#[derive(Debug, Clone, PartialEq)]
pub enum NoRuby {
    /// `WHARF_RUBY=never`.
    Disabled,
    /// No `ruby` on PATH.
    NotFound,
    /// It could not run or failed oddly.
    Failed(String),
}

static NOTICE_SHOWN: AtomicBool = AtomicBool::new(false);

/// Renders templates as Kamal does: the built-in evaluator first, a system Ruby (per
/// [`RubyMode`]) for templates it cannot render, with a notice on stderr the first time.
pub struct Renderer {
    evaluator: Evaluator,
    mode: RubyMode,
}

impl Renderer {
    pub fn new(ctx: Context, mode: RubyMode) -> Renderer {
        Renderer { evaluator: Evaluator::new(ctx), mode }
    }

    pub fn context(&self) -> &Context {
        self.evaluator.context()
    }

    pub fn context_mut(&mut self) -> &mut Context {
        self.evaluator.context_mut()
    }

    pub fn into_context(self) -> Context {
        self.evaluator.into_context()
    }

    /// Renders `template` as `ERB.new(template, trim_mode: "-")`; `file` names it in the notice.
    pub fn render(&mut self, template: &str, file: &str) -> Result<String, TemplateError> {
        self.render_with(template, file, true)
    }

    /// Renders `template` as `ERB.new(template)` (no trim mode).
    pub fn render_untrimmed(&mut self, template: &str, file: &str) -> Result<String, TemplateError> {
        self.render_with(template, file, false)
    }

    fn render_with(&mut self, template: &str, file: &str, trim: bool) -> Result<String, TemplateError> {
        if self.mode == RubyMode::Always {
            return self.with_ruby(template, file, None, trim);
        }
        let env_before = self.evaluator.context().env.clone();
        let rendered = if trim { self.evaluator.render(template) } else { self.evaluator.render_untrimmed(template) };
        match rendered {
            Ok(s) => Ok(s),
            Err(RenderError::Raised { class, message, standard, .. }) => {
                Err(TemplateError::Raised { class, message, standard })
            }
            Err(RenderError::Exit(code)) => Err(TemplateError::Exit(code)),
            Err(RenderError::Unsupported { line, what }) => {
                // start again from the environment the template started with
                self.evaluator.context_mut().env = env_before;
                self.with_ruby(template, file, Some((line, what, false)), trim)
            }
            Err(RenderError::Syntax { line, message }) => {
                self.evaluator.context_mut().env = env_before;
                self.with_ruby(template, file, Some((line, message, true)), trim)
            }
        }
    }

    fn with_ruby(
        &mut self,
        template: &str,
        file: &str,
        why: Option<(u32, String, bool)>,
        trim: bool,
    ) -> Result<String, TemplateError> {
        let (line, what, syntax) = why.clone().unwrap_or((0, String::new(), false));
        let needs = |ruby: NoRuby| TemplateError::NeedsRuby { line, what: what.clone(), syntax, ruby };
        if self.mode == RubyMode::Never {
            return Err(needs(NoRuby::Disabled));
        }
        let Some(ruby) = system_ruby::find_ruby(&self.evaluator.context().env) else {
            return Err(needs(NoRuby::NotFound));
        };
        if !NOTICE_SHOWN.swap(true, Ordering::SeqCst) {
            let reason = match &why {
                Some((l, w, true)) => format!(" (the built-in evaluator cannot parse line {l}: {w})"),
                Some((l, w, false)) => format!(" (the built-in evaluator lacks {w}, line {l})"),
                None => " (WHARF_RUBY=always)".into(),
            };
            let ctx = self.evaluator.context_mut();
            let _ = writeln!(ctx.err, "Rendering {file} with {}{reason}", ruby.display());
        }
        match system_ruby::render(&ruby, template, self.evaluator.context(), trim) {
            system_ruby::RubyOutcome::Rendered { output, env } => {
                self.evaluator.context_mut().env = env;
                Ok(output)
            }
            system_ruby::RubyOutcome::Raised { class, message, standard, env } => {
                self.evaluator.context_mut().env = env;
                Err(TemplateError::Raised { class, message, standard })
            }
            system_ruby::RubyOutcome::Exited(code) => Err(TemplateError::Exit(code)),
            system_ruby::RubyOutcome::Failed(e) => Err(needs(NoRuby::Failed(e))),
        }
    }
}

use std::io::Write;

/// The system Ruby a renderer would use (for messages).
pub fn system_ruby_path(ctx: &Context) -> Option<PathBuf> {
    system_ruby::find_ruby(&ctx.env)
}
