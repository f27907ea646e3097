//! Several commands for one host as one remote script: one round trip instead of one per
//! command (what [`SshExecutor`](super::SshExecutor) does with
//! [`Executor::run_batch`](super::Executor::run_batch)).
//!
//! The script runs each command in a subshell of its own, its stdin from `/dev/null` (or from
//! the command's own bytes, base64-decoded, through the shell's builtin `printf`), its stdout
//! and stderr straight into the script's. No command reads the script's own stdin: a script
//! that carries input is itself sent there, to a shell started ahead, never in a command line
//! the server's other users could read (see `SshExecutor`).
//! After each command a frame line goes to both streams: a newline, then `<marker> <index>
//! <status>` (stdout) or `<marker> <index>` (stderr), where the marker is random per batch. A
//! command that fails and is not allowed to stops the script there (as does one that succeeds
//! and is to go on only when it fails). The two streams are split
//! at the frames back into one [`Output`] per command that ran, so that each command's output,
//! exit status and error are reported as if it had run alone.
//!
//! Nothing else runs on the server for the framing (no temporary files, no `cat` or `wc`): on a
//! busy server, and with dozens of commands per deploy, every process counts.

use super::{BatchJob, OnFailure, Step};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use wharf_ssh::Output;

/// A batch's script and the marker its frames carry.
pub struct Script {
    pub text: String,
    pub marker: String,
    /// Whether the text holds input for its commands (a file's content, a command's stdin).
    pub carries_input: bool,
}

/// The script for `jobs`.
pub fn script(jobs: &[BatchJob<'_>]) -> Script {
    let marker = format!("WHARF-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    let mut s = String::new();
    let mut carries_input = false;
    for (i, b) in jobs.iter().enumerate() {
        let (command, stdin) = match &b.step {
            Step::Run(job) => (job.command.to_string(), job.stdin),
            Step::Upload { content, path, mode, .. } => (wharf_ssh::upload_command(path, *mode), Some(*content)),
        };
        let input = match stdin {
            Some(bytes) => {
                carries_input = true;
                format!("printf '%s' '{}' | base64 -d | ", STANDARD.encode(bytes))
            }
            None => String::new(),
        };
        let redirect_stdin = if stdin.is_some() { "" } else { " </dev/null" };
        s.push_str(&format!(
            "{input}(\n{command}\n){redirect_stdin}; s=$?\nprintf '\\n{marker} {i} %s\\n' $s; printf '\\n{marker} {i}\\n' >&2\n"
        ));
        match b.on_failure {
            OnFailure::Stop => s.push_str("[ $s -eq 0 ] || exit 0\n"),
            OnFailure::StopOnSuccess => s.push_str("[ $s -ne 0 ] || exit 0\n"),
            OnFailure::Continue => {}
        }
    }
    Script { text: s, marker, carries_input }
}

/// Splits `stream` at its frames (`\n<marker> <index>[ <status>]\n`): each command's bytes and
/// the words of its frame, in order; `None` if the stream is not that.
fn split<'a>(stream: &'a [u8], marker: &str) -> Option<Vec<(&'a [u8], Vec<&'a str>)>> {
    let needle = format!("\n{marker} ");
    let needle = needle.as_bytes();
    let mut parts = vec![];
    let mut rest = stream;
    while !rest.is_empty() {
        let at = rest.windows(needle.len()).position(|w| w == needle)?;
        let body = &rest[..at];
        let after = &rest[at + needle.len()..];
        let end = after.iter().position(|b| *b == b'\n')?;
        let words = std::str::from_utf8(&after[..end]).ok()?.split_whitespace().collect();
        parts.push((body, words));
        rest = &after[end + 1..];
    }
    Some(parts)
}

/// The outputs of the commands that ran, from the script's `stdout` and `stderr`; `None` if they
/// are not that script's frames.
pub fn parse(stdout: &[u8], stderr: &[u8], marker: &str, jobs: usize) -> Option<Vec<Output>> {
    let outs = split(stdout, marker)?;
    let errs = split(stderr, marker)?;
    if outs.len() != errs.len() || outs.len() > jobs {
        return None;
    }
    let mut outputs = vec![];
    for (i, ((out, frame), (err, err_frame))) in outs.into_iter().zip(errs).enumerate() {
        let index: usize = frame.first()?.parse().ok()?;
        let err_index: usize = err_frame.first()?.parse().ok()?;
        let status: u32 = frame.get(1)?.parse().ok()?;
        if index != i || err_index != i {
            return None;
        }
        outputs.push(Output { exit_status: status, exit_signal: None, stdout: out.to_vec(), stderr: err.to_vec() });
    }
    Some(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execution::{Effect, Job};

    fn job<'a>(command: &'a str, stdin: Option<&'a [u8]>, on_failure: OnFailure) -> BatchJob<'a> {
        BatchJob {
            step: Step::Run(Job { host: "h", command, shown: command, stdin, effect: Effect::Change }),
            on_failure,
        }
    }

    /// Runs the script with the local `sh`, as a server's would.
    fn run(jobs: &[BatchJob<'_>]) -> Vec<Output> {
        let script = script(jobs);
        let out = std::process::Command::new("sh").arg("-c").arg(&script.text).output().unwrap();
        parse(&out.stdout, &out.stderr, &script.marker, jobs.len()).expect("frames")
    }

    #[test]
    fn each_command_keeps_its_output_and_status_and_a_failure_stops_the_rest() {
        let outs = run(&[
            job("echo one; echo err >&2", None, OnFailure::Stop),
            job("printf 'no newline'; exit 3 # a comment", None, OnFailure::Continue),
            job("cat", Some(b"from stdin\n\x00\xff binary"), OnFailure::Stop),
            job("read x; echo \"read: $x\"", None, OnFailure::Stop),
            job("false", None, OnFailure::Stop),
            job("echo never", None, OnFailure::Stop),
        ]);
        assert_eq!(outs.len(), 5, "the failing 5th stops the 6th");
        assert_eq!(
            (outs[0].stdout.as_slice(), outs[0].stderr.as_slice(), outs[0].exit_status),
            (&b"one\n"[..], &b"err\n"[..], 0)
        );
        assert_eq!((outs[1].stdout.as_slice(), outs[1].exit_status), (&b"no newline"[..], 3));
        assert_eq!(outs[2].stdout, b"from stdin\n\x00\xff binary");
        assert_eq!(outs[3].stdout, b"read: \n", "commands read nothing of the script");
        assert_eq!(outs[4].exit_status, 1);
    }

    #[test]
    fn a_probe_stops_the_rest_when_it_succeeds_and_lets_it_run_when_it_fails() {
        let then = |probe: &'static str| {
            run(&[
                job("echo login", None, OnFailure::Stop),
                job(probe, None, OnFailure::StopOnSuccess),
                job("echo pulled", None, OnFailure::Stop),
            ])
        };
        let mirror = then("echo mirror.example");
        assert_eq!(mirror.len(), 2, "a mirror: nothing after the probe");
        assert_eq!(mirror[1].stdout, b"mirror.example\n");
        let none = then("echo 'index out of range' >&2; exit 1");
        assert_eq!(none.len(), 3, "no mirror: the rest runs");
        assert_eq!((none[1].exit_status, none[2].stdout.as_slice()), (1, &b"pulled\n"[..]));
    }

    #[test]
    fn output_without_a_final_newline_or_looking_like_a_frame_stays_whole() {
        let outs = run(&[
            job("printf 'WHARF 0 0\\nno newline'", None, OnFailure::Stop),
            job("printf '\\n\\n'; printf 'e' >&2", None, OnFailure::Stop),
        ]);
        assert_eq!(outs[0].stdout, b"WHARF 0 0\nno newline");
        assert_eq!((outs[1].stdout.as_slice(), outs[1].stderr.as_slice()), (&b"\n\n"[..], &b"e"[..]));
    }

    #[test]
    fn anything_else_is_not_frames() {
        let m = "WHARF-m";
        assert!(parse(b"hello\n", b"", m, 1).is_none());
        assert!(parse(b"\nWHARF-m 0 0\n", b"", m, 1).is_none(), "no stderr frame");
        assert!(parse(b"\nWHARF-m 1 0\n", b"\nWHARF-m 1\n", m, 2).is_none(), "out of order");
        assert!(parse(b"\nWHARF-m 0 0\n", b"\nWHARF-m 0\n", m, 1).is_some());
    }
}
