//! File and Dir: reading files (with Ruby's `Errno::ENOENT: No such file or directory @
//! rb_sysopen - path`), tests (`exist?`, `file?`, `directory?`), path arithmetic (`join`,
//! `expand_path`, `basename`, `dirname`, `extname`), `Dir.pwd`, `Dir.glob`. Relative paths start
//! at the context's working directory.

use super::arg;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use std::path::{Component, Path, PathBuf};

/// Raises the Errno exception for an I/O error, as Ruby names it.
pub fn raise_io<T>(it: &mut Interp, e: &std::io::Error, what: &str, path: &str) -> R<T> {
    let (class, text) = match e.raw_os_error() {
        Some(2) => ("Errno::ENOENT", "No such file or directory"),
        Some(13) => ("Errno::EACCES", "Permission denied"),
        Some(21) => ("Errno::EISDIR", "Is a directory"),
        Some(20) => ("Errno::ENOTDIR", "Not a directory"),
        Some(1) => ("Errno::EPERM", "Operation not permitted"),
        _ => ("IOError", "I/O error"),
    };
    it.raise(class, &format!("{text} @ {what} - {path}"))
}

fn read(it: &mut Interp, path: &str) -> R<String> {
    let full = it.ctx.path(path);
    if full.is_dir() {
        return it.raise("Errno::EISDIR", &format!("Is a directory @ io_fread - {path}"));
    }
    match std::fs::read(&full) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) => raise_io(it, &e, "rb_sysopen", path),
    }
}

/// A path argument (String, or anything with `to_path`/`to_str` we know).
fn path_arg(it: &mut Interp, v: &Value) -> R<String> {
    match v {
        Value::Str(s) => Ok(s.s.borrow().clone()),
        other => {
            let n = it.implicit_name(other);
            it.raise("TypeError", &format!("no implicit conversion of {n} into String"))
        }
    }
}

/// `File.expand_path`: absolute, `~` expanded from HOME, `.` and `..` resolved.
pub fn expand_path(it: &mut Interp, path: &str, base: Option<&str>) -> R<String> {
    let home = || it.ctx.env.get("HOME").cloned();
    let expand_home = |p: &str, home: Option<String>| -> Option<String> {
        if p == "~" || p.starts_with("~/") {
            home.map(|h| format!("{h}{}", &p[1..]))
        } else {
            Some(p.to_string())
        }
    };
    let h = home();
    let Some(p) = expand_home(path, h.clone()) else {
        return it.raise("ArgumentError", "couldn't find HOME environment -- expanding '~'");
    };
    let full: PathBuf = if Path::new(&p).is_absolute() {
        PathBuf::from(&p)
    } else {
        let base = match base {
            Some(b) => {
                let Some(b) = expand_home(b, h) else {
                    return it.raise("ArgumentError", "couldn't find HOME environment -- expanding '~'");
                };
                if Path::new(&b).is_absolute() {
                    PathBuf::from(b)
                } else {
                    it.ctx.cwd.join(b)
                }
            }
            None => it.ctx.cwd.clone(),
        };
        base.join(&p)
    };
    Ok(normalize(&full))
}

fn normalize(p: &Path) -> String {
    let mut parts: Vec<String> = vec![];
    for c in p.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => parts.clear(),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `File.basename` (with an optional suffix, `".*"` for any extension).
pub fn basename(path: &str, suffix: Option<&str>) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() { String::new() } else { "/".into() };
    }
    let base = trimmed.rsplit('/').next().unwrap_or(trimmed).to_string();
    match suffix {
        Some(".*") => match base.rfind('.') {
            Some(i) if i > 0 => base[..i].to_string(),
            _ => base,
        },
        Some(s) if base.ends_with(s) && base != s => base[..base.len() - s.len()].to_string(),
        _ => base,
    }
}

/// `File.dirname`.
pub fn dirname(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.starts_with('/') { "/".into() } else { ".".into() };
    }
    match trimmed.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => trimmed[..i].trim_end_matches('/').to_string(),
        None => ".".into(),
    }
}

fn extname(path: &str) -> String {
    let base = basename(path, None);
    match base.rfind('.') {
        Some(i) if i > 0 && i < base.len() - 1 => base[i..].to_string(),
        _ => String::new(),
    }
}

/// `File.join`: pieces joined with single slashes.
fn join(it: &mut Interp, args: &Args) -> R<String> {
    let mut parts: Vec<String> = vec![];
    fn collect(it: &mut Interp, v: &Value, out: &mut Vec<String>) -> R<()> {
        match v {
            Value::Array(a) => {
                for x in a.borrow().clone() {
                    collect(it, &x, out)?;
                }
                Ok(())
            }
            other => {
                out.push(path_arg(it, other)?);
                Ok(())
            }
        }
    }
    for a in &args.pos {
        collect(it, a, &mut parts)?;
    }
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            out.push_str(p);
            continue;
        }
        match (out.ends_with('/'), p.starts_with('/')) {
            (true, true) => out.push_str(&p[1..]),
            (false, false) => {
                out.push('/');
                out.push_str(p);
            }
            _ => out.push_str(p),
        }
    }
    Ok(out)
}

/// Methods of the File class.
pub fn file(it: &mut Interp, name: &str, args: &Args) -> R<Option<Value>> {
    let v = match name {
        "read" => {
            it.check_arity(args, 1, 3)?;
            let p = path_arg(it, &arg(args, 0))?;
            Value::str(read(it, &p)?)
        }
        "readlines" | "foreach" => {
            let p = path_arg(it, &arg(args, 0))?;
            let text = read(it, &p)?;
            let chomp = matches!(args.kwarg("chomp"), Some(Value::Bool(true)));
            let mut lines: Vec<Value> = vec![];
            let mut cur = String::new();
            for c in text.chars() {
                cur.push(c);
                if c == '\n' {
                    let l = std::mem::take(&mut cur);
                    lines.push(Value::str(if chomp { l.trim_end_matches('\n').to_string() } else { l }));
                }
            }
            if !cur.is_empty() {
                lines.push(Value::str(cur));
            }
            if name == "foreach" {
                if let Some(b) = &args.block {
                    for l in lines {
                        it.yield1(b, l)?;
                    }
                    return Ok(Some(Value::Nil));
                }
            }
            Value::array(lines)
        }
        "exist?" | "file?" | "directory?" | "readable?" | "symlink?" | "size?" | "zero?" | "empty?" | "executable?" => {
            it.check_arity(args, 1, 1)?;
            let p = path_arg(it, &arg(args, 0))?;
            let full = it.ctx.path(&p);
            match name {
                "exist?" => Value::Bool(full.exists()),
                "file?" => Value::Bool(full.is_file()),
                "directory?" => Value::Bool(full.is_dir()),
                "readable?" => Value::Bool(std::fs::File::open(&full).is_ok()),
                "symlink?" => Value::Bool(full.is_symlink()),
                "executable?" => {
                    use std::os::unix::fs::PermissionsExt;
                    Value::Bool(std::fs::metadata(&full).map(|m| m.permissions().mode() & 0o111 != 0).unwrap_or(false))
                }
                "size?" => match std::fs::metadata(&full) {
                    Ok(m) if m.len() > 0 => Value::Int(m.len() as i64),
                    _ => Value::Nil,
                },
                _ => Value::Bool(std::fs::metadata(&full).map(|m| m.len() == 0).unwrap_or(false)),
            }
        }
        "size" => {
            let p = path_arg(it, &arg(args, 0))?;
            let full = it.ctx.path(&p);
            match std::fs::metadata(&full) {
                Ok(m) => Value::Int(m.len() as i64),
                Err(e) => return raise_io(it, &e, "rb_file_s_size", &p),
            }
        }
        "expand_path" | "absolute_path" => {
            it.check_arity(args, 1, 2)?;
            let p = path_arg(it, &arg(args, 0))?;
            let base = match args.pos.get(1) {
                Some(Value::Nil) | None => None,
                Some(b) => Some(path_arg(it, b)?),
            };
            if name == "absolute_path" && p.starts_with('~') {
                let b = base.clone().map(|b| it.ctx.path(&b)).unwrap_or(it.ctx.cwd.clone());
                Value::str(normalize(&b.join(&p)))
            } else {
                Value::str(expand_path(it, &p, base.as_deref())?)
            }
        }
        "realpath" => {
            let p = path_arg(it, &arg(args, 0))?;
            match std::fs::canonicalize(it.ctx.path(&p)) {
                Ok(r) => Value::str(r.display().to_string()),
                Err(e) => return raise_io(it, &e, "rb_check_realpath_internal", &p),
            }
        }
        "join" => Value::str(join(it, args)?),
        "basename" => {
            it.check_arity(args, 1, 2)?;
            let p = path_arg(it, &arg(args, 0))?;
            let suffix = match args.pos.get(1) {
                Some(s) => Some(path_arg(it, s)?),
                None => None,
            };
            Value::str(basename(&p, suffix.as_deref()))
        }
        "dirname" => {
            let p = path_arg(it, &arg(args, 0))?;
            Value::str(dirname(&p))
        }
        "extname" => {
            let p = path_arg(it, &arg(args, 0))?;
            Value::str(extname(&p))
        }
        "split" => {
            let p = path_arg(it, &arg(args, 0))?;
            Value::array(vec![Value::str(dirname(&p)), Value::str(basename(&p, None))])
        }
        "open" | "new" => {
            // only reading a whole file through a block
            let p = path_arg(it, &arg(args, 0))?;
            let mode = match args.pos.get(1) {
                Some(m) => it.to_s(m)?,
                None => "r".into(),
            };
            if mode != "r" || args.block.is_none() {
                return it.unsupported(format!("File.{name}"));
            }
            let _ = read(it, &p)?;
            return it.unsupported(format!("File.{name} with a block"));
        }
        "write" | "delete" | "unlink" | "rename" | "chmod" | "symlink" | "mtime" | "stat" | "lstat" | "ftype" => {
            return it.unsupported(format!("File.{name}"))
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// Methods of the Dir class.
pub fn dir(it: &mut Interp, name: &str, args: &Args) -> R<Option<Value>> {
    let v = match name {
        "pwd" | "getwd" => Value::str(it.ctx.cwd.display().to_string()),
        "home" => match it.ctx.env.get("HOME") {
            Some(h) => Value::str(h.clone()),
            None => return it.unsupported("Dir.home without HOME"),
        },
        "exist?" => {
            let p = path_arg(it, &arg(args, 0))?;
            Value::Bool(it.ctx.path(&p).is_dir())
        }
        "glob" | "[]" => {
            let patterns: Vec<String> = match args.pos.first() {
                Some(Value::Array(a)) => a.borrow().iter().map(|x| x.as_str().unwrap_or_default()).collect(),
                _ => args.pos.iter().map(|x| x.as_str().unwrap_or_default()).collect(),
            };
            if args.kwarg("base").is_some() || args.pos.len() > 1 && name == "glob" {
                return it.unsupported("Dir.glob with flags or base");
            }
            let mut out = vec![];
            for p in patterns {
                if p.contains('{') || p.contains("**") {
                    return it.unsupported(format!("Dir.glob({})", inspect_str(&p)));
                }
                out.extend(glob(&it.ctx.cwd, &p).into_iter().map(Value::str));
            }
            match &args.block {
                Some(b) => {
                    for x in out {
                        it.yield1(b, x)?;
                    }
                    Value::Nil
                }
                None => Value::array(out),
            }
        }
        "entries" | "children" | "each_child" => {
            let p = path_arg(it, &arg(args, 0))?;
            let full = it.ctx.path(&p);
            let mut names: Vec<String> = match std::fs::read_dir(&full) {
                Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
                Err(e) => return raise_io(it, &e, "dir_initialize", &p),
            };
            names.sort();
            if name == "entries" {
                names.insert(0, "..".into());
                names.insert(0, ".".into());
            }
            Value::array(names.into_iter().map(Value::str).collect())
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// A simple glob: `*` and `?` within path segments, relative to `cwd` (results as written).
fn glob(cwd: &Path, pattern: &str) -> Vec<String> {
    let absolute = pattern.starts_with('/');
    let segments: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let mut current: Vec<(PathBuf, String)> = vec![(
        if absolute { PathBuf::from("/") } else { cwd.to_path_buf() },
        if absolute { "/".into() } else { String::new() },
    )];
    for (i, seg) in segments.iter().enumerate() {
        let last = i == segments.len() - 1;
        let mut next = vec![];
        for (dir, shown) in &current {
            if !seg.contains(['*', '?', '[']) {
                let p = dir.join(seg);
                if p.exists() {
                    next.push((p, join_shown(shown, seg)));
                }
                continue;
            }
            let Ok(rd) = std::fs::read_dir(dir) else { continue };
            let mut names: Vec<String> =
                rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            for n in names {
                if n.starts_with('.') && !seg.starts_with('.') {
                    continue;
                }
                if wildcard(seg, &n) {
                    let p = dir.join(&n);
                    if !last && !p.is_dir() {
                        continue;
                    }
                    next.push((p, join_shown(shown, &n)));
                }
            }
        }
        current = next;
    }
    current.into_iter().map(|(_, s)| s).collect()
}

fn join_shown(prefix: &str, seg: &str) -> String {
    if prefix.is_empty() {
        seg.to_string()
    } else if prefix.ends_with('/') {
        format!("{prefix}{seg}")
    } else {
        format!("{prefix}/{seg}")
    }
}

fn wildcard(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_ruby() {
        assert_eq!(basename("/a/b.yml", Some(".yml")), "b");
        assert_eq!(basename("a/b.tar.gz", Some(".*")), "b.tar");
        assert_eq!(dirname("/a/b/"), "/a");
        assert_eq!(dirname("b"), ".");
        assert_eq!(dirname("/b"), "/");
        assert_eq!(extname("x/.env"), "");
        assert_eq!(extname("x/a.rb"), ".rb");
        assert_eq!(normalize(Path::new("/a/./b/../c")), "/a/c");
    }
}
