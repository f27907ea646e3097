//! Built-in methods, one module per receiver type. Each `call` answers `Ok(None)` for a method
//! it does not have; the interpreter then tells Ruby's NoMethodError from a method Ruby has but
//! the evaluator lacks (see [`crate::known`]).

pub mod array;
pub mod constants;
pub mod dotenv;
pub mod enumerable;
pub mod enumerator;
pub mod env;
pub mod file;
pub mod format;
pub mod hash;
pub mod kernel;
pub mod module;
pub mod numeric;
pub mod object;
pub mod process;
pub mod regexp;
pub mod string;
pub mod time;
pub mod uri;

use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;

/// Runs the built-in method `name` of `recv`, if there is one.
pub fn dispatch(it: &mut Interp, recv: &Value, name: &str, args: &Args) -> R<Option<Value>> {
    if args.block.is_none() && enumerator::ENUMERATOR_METHODS.contains(&name) {
        let enumerates = match recv {
            Value::Array(_) | Value::Hash(_) | Value::Range(_) => name != "find_index" || args.pos.is_empty(),
            Value::Str(_) => matches!(name, "each_char" | "each_line"),
            Value::Int(_) => matches!(name, "times" | "upto" | "downto"),
            Value::Lib(l) => matches!(**l, Lib::Env | Lib::Enumerator { .. }) && name != "each",
            _ => false,
        };
        if enumerates {
            return Ok(Some(enumerator::make(recv, name, args)));
        }
    }
    let found = match recv {
        Value::Str(s) => string::call(it, recv, s, name, args)?,
        Value::Int(_) | Value::Float(_) => numeric::call(it, recv, name, args)?,
        Value::Array(a) => array::call(it, recv, a, name, args)?,
        Value::Hash(h) => hash::call(it, recv, h, name, args)?,
        Value::Sym(s) => string::symbol(it, recv, s, name, args)?,
        Value::Nil => object::nil(it, name, args)?,
        Value::Bool(b) => object::boolean(it, *b, name, args)?,
        Value::Range(r) => enumerable::range(it, recv, r, name, args)?,
        Value::Regexp(r) => regexp::call(it, recv, r, name, args)?,
        Value::Proc(p) => object::proc_method(it, p, name, args)?,
        Value::Module(m) => module::call(it, m, name, args)?,
        Value::Exception(e) => object::exception(it, e, name, args)?,
        Value::Lib(l) => match &**l {
            Lib::Env => env::call(it, name, args)?,
            Lib::Time { .. } | Lib::Date { .. } => time::call(it, recv, l, name, args)?,
            Lib::Uri(u) => uri::call(it, u, name, args)?,
            Lib::Status { .. } => process::status(it, l, name, args)?,
            Lib::MatchData { .. } => regexp::match_data(it, l, name, args)?,
            Lib::Main => None,
            Lib::Enumerator { .. } => enumerator::call(it, l, name, args)?,
            Lib::Erb { .. } | Lib::Binding(_) => module::erb_object(it, l, name, args)?,
        },
        Value::Object(_) => None,
    };
    if found.is_some() {
        return Ok(found);
    }
    object::call(it, recv, name, args)
}

/// Whether `recv` responds to `name` (`respond_to?`).
pub fn responds_to(it: &mut Interp, recv: &Value, name: &str) -> bool {
    let class = match recv {
        Value::Module(m) if m.builtin => format!("s:{}", m.name),
        Value::Module(m) => {
            if m.smethods.borrow().contains_key(name) {
                return true;
            }
            format!("s:{}", if m.is_class { "Class" } else { "Module" })
        }
        Value::Object(o) => {
            if o.class.find_imethod(name).is_some() {
                return true;
            }
            "i:Object".into()
        }
        Value::Lib(l) if matches!(**l, Lib::Env) => "s:ENV".into(),
        Value::Lib(l) if matches!(**l, Lib::Main) => "s:main".into(),
        other => format!("i:{}", it.class_name(other)),
    };
    crate::known::method_exists(&class, name)
}

/// `to_s` of library objects.
pub fn lib_to_s(it: &mut Interp, l: &Lib) -> R<String> {
    Ok(match l {
        Lib::Env => "ENV".into(),
        Lib::Main => "main".into(),
        Lib::Enumerator { .. } | Lib::Erb { .. } | Lib::Binding(_) => return lib_inspect(it, l),
        Lib::Status { pid, code, signal } => match (code, signal) {
            (Some(c), _) => format!("pid {pid} exit {c}"),
            (None, Some(s)) => format!("pid {pid} SIG{} (signal {s})", process::signal_name(*s)),
            _ => format!("pid {pid}"),
        },
        Lib::Time { .. } | Lib::Date { .. } => time::to_s(l),
        Lib::Uri(u) => uri::to_s(&u.borrow()),
        Lib::MatchData { captures, subject, .. } => match captures.first() {
            Some(Some((a, b))) => subject[*a..*b].to_string(),
            _ => String::new(),
        },
    })
}

/// `inspect` of library objects.
pub fn lib_inspect(it: &mut Interp, l: &Lib) -> R<String> {
    Ok(match l {
        Lib::Env => "{...}".into(),
        Lib::Status { pid, code, .. } => match code {
            Some(c) => format!("#<Process::Status: pid {pid} exit {c}>"),
            None => format!("#<Process::Status: pid {pid}>"),
        },
        Lib::Time { .. } => time::to_s(l),
        Lib::Date { .. } => format!("#<Date: {}>", time::to_s(l)),
        Lib::Uri(u) => {
            let u = u.borrow();
            format!("#<{} {}>", uri::class_for(&u), uri::to_s(&u))
        }
        Lib::MatchData { .. } => format!("#<MatchData {}>", crate::value::inspect_str(&lib_to_s(it, l)?)),
        Lib::Main => "main".into(),
        Lib::Enumerator { recv, method, .. } => {
            let r = it.inspect(recv)?;
            format!("#<Enumerator: {r}:{method}>")
        }
        Lib::Erb { .. } => "#<ERB>".into(),
        Lib::Binding(_) => "#<Binding>".into(),
    })
}

/// `==` of library objects.
pub fn lib_equal(a: &Lib, b: &Lib) -> bool {
    match (a, b) {
        (Lib::Time { secs: s1, nanos: n1, .. }, Lib::Time { secs: s2, nanos: n2, .. }) => s1 == s2 && n1 == n2,
        (Lib::Date { days: a }, Lib::Date { days: b }) => a == b,
        (Lib::Uri(a), Lib::Uri(b)) => *a.borrow() == *b.borrow(),
        (Lib::Env, Lib::Env) | (Lib::Main, Lib::Main) => true,
        (Lib::Status { code: a, .. }, Lib::Status { code: b, .. }) => a == b,
        _ => false,
    }
}

/// The `n`th positional argument, or nil.
pub fn arg(args: &Args, n: usize) -> Value {
    args.pos.get(n).cloned().unwrap_or(Value::Nil)
}
