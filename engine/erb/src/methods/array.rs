//! Array methods (then Enumerable's): indexing, `<<`/`push`/`pop`, `join`, `compact`,
//! `flatten`, `+`/`-`/`&`/`|`, `dig`, and ActiveSupport's `to_sentence`, `excluding`,
//! `compact_blank`.

use super::arg;
use super::enumerable;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use std::cell::RefCell;
use std::rc::Rc;

fn check_frozen(_it: &mut Interp) -> R<()> {
    Ok(())
}

pub fn call(it: &mut Interp, recv: &Value, a: &Rc<RefCell<Vec<Value>>>, name: &str, args: &Args) -> R<Option<Value>> {
    let items = a.borrow().clone();
    let len = items.len() as i64;
    let v = match name {
        "length" | "size" => Value::Int(len),
        "empty?" => Value::Bool(items.is_empty()),
        "to_a" | "to_ary" | "entries" => recv.clone(),
        "inspect" | "to_s" => Value::str(it.inspect(recv)?),
        "join" => {
            let sep = match args.pos.first() {
                Some(Value::Nil) | None => String::new(),
                Some(s) => it.expect_str(s)?,
            };
            Value::str(join(it, &items, &sep)?)
        }
        "[]" | "slice" => index(it, &items, args)?,
        "[]=" => {
            it.check_arity(args, 2, 3)?;
            check_frozen(it)?;
            let value = args.pos.last().cloned().unwrap();
            match (&args.pos[0], args.pos.len()) {
                (Value::Int(i), 2) => {
                    let idx = if *i < 0 { i + len } else { *i };
                    if idx < 0 {
                        return it.raise("IndexError", &format!("index {i} too small for array; minimum: -{len}"));
                    }
                    let mut v = a.borrow_mut();
                    while v.len() <= idx as usize {
                        v.push(Value::Nil);
                    }
                    v[idx as usize] = value.clone();
                }
                _ => return it.unsupported("Array#[]= with a range or length"),
            }
            value
        }
        "first" => match args.pos.first() {
            None => items.first().cloned().unwrap_or(Value::Nil),
            Some(_) => return enumerable::call(it, recv, items, "first", args),
        },
        "last" => match args.pos.first() {
            None => items.last().cloned().unwrap_or(Value::Nil),
            Some(n) => {
                let n = it.expect_int(n)?;
                if n < 0 {
                    return it.raise("ArgumentError", "negative array size");
                }
                let start = items.len().saturating_sub(n as usize);
                Value::array(items[start..].to_vec())
            }
        },
        "<<" | "push" | "append" => {
            let mut v = a.borrow_mut();
            if name == "<<" {
                it.check_arity(args, 1, 1)?;
            }
            v.extend(args.positional());
            drop(v);
            recv.clone()
        }
        "unshift" | "prepend" => {
            let mut v = a.borrow_mut();
            for (i, x) in args.positional().into_iter().enumerate() {
                v.insert(i, x);
            }
            drop(v);
            recv.clone()
        }
        "insert" => {
            let i = it.expect_int(&arg(args, 0))?;
            let idx = if i < 0 { (len + i + 1).max(0) } else { i } as usize;
            let mut v = a.borrow_mut();
            while v.len() < idx {
                v.push(Value::Nil);
            }
            for (k, x) in args.pos[1..].iter().enumerate() {
                v.insert(idx + k, x.clone());
            }
            drop(v);
            recv.clone()
        }
        "pop" | "shift" => {
            let mut v = a.borrow_mut();
            match args.pos.first() {
                None => {
                    if name == "pop" {
                        v.pop().unwrap_or(Value::Nil)
                    } else if v.is_empty() {
                        Value::Nil
                    } else {
                        v.remove(0)
                    }
                }
                Some(Value::Int(n)) => {
                    let n = (*n as usize).min(v.len());
                    let taken: Vec<Value> = if name == "pop" {
                        let at = v.len() - n;
                        v.split_off(at)
                    } else {
                        v.drain(..n).collect()
                    };
                    Value::array(taken)
                }
                Some(_) => return it.unsupported(format!("Array#{name} with this argument")),
            }
        }
        "concat" => {
            for o in &args.pos {
                let more = enumerable::items(it, o)?;
                a.borrow_mut().extend(more);
            }
            recv.clone()
        }
        "+" => match arg(args, 0) {
            Value::Array(o) => {
                let mut v = items;
                v.extend(o.borrow().iter().cloned());
                Value::array(v)
            }
            other => {
                let n = it.implicit_name(&other);
                return it.raise("TypeError", &format!("no implicit conversion of {n} into Array"));
            }
        },
        "-" | "difference" | "&" | "intersection" | "|" | "union" | "excluding" | "without" => {
            let others: Vec<Value> = match name {
                "excluding" | "without" => {
                    let mut all = vec![];
                    for o in &args.pos {
                        match o {
                            Value::Array(x) => all.extend(x.borrow().iter().cloned()),
                            other => all.push(other.clone()),
                        }
                    }
                    all
                }
                _ => match arg(args, 0) {
                    Value::Array(o) => o.borrow().clone(),
                    other => {
                        let n = it.implicit_name(&other);
                        return it.raise("TypeError", &format!("no implicit conversion of {n} into Array"));
                    }
                },
            };
            let keys: std::collections::HashSet<HashKey> = others.iter().map(Value::hash_key).collect();
            match name {
                "-" | "difference" | "excluding" | "without" => {
                    Value::array(items.into_iter().filter(|x| !keys.contains(&x.hash_key())).collect())
                }
                "&" | "intersection" => {
                    let mut seen = std::collections::HashSet::new();
                    Value::array(
                        items
                            .into_iter()
                            .filter(|x| keys.contains(&x.hash_key()) && seen.insert(x.hash_key()))
                            .collect(),
                    )
                }
                _ => {
                    let mut seen = std::collections::HashSet::new();
                    Value::array(items.into_iter().chain(others).filter(|x| seen.insert(x.hash_key())).collect())
                }
            }
        }
        "*" => match arg(args, 0) {
            Value::Int(n) => {
                if n < 0 {
                    return it.raise("ArgumentError", "negative argument");
                }
                let mut out = vec![];
                for _ in 0..n {
                    out.extend(items.iter().cloned());
                }
                Value::array(out)
            }
            Value::Str(s) => {
                let sep = s.s.borrow().clone();
                Value::str(join(it, &items, &sep)?)
            }
            other => {
                let n = it.implicit_name(&other);
                return it.raise("TypeError", &format!("no implicit conversion of {n} into Integer"));
            }
        },
        "==" | "eql?" => Value::Bool(it.equal(recv, &arg(args, 0))?),
        "<=>" => match arg(args, 0) {
            o @ Value::Array(_) => Value::Int(match enumerable::compare(it, recv, &o)? {
                std::cmp::Ordering::Less => -1,
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 1,
            }),
            _ => Value::Nil,
        },
        "compact" => Value::array(items.into_iter().filter(|x| !x.is_nil()).collect()),
        "compact_blank" => {
            let mut out = vec![];
            for x in items {
                if !super::object::blank(it, &x)? {
                    out.push(x);
                }
            }
            Value::array(out)
        }
        "flatten" => {
            let depth = match args.pos.first() {
                Some(Value::Int(d)) => *d,
                _ => -1,
            };
            Value::array(flatten(&items, depth))
        }
        "reverse" => Value::array(items.into_iter().rev().collect()),
        "rotate" => {
            let n = match args.pos.first() {
                Some(v) => it.expect_int(v)?,
                None => 1,
            };
            if items.is_empty() {
                Value::array(items)
            } else {
                let k = n.rem_euclid(len) as usize;
                let mut v = items[k..].to_vec();
                v.extend_from_slice(&items[..k]);
                Value::array(v)
            }
        }
        "fetch" => {
            let i = it.expect_int(&arg(args, 0))?;
            let idx = if i < 0 { i + len } else { i };
            if idx >= 0 && idx < len {
                items[idx as usize].clone()
            } else if let Some(b) = &args.block {
                it.yield1(b, Value::Int(i))?
            } else if args.pos.len() > 1 {
                arg(args, 1)
            } else {
                return it.raise("IndexError", &format!("index {i} outside of array bounds: {}...{len}", -len));
            }
        }
        "dig" => dig(it, recv, args)?,
        "values_at" => {
            let mut out = vec![];
            for i in &args.pos {
                let i = it.expect_int(i)?;
                let idx = if i < 0 { i + len } else { i };
                out.push(if idx >= 0 && idx < len { items[idx as usize].clone() } else { Value::Nil });
            }
            Value::array(out)
        }
        "index" | "find_index" | "rindex" => {
            let mut found = Value::Nil;
            let order: Vec<usize> =
                if name == "rindex" { (0..items.len()).rev().collect() } else { (0..items.len()).collect() };
            for i in order {
                let hit = match (&args.block, args.pos.first()) {
                    (_, Some(t)) => it.equal(&items[i], t)?,
                    (Some(b), None) => it.yield1(b, items[i].clone())?.truthy(),
                    _ => return it.unsupported(format!("Array#{name} without arguments")),
                };
                if hit {
                    found = Value::Int(i as i64);
                    break;
                }
            }
            found
        }
        "delete" => {
            let t = arg(args, 0);
            let mut found = Value::Nil;
            let mut keep = vec![];
            for x in items {
                if it.equal(&x, &t)? {
                    found = x;
                } else {
                    keep.push(x);
                }
            }
            *a.borrow_mut() = keep;
            found
        }
        "delete_at" => {
            let i = it.expect_int(&arg(args, 0))?;
            let idx = if i < 0 { i + len } else { i };
            if idx >= 0 && idx < len {
                a.borrow_mut().remove(idx as usize)
            } else {
                Value::Nil
            }
        }
        "clear" => {
            a.borrow_mut().clear();
            recv.clone()
        }
        "replace" => {
            let new = enumerable::items(it, &arg(args, 0))?;
            *a.borrow_mut() = new;
            recv.clone()
        }
        "fill" => {
            let v = arg(args, 0);
            let mut w = a.borrow_mut();
            for x in w.iter_mut() {
                *x = v.clone();
            }
            drop(w);
            recv.clone()
        }
        "map!" | "collect!" | "select!" | "filter!" | "reject!" | "delete_if" | "keep_if" | "sort!" | "sort_by!"
        | "uniq!" | "compact!" | "flatten!" | "reverse!" | "shuffle!" => {
            let base = match name {
                "delete_if" => "reject",
                "keep_if" => "select",
                n => &n[..n.len() - 1],
            };
            let r = match base {
                "map" | "collect" | "select" | "filter" | "reject" | "sort" | "sort_by" | "uniq" => {
                    enumerable::call(it, recv, items.clone(), base, args)?
                }
                _ => call(it, recv, a, base, args)?,
            };
            let Some(Value::Array(new)) = r else { return it.unsupported(format!("Array#{name}")) };
            let new = new.borrow().clone();
            let changed = new.len() != items.len();
            *a.borrow_mut() = new;
            if matches!(name, "select!" | "filter!" | "reject!" | "uniq!" | "compact!") && !changed {
                Value::Nil
            } else {
                recv.clone()
            }
        }
        "transpose" => {
            let rows: Vec<Vec<Value>> = items.iter().map(|r| enumerable::items(it, r)).collect::<R<_>>()?;
            let width = rows.first().map(|r| r.len()).unwrap_or(0);
            if rows.iter().any(|r| r.len() != width) {
                return it.raise("IndexError", "element size differs");
            }
            Value::array((0..width).map(|c| Value::array(rows.iter().map(|r| r[c].clone()).collect())).collect())
        }
        "assoc" => {
            let k = arg(args, 0);
            let mut found = Value::Nil;
            for x in items {
                if let Value::Array(p) = &x {
                    let first = p.borrow().first().cloned();
                    if let Some(f) = first {
                        if it.equal(&f, &k)? {
                            found = x.clone();
                            break;
                        }
                    }
                }
            }
            found
        }
        "product" => {
            let mut out: Vec<Vec<Value>> = items.into_iter().map(|x| vec![x]).collect();
            for o in &args.pos {
                let other = enumerable::items(it, o)?;
                let mut next = vec![];
                for row in &out {
                    for y in &other {
                        let mut r = row.clone();
                        r.push(y.clone());
                        next.push(r);
                    }
                }
                out = next;
            }
            Value::array(out.into_iter().map(Value::array).collect())
        }
        "to_sentence" => {
            let strs: Vec<String> = items.iter().map(|x| it.to_s(x)).collect::<R<_>>()?;
            let words = args.kwarg("words_connector").map(|v| it.to_s(&v)).transpose()?.unwrap_or(", ".into());
            let two = args.kwarg("two_words_connector").map(|v| it.to_s(&v)).transpose()?.unwrap_or(" and ".into());
            let last = args.kwarg("last_word_connector").map(|v| it.to_s(&v)).transpose()?.unwrap_or(", and ".into());
            Value::str(match strs.len() {
                0 => String::new(),
                1 => strs[0].clone(),
                2 => format!("{}{two}{}", strs[0], strs[1]),
                n => format!("{}{last}{}", strs[..n - 1].join(&words), strs[n - 1]),
            })
        }
        "many?" => Value::Bool(items.len() > 1),
        "exclude?" => Value::Bool(!enumerable::call(it, recv, items, "include?", args)?.unwrap().truthy()),
        "sample" | "shuffle" | "pack" | "combination" | "permutation" | "bsearch" | "cycle" => {
            return it.unsupported(format!("Array#{name}"))
        }
        "hash" => Value::Int(recv.identity() as i64),
        "frozen?" => Value::Bool(false),
        _ => return enumerable::call(it, recv, items, name, args),
    };
    Ok(Some(v))
}

fn join(it: &mut Interp, items: &[Value], sep: &str) -> R<String> {
    let mut parts = vec![];
    for x in items {
        parts.push(match x {
            Value::Array(inner) => {
                let inner = inner.borrow().clone();
                join(it, &inner, sep)?
            }
            other => it.to_s(other)?,
        });
    }
    Ok(parts.join(sep))
}

fn flatten(items: &[Value], depth: i64) -> Vec<Value> {
    let mut out = vec![];
    for x in items {
        match x {
            Value::Array(a) if depth != 0 => out.extend(flatten(&a.borrow(), depth - 1)),
            other => out.push(other.clone()),
        }
    }
    out
}

fn index(it: &mut Interp, items: &[Value], args: &Args) -> R<Value> {
    it.check_arity(args, 1, 2)?;
    let len = items.len() as i64;
    Ok(match (arg(args, 0), args.pos.get(1)) {
        (Value::Int(i), None) => {
            let idx = if i < 0 { i + len } else { i };
            if idx < 0 || idx >= len {
                Value::Nil
            } else {
                items[idx as usize].clone()
            }
        }
        (Value::Int(i), Some(n)) => {
            let n = it.expect_int(n)?;
            let start = if i < 0 { i + len } else { i };
            if start < 0 || start > len || n < 0 {
                Value::Nil
            } else {
                let end = (start + n).min(len);
                Value::array(items[start as usize..end as usize].to_vec())
            }
        }
        (Value::Range(r), None) => match enumerable::range_bounds(it, &r, len)? {
            (Some(a), n) => {
                let end = (a + n).min(len);
                Value::array(items[a as usize..end.max(a) as usize].to_vec())
            }
            (None, _) => Value::Nil,
        },
        (Value::Float(f), None) => {
            let i = f.trunc() as i64;
            let idx = if i < 0 { i + len } else { i };
            if idx < 0 || idx >= len {
                Value::Nil
            } else {
                items[idx as usize].clone()
            }
        }
        (other, _) => {
            let n = it.implicit_name(&other);
            return it.raise("TypeError", &format!("no implicit conversion of {n} into Integer"));
        }
    })
}

/// `dig` for arrays and hashes.
pub fn dig(it: &mut Interp, recv: &Value, args: &Args) -> R<Value> {
    let mut cur = recv.clone();
    for k in &args.pos {
        cur = match &cur {
            Value::Nil => return Ok(Value::Nil),
            Value::Array(_) | Value::Hash(_) => it.call_method(&cur, "[]", Args::new(vec![k.clone()]))?,
            other => {
                let n = it.class_name(other);
                return it.raise("TypeError", &format!("{n} does not have #dig method"));
            }
        };
    }
    Ok(cur)
}
