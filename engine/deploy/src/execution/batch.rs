//! Several commands for one host as one remote script: one round trip instead of one per
//! command (what [`SshExecutor`](super::SshExecutor) does with
//! [`Executor::run_batch`](super::Executor::run_batch)).
//!
//! The script is sent on the standard input of `sh` and runs each command in a subshell of its
//! own, its stdin from `/dev/null` (or from the command's own bytes, base64-decoded), its stdout
//! and stderr into files; after each, a frame: a line `WHARF <index> <status> <stdout bytes>
//! <stderr bytes>`, then those bytes. A command that fails and is not allowed to stops the
//! script there. The frames are read back into one [`Output`] per command that ran, so that
//! each command's output, exit status and error are reported as if it had run alone.

use super::{BatchJob, OnFailure, Step};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use wharf_ssh::Output;

/// The script for `jobs`.
pub fn script(jobs: &[BatchJob<'_>]) -> String {
    let mut s =
        String::from("d=$(mktemp -d \"${TMPDIR:-/tmp}/wharf-batch.XXXXXX\") || exit 97\ntrap 'rm -rf \"$d\"' EXIT\n");
    for (i, b) in jobs.iter().enumerate() {
        let (command, stdin) = match &b.step {
            Step::Run(job) => (job.command.to_string(), job.stdin),
            Step::Upload { content, path, mode, .. } => (wharf_ssh::upload_command(path, *mode), Some(*content)),
        };
        let input = match stdin {
            Some(bytes) => format!("printf '%s' '{}' | base64 -d | ", STANDARD.encode(bytes)),
            None => String::new(),
        };
        let redirect_stdin = if stdin.is_some() { "" } else { " </dev/null" };
        s.push_str(&format!(
            "{input}(\n{command}\n){redirect_stdin} >\"$d/o\" 2>\"$d/e\"; s=$?\nprintf 'WHARF %s %s %s %s\\n' {i} $s $(wc -c <\"$d/o\") $(wc -c <\"$d/e\"); cat \"$d/o\" \"$d/e\"\n"
        ));
        if b.on_failure == OnFailure::Stop {
            s.push_str("[ $s -eq 0 ] || exit 0\n");
        }
    }
    s
}

/// The outputs in `stdout`, in order; `None` when it is not what [`script`] writes.
pub fn parse(stdout: &[u8], jobs: usize) -> Option<Vec<Output>> {
    let mut outputs = vec![];
    let mut rest = stdout;
    while !rest.is_empty() {
        let end = rest.iter().position(|b| *b == b'\n')?;
        let header = std::str::from_utf8(&rest[..end]).ok()?;
        let mut words = header.split_whitespace();
        if words.next()? != "WHARF" {
            return None;
        }
        let index: usize = words.next()?.parse().ok()?;
        let status: u32 = words.next()?.parse().ok()?;
        let out_len: usize = words.next()?.parse().ok()?;
        let err_len: usize = words.next()?.parse().ok()?;
        if index != outputs.len() || index >= jobs {
            return None;
        }
        rest = &rest[end + 1..];
        if rest.len() < out_len + err_len {
            return None;
        }
        outputs.push(Output {
            exit_status: status,
            exit_signal: None,
            stdout: rest[..out_len].to_vec(),
            stderr: rest[out_len..out_len + err_len].to_vec(),
        });
        rest = &rest[out_len + err_len..];
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
        use std::io::Write;
        let mut child = std::process::Command::new("sh")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(script(jobs).as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        parse(&out.stdout, jobs.len()).expect("frames")
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
    fn anything_else_is_not_frames() {
        assert!(parse(b"hello\n", 1).is_none());
        assert!(parse(b"WHARF 0 0 10 0\nshort", 1).is_none());
        assert!(parse(b"WHARF 1 0 0 0\n", 2).is_none(), "out of order");
    }
}
