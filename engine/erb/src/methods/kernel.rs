//! Kernel's functions, called without a receiver: `puts`, `require`, `raise`, `system`,
//! `format`, `Integer()`, `lambda`, `loop`, `exit`, ...

use super::arg;
use crate::error::{Ctrl, Stop, R};
use crate::interp::{Args, Interp};
use crate::value::*;
use std::io::Write;
use std::rc::Rc;

const FUNCTIONS: &[&str] = &[
    "puts",
    "print",
    "p",
    "pp",
    "warn",
    "require",
    "require_relative",
    "raise",
    "fail",
    "system",
    "`",
    "format",
    "sprintf",
    "Integer",
    "Float",
    "String",
    "Array",
    "Hash",
    "Rational",
    "lambda",
    "proc",
    "loop",
    "block_given?",
    "__method__",
    "__dir__",
    "exit",
    "exit!",
    "abort",
    "sleep",
    "catch",
    "throw",
    "binding",
    "rand",
    "srand",
    "attr_reader",
    "attr_writer",
    "attr_accessor",
    "module_function",
    "private",
    "public",
    "protected",
    "extend",
    "include",
    "private_constant",
    "freeze",
    "frozen?",
    "URI",
    "load",
    "gets",
    "at_exit",
];

pub fn is_function(name: &str) -> bool {
    FUNCTIONS.contains(&name)
}

pub fn call(it: &mut Interp, name: &str, args: &Args) -> R<Option<Value>> {
    let v = match name {
        "puts" => {
            let mut out = String::new();
            if args.is_empty() {
                out.push('\n');
            }
            for a in args.positional() {
                puts_value(it, &a, &mut out)?;
            }
            let _ = it.ctx.out.write_all(out.as_bytes());
            let _ = it.ctx.out.flush();
            Value::Nil
        }
        "print" => {
            let mut out = String::new();
            for a in args.positional() {
                out.push_str(&it.to_s(&a)?);
            }
            let _ = it.ctx.out.write_all(out.as_bytes());
            let _ = it.ctx.out.flush();
            Value::Nil
        }
        "p" => {
            let pos = args.positional();
            let mut out = String::new();
            for a in &pos {
                out.push_str(&it.inspect(a)?);
                out.push('\n');
            }
            let _ = it.ctx.out.write_all(out.as_bytes());
            let _ = it.ctx.out.flush();
            match pos.len() {
                0 => Value::Nil,
                1 => pos[0].clone(),
                _ => Value::array(pos),
            }
        }
        "pp" => return it.unsupported("Kernel#pp"),
        "warn" => {
            let mut out = String::new();
            for a in &args.pos {
                puts_value(it, a, &mut out)?;
            }
            let _ = it.ctx.err.write_all(out.as_bytes());
            let _ = it.ctx.err.flush();
            Value::Nil
        }
        "require" => {
            it.check_arity(args, 1, 1)?;
            let feature = it.expect_str(&arg(args, 0))?;
            require(it, &feature)?
        }
        "require_relative" => {
            it.check_arity(args, 1, 1)?;
            let feature = it.expect_str(&arg(args, 0))?;
            require_relative(it, &feature)?
        }
        "load" => return it.unsupported("Kernel#load"),
        "raise" | "fail" => return raise(it, args),
        "system" => super::process::system(it, args)?,
        "`" => {
            let cmd = it.expect_str(&arg(args, 0))?;
            super::process::backtick(it, &cmd)?
        }
        "format" | "sprintf" => {
            let pos = args.positional();
            let Some(fmt) = pos.first() else {
                return it.raise("ArgumentError", "too few arguments");
            };
            let fmt = it.expect_str(fmt)?;
            Value::str(super::format::sprintf(it, &fmt, &pos[1..])?)
        }
        "Integer" => integer(it, args)?,
        "Float" => float(it, args)?,
        "String" => {
            it.check_arity(args, 1, 1)?;
            Value::str(it.to_s(&arg(args, 0))?)
        }
        "Array" => {
            it.check_arity(args, 1, 1)?;
            match arg(args, 0) {
                Value::Nil => Value::array(vec![]),
                Value::Array(a) => Value::Array(a),
                v @ (Value::Hash(_) | Value::Range(_)) => super::enumerable::to_a(it, &v)?,
                other => Value::array(vec![other]),
            }
        }
        "Hash" => match arg(args, 0) {
            Value::Nil => Value::hash(RHash::default()),
            Value::Array(a) if a.borrow().is_empty() => Value::hash(RHash::default()),
            h @ Value::Hash(_) => h,
            other => {
                let n = it.class_name(&other);
                return it.raise("TypeError", &format!("can't convert {n} into Hash"));
            }
        },
        "URI" => super::uri::parse(it, &arg(args, 0))?,
        "lambda" | "proc" => match &args.block {
            Some(b) => {
                let is_lambda = name == "lambda";
                match &b.kind {
                    ProcKind::Block { def, scope, self_val, frame, module } => Value::Proc(Rc::new(RProc {
                        kind: ProcKind::Block {
                            def: def.clone(),
                            scope: scope.clone(),
                            self_val: self_val.clone(),
                            frame: *frame,
                            module: module.clone(),
                        },
                        is_lambda,
                        tag: b.tag,
                    })),
                    _ => Value::Proc(b.clone()),
                }
            }
            None => return it.raise("ArgumentError", "tried to create Proc object without a block"),
        },
        "loop" => {
            let Some(b) = args.block.clone() else { return it.unsupported("loop without a block") };
            loop {
                match it.call_proc(&b, Args::default()) {
                    Ok(_) => {}
                    Err(Ctrl::Raise(e)) if e.class.inherits("StopIteration") => break Value::Nil,
                    Err(e) => return Err(e),
                }
            }
        }
        "block_given?" => Value::Bool(it.frame_block().is_some()),
        "__method__" => match it.frame_method() {
            Some(m) => Value::sym(&m),
            None => Value::Nil,
        },
        // ERB evaluates with the file name "(erb)": `__dir__` is File.dirname("(erb)")
        "__dir__" => Value::str("."),
        "exit" | "exit!" => {
            let code = match arg(args, 0) {
                Value::Bool(true) | Value::Nil => 0,
                Value::Bool(false) => 1,
                Value::Int(i) => i as i32,
                _ => 0,
            };
            return Err(Ctrl::Stop(Stop::Exit(code)));
        }
        "abort" => {
            if let Some(m) = args.pos.first() {
                let msg = it.expect_str(m)?;
                let _ = writeln!(it.ctx.err, "{msg}");
            }
            return Err(Ctrl::Stop(Stop::Exit(1)));
        }
        "sleep" if !it.ctx.allow_commands => return it.unsupported("sleep (commands are off)"),
        "sleep" => {
            let secs = match arg(args, 0) {
                Value::Int(i) => i as f64,
                Value::Float(f) => f,
                _ => return it.unsupported("sleep without a duration"),
            };
            std::thread::sleep(std::time::Duration::from_secs_f64(secs.max(0.0)));
            Value::Int(secs.round() as i64)
        }
        "catch" => {
            let tag = args.pos.first().cloned().unwrap_or_else(|| Value::lib(Lib::Main));
            let Some(b) = args.block.clone() else { return it.unsupported("catch without a block") };
            match it.yield1(&b, tag.clone()) {
                Err(Ctrl::Throw(t, v)) if it.equal(&t, &tag)? || t.identity() == tag.identity() => v,
                other => other?,
            }
        }
        "throw" => {
            it.check_arity(args, 1, 2)?;
            return Err(Ctrl::Throw(arg(args, 0), arg(args, 1)));
        }
        "binding" | "rand" | "srand" | "gets" | "at_exit" => return it.unsupported(format!("Kernel#{name}")),
        "attr_reader" | "attr_writer" | "attr_accessor" | "module_function" | "private" | "public" | "protected"
        | "extend" | "include" | "private_constant" => match it.current_module() {
            Some(m) => return super::module::body_function(it, &m, name, args),
            None => match name {
                "private" | "public" | "protected" => Value::Nil,
                "include" => return it.unsupported("include at the top level"),
                _ => return Ok(None),
            },
        },
        "freeze" => it.main.clone(),
        "frozen?" => Value::Bool(false),
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// `puts` of one value: arrays flattened one item per line, a newline unless there is one.
fn puts_value(it: &mut Interp, v: &Value, out: &mut String) -> R<()> {
    match v {
        Value::Array(a) => {
            let items = a.borrow().clone();
            if items.is_empty() {
                out.push('\n');
            }
            for i in items {
                puts_value(it, &i, out)?;
            }
        }
        other => {
            let s = it.to_s(other)?;
            out.push_str(&s);
            if !s.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    Ok(())
}

/// `raise`: `raise "msg"`, `raise Class`, `raise Class, "msg"`, `raise exception`.
pub fn raise(it: &mut Interp, args: &Args) -> R<Option<Value>> {
    let pos = args.positional();
    match pos.as_slice() {
        [] => {
            if let Some(Value::Exception(e)) = it.globals.get("$!").cloned() {
                return Err(Ctrl::Raise(e));
            }
            it.raise("RuntimeError", "unhandled exception")
        }
        [Value::Str(s)] => {
            let m = s.s.borrow().clone();
            it.raise("RuntimeError", &m)
        }
        [Value::Exception(e)] => Err(Ctrl::Raise(e.clone())),
        [Value::Exception(e), msg, ..] => {
            let m = it.to_s(msg)?;
            Err(Ctrl::Raise(Rc::new(RException { class: e.class.clone(), message: m, line: it.line })))
        }
        [Value::Module(m), rest @ ..] => {
            if !m.inherits("Exception") {
                return it.raise("TypeError", "exception class/object expected");
            }
            let message = match rest.first() {
                Some(msg) => it.to_s(msg)?,
                None => m.name.clone(),
            };
            Err(Ctrl::Raise(Rc::new(RException { class: m.clone(), message, line: it.line })))
        }
        _ => it.raise("TypeError", "exception class/object expected"),
    }
}

/// `Integer(x)` with Ruby's strict parsing.
fn integer(it: &mut Interp, args: &Args) -> R<Value> {
    it.check_arity(args, 1, 3)?;
    let exception = !matches!(args.kwarg("exception"), Some(Value::Bool(false)));
    let base = match args.pos.get(1) {
        Some(Value::Int(b)) => Some(*b as u32),
        _ => None,
    };
    let v = arg(args, 0);
    let result = match &v {
        Value::Int(i) => Ok(Value::Int(*i)),
        Value::Float(f) => {
            if f.is_finite() {
                Ok(Value::Int(f.trunc() as i64))
            } else {
                return it.raise("FloatDomainError", &float_to_s(*f));
            }
        }
        Value::Str(s) => {
            let text = s.s.borrow().clone();
            match parse_integer_strict(&text, base) {
                Some(i) => Ok(Value::Int(i)),
                None => Err(format!("invalid value for Integer(): {}", inspect_str(&text))),
            }
        }
        Value::Nil => Err("can't convert nil into Integer".into()),
        other => {
            let n = it.class_name(other);
            Err(format!("can't convert {n} into Integer"))
        }
    };
    match result {
        Ok(v) => Ok(v),
        Err(_) if !exception => Ok(Value::Nil),
        Err(msg) if v.is_nil() || !matches!(v, Value::Str(_)) => it.raise("TypeError", &msg),
        Err(msg) => it.raise("ArgumentError", &msg),
    }
}

/// Ruby's `Integer("...")`: optional sign, `0x`/`0b`/`0o`/`0` prefixes, underscores between
/// digits, surrounding white space.
pub fn parse_integer_strict(text: &str, base: Option<u32>) -> Option<i64> {
    let t = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = t.to_ascii_lowercase();
    let (radix, digits) = if let Some(b) = base {
        let d = match b {
            16 => lower.strip_prefix("0x").unwrap_or(&lower),
            2 => lower.strip_prefix("0b").unwrap_or(&lower),
            8 => lower.strip_prefix("0o").unwrap_or(&lower),
            _ => &lower,
        };
        (b, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0x") {
        (16, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d.to_string())
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d.to_string())
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string())
    } else {
        (10, lower.clone())
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let n = i64::from_str_radix(&clean, radix).ok()?;
    Some(if neg { -n } else { n })
}

fn float(it: &mut Interp, args: &Args) -> R<Value> {
    it.check_arity(args, 1, 2)?;
    let exception = !matches!(args.kwarg("exception"), Some(Value::Bool(false)));
    let v = arg(args, 0);
    match &v {
        Value::Int(i) => Ok(Value::Float(*i as f64)),
        Value::Float(f) => Ok(Value::Float(*f)),
        Value::Str(s) => {
            let text = s.s.borrow().clone();
            let t = text.trim().replace('_', "");
            let valid = !t.is_empty()
                && t.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
                && !t.ends_with('.')
                && !t.starts_with('.');
            match t.parse::<f64>() {
                Ok(f) if valid => Ok(Value::Float(f)),
                _ if !exception => Ok(Value::Nil),
                _ => it.raise("ArgumentError", &format!("invalid value for Float(): {}", inspect_str(&text))),
            }
        }
        Value::Nil => {
            if exception {
                it.raise("TypeError", "can't convert nil into Float")
            } else {
                Ok(Value::Nil)
            }
        }
        other => {
            let n = it.class_name(other);
            it.raise("TypeError", &format!("can't convert {n} into Float"))
        }
    }
}

/// `require`: what Kamal's process has loaded already answers false; dotenv is built in;
/// anything else needs a real Ruby.
pub fn require(it: &mut Interp, feature: &str) -> R<Value> {
    // a path (`require File.expand_path(...)`, `require "./lib/x"`): that Ruby file
    if feature.starts_with('/') || feature.starts_with("./") || feature.starts_with("../") {
        return load_ruby_file(it, feature, feature);
    }
    let name = feature.trim_end_matches(".rb");
    if it.loaded.contains(name) {
        return Ok(Value::Bool(false));
    }
    match name {
        "dotenv" => {
            it.loaded.insert(name.to_string());
            Ok(Value::Bool(true))
        }
        // the `time` library: Time#iso8601 and friends (see methods::time)
        "time" => {
            it.loaded.insert(name.to_string());
            Ok(Value::Bool(true))
        }
        "dotenv/load" => {
            // loads .env into ENV, as the gem's dotenv/load does
            it.loaded.insert("dotenv".to_string());
            it.loaded.insert(name.to_string());
            super::dotenv::load(it, &[Value::str(".env")], false, false)?;
            Ok(Value::Bool(true))
        }
        _ if crate::known::feature_loaded(name) => Ok(Value::Bool(false)),
        _ => it.unsupported(format!("require \"{feature}\"")),
    }
}

/// `require_relative`: a Ruby file beside... the ERB, whose `__FILE__` is "(erb)": Ruby resolves
/// it against the working directory. The file is evaluated by the built-in evaluator.
fn require_relative(it: &mut Interp, feature: &str) -> R<Value> {
    let shown = it.ctx.path(feature).display().to_string();
    load_ruby_file(it, feature, &shown)
}

/// Evaluates a Ruby file once (`require`/`require_relative` of a path), with the built-in
/// evaluator; `shown` is how a LoadError names it.
fn load_ruby_file(it: &mut Interp, feature: &str, shown: &str) -> R<Value> {
    let mut path = it.ctx.path(feature);
    if path.extension().is_none() {
        path.set_extension("rb");
    }
    let key = format!("file:{}", path.display());
    if it.loaded.contains(&key) {
        return Ok(Value::Bool(false));
    }
    let source = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(_) => {
            return it.raise("LoadError", &format!("cannot load such file -- {shown}"));
        }
    };
    it.loaded.insert(key);
    let program = match crate::parser::parse_program(&source) {
        Ok(p) => p,
        Err(e) => {
            return it.unsupported(format!(
                "require_relative \"{feature}\" ({}:{}: {})",
                path.display(),
                e.line,
                e.message
            ))
        }
    };
    let line = it.line;
    let result = it.run_toplevel(&program);
    it.line = line;
    match result {
        Ok(_) => Ok(Value::Bool(true)),
        Err(Ctrl::Stop(Stop::Unsupported { line: l, what })) => {
            it.unsupported(format!("{what} (in {}:{l}, required at line {line})", path.display()))
        }
        Err(e) => Err(e),
    }
}
