//! Commands a template runs: backticks and `%x()` (stdout captured, stderr passed through, `$?`
//! set), `system`, and `Process::Status`. As in Ruby, a command with shell metacharacters runs
//! through `/bin/sh -c`; a plain one is executed directly (a missing program raises
//! `Errno::ENOENT: No such file or directory - name`). Commands see the template's ENV and start
//! in its working directory.

use super::arg;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use std::io::Write;
use std::process::{Command, Stdio};

/// Ruby's test for "needs a shell" (`rb_exec_fillarg`).
fn needs_shell(cmd: &str) -> bool {
    if cmd.chars().any(|c| "*?{}[]<>()~&|\\$;'`\"\n#".contains(c)) {
        return true;
    }
    let first = cmd.split_whitespace().next().unwrap_or("");
    if first.contains('=') {
        return true;
    }
    // shell reserved words and special built-ins
    matches!(
        first,
        "case"
            | "do"
            | "done"
            | "elif"
            | "else"
            | "esac"
            | "fi"
            | "for"
            | "if"
            | "in"
            | "then"
            | "until"
            | "while"
            | "!"
            | "."
            | ":"
            | "break"
            | "continue"
            | "eval"
            | "exec"
            | "exit"
            | "export"
            | "readonly"
            | "return"
            | "set"
            | "shift"
            | "times"
            | "trap"
            | "unset"
    )
}

fn command_for(it: &Interp, cmd: &str) -> Command {
    let mut c = if needs_shell(cmd) {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(cmd);
        c
    } else {
        let mut words = cmd.split_whitespace();
        let mut c = Command::new(words.next().unwrap_or(""));
        c.args(words);
        c
    };
    c.env_clear().envs(&it.ctx.env).current_dir(&it.ctx.cwd);
    c
}

fn status_value(pid: u32, status: &std::process::ExitStatus) -> Value {
    use std::os::unix::process::ExitStatusExt;
    Value::lib(Lib::Status { pid, code: status.code(), signal: status.signal() })
}

/// `` `cmd` ``: the command's output.
pub fn backtick(it: &mut Interp, cmd: &str) -> R<Value> {
    if !it.ctx.allow_commands {
        return it.unsupported(format!("running `{cmd}` (commands are off)"));
    }
    if cmd.trim().is_empty() {
        return it.raise("Errno::ENOENT", &format!("No such file or directory - {cmd}"));
    }
    let mut c = command_for(it, cmd);
    c.stdin(Stdio::inherit()).stdout(Stdio::piped());
    c.stderr(if it.ctx.inherit_stdio { Stdio::inherit() } else { Stdio::piped() });
    let child = match c.spawn() {
        Ok(ch) => ch,
        Err(e) => return spawn_error(it, &e, cmd),
    };
    let pid = child.id();
    let output = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => return spawn_error(it, &e, cmd),
    };
    if !it.ctx.inherit_stdio {
        let _ = it.ctx.err.write_all(&output.stderr);
    }
    it.last_status = status_value(pid, &output.status);
    Ok(Value::str(String::from_utf8_lossy(&output.stdout).into_owned()))
}

fn spawn_error(it: &mut Interp, e: &std::io::Error, cmd: &str) -> R<Value> {
    let name = cmd.split_whitespace().next().unwrap_or(cmd);
    match e.raw_os_error() {
        Some(2) => it.raise("Errno::ENOENT", &format!("No such file or directory - {name}")),
        Some(13) => it.raise("Errno::EACCES", &format!("Permission denied - {name}")),
        _ => it.raise("Errno::ENOEXEC", &format!("Exec format error - {name}")),
    }
}

/// `system(cmd)` / `system(prog, *args)`: true, false, or nil when it could not run.
pub fn system(it: &mut Interp, args: &Args) -> R<Value> {
    if !it.ctx.allow_commands {
        return it.unsupported("system (commands are off)");
    }
    let exception = matches!(args.kwarg("exception"), Some(Value::Bool(true)));
    if args.kwarg("out").is_some() || args.kwarg("err").is_some() || args.kwarg("chdir").is_some() {
        return it.unsupported("system with redirection options");
    }
    let mut words = vec![];
    for a in &args.pos {
        match a {
            Value::Hash(_) => return it.unsupported("system with an environment hash"),
            other => words.push(it.expect_str(other)?),
        }
    }
    if words.is_empty() {
        return it.arity(0, "1+");
    }
    let shown = words.join(" ");
    let mut c = if words.len() == 1 {
        command_for(it, &words[0])
    } else {
        let mut c = Command::new(&words[0]);
        c.args(&words[1..]);
        c.env_clear().envs(&it.ctx.env).current_dir(&it.ctx.cwd);
        c
    };
    c.stdin(Stdio::inherit());
    if it.ctx.inherit_stdio {
        c.stdout(Stdio::inherit()).stderr(Stdio::inherit());
    } else {
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let child = match c.spawn() {
        Ok(ch) => ch,
        Err(e) => {
            if exception {
                return spawn_error(it, &e, &shown);
            }
            it.last_status = Value::lib(Lib::Status { pid: 0, code: Some(127), signal: None });
            return Ok(Value::Nil);
        }
    };
    let pid = child.id();
    let output = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => return spawn_error(it, &e, &shown),
    };
    if !it.ctx.inherit_stdio {
        let _ = it.ctx.out.write_all(&output.stdout);
        let _ = it.ctx.err.write_all(&output.stderr);
    }
    it.last_status = status_value(pid, &output.status);
    let ok = output.status.success();
    if !ok && exception {
        let code = output.status.code().unwrap_or(-1);
        return it.raise("RuntimeError", &format!("Command failed with exit {code}: {shown}"));
    }
    Ok(Value::Bool(ok))
}

pub fn signal_name(s: i32) -> &'static str {
    match s {
        1 => "HUP",
        2 => "INT",
        3 => "QUIT",
        6 => "ABRT",
        9 => "KILL",
        13 => "PIPE",
        14 => "ALRM",
        15 => "TERM",
        _ => "UNKNOWN",
    }
}

/// `Process::Status` methods.
pub fn status(it: &mut Interp, l: &std::rc::Rc<Lib>, name: &str, args: &Args) -> R<Option<Value>> {
    let Lib::Status { pid, code, signal } = &**l else { return Ok(None) };
    let v = match name {
        "success?" => match code {
            Some(c) => Value::Bool(*c == 0),
            None => Value::Nil,
        },
        "exitstatus" => code.map(|c| Value::Int(c as i64)).unwrap_or(Value::Nil),
        "to_i" => Value::Int(match (code, signal) {
            (Some(c), _) => (*c as i64) << 8,
            (None, Some(s)) => *s as i64,
            _ => 0,
        }),
        "pid" => Value::Int(*pid as i64),
        "exited?" => Value::Bool(code.is_some()),
        "signaled?" => Value::Bool(signal.is_some()),
        "termsig" => signal.map(|s| Value::Int(s as i64)).unwrap_or(Value::Nil),
        "==" => Value::Bool(match arg(args, 0) {
            Value::Int(i) => code.map(|c| ((c as i64) << 8) == i).unwrap_or(false),
            _ => false,
        }),
        _ => {
            let _ = it;
            return Ok(None);
        }
    };
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::needs_shell;

    #[test]
    fn shell_only_when_ruby_would_use_one() {
        assert!(!needs_shell("git rev-parse HEAD"));
        assert!(needs_shell("git rev-parse HEAD 2>/dev/null"));
        assert!(needs_shell("docker info --format '{{.Architecture}}'"));
        assert!(needs_shell("FOO=1 env"));
        assert!(needs_shell("exit 3"));
    }
}
