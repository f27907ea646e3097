//! Methods of modules and classes: the library functions templates call (`File.read`,
//! `Time.now`, `URI.parse`, `Kamal::Utils.docker_arch`, `Dotenv.load`, `JSON.generate`,
//! `Shellwords.escape`, `Base64.strict_encode64`...), `new` for exceptions and the template's own
//! classes, and what a module body may call (`attr_accessor`, `module_function`, `extend self`).

use super::arg;
use crate::ast::{Kind, MethodDef, Node, Params, Target};
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use std::cell::RefCell;
use std::rc::Rc;

pub fn call(it: &mut Interp, m: &Rc<RModule>, name: &str, args: &Args) -> R<Option<Value>> {
    if m.builtin {
        if let Some(v) = library(it, m, name, args)? {
            return Ok(Some(v));
        }
    }
    let v = match name {
        "name" | "to_s" | "inspect" => Value::str(m.name.clone()),
        "===" => {
            let v = arg(args, 0);
            Value::Bool(it.is_a(&v, m))
        }
        "==" | "equal?" | "eql?" => {
            Value::Bool(matches!(arg(args, 0), Value::Module(o) if Rc::ptr_eq(&o, m) || o.name == m.name))
        }
        "<" | "<=" => match arg(args, 0) {
            Value::Module(o) => {
                if m.inherits(&o.name) && (name == "<=" || o.name != m.name) {
                    Value::Bool(true)
                } else if o.inherits(&m.name) {
                    Value::Bool(false)
                } else {
                    Value::Nil
                }
            }
            _ => return it.raise("TypeError", "compared with non class/module"),
        },
        "superclass" => m.superclass.clone().map(Value::Module).unwrap_or(Value::Nil),
        "class" => Value::Module(it.class(if m.is_class { "Class" } else { "Module" })),
        "new" if m.inherits("Exception") => {
            let message = match args.pos.first() {
                Some(v) => it.to_s(v)?,
                None => m.name.clone(),
            };
            Value::Exception(Rc::new(RException { class: m.clone(), message, line: it.line }))
        }
        "exception" if m.inherits("Exception") => return call(it, m, "new", args),
        "new" if m.is_class && !m.builtin => {
            let obj = Value::Object(Rc::new(RObject { class: m.clone(), ivars: RefCell::new(Default::default()) }));
            if let Some(init) = m.find_imethod("initialize") {
                it.invoke(init, Some(m.clone()), obj.clone(), args.clone())?;
            } else if !args.is_empty() {
                return it.arity(args.len(), "0");
            }
            obj
        }
        "const_get" => {
            let n = it.to_s(&arg(args, 0))?;
            if let Some(v) = m.consts.borrow().get(&n) {
                return Ok(Some(v.clone()));
            }
            let found = if m.name == "Object" {
                super::constants::toplevel(it, &n)?
            } else {
                super::constants::nested(it, &m.name, &n)?
            };
            match found {
                Some(v) => v,
                None => {
                    let full = if m.name == "Object" { n.clone() } else { format!("{}::{n}", m.name) };
                    if crate::known::constant_exists(&full) {
                        return it.unsupported(format!("the constant {full}"));
                    }
                    return it.raise("NameError", &format!("uninitialized constant {full}"));
                }
            }
        }
        "const_defined?" => {
            let n = it.to_s(&arg(args, 0))?;
            Value::Bool(m.consts.borrow().contains_key(&n) || it.object_consts.contains_key(&n))
        }
        "constants" => Value::array(m.consts.borrow().keys().map(|k| Value::sym(k)).collect()),
        "method_defined?" | "instance_methods" | "public_method_defined?" => {
            if name == "instance_methods" {
                Value::array(m.imethods.borrow().keys().map(|k| Value::sym(k)).collect())
            } else {
                let n = it.to_s(&arg(args, 0))?;
                Value::Bool(m.find_imethod(&n).is_some())
            }
        }
        "attr_reader"
        | "attr_writer"
        | "attr_accessor"
        | "module_function"
        | "private"
        | "public"
        | "protected"
        | "extend"
        | "include"
        | "private_constant"
        | "private_class_method"
        | "public_class_method" => return body_function(it, m, name, args),
        "freeze" => Value::Module(m.clone()),
        "hash" => Value::Int(Rc::as_ptr(m) as usize as i64),
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// `attr_accessor :x`, `module_function`, `extend self` and the like, in a module body.
pub fn body_function(it: &mut Interp, m: &Rc<RModule>, name: &str, args: &Args) -> R<Option<Value>> {
    let names: Vec<String> = args.pos.iter().map(|a| it.to_s(a)).collect::<R<_>>()?;
    match name {
        "attr_reader" | "attr_writer" | "attr_accessor" => {
            for n in &names {
                let line = it.line;
                if name != "attr_writer" {
                    let body = Node::new(Kind::IVar(format!("@{n}")), line);
                    m.imethods
                        .borrow_mut()
                        .insert(n.clone(), Rc::new(MethodDef { name: n.clone(), params: Params::default(), body }));
                }
                if name != "attr_reader" {
                    let params = Params { required: vec![Target::Local("value".into())], ..Default::default() };
                    let body = Node::new(
                        Kind::Asgn(
                            Box::new(Target::IVar(format!("@{n}"))),
                            Box::new(Node::new(Kind::LVar("value".into()), line)),
                        ),
                        line,
                    );
                    let setter = format!("{n}=");
                    m.imethods.borrow_mut().insert(setter.clone(), Rc::new(MethodDef { name: setter, params, body }));
                }
            }
            Ok(Some(Value::array(names.iter().map(|n| Value::sym(n)).collect())))
        }
        "module_function" => {
            if names.is_empty() {
                m.module_function.set(true);
            } else {
                for n in &names {
                    let def = m.imethods.borrow().get(n).cloned();
                    if let Some(d) = def {
                        m.smethods.borrow_mut().insert(n.clone(), d);
                    }
                }
            }
            Ok(Some(Value::Nil))
        }
        "extend" => {
            for a in &args.pos {
                match a {
                    Value::Module(x) if Rc::ptr_eq(x, m) => m.extended_self.set(true),
                    Value::Module(x) if !x.builtin => {
                        for (k, d) in x.imethods.borrow().iter() {
                            m.smethods.borrow_mut().insert(k.clone(), d.clone());
                        }
                    }
                    _ => return it.unsupported("extend with a built-in module"),
                }
            }
            Ok(Some(Value::Module(m.clone())))
        }
        "include" => {
            for a in &args.pos {
                match a {
                    Value::Module(x) if !x.builtin => {
                        for (k, d) in x.imethods.borrow().iter() {
                            m.imethods.borrow_mut().entry(k.clone()).or_insert_with(|| d.clone());
                        }
                    }
                    _ => return it.unsupported("include of a built-in module"),
                }
            }
            Ok(Some(Value::Module(m.clone())))
        }
        _ => Ok(Some(Value::Nil)),
    }
}

/// Functions of built-in modules and classes.
fn library(it: &mut Interp, m: &Rc<RModule>, name: &str, args: &Args) -> R<Option<Value>> {
    match m.name.as_str() {
        "File" => super::file::file(it, name, args),
        "Dir" => super::file::dir(it, name, args),
        "Time" => super::time::time_class(it, name, args),
        "Date" => super::time::date_class(it, name, args),
        "Dotenv" => super::dotenv::call(it, name, args),
        "Kernel" => super::kernel::call(it, name, args),
        "ERB" => match name {
            "new" => {
                let template = it.expect_str(&arg(args, 0))?;
                // `trim_mode: "-"` (or the old third positional argument)
                let mode = match args.kwarg("trim_mode").or_else(|| args.pos.get(2).cloned()) {
                    Some(Value::Nil) | None => String::new(),
                    Some(v) => it.to_s(&v)?,
                };
                match mode.as_str() {
                    "" => Ok(Some(Value::lib(Lib::Erb { template, trim: false }))),
                    "-" => Ok(Some(Value::lib(Lib::Erb { template, trim: true }))),
                    other => it.unsupported(format!("ERB.new with trim_mode {}", inspect_str(other))).map(Some),
                }
            }
            _ => Ok(None),
        },
        "URI" => match name {
            "parse" => Ok(Some(super::uri::parse(it, &arg(args, 0))?)),
            "encode_www_form_component" | "encode_uri_component" => {
                let s = it.to_s(&arg(args, 0))?;
                Ok(Some(Value::str(www_form_encode(&s, name == "encode_www_form_component"))))
            }
            _ => Ok(None),
        },
        "Kamal::Utils" => match name {
            "docker_arch" => {
                let out = super::process::backtick(it, "docker info --format '{{.Architecture}}'")?;
                let arch = it.to_s(&out)?.trim().to_string();
                let mapped = if arch.contains("aarch64") {
                    "arm64".to_string()
                } else if arch.contains("x86_64") {
                    "amd64".to_string()
                } else {
                    arch
                };
                Ok(Some(Value::str(mapped)))
            }
            _ => Ok(None),
        },
        "Shellwords" => match name {
            "escape" | "shellescape" => {
                let s = it.to_s(&arg(args, 0))?;
                Ok(Some(Value::str(super::string::shellescape(&s))))
            }
            "join" | "shelljoin" => {
                let items = super::enumerable::items(it, &arg(args, 0))?;
                let mut parts = vec![];
                for x in items {
                    let s = it.to_s(&x)?;
                    parts.push(super::string::shellescape(&s));
                }
                Ok(Some(Value::str(parts.join(" "))))
            }
            "split" | "shellsplit" | "shellwords" => {
                let s = it.expect_str(&arg(args, 0))?;
                match wharf_secrets::shell::shellsplit(&s) {
                    Ok(words) => Ok(Some(Value::array(words.into_iter().map(Value::str).collect()))),
                    Err(_) => it.raise("ArgumentError", &format!("Unmatched quote: {}", inspect_str(&s))),
                }
            }
            _ => Ok(None),
        },
        "Base64" => match name {
            "strict_encode64" | "encode64" | "urlsafe_encode64" => {
                let s = it.expect_str(&arg(args, 0))?;
                let mut enc = base64(s.as_bytes(), name == "urlsafe_encode64");
                if name == "encode64" {
                    // 60 characters a line, each ending with a newline
                    let mut wrapped = String::new();
                    for chunk in enc.as_bytes().chunks(60) {
                        wrapped.push_str(std::str::from_utf8(chunk).unwrap());
                        wrapped.push('\n');
                    }
                    enc = wrapped;
                }
                Ok(Some(Value::str(enc)))
            }
            _ => it.unsupported(format!("Base64.{name}")).map(Some),
        },
        "Socket" => match name {
            "gethostname" => {
                let h = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
                Ok(Some(Value::str(h.trim().to_string())))
            }
            _ => Ok(None),
        },
        "Process" => match name {
            "pid" => Ok(Some(Value::Int(std::process::id() as i64))),
            _ => Ok(None),
        },
        "Regexp" => match name {
            "escape" | "quote" => {
                let s = it.to_s(&arg(args, 0))?;
                Ok(Some(Value::str(regexp_escape(&s))))
            }
            "new" | "compile" => {
                let source = match arg(args, 0) {
                    Value::Regexp(r) => r.source.clone(),
                    other => it.expect_str(&other)?,
                };
                let flags = match args.pos.get(1) {
                    Some(Value::Bool(true)) => "i".to_string(),
                    Some(Value::Int(i)) => {
                        let mut f = String::new();
                        if i & 1 != 0 {
                            f.push('i');
                        }
                        if i & 2 != 0 {
                            f.push('x');
                        }
                        if i & 4 != 0 {
                            f.push('m');
                        }
                        f
                    }
                    _ => String::new(),
                };
                Ok(Some(super::regexp::compile(it, &source, &flags)?))
            }
            _ => Ok(None),
        },
        "String" if name == "new" => {
            let s = match args.pos.first() {
                Some(v) => it.expect_str(v)?,
                None => String::new(),
            };
            Ok(Some(Value::str(s)))
        }
        "Array" if name == "new" => {
            let n = match args.pos.first() {
                Some(v) => it.expect_int(v)?,
                None => 0,
            };
            let mut items = vec![];
            for i in 0..n {
                items.push(match (&args.block, args.pos.get(1)) {
                    (Some(b), _) => it.yield1(b, Value::Int(i))?,
                    (None, Some(v)) => v.clone(),
                    _ => Value::Nil,
                });
            }
            Ok(Some(Value::array(items)))
        }
        "Hash" if name == "new" => {
            let mut h = RHash { default: args.pos.first().cloned(), ..Default::default() };
            if let Some(b) = &args.block {
                h.default_proc = Some(Value::Proc(b.clone()));
            }
            Ok(Some(Value::hash(h)))
        }
        "Hash" if name == "[]" => {
            let items = match args.pos.as_slice() {
                [Value::Hash(h)] => return Ok(Some(Value::hash(h.borrow().clone()))),
                [Value::Array(a)] => a.borrow().clone(),
                _ => return it.unsupported("Hash[] with these arguments"),
            };
            let mut h = RHash::default();
            for p in items {
                if let Value::Array(pa) = p {
                    let pa = pa.borrow();
                    h.insert(pa.first().cloned().unwrap_or(Value::Nil), pa.get(1).cloned().unwrap_or(Value::Nil));
                }
            }
            Ok(Some(Value::hash(h)))
        }
        "Integer" if name == "sqrt" => {
            let n = it.expect_int(&arg(args, 0))?;
            if n < 0 {
                return it.raise("Math::DomainError", "Numerical argument is out of domain - \"isqrt\"");
            }
            Ok(Some(Value::Int((n as f64).sqrt().floor() as i64)))
        }
        "Math" => {
            let x = match arg(args, 0) {
                Value::Int(i) => i as f64,
                Value::Float(f) => f,
                other => {
                    let n = it.implicit_name(&other);
                    return it.raise("TypeError", &format!("can't convert {n} into Float"));
                }
            };
            let r = match name {
                "sqrt" => x.sqrt(),
                "log" => x.ln(),
                "log2" => x.log2(),
                "log10" => x.log10(),
                "floor" => x.floor(),
                _ => return Ok(None),
            };
            Ok(Some(Value::Float(r)))
        }
        "JSON" => match name {
            "generate" | "dump" => Ok(Some(super::format::to_json(it, &arg(args, 0), &Args::default())?)),
            "pretty_generate" => Ok(Some(Value::str(super::format::json(it, &arg(args, 0), Some(0))?))),
            "parse" => {
                let s = it.expect_str(&arg(args, 0))?;
                let symbolize = matches!(args.kwarg("symbolize_names"), Some(Value::Bool(true)));
                match super::format::parse_json(&s, symbolize) {
                    Some(v) => Ok(Some(v)),
                    None => it.unsupported("JSON.parse of text that is not valid JSON (its error message)"),
                }
            }
            _ => Ok(None),
        },
        _ if m.inherits("Exception") => Ok(None),
        _ => Ok(None),
    }
}

/// Methods of `ERB.new(...)` objects and bindings.
pub fn erb_object(it: &mut Interp, l: &Rc<Lib>, name: &str, args: &Args) -> R<Option<Value>> {
    let Lib::Erb { template, trim } = &**l else {
        return match name {
            "local_variable_get" | "local_variables" | "eval" => it.unsupported(format!("Binding#{name}")).map(Some),
            _ => Ok(None),
        };
    };
    let program = if *trim { crate::template::compile(template) } else { crate::template::compile_untrimmed(template) };
    match name {
        "src" => Ok(Some(Value::str(program))),
        "result" | "result_with_hash" => {
            let pos = args.positional();
            let scope = match (name, pos.first()) {
                ("result", None) => crate::value::Scope::new(None),
                ("result", Some(Value::Lib(b))) => match &**b {
                    Lib::Binding(s) => s.clone(),
                    _ => return it.raise("TypeError", "wrong argument type (expected binding)"),
                },
                ("result_with_hash", Some(Value::Hash(h))) => {
                    let scope = crate::value::Scope::new(None);
                    for (k, v) in h.borrow().pairs() {
                        let k = it.to_s(&k)?;
                        scope.define(&k, v);
                    }
                    scope
                }
                _ => return it.raise("TypeError", "wrong argument type (expected binding)"),
            };
            let tree = match crate::parser::parse_program_with_locals(&program, &scope.names()) {
                Ok(t) => t,
                Err(e) => {
                    return it.unsupported(format!(
                        "ERB.new(...).{name} of a template the evaluator cannot parse (line {}: {})",
                        e.line, e.message
                    ))
                }
            };
            let line = it.line;
            let out = it.run_in_scope(&tree, &scope)?;
            it.line = line;
            Ok(Some(out))
        }
        _ => Ok(None),
    }
}

fn base64(data: &[u8], urlsafe: bool) -> String {
    let table: &[u8] = if urlsafe {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    } else {
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    };
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(table[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn regexp_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '.' | '*' | '?' | '+' | '^' | '$' | '|' | '(' | ')' | '[' | ']' | '{' | '}' | '\\' | '#' | '-' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            ' ' => out.push_str("\\ "),
            c => out.push(c),
        }
    }
    out
}

fn www_form_encode(s: &str, form: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b' ' if form => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
