//! Running a command on this machine (`sh -c`, in a directory, with variables and optional
//! stdin): what [`Executor::run_local`](super::Executor::run_local) does unless an executor
//! records or plans it instead.

use super::LocalJob;
use std::io::Write;
use std::process::{Command, Stdio};
use wharf_ssh::Output;

pub fn run(job: &LocalJob<'_>) -> std::io::Result<Output> {
    let mut command = Command::new("sh");
    command.arg("-c").arg(job.command).current_dir(job.dir).envs(job.env.iter().cloned());
    let out = match job.stdin {
        None => command.stdin(Stdio::null()).output()?,
        Some(bytes) => {
            command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = command.spawn()?;
            let mut input = child.stdin.take().expect("piped stdin");
            let bytes = bytes.to_vec();
            // Written from a thread, so a command that does not read it all cannot block us.
            let writer = std::thread::spawn(move || {
                let _ = input.write_all(&bytes);
            });
            let out = child.wait_with_output()?;
            let _ = writer.join();
            out
        }
    };
    use std::os::unix::process::ExitStatusExt;
    Ok(Output {
        exit_status: out.status.code().map(|c| c as u32).unwrap_or(255),
        exit_signal: out.status.signal().map(|s| s.to_string()),
        stdout: out.stdout,
        stderr: out.stderr,
    })
}
