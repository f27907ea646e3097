//! Hash methods (then Enumerable's over `[key, value]` pairs): lookups with defaults,
//! `fetch` with Ruby's KeyError, `merge`, `select`/`reject`/`map` as Ruby returns them,
//! `transform_values`, `dig`, and ActiveSupport's key helpers Kamal loads (`symbolize_keys`,
//! `stringify_keys`, `slice`, `except`, `deep_merge`).

use super::arg;
use super::enumerable;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use std::cell::RefCell;
use std::rc::Rc;

/// `h[key]` with the default value or default proc.
pub fn lookup(it: &mut Interp, recv: &Value, h: &Rc<RefCell<RHash>>, key: &Value) -> R<Value> {
    let found = h.borrow().get(key);
    if let Some(v) = found {
        return Ok(v);
    }
    let (default, default_proc) = {
        let b = h.borrow();
        (b.default.clone(), b.default_proc.clone())
    };
    if let Some(Value::Proc(p)) = default_proc {
        return it.call_proc(&p, Args::new(vec![recv.clone(), key.clone()]));
    }
    Ok(default.unwrap_or(Value::Nil))
}

pub fn call(it: &mut Interp, recv: &Value, h: &Rc<RefCell<RHash>>, name: &str, args: &Args) -> R<Option<Value>> {
    let pairs = h.borrow().pairs();
    let pair = |k: &Value, v: &Value| Value::array(vec![k.clone(), v.clone()]);
    let v = match name {
        "[]" => {
            it.check_arity(args, 1, 1)?;
            lookup(it, recv, h, &arg(args, 0))?
        }
        "[]=" | "store" => {
            it.check_arity(args, 2, 2)?;
            h.borrow_mut().insert(arg(args, 0), arg(args, 1));
            arg(args, 1)
        }
        "fetch" => {
            it.check_arity(args, 1, 2)?;
            let k = arg(args, 0);
            let found = h.borrow().get(&k);
            match found {
                Some(v) => v,
                None => {
                    if let Some(b) = &args.block {
                        it.yield1(b, k)?
                    } else if args.pos.len() > 1 {
                        arg(args, 1)
                    } else {
                        let shown = it.inspect(&k)?;
                        return it.raise("KeyError", &format!("key not found: {shown}"));
                    }
                }
            }
        }
        "key?" | "has_key?" | "include?" | "member?" => Value::Bool(h.borrow().get(&arg(args, 0)).is_some()),
        "value?" | "has_value?" => {
            let t = arg(args, 0);
            let mut hit = false;
            for (_, v) in &pairs {
                if it.equal(v, &t)? {
                    hit = true;
                    break;
                }
            }
            Value::Bool(hit)
        }
        "key" => {
            let t = arg(args, 0);
            let mut found = Value::Nil;
            for (k, v) in &pairs {
                if it.equal(v, &t)? {
                    found = k.clone();
                    break;
                }
            }
            found
        }
        "keys" => Value::array(pairs.iter().map(|p| p.0.clone()).collect()),
        "values" => Value::array(pairs.iter().map(|p| p.1.clone()).collect()),
        "values_at" => {
            let mut out = vec![];
            for k in &args.pos {
                out.push(lookup(it, recv, h, k)?);
            }
            Value::array(out)
        }
        "fetch_values" => {
            let mut out = vec![];
            for k in &args.pos {
                let found = h.borrow().get(k);
                match found {
                    Some(v) => out.push(v),
                    None => {
                        let shown = it.inspect(k)?;
                        return it.raise("KeyError", &format!("key not found: {shown}"));
                    }
                }
            }
            Value::array(out)
        }
        "length" | "size" | "count" if args.block.is_none() && args.pos.is_empty() => Value::Int(pairs.len() as i64),
        "empty?" => Value::Bool(pairs.is_empty()),
        "to_h" if args.block.is_none() => recv.clone(),
        "to_hash" => recv.clone(),
        "to_a" => Value::array(pairs.iter().map(|(k, v)| pair(k, v)).collect()),
        "inspect" | "to_s" => Value::str(it.inspect(recv)?),
        "dig" => super::array::dig(it, recv, args)?,
        "delete" => {
            let k = arg(args, 0);
            let removed = h.borrow_mut().remove(&k);
            match (removed, &args.block) {
                (Some(v), _) => v,
                (None, Some(b)) => it.yield1(b, k)?,
                (None, None) => Value::Nil,
            }
        }
        "merge" | "update" | "merge!" | "deep_merge" | "deep_merge!" | "reverse_merge" | "with_defaults" => {
            let deep = name.starts_with("deep");
            let mut result = h.borrow().clone();
            for o in &args.positional() {
                let Value::Hash(other) = o else {
                    let n = it.implicit_name(o);
                    return it.raise("TypeError", &format!("no implicit conversion of {n} into Hash"));
                };
                let other_pairs = other.borrow().pairs();
                for (k, v) in other_pairs {
                    if name == "reverse_merge" || name == "with_defaults" {
                        if result.get(&k).is_none() {
                            result.insert(k, v);
                        }
                        continue;
                    }
                    let existing = result.get(&k);
                    let new = match (existing, &args.block) {
                        (Some(old), Some(b)) => it.yield_n(b, vec![k.clone(), old, v])?,
                        (Some(Value::Hash(old)), None) if deep => {
                            if let Value::Hash(_) = &v {
                                let merged = call(
                                    it,
                                    &Value::Hash(old.clone()),
                                    &old,
                                    "deep_merge",
                                    &Args::new(vec![v.clone()]),
                                )?;
                                merged.unwrap_or(v)
                            } else {
                                v
                            }
                        }
                        _ => v,
                    };
                    result.insert(k, new);
                }
            }
            if name.ends_with('!') || name == "update" {
                *h.borrow_mut() = result;
                recv.clone()
            } else {
                result.default = None;
                result.default_proc = None;
                Value::hash(result)
            }
        }
        "select" | "filter" | "reject" | "filter_map_hash" => {
            let Some(b) = args.block.clone() else { return it.unsupported(format!("Hash#{name} without a block")) };
            let mut out = RHash::default();
            for (k, v) in pairs {
                let keep = it.yield_n(&b, vec![k.clone(), v.clone()])?.truthy();
                if keep == (name != "reject") {
                    out.insert(k, v);
                }
            }
            Value::hash(out)
        }
        "each" | "each_pair" => {
            let Some(b) = args.block.clone() else { return it.unsupported("Hash#each without a block") };
            for (k, v) in pairs {
                it.yield1(&b, pair(&k, &v))?;
            }
            recv.clone()
        }
        "each_key" | "each_value" => {
            let Some(b) = args.block.clone() else { return it.unsupported(format!("Hash#{name} without a block")) };
            for (k, v) in pairs {
                it.yield1(&b, if name == "each_key" { k } else { v })?;
            }
            recv.clone()
        }
        "transform_values" | "transform_keys" => {
            let mut out = RHash::default();
            let mapping = args.pos.first().cloned();
            for (k, v) in pairs {
                if name == "transform_values" {
                    let Some(b) = args.block.clone() else { return it.unsupported("transform_values without a block") };
                    let nv = it.yield1(&b, v)?;
                    out.insert(k, nv);
                } else {
                    let nk = match (&mapping, &args.block) {
                        (Some(Value::Hash(m)), _) if m.borrow().get(&k).is_some() => m.borrow().get(&k).unwrap(),
                        (_, Some(b)) => it.yield1(b, k)?,
                        (Some(_), None) => k,
                        (None, None) => return it.unsupported("transform_keys without a block"),
                    };
                    out.insert(nk, v);
                }
            }
            Value::hash(out)
        }
        "symbolize_keys" | "stringify_keys" | "deep_symbolize_keys" | "deep_stringify_keys" => {
            Value::hash(convert_keys(it, &pairs, name.contains("symbolize"), name.starts_with("deep"))?)
        }
        "slice" | "except" | "without" => {
            let keys: std::collections::HashSet<HashKey> = args.pos.iter().map(Value::hash_key).collect();
            let mut out = RHash::default();
            if name == "slice" {
                for k in &args.pos {
                    if let Some(v) = h.borrow().get(k) {
                        out.insert(k.clone(), v);
                    }
                }
            } else {
                for (k, v) in pairs {
                    if !keys.contains(&k.hash_key()) {
                        out.insert(k, v);
                    }
                }
            }
            Value::hash(out)
        }
        "compact" => {
            let mut out = RHash::default();
            for (k, v) in pairs {
                if !v.is_nil() {
                    out.insert(k, v);
                }
            }
            Value::hash(out)
        }
        "invert" => {
            let mut out = RHash::default();
            for (k, v) in pairs {
                out.insert(v, k);
            }
            Value::hash(out)
        }
        "sort_by" | "min_by" | "max_by" | "map" | "collect" | "flat_map" | "sum" | "sort" | "group_by"
        | "partition" => {
            let items: Vec<Value> = pairs.iter().map(|(k, v)| pair(k, v)).collect();
            return enumerable::call(it, recv, items, name, args);
        }
        "any?" if args.block.is_none() && args.pos.is_empty() => Value::Bool(!pairs.is_empty()),
        "first" => {
            let items: Vec<Value> = pairs.iter().map(|(k, v)| pair(k, v)).collect();
            return enumerable::call(it, recv, items, "first", args);
        }
        "default" => h.borrow().default.clone().unwrap_or(Value::Nil),
        "default=" => {
            h.borrow_mut().default = Some(arg(args, 0));
            arg(args, 0)
        }
        "clear" => {
            h.borrow_mut().map.clear();
            recv.clone()
        }
        "==" | "eql?" => Value::Bool(it.equal(recv, &arg(args, 0))?),
        "hash" => Value::Int(recv.identity() as i64),
        "compare_by_identity" | "rehash" | "shift" | "filter_map!" => return it.unsupported(format!("Hash#{name}")),
        _ => {
            let items: Vec<Value> = pairs.iter().map(|(k, v)| pair(k, v)).collect();
            return enumerable::call(it, recv, items, name, args);
        }
    };
    Ok(Some(v))
}

fn convert_keys(it: &mut Interp, pairs: &[(Value, Value)], to_sym: bool, deep: bool) -> R<RHash> {
    let mut out = RHash::default();
    for (k, v) in pairs {
        let nk = match (k, to_sym) {
            (Value::Str(s), true) => Value::sym(&s.s.borrow()),
            (Value::Sym(s), false) => Value::str(s.to_string()),
            (other, false) => Value::str(it.to_s(other)?),
            (other, true) => other.clone(),
        };
        let nv = match (v, deep) {
            (Value::Hash(inner), true) => {
                let p = inner.borrow().pairs();
                Value::hash(convert_keys(it, &p, to_sym, true)?)
            }
            _ => v.clone(),
        };
        out.insert(nk, nv);
    }
    Ok(out)
}
