//! The dotenv gem (3.2) as templates use it after `require "dotenv"`: `Dotenv.load`,
//! `load!`, `overload`, `overload!`, `parse`, with this project's port of dotenv's parser
//! ([`wharf_secrets::dotenv`]). Loading sets ENV for the template and for what Wharf does next,
//! as it does in Kamal's process.

use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;

/// Parses one file as `Dotenv::Environment` does; `Ok(None)` when it is missing and ignored.
fn parse_file(it: &mut Interp, name: &str, overwrite: bool, ignore: bool) -> R<Option<Vec<(String, String)>>> {
    let path = super::file::expand_path(it, name, None)?;
    let text = match std::fs::read(&path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            let missing = matches!(e.raw_os_error(), Some(2) | Some(21)) || std::path::Path::new(&path).is_dir();
            if missing && ignore {
                return Ok(None);
            }
            if std::path::Path::new(&path).is_dir() {
                return it.raise("Errno::EISDIR", &format!("Is a directory @ io_fread - {path}"));
            }
            return super::file::raise_io(it, &e, "rb_sysopen", &path);
        }
    };
    let env = it.ctx.env.clone();
    let cwd = it.ctx.cwd.clone();
    let allow_commands = it.ctx.allow_commands;
    // with commands off, a `$(command)` in the file stops the template as a backtick would
    let mut refused: Option<String> = None;
    let parsed = wharf_secrets::dotenv::Parser::new(&env).overwrite(overwrite).parse(&text, |req| {
        if !allow_commands {
            refused = Some(req.command.to_string());
            return Err(wharf_secrets::dotenv::CommandError::Inline("commands are off".into()));
        }
        Ok(wharf_secrets::shell::run_shell(req.expanded, Some(&cwd), &env)?)
    });
    if let Some(command) = refused {
        return it.unsupported(format!("running `{command}` from {path} (commands are off)"));
    }
    match parsed {
        Ok(map) => Ok(Some(map.into_vec())),
        Err(e) => it.raise("Dotenv::FormatError", &e.to_string()),
    }
}

fn file_names(it: &mut Interp, files: &[Value]) -> R<Vec<String>> {
    let mut names = vec![];
    for f in files {
        match f {
            Value::Array(a) => {
                for x in a.borrow().clone() {
                    names.push(it.expect_str(&x)?);
                }
            }
            other => names.push(it.expect_str(other)?),
        }
    }
    if names.is_empty() {
        names.push(".env".into());
    }
    Ok(names)
}

/// `Dotenv.load` / `overload`: sets ENV; returns the keys it changed.
pub fn load(it: &mut Interp, files: &[Value], overwrite: bool, strict: bool) -> R<Value> {
    let mut names = file_names(it, files)?;
    if overwrite {
        names.reverse();
    }
    let mut result = RHash::default();
    for name in names {
        let Some(pairs) = parse_file(it, &name, overwrite, !strict)? else { continue };
        for (k, v) in pairs {
            let changed = match it.ctx.env.get(&k) {
                Some(old) => overwrite && *old != v,
                None => true,
            };
            if changed {
                it.ctx.env.insert(k.clone(), v.clone());
                result.insert(Value::str(k), Value::str(v));
            }
        }
    }
    Ok(Value::hash(result))
}

/// `Dotenv.parse`: the files' values, ENV untouched.
pub fn parse(it: &mut Interp, files: &[Value], overwrite: bool, strict: bool) -> R<Value> {
    let mut names = file_names(it, files)?;
    if overwrite {
        names.reverse();
    }
    let mut result = RHash::default();
    for name in names {
        if let Some(pairs) = parse_file(it, &name, overwrite, !strict)? {
            for (k, v) in pairs {
                result.insert(Value::str(k), Value::str(v));
            }
        }
    }
    Ok(Value::hash(result))
}

/// Methods of the Dotenv module.
pub fn call(it: &mut Interp, name: &str, args: &Args) -> R<Option<Value>> {
    let flag = |k: &str| matches!(args.kwarg(k), Some(Value::Bool(true)));
    let ignore_false = matches!(args.kwarg("ignore"), Some(Value::Bool(false)));
    let v = match name {
        "load" => load(it, &args.pos, flag("overwrite"), ignore_false)?,
        "load!" => load(it, &args.pos, flag("overwrite"), true)?,
        "overload" | "overwrite" => load(it, &args.pos, true, ignore_false)?,
        "overload!" | "overwrite!" => load(it, &args.pos, true, true)?,
        "parse" => parse(it, &args.pos, flag("overwrite"), ignore_false)?,
        _ => return it.unsupported(format!("Dotenv.{name}")),
    };
    Ok(Some(v))
}
