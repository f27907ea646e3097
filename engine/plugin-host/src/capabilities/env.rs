//! The `env` capability: environment variables.
//!
//! - Declared by `[capabilities] env` in `plugin.toml`: the names of variables the plugin may
//!   read and set on the programs it runs (each a portable variable name).
//! - Granted by `allow: env` ([`Allow::vars`], built with [`Grant::var`](crate::Grant::var)).
//!   The grant also holds the values ([`Allow::values`], [`Grant::env`](crate::Grant::env)):
//!   the whole environment of the programs the plugin runs, and where the guest's variables
//!   come from.
//! - Checked by [`check_program_env`]: a program may be given only declared-and-granted
//!   variables (`plugin X: capability env NAME not granted`).
//! - Implemented in WASI: the guest's environment holds exactly the declared-and-granted
//!   variables that have a value ([`wasi`]).

use wasmtime_wasi::WasiCtxBuilder;

use super::not_granted;
use crate::state::Call;

// ---- the declaration (`[capabilities] env`) ----

/// Validates the manifest's `env`.
pub(crate) fn validate(env: &[String]) -> Result<(), String> {
    for v in env {
        if !valid_env_name(v) {
            return Err(format!("env {v:?} is not a variable name (A-Z, a-z, 0-9, _)"));
        }
    }
    Ok(())
}

/// A portable variable name: letters, digits and `_`, not starting with a digit.
pub(crate) fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---- the grant (`allow: env`, and the environment's values) ----

/// The variables the user allows, and the environment they come from.
#[derive(Clone, Debug, Default)]
pub(crate) struct Allow {
    /// The whole environment of programs the plugin runs (it is otherwise empty).
    pub values: Vec<(String, String)>,
    /// Variables the plugin may read and set on its programs (with the manifest's `env`):
    /// the guest's WASI environment holds those of `values` named here and in the manifest.
    pub vars: Vec<String>,
}

/// The declared variables the grant does not allow (`env NAME`), appended to `out`.
pub(crate) fn missing(declared: &[String], allow: &Allow, out: &mut Vec<String>) {
    for v in declared {
        if !allow.vars.contains(v) {
            out.push(format!("env {v}"));
        }
    }
}

// ---- the check (declared and granted) ----

/// The environment of a call.
#[derive(Clone, Debug, Default)]
pub(crate) struct Effective {
    /// The whole environment of the programs the plugin runs.
    pub values: Vec<(String, String)>,
    /// Variables the plugin may read and set (declared and granted).
    pub vars: Vec<String>,
}

impl Effective {
    pub fn new(declared: &[String], allow: &Allow) -> Effective {
        Effective {
            values: allow.values.clone(),
            vars: declared.iter().filter(|v| allow.vars.contains(v)).cloned().collect(),
        }
    }

    /// The guest's WASI environment: the variables of `values` it may read.
    pub fn guest_env(&self) -> Vec<(String, String)> {
        self.values.iter().filter(|(k, _)| self.vars.contains(k)).cloned().collect()
    }
}

/// Whether a program may be given the variables `env`: the denial names the first one that is
/// not declared and granted.
pub(crate) fn check_program_env(call: &Call, env: &[(String, String)]) -> Result<(), String> {
    if let Some((name, _)) = env.iter().find(|(k, _)| !call.caps.env.vars.contains(k)) {
        return Err(not_granted(call, &format!("env {name}")));
    }
    Ok(())
}

// ---- the host implementation (the guest's WASI environment) ----

/// Gives the guest's WASI the variables it may read.
pub(crate) fn wasi(wasi: &mut WasiCtxBuilder, caps: &Effective) {
    wasi.envs(&caps.guest_env());
}
