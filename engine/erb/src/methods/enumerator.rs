//! Enumerators: what `each`, `map`, `select`, `each_with_index`, `gsub`... return without a
//! block, so that `list.each_with_index.map { |x, i| }`, `list.map.with_index(1) { }` and
//! `each_with_index.to_a` work as in Ruby. An enumerator runs its method again with a block
//! written in Rust that feeds the next step.

use super::arg;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use std::cell::RefCell;
use std::rc::Rc;

/// Methods that answer an enumerator when called without a block.
pub const ENUMERATOR_METHODS: &[&str] = &[
    "each",
    "map",
    "collect",
    "flat_map",
    "collect_concat",
    "select",
    "filter",
    "reject",
    "filter_map",
    "each_with_index",
    "each_entry",
    "find",
    "detect",
    "find_index",
    "sort_by",
    "min_by",
    "max_by",
    "group_by",
    "partition",
    "each_char",
    "each_line",
    "times",
    "each_pair",
    "each_key",
    "each_value",
    "each_with_object",
    "take_while",
    "drop_while",
    "chars_each",
    "upto",
    "downto",
    "step",
];

/// `recv.method(*args)` as an enumerator.
pub fn make(recv: &Value, method: &str, args: &Args) -> Value {
    Value::lib(Lib::Enumerator { recv: recv.clone(), method: method.to_string(), args: args.pos.clone() })
}

fn native(f: impl FnMut(&mut Interp, Vec<Value>) -> R<Value> + 'static) -> Rc<RProc> {
    let block: NativeBlock = Rc::new(RefCell::new(f));
    Rc::new(RProc { kind: ProcKind::Native(block), is_lambda: false, tag: 0 })
}

fn pack(mut vs: Vec<Value>) -> Value {
    if vs.len() == 1 {
        vs.pop().unwrap()
    } else {
        Value::array(vs)
    }
}

/// Runs the enumerator's method with `block`.
fn run(it: &mut Interp, recv: &Value, method: &str, args: &[Value], block: Rc<RProc>) -> R<Value> {
    it.call_method(recv, method, Args { pos: args.to_vec(), kw: None, block: Some(block) })
}

/// The values the enumerator yields.
fn items(it: &mut Interp, recv: &Value, method: &str, args: &[Value]) -> R<Vec<Value>> {
    let seen = Rc::new(RefCell::new(vec![]));
    let sink = seen.clone();
    run(
        it,
        recv,
        method,
        args,
        native(move |_, vs| {
            sink.borrow_mut().push(pack(vs));
            Ok(Value::Nil)
        }),
    )?;
    let out = seen.borrow().clone();
    Ok(out)
}

pub fn call(it: &mut Interp, l: &Rc<Lib>, name: &str, args: &Args) -> R<Option<Value>> {
    let Lib::Enumerator { recv, method, args: margs } = &**l else { return Ok(None) };
    match name {
        "with_index" | "each_with_index" | "with_object" | "each_with_object" => {
            let Some(user) = args.block.clone() else {
                return Ok(Some(make(&Value::Lib(l.clone()), name, args)));
            };
            let object = name.contains("object");
            let extra = if object {
                arg(args, 0)
            } else {
                match args.pos.first() {
                    Some(Value::Nil) | None => Value::Int(0),
                    Some(v) => Value::Int(it.expect_int(v)?),
                }
            };
            let counter = Rc::new(RefCell::new(0i64));
            let memo = extra.clone();
            let result = run(
                it,
                recv,
                method,
                margs,
                native(move |it, vs| {
                    let second = if object {
                        memo.clone()
                    } else {
                        let base = if let Value::Int(b) = memo { b } else { 0 };
                        let i = *counter.borrow();
                        *counter.borrow_mut() += 1;
                        Value::Int(base + i)
                    };
                    it.call_proc(&user, Args::new(vec![pack(vs), second]))
                }),
            )?;
            Ok(Some(if object { extra } else { result }))
        }
        "each" => match &args.block {
            Some(b) => Ok(Some(run(it, recv, method, margs, b.clone())?)),
            None => Ok(Some(Value::Lib(l.clone()))),
        },
        "size" => {
            let n = items(it, recv, method, margs)?.len();
            Ok(Some(Value::Int(n as i64)))
        }
        "inspect" | "to_s" => Ok(Some(Value::str(super::lib_inspect(it, l)?))),
        "next" | "peek" | "rewind" | "lazy" => it.unsupported(format!("Enumerator#{name}")).map(Some),
        _ => {
            let values = items(it, recv, method, margs)?;
            let as_array = Value::array(values.clone());
            let Value::Array(a) = &as_array else { unreachable!() };
            super::array::call(it, &as_array, a, name, args)
        }
    }
}
