//! The `terminal` capability: giving a program the user's terminal (to prompt for a login).
//!
//! - Declared by `[capabilities] terminal = true` in `plugin.toml` (nothing to validate).
//! - Granted by `allow: terminal: true` ([`Allow`], [`Grant::terminal`](crate::Grant::terminal)).
//! - Checked by [`check`] when a program asks for it (`plugin X: capability terminal not
//!   granted`).
//! - Implemented by [`attach`]: the program's stdin and stderr are the user's terminal, and it
//!   stays in the foreground process group (else it could not read the answer).

use std::process::Stdio;

use super::not_granted;
use crate::state::Call;

// ---- the grant (`allow: terminal`) ----

/// Whether the user allows the terminal.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Allow {
    /// Programs may be given the user's terminal (with the manifest's `terminal`).
    pub terminal: bool,
}

/// `terminal`, appended to `out` when declared and not granted.
pub(crate) fn missing(declared: bool, allow: &Allow, out: &mut Vec<String>) {
    if declared && !allow.terminal {
        out.push("terminal".into());
    }
}

// ---- the check (declared and granted) ----

/// Whether a call's programs may be given the terminal.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Effective {
    /// Declared and granted.
    pub granted: bool,
}

impl Effective {
    pub fn new(declared: bool, allow: &Allow) -> Effective {
        Effective { granted: declared && allow.terminal }
    }
}

/// Whether a program may be given the terminal, when it asks for it (`requested`).
pub(crate) fn check(call: &Call, requested: bool) -> Result<(), String> {
    if requested && !call.caps.terminal.granted {
        return Err(not_granted(call, "terminal"));
    }
    Ok(())
}

// ---- the host implementation ----

/// Sets a program's stdin and stderr, and its process group: with the terminal, the user's
/// stdin and stderr; without it, stdin closed, stderr captured, and a process group of its own
/// (killed whole by the process capability). A program given the terminal stays in the
/// foreground group, or it could not read the user's answer: only it is killed.
pub(crate) fn attach(command: &mut tokio::process::Command, terminal: bool) {
    command.stdin(if terminal { Stdio::inherit() } else { Stdio::null() }).stderr(if terminal {
        Stdio::inherit()
    } else {
        Stdio::piped()
    });
    if !terminal {
        command.process_group(0);
    }
}
