//! [`Secrets`]: Kamal's `Kamal::Secrets`, the values of `.kamal/secrets*` files.
//!
//! The files are `<path>-common`, then `<path>` (or `<path>.<destination>` when a destination is
//! set); only those that exist are read, later files win, each is parsed on its own with dotenv
//! (`overwrite: true`, so values in a file beat the environment; `$VAR` sees keys set earlier in the
//! same file, then the environment). Loading is lazy and happens once, under a lock, on the first
//! access: fetching may prompt (a password manager login), so only one thread does it. A failed load
//! is not kept: the next access tries again, as Kamal's `@secrets ||=` does.
//!
//! Command substitutions: `$(kamal secrets ...)` and `$(wharf secrets ...)` run in process, through
//! the [`InlineHook`] (Kamal runs `Kamal::Cli::Main.start(argv + ["--inline"])`); any other
//! `$(command)` runs with `sh -c`, in the base directory, and must succeed.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, OnceLock};
use std::thread::{self, ThreadId};

use regex::Regex;
use thiserror::Error;

use crate::cli;
use crate::dotenv::{
    command_message, ruby_inspect, CommandError, CommandRequest, CommandSyntax, DotenvError, Env, Parser,
};
use crate::map::SecretMap;
use crate::shell::{run_shell, shellsplit};

/// Kamal's default secrets path.
pub const DEFAULT_SECRETS_PATH: &str = ".kamal/secrets";

pub use crate::cli::InlineHook;

/// `\A\s*kamal\s*secrets\s+`, with `wharf` accepted too.
static INLINE_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\A[ \t\n\x0B\x0C\r]*(?:kamal|wharf)[ \t\n\x0B\x0C\r]*secrets[ \t\n\x0B\x0C\r]+").unwrap()
});

/// Why secrets could not be read. Messages are Kamal's where Kamal has one, and never hold values.
#[derive(Debug, Error)]
pub enum SecretsError {
    /// The name is in none of the files; `files` are those that exist, in reading order.
    #[error("Secret '{name}' not found in {}", files.join(", "))]
    NotFound {
        /// The secret asked for.
        name: String,
        /// The secrets files that exist.
        files: Vec<String>,
    },
    /// No secrets file exists; `filenames` are the ones looked for.
    #[error("Secret '{name}' not found, no secret files ({}) provided", filenames.join(", "))]
    NoSecretFiles {
        /// The secret asked for.
        name: String,
        /// The secrets files looked for.
        filenames: Vec<String>,
    },
    /// A file exists but cannot be read (Ruby's `Errno` message).
    #[error("{} @ rb_sysopen - {}", strerror(source), path.display())]
    Read {
        /// The file, as named in messages.
        file: String,
        /// The absolute path.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A file is not UTF-8 (Ruby's `ArgumentError` message).
    #[error("invalid byte sequence in UTF-8")]
    NotUtf8 {
        /// The file.
        file: String,
    },
    /// dotenv's `FormatError`: `export KEY` without a value for a key not set earlier in the file.
    #[error("Line {} has an unset variable", ruby_inspect(line))]
    UnsetVariable {
        /// The file.
        file: String,
        /// The matched text.
        line: String,
    },
    /// A `$(...)` in a file failed. An in-process `kamal secrets` command's message is shown as
    /// is (as Kamal does); a shell command's names the command, as written, and the file.
    #[error("{}", command_message(command, error, Some(file)))]
    Command {
        /// The file.
        file: String,
        /// The command as written in the file (before `$VAR` expansion).
        command: String,
        /// What went wrong.
        #[source]
        error: CommandError,
    },
    /// A command run while loading the secrets asked for the secrets again (from the same thread),
    /// which would never finish.
    #[error("Secrets in {} are already being loaded: a command in them reads the secrets", files.join(", "))]
    Recursive {
        /// The secrets files.
        files: Vec<String>,
    },
}

/// Ruby's `strerror` text: the OS message without Rust's ` (os error N)`.
fn strerror(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

impl SecretsError {
    fn from_dotenv(file: &str, error: DotenvError) -> Self {
        match error {
            DotenvError::UnsetVariable { line } => SecretsError::UnsetVariable { file: file.to_string(), line },
            DotenvError::Command { command, error } => SecretsError::Command { file: file.to_string(), command, error },
        }
    }
}

/// Kamal's `Kamal::Secrets`: lazily loaded, thread-safe access to the secrets files.
pub struct Secrets {
    secrets_path: String,
    destination: Option<String>,
    base_dir: Option<PathBuf>,
    env: Option<Env>,
    inline: InlineHook,
    files: OnceLock<Vec<String>>,
    loaded: Mutex<Option<Arc<SecretMap>>>,
    load_lock: Mutex<()>,
    loader: Mutex<Option<ThreadId>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The process environment, as Ruby's `ENV` (entries that are not UTF-8 are left out).
pub fn process_env() -> Env {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect()
}

/// Clears the loading thread's mark even if loading panics.
struct LoaderMark<'a>(&'a Mutex<Option<ThreadId>>);

impl Drop for LoaderMark<'_> {
    fn drop(&mut self) {
        *lock(self.0) = None;
    }
}

impl Secrets {
    /// Secrets at [`DEFAULT_SECRETS_PATH`] for `destination`, reading files relative to the
    /// current directory, expanding from the process environment (read at load time), with the
    /// built-in inline hook ([`cli::inline_hook`] over [`cli::BuiltinAdapters`]: the `test` adapter
    /// only).
    pub fn new(destination: Option<&str>) -> Self {
        Secrets {
            secrets_path: DEFAULT_SECRETS_PATH.to_string(),
            destination: destination.map(str::to_string),
            base_dir: None,
            env: None,
            inline: cli::inline_hook(Arc::new(cli::BuiltinAdapters)),
            files: OnceLock::new(),
            loaded: Mutex::new(None),
            load_lock: Mutex::new(()),
            loader: Mutex::new(None),
        }
    }

    /// Secrets already loaded with `map` (no files are read): for callers that have the values.
    pub fn from_map(map: SecretMap) -> Self {
        let secrets = Secrets::new(None);
        *lock(&secrets.loaded) = Some(Arc::new(map));
        secrets
    }

    /// The secrets path (`secrets_path` in deploy.yml): files are `<path>-common`, `<path>` and
    /// `<path>.<destination>`, named this way in messages.
    pub fn with_secrets_path(mut self, secrets_path: impl Into<String>) -> Self {
        self.secrets_path = secrets_path.into();
        self
    }

    /// The directory relative paths are read from and shell commands run in (the current
    /// directory by default). Messages still name files as [`Secrets::secrets_filenames`] does.
    pub fn with_base_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base_dir = Some(dir.into());
        self
    }

    /// The environment `$VAR` falls back to (instead of the process environment); shell commands
    /// get these variables on top of the inherited environment.
    pub fn with_env(mut self, env: HashMap<String, String>) -> Self {
        self.env = Some(env);
        self
    }

    /// How `$(kamal secrets ...)` / `$(wharf secrets ...)` run.
    pub fn with_inline_hook(mut self, hook: InlineHook) -> Self {
        self.inline = hook;
        self
    }

    /// The secrets path.
    pub fn secrets_path(&self) -> &str {
        &self.secrets_path
    }

    /// The destination.
    pub fn destination(&self) -> Option<&str> {
        self.destination.as_deref()
    }

    /// The files looked for, in reading order: `<path>-common`, then `<path>` or
    /// `<path>.<destination>`.
    pub fn secrets_filenames(&self) -> Vec<String> {
        let main = match &self.destination {
            Some(dest) => format!("{}.{dest}", self.secrets_path),
            None => self.secrets_path.clone(),
        };
        vec![format!("{}-common", self.secrets_path), main]
    }

    /// The files that exist (checked once, on first use, as Kamal memoizes them).
    pub fn secrets_files(&self) -> &[String] {
        self.files.get_or_init(|| self.secrets_filenames().into_iter().filter(|f| self.resolve(f).exists()).collect())
    }

    /// The value of `name`. Loads the files on first use.
    pub fn get(&self, name: &str) -> Result<String, SecretsError> {
        let map = self.load()?;
        match map.get(name) {
            Some(value) => Ok(value.to_string()),
            None => Err(self.not_found(name)),
        }
    }

    /// Kamal's `key?`: whether `name` is set to a value that is not blank (not empty, not only
    /// whitespace). Loading errors are errors.
    pub fn has_key(&self, name: &str) -> Result<bool, SecretsError> {
        let map = self.load()?;
        Ok(map.get(name).is_some_and(|v| !v.chars().all(char::is_whitespace)))
    }

    /// Every secret, in order (Kamal's `to_h`).
    pub fn to_map(&self) -> Result<SecretMap, SecretsError> {
        Ok(self.load()?.as_ref().clone())
    }

    /// Every secret's name, in order.
    pub fn names(&self) -> Result<Vec<String>, SecretsError> {
        Ok(self.load()?.names().map(str::to_string).collect())
    }

    fn not_found(&self, name: &str) -> SecretsError {
        let files = self.secrets_files();
        if files.is_empty() {
            SecretsError::NoSecretFiles { name: name.to_string(), filenames: self.secrets_filenames() }
        } else {
            SecretsError::NotFound { name: name.to_string(), files: files.to_vec() }
        }
    }

    fn resolve(&self, file: &str) -> PathBuf {
        match &self.base_dir {
            Some(dir) => dir.join(file),
            None => PathBuf::from(file),
        }
    }

    fn load(&self) -> Result<Arc<SecretMap>, SecretsError> {
        if let Some(map) = lock(&self.loaded).clone() {
            return Ok(map);
        }
        let me = thread::current().id();
        if *lock(&self.loader) == Some(me) {
            return Err(SecretsError::Recursive { files: self.secrets_files().to_vec() });
        }
        let _serial = lock(&self.load_lock);
        if let Some(map) = lock(&self.loaded).clone() {
            return Ok(map);
        }
        *lock(&self.loader) = Some(me);
        let mark = LoaderMark(&self.loader);
        let result = self.read_all();
        drop(mark);
        let map = Arc::new(result?);
        *lock(&self.loaded) = Some(map.clone());
        Ok(map)
    }

    fn read_all(&self) -> Result<SecretMap, SecretsError> {
        let env = self.env.clone().unwrap_or_else(process_env);
        let mut all = SecretMap::new();
        for file in self.secrets_files() {
            let path = self.resolve(file);
            // Dotenv.parse ignores a file that vanished or is a directory.
            if path.is_dir() {
                continue;
            }
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => {
                    let path = std::path::absolute(&path).unwrap_or(path);
                    return Err(SecretsError::Read { file: file.clone(), path, source });
                }
            };
            let content = String::from_utf8(bytes).map_err(|_| SecretsError::NotUtf8 { file: file.clone() })?;
            let parsed = Parser::new(&env)
                .overwrite(true)
                .command_syntax(CommandSyntax::Kamal)
                .parse(&content, |req| self.run_command(req, &env))
                .map_err(|e| SecretsError::from_dotenv(file, e))?;
            all.merge(parsed);
        }
        Ok(all)
    }

    /// Kamal's `InlineCommandSubstitution` branch: `kamal secrets ...` in process, else the shell.
    fn run_command(&self, req: &CommandRequest<'_>, env: &Env) -> Result<String, CommandError> {
        if !INLINE_COMMAND.is_match(req.expanded) {
            return Ok(run_shell(req.expanded, self.base_dir.as_deref(), env)?);
        }
        // command.shellsplit[1..]: drops `kamal`; the hook takes what follows `secrets`.
        let words = shellsplit(req.expanded)?;
        match words.get(1).map(String::as_str) {
            Some("secrets") => {
                let mut argv = words[2..].to_vec();
                argv.push("--inline".to_string());
                (self.inline)(&argv).map_err(CommandError::Inline)
            }
            // `kamalsecrets fetch ...` matches Kamal's regex too, and reaches Thor as `fetch`.
            other => Err(CommandError::Inline(format!("Could not find command \"{}\".", other.unwrap_or("")))),
        }
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loaded = lock(&self.loaded).clone();
        f.debug_struct("Secrets")
            .field("secrets_path", &self.secrets_path)
            .field("destination", &self.destination)
            .field("base_dir", &self.base_dir.as_deref().map(Path::display))
            .field("loaded", &loaded.as_deref())
            .finish_non_exhaustive()
    }
}
