//! `ENV`: the template's environment, read and written as Ruby's ENV object does (string keys
//! only, `fetch` raising `KeyError: key not found: "X"`, writes visible to later lookups and to
//! commands the template runs).

use super::arg;
use super::enumerable;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;

fn key(it: &mut Interp, v: &Value) -> R<String> {
    match v {
        Value::Str(s) => Ok(s.s.borrow().clone()),
        other => {
            let n = it.implicit_name(other);
            it.raise("TypeError", &format!("no implicit conversion of {n} into String"))
        }
    }
}

fn sorted_pairs(it: &Interp) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = it.ctx.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    pairs.sort();
    pairs
}

pub fn call(it: &mut Interp, name: &str, args: &Args) -> R<Option<Value>> {
    let v = match name {
        "[]" => {
            it.check_arity(args, 1, 1)?;
            let k = key(it, &arg(args, 0))?;
            match it.ctx.env.get(&k) {
                Some(v) => Value::frozen_str(v.clone()),
                None => Value::Nil,
            }
        }
        "fetch" => {
            it.check_arity(args, 1, 2)?;
            let k = key(it, &arg(args, 0))?;
            match it.ctx.env.get(&k).cloned() {
                Some(v) => Value::frozen_str(v),
                None => {
                    if let Some(b) = &args.block {
                        it.yield1(b, Value::str(k))?
                    } else if args.pos.len() > 1 {
                        arg(args, 1)
                    } else {
                        return it.raise("KeyError", &format!("key not found: {}", inspect_str(&k)));
                    }
                }
            }
        }
        "[]=" | "store" => {
            it.check_arity(args, 2, 2)?;
            let k = key(it, &arg(args, 0))?;
            match arg(args, 1) {
                Value::Nil => {
                    it.ctx.env.remove(&k);
                }
                v => {
                    let s = key(it, &v)?;
                    it.ctx.env.insert(k, s);
                }
            }
            arg(args, 1)
        }
        "key?" | "has_key?" | "include?" | "member?" => {
            it.check_arity(args, 1, 1)?;
            let k = key(it, &arg(args, 0))?;
            Value::Bool(it.ctx.env.contains_key(&k))
        }
        "value?" | "has_value?" => {
            let v = it.to_s(&arg(args, 0))?;
            Value::Bool(it.ctx.env.values().any(|x| *x == v))
        }
        "delete" => {
            let k = key(it, &arg(args, 0))?;
            match it.ctx.env.remove(&k) {
                Some(v) => Value::str(v),
                None => match &args.block {
                    Some(b) => it.yield1(b, Value::str(k))?,
                    None => Value::Nil,
                },
            }
        }
        "keys" => Value::array(sorted_pairs(it).into_iter().map(|(k, _)| Value::str(k)).collect()),
        "values" => Value::array(sorted_pairs(it).into_iter().map(|(_, v)| Value::str(v)).collect()),
        "to_h" | "to_hash" => {
            let mut h = RHash::default();
            for (k, v) in sorted_pairs(it) {
                h.insert(Value::str(k), Value::str(v));
            }
            let hv = Value::hash(h);
            if name == "to_h" && args.block.is_some() {
                let items = enumerable::items(it, &hv)?;
                return enumerable::call(it, &hv, items, "to_h", args);
            }
            hv
        }
        "values_at" => {
            let mut out = vec![];
            for k in &args.pos {
                let k = key(it, k)?;
                out.push(it.ctx.env.get(&k).map(|v| Value::str(v.clone())).unwrap_or(Value::Nil));
            }
            Value::array(out)
        }
        "slice" => {
            let mut h = RHash::default();
            for k in &args.pos {
                let k = key(it, k)?;
                if let Some(v) = it.ctx.env.get(&k) {
                    h.insert(Value::str(k), Value::str(v.clone()));
                }
            }
            Value::hash(h)
        }
        "update" | "merge!" => {
            for o in &args.pos {
                if let Value::Hash(h) = o {
                    for (k, v) in h.borrow().pairs() {
                        let k = key(it, &k)?;
                        let v = key(it, &v)?;
                        it.ctx.env.insert(k, v);
                    }
                }
            }
            it.env_obj.clone()
        }
        "empty?" => Value::Bool(it.ctx.env.is_empty()),
        "size" | "length" => Value::Int(it.ctx.env.len() as i64),
        "inspect" | "to_s" => {
            if name == "to_s" {
                Value::str("ENV")
            } else {
                let h = call(it, "to_h", &Args::default())?.unwrap();
                Value::str(it.inspect(&h)?)
            }
        }
        "select" | "filter" | "reject" | "each" | "each_pair" | "map" | "collect" | "find" | "detect" | "any?"
        | "all?" | "count" | "filter_map" | "sort_by" | "to_a" | "each_with_object" | "select!" | "reject!"
        | "keep_if" | "delete_if" | "min_by" | "max_by" | "group_by" | "flat_map" | "sum" | "none?" | "partition"
        | "sort" => {
            let pairs = sorted_pairs(it);
            let mut h = RHash::default();
            for (k, v) in &pairs {
                h.insert(Value::str(k.clone()), Value::str(v.clone()));
            }
            let hv = Value::hash(h);
            let Value::Hash(hh) = &hv else { unreachable!() };
            if matches!(name, "select!" | "reject!" | "keep_if" | "delete_if") {
                return it.unsupported(format!("ENV.{name}"));
            }
            if matches!(name, "each" | "each_pair") {
                super::hash::call(it, &hv, hh, name, args)?;
                return Ok(Some(it.env_obj.clone()));
            }
            let items: Vec<Value> =
                pairs.into_iter().map(|(k, v)| Value::array(vec![Value::str(k), Value::str(v)])).collect();
            match name {
                "select" | "filter" | "reject" => return super::hash::call(it, &hv, hh, name, args),
                _ => return enumerable::call(it, &hv, items, name, args),
            }
        }
        "clear" | "replace" => return it.unsupported(format!("ENV.{name}")),
        _ => return Ok(None),
    };
    Ok(Some(v))
}
