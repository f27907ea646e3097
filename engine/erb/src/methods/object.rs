//! Methods every object has (Kernel's instance methods and ActiveSupport's `present?`,
//! `blank?`, `presence`, `try`, `in?`), and those of nil, true/false, procs and exceptions.

use super::arg;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use std::rc::Rc;

/// ActiveSupport's `blank?`.
pub fn blank(it: &mut Interp, v: &Value) -> R<bool> {
    Ok(match v {
        Value::Nil | Value::Bool(false) => true,
        Value::Bool(true) | Value::Int(_) | Value::Float(_) | Value::Sym(_) => false,
        // String#blank?: empty or only Unicode white space
        Value::Str(s) => s.s.borrow().chars().all(|c| c.is_whitespace()),
        Value::Array(a) => a.borrow().is_empty(),
        Value::Hash(h) => h.borrow().map.is_empty(),
        Value::Object(_)
            // Object#blank?: respond_to?(:empty?) ? !!empty? : false
            if super::responds_to(it, v, "empty?") => {
                it.call_method(v, "empty?", Args::default())?.truthy()
            }
        _ => false,
    })
}

pub fn call(it: &mut Interp, recv: &Value, name: &str, args: &Args) -> R<Option<Value>> {
    let v = match name {
        "nil?" => Value::Bool(recv.is_nil()),
        "present?" => {
            it.check_arity(args, 0, 0)?;
            Value::Bool(!blank(it, recv)?)
        }
        "blank?" => {
            it.check_arity(args, 0, 0)?;
            Value::Bool(blank(it, recv)?)
        }
        "presence" => {
            it.check_arity(args, 0, 0)?;
            if blank(it, recv)? {
                Value::Nil
            } else {
                recv.clone()
            }
        }
        "to_s" => Value::str(it.to_s(recv)?),
        "inspect" => Value::str(it.inspect(recv)?),
        "==" | "eql?" | "equal?" => {
            it.check_arity(args, 1, 1)?;
            let other = arg(args, 0);
            match name {
                "equal?" => Value::Bool(recv.identity() == other.identity() && same_kind(recv, &other)),
                "eql?" => Value::Bool(recv.hash_key() == other.hash_key()),
                _ => Value::Bool(it.equal(recv, &other)?),
            }
        }
        "!=" => {
            it.check_arity(args, 1, 1)?;
            Value::Bool(!it.equal(recv, &arg(args, 0))?)
        }
        "!" => Value::Bool(!recv.truthy()),
        "===" => {
            it.check_arity(args, 1, 1)?;
            Value::Bool(it.equal(recv, &arg(args, 0))?)
        }
        "=~" => Value::Nil,
        "class" => Value::Module(it.class_of(recv)),
        "is_a?" | "kind_of?" | "instance_of?" => {
            it.check_arity(args, 1, 1)?;
            match arg(args, 0) {
                Value::Module(m) => {
                    if name == "instance_of?" {
                        let c = it.class_of(recv);
                        Value::Bool(Rc::ptr_eq(&c, &m) || c.name == m.name)
                    } else {
                        Value::Bool(it.is_a(recv, &m))
                    }
                }
                _ => return it.raise("TypeError", "class or module required"),
            }
        }
        "respond_to?" => {
            let m = match arg(args, 0) {
                Value::Sym(s) => s.to_string(),
                Value::Str(s) => s.s.borrow().clone(),
                other => {
                    let shown = it.inspect(&other)?;
                    return it.raise("TypeError", &format!("{shown} is not a symbol nor a string"));
                }
            };
            Value::Bool(super::responds_to(it, recv, &m))
        }
        "frozen?" => Value::Bool(match recv {
            Value::Str(s) => s.frozen.get(),
            Value::Array(_) | Value::Hash(_) | Value::Object(_) => false,
            _ => true,
        }),
        "freeze" => {
            if let Value::Str(s) = recv {
                s.frozen.set(true);
            }
            recv.clone()
        }
        "dup" | "clone" => match recv {
            Value::Str(s) => {
                let copy = Value::str(s.s.borrow().clone());
                if name == "clone" && s.frozen.get() {
                    if let Value::Str(c) = &copy {
                        c.frozen.set(true);
                    }
                }
                copy
            }
            Value::Array(a) => Value::array(a.borrow().clone()),
            Value::Hash(h) => Value::hash(h.borrow().clone()),
            other => other.clone(),
        },
        "itself" => recv.clone(),
        "then" | "yield_self" => match &args.block {
            Some(b) => it.yield1(b, recv.clone())?,
            None => return it.unsupported("then without a block"),
        },
        "tap" => {
            if let Some(b) = &args.block {
                it.yield1(b, recv.clone())?;
            }
            recv.clone()
        }
        "send" | "public_send" | "__send__" => {
            let Some(m) = args.pos.first() else {
                return it.raise("ArgumentError", "no method name given");
            };
            let m = match m {
                Value::Sym(s) => s.to_string(),
                Value::Str(s) => s.s.borrow().clone(),
                other => {
                    let shown = it.inspect(other)?;
                    return it.raise("TypeError", &format!("{shown} is not a symbol nor a string"));
                }
            };
            let rest = Args { pos: args.pos[1..].to_vec(), kw: args.kw.clone(), block: args.block.clone() };
            it.call_method(recv, &m, rest)?
        }
        "try" => {
            // ActiveSupport: calls the method if the receiver responds to it
            let Some(m) = args.pos.first() else {
                return match &args.block {
                    Some(b) => Ok(Some(it.yield1(b, recv.clone())?)),
                    None => Ok(Some(Value::Nil)),
                };
            };
            let m = it.to_s(m)?;
            if recv.is_nil() || !super::responds_to(it, recv, &m) {
                Value::Nil
            } else {
                let rest = Args { pos: args.pos[1..].to_vec(), kw: args.kw.clone(), block: args.block.clone() };
                it.call_method(recv, &m, rest)?
            }
        }
        "in?" => {
            // ActiveSupport: another.include?(self)
            it.check_arity(args, 1, 1)?;
            let other = arg(args, 0);
            if !super::responds_to(it, &other, "include?") {
                return it.raise("ArgumentError", "The parameter passed to #in? must respond to #include?");
            }
            it.call_method(&other, "include?", Args::new(vec![recv.clone()]))?
        }
        "hash" => Value::Int(recv.identity() as i64),
        "object_id" | "__id__" => Value::Int((recv.identity() / 8) as i64),
        "instance_variable_get" => {
            let n = it.to_s(&arg(args, 0))?;
            match recv {
                Value::Object(o) => o.ivars.borrow().get(&n).cloned().unwrap_or(Value::Nil),
                Value::Module(m) => m.ivars.borrow().get(&n).cloned().unwrap_or(Value::Nil),
                _ => Value::Nil,
            }
        }
        "instance_variable_set" => {
            let n = it.to_s(&arg(args, 0))?;
            let v = arg(args, 1);
            match recv {
                Value::Object(o) => {
                    o.ivars.borrow_mut().insert(n, v.clone());
                }
                Value::Module(m) => {
                    m.ivars.borrow_mut().insert(n, v.clone());
                }
                _ => return it.unsupported("instance_variable_set on a built-in value"),
            }
            v
        }
        "instance_variables" => match recv {
            Value::Object(o) => Value::array(o.ivars.borrow().keys().map(|k| Value::sym(k)).collect()),
            _ => Value::array(vec![]),
        },
        "method" => {
            let m = it.to_s(&arg(args, 0))?;
            Value::Proc(Rc::new(RProc {
                kind: ProcKind::Method { recv: recv.clone(), name: m },
                is_lambda: true,
                tag: 0,
            }))
        }
        "to_param" | "to_query" => return Ok(None),
        "display" => {
            let s = it.to_s(recv)?;
            let _ = it.ctx.out.write_all(s.as_bytes());
            Value::Nil
        }
        "instance_variable_defined?" => {
            let n = it.to_s(&arg(args, 0))?;
            Value::Bool(match recv {
                Value::Object(o) => o.ivars.borrow().contains_key(&n),
                _ => false,
            })
        }
        "to_yaml" => return super::format::to_yaml(it, recv, args).map(Some),
        "to_json" => return super::format::to_json(it, recv, args).map(Some),
        "as_json" => return Ok(None),
        _ => return Ok(None),
    };
    Ok(Some(v))
}

fn same_kind(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

use std::io::Write;

/// Methods of nil.
pub fn nil(it: &mut Interp, name: &str, args: &Args) -> R<Option<Value>> {
    Ok(Some(match name {
        "to_s" => Value::frozen_str(""),
        "to_a" => Value::array(vec![]),
        "to_h" => Value::hash(RHash::default()),
        "to_i" => Value::Int(0),
        "to_f" => Value::Float(0.0),
        "inspect" => Value::str("nil"),
        "&" => Value::Bool(false),
        "|" | "^" => Value::Bool(arg(args, 0).truthy()),
        _ => {
            let _ = it;
            return Ok(None);
        }
    }))
}

/// Methods of true and false.
pub fn boolean(it: &mut Interp, b: bool, name: &str, args: &Args) -> R<Option<Value>> {
    let other = arg(args, 0).truthy();
    Ok(Some(match name {
        "to_s" | "inspect" => Value::frozen_str(if b { "true" } else { "false" }),
        "&" => {
            it.check_arity(args, 1, 1)?;
            Value::Bool(b && other)
        }
        "|" => {
            it.check_arity(args, 1, 1)?;
            Value::Bool(b || other)
        }
        "^" => {
            it.check_arity(args, 1, 1)?;
            Value::Bool(b ^ other)
        }
        _ => return Ok(None),
    }))
}

/// Methods of procs and lambdas.
pub fn proc_method(it: &mut Interp, p: &Rc<RProc>, name: &str, args: &Args) -> R<Option<Value>> {
    Ok(Some(match name {
        "call" | "()" | "yield" | "[]" | "===" => it.call_proc(p, args.clone())?,
        "to_proc" => Value::Proc(p.clone()),
        "lambda?" => Value::Bool(p.is_lambda),
        "arity" => Value::Int(match &p.kind {
            ProcKind::Block { def, .. } => {
                let req = (def.params.required.len() + def.params.post.len()) as i64;
                if def.params.rest.is_some() || (!def.params.optional.is_empty() && p.is_lambda) {
                    -req - 1
                } else {
                    req
                }
            }
            ProcKind::Symbol(_) => -2,
            ProcKind::Method { .. } | ProcKind::Native(_) => -1,
        }),
        _ => return Ok(None),
    }))
}

/// Methods of exceptions.
pub fn exception(it: &mut Interp, e: &Rc<RException>, name: &str, _args: &Args) -> R<Option<Value>> {
    Ok(Some(match name {
        "message" | "to_s" => Value::str(e.message.clone()),
        "full_message" | "detailed_message" => Value::str(format!("{} ({})", e.message, e.class.name)),
        "backtrace" => Value::array(vec![Value::str(format!("(erb):{}:in `<main>'", e.line))]),
        "cause" => Value::Nil,
        "exception" => Value::Exception(e.clone()),
        _ => {
            let _ = it;
            return Ok(None);
        }
    }))
}
