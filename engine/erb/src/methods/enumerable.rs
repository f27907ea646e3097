//! Enumerable, shared by Array, Hash (its `[key, value]` pairs) and Range: `each`, `map`,
//! `select`, `reject`, `find`, `inject`, `sort_by`, `group_by`, `each_with_index`, `sum`, ...
//! and Range's own methods.

use super::arg;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use std::rc::Rc;

/// The items a value enumerates.
pub fn items(it: &mut Interp, v: &Value) -> R<Vec<Value>> {
    Ok(match v {
        Value::Array(a) => a.borrow().clone(),
        Value::Hash(h) => h.borrow().pairs().into_iter().map(|(k, v)| Value::array(vec![k, v])).collect(),
        Value::Range(r) => range_items(it, r)?,
        Value::Nil => vec![],
        other => {
            let n = it.class_name(other);
            return it.raise("TypeError", &format!("can't iterate {n}"));
        }
    })
}

/// `to_a`.
pub fn to_a(it: &mut Interp, v: &Value) -> R<Value> {
    Ok(Value::array(items(it, v)?))
}

fn range_items(it: &mut Interp, r: &RRange) -> R<Vec<Value>> {
    match (&r.start, &r.end) {
        (Value::Int(a), Value::Int(b)) => {
            let end = if r.exclusive { *b } else { b.saturating_add(1) };
            if end.saturating_sub(*a) > 10_000_000 {
                return it.unsupported("a range of more than ten million items");
            }
            Ok((*a..end).map(Value::Int).collect())
        }
        (Value::Int(a), Value::Float(b)) => {
            let mut out = vec![];
            let mut i = *a;
            while (i as f64) < *b || (!r.exclusive && (i as f64) == *b) {
                out.push(Value::Int(i));
                i += 1;
            }
            Ok(out)
        }
        (Value::Str(a), Value::Str(b)) => {
            let (a, b) = (a.s.borrow().clone(), b.s.borrow().clone());
            let mut out = vec![];
            let mut cur = a.clone();
            let mut guard = 0;
            loop {
                if cur == b {
                    if !r.exclusive {
                        out.push(Value::str(cur));
                    }
                    break;
                }
                if cur.chars().count() > b.chars().count() || guard > 100_000 {
                    break;
                }
                out.push(Value::str(cur.clone()));
                let next = super::string::call(
                    it,
                    &Value::str(cur.clone()),
                    &Rc::new(RString { s: cur.clone().into(), frozen: false.into() }),
                    "succ",
                    &Args::default(),
                )?;
                cur = next.and_then(|v| v.as_str()).unwrap_or_default();
                guard += 1;
            }
            Ok(out)
        }
        (_, Value::Nil) => it.raise("RangeError", "cannot convert endless range to an array"),
        (Value::Nil, _) => it.raise("TypeError", "can't iterate from NilClass"),
        (a, _) => {
            let n = it.class_name(a);
            it.raise("TypeError", &format!("can't iterate from {n}"))
        }
    }
}

/// Start index and length a range selects in a sequence of `len` items (`arr[1..]`).
pub fn range_bounds(it: &mut Interp, r: &RRange, len: i64) -> R<(Option<i64>, i64)> {
    let start = match &r.start {
        Value::Nil => 0,
        v => it.expect_int(v)?,
    };
    let start = if start < 0 { start + len } else { start };
    if start < 0 || start > len {
        return Ok((None, 0));
    }
    let end = match &r.end {
        Value::Nil => len,
        v => {
            let e = it.expect_int(v)?;
            let e = if e < 0 { e + len } else { e };
            if r.exclusive {
                e
            } else {
                e + 1
            }
        }
    };
    Ok((Some(start), (end - start).max(0)))
}

fn block(it: &mut Interp, args: &Args, name: &str) -> R<Rc<RProc>> {
    match &args.block {
        Some(b) => Ok(b.clone()),
        None => it.unsupported(format!("{name} without a block (an Enumerator)")),
    }
}

/// Ruby's `rb_cmperr`: `comparison of A with B failed`, B shown with `inspect` when it is nil,
/// a boolean, a number or a symbol, else by its class.
pub fn cmperr<T>(it: &mut Interp, a: &Value, b: &Value) -> R<T> {
    let an = it.class_name(a);
    let bn = match b {
        Value::Nil | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Sym(_) => it.inspect(b)?,
        other => it.class_name(other),
    };
    it.raise("ArgumentError", &format!("comparison of {an} with {bn} failed"))
}

/// Compares two values with `<=>` (raising ArgumentError when they cannot be compared).
pub fn compare(it: &mut Interp, a: &Value, b: &Value) -> R<std::cmp::Ordering> {
    use std::cmp::Ordering::*;
    let r = match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            let x = if let Value::Int(i) = a {
                *i as f64
            } else if let Value::Float(f) = a {
                *f
            } else {
                0.0
            };
            let y = if let Value::Int(i) = b {
                *i as f64
            } else if let Value::Float(f) = b {
                *f
            } else {
                0.0
            };
            x.partial_cmp(&y)
        }
        (Value::Str(x), Value::Str(y)) => Some(x.s.borrow().as_str().cmp(y.s.borrow().as_str())),
        (Value::Sym(x), Value::Sym(y)) => Some(x.cmp(y)),
        (Value::Array(x), Value::Array(y)) => {
            let (x, y) = (x.borrow().clone(), y.borrow().clone());
            for (p, q) in x.iter().zip(y.iter()) {
                let o = compare(it, p, q)?;
                if o != Equal {
                    return Ok(o);
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => {
            let v = it.call_method(a, "<=>", Args::new(vec![b.clone()]));
            match v {
                Ok(Value::Int(i)) => Some(i.cmp(&0)),
                _ => None,
            }
        }
    };
    match r {
        Some(o) => Ok(o),
        None => cmperr(it, a, b),
    }
}

fn sort_values(it: &mut Interp, mut v: Vec<Value>, by: Option<&Rc<RProc>>) -> R<Vec<Value>> {
    // insertion-friendly merge sort that can fail
    let mut err = None;
    let mut keyed: Vec<(Value, Value)> = vec![];
    for x in v.drain(..) {
        keyed.push((x.clone(), x));
    }
    let cmp = |it: &mut Interp, a: &Value, b: &Value, err: &mut Option<crate::error::Ctrl>| -> std::cmp::Ordering {
        if err.is_some() {
            return std::cmp::Ordering::Equal;
        }
        let r = match by {
            Some(b2) => it.call_proc(b2, Args::new(vec![a.clone(), b.clone()])).and_then(|r| match r {
                Value::Int(i) => Ok(i.cmp(&0)),
                other => {
                    let shown = it.class_name(&other);
                    it.raise("ArgumentError", &format!("comparison of {shown} with 0 failed"))
                }
            }),
            None => compare(it, a, b),
        };
        match r {
            Ok(o) => o,
            Err(e) => {
                *err = Some(e);
                std::cmp::Ordering::Equal
            }
        }
    };
    let mut items: Vec<Value> = keyed.into_iter().map(|(_, v)| v).collect();
    merge_sort(&mut items, &mut |a, b| cmp(it, a, b, &mut err));
    if let Some(e) = err {
        return Err(e);
    }
    Ok(items)
}

fn merge_sort<F: FnMut(&Value, &Value) -> std::cmp::Ordering>(v: &mut Vec<Value>, cmp: &mut F) {
    if v.len() <= 1 {
        return;
    }
    let mid = v.len() / 2;
    let mut right = v.split_off(mid);
    merge_sort(v, cmp);
    merge_sort(&mut right, cmp);
    let left = std::mem::take(v);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if cmp(&left[i], &right[j]) == std::cmp::Ordering::Greater {
            v.push(right[j].clone());
            j += 1;
        } else {
            v.push(left[i].clone());
            i += 1;
        }
    }
    v.extend_from_slice(&left[i..]);
    v.extend_from_slice(&right[j..]);
}

/// Enumerable methods over `items` (the receiver is `recv`).
pub fn call(it: &mut Interp, recv: &Value, items: Vec<Value>, name: &str, args: &Args) -> R<Option<Value>> {
    let v = match name {
        "each" | "each_entry" => {
            let b = block(it, args, name)?;
            for x in items {
                it.yield1(&b, x)?;
            }
            recv.clone()
        }
        "map" | "collect" | "flat_map" | "collect_concat" => {
            let b = block(it, args, name)?;
            let mut out = vec![];
            for x in items {
                let r = it.yield1(&b, x)?;
                if name == "flat_map" || name == "collect_concat" {
                    match r {
                        Value::Array(a) => out.extend(a.borrow().iter().cloned()),
                        other => out.push(other),
                    }
                } else {
                    out.push(r);
                }
            }
            Value::array(out)
        }
        "filter_map" => {
            let b = block(it, args, name)?;
            let mut out = vec![];
            for x in items {
                let r = it.yield1(&b, x)?;
                if r.truthy() {
                    out.push(r);
                }
            }
            Value::array(out)
        }
        "select" | "filter" | "reject" => {
            let b = block(it, args, name)?;
            let mut out = vec![];
            for x in items {
                let keep = it.yield1(&b, x.clone())?.truthy();
                if keep == (name != "reject") {
                    out.push(x);
                }
            }
            Value::array(out)
        }
        "partition" => {
            let b = block(it, args, name)?;
            let (mut yes, mut no) = (vec![], vec![]);
            for x in items {
                if it.yield1(&b, x.clone())?.truthy() {
                    yes.push(x);
                } else {
                    no.push(x);
                }
            }
            Value::array(vec![Value::array(yes), Value::array(no)])
        }
        "find" | "detect" => {
            let b = block(it, args, name)?;
            let mut found = Value::Nil;
            for x in items {
                if it.yield1(&b, x.clone())?.truthy() {
                    found = x;
                    break;
                }
            }
            found
        }
        "find_index" | "index" => {
            let mut found = Value::Nil;
            for (i, x) in items.into_iter().enumerate() {
                let hit = match (&args.block, args.pos.first()) {
                    (_, Some(target)) => it.equal(&x, target)?,
                    (Some(b), None) => it.yield1(b, x)?.truthy(),
                    (None, None) => return it.unsupported(format!("{name} without a block")),
                };
                if hit {
                    found = Value::Int(i as i64);
                    break;
                }
            }
            found
        }
        "each_with_index" => {
            let b = block(it, args, name)?;
            for (i, x) in items.into_iter().enumerate() {
                it.yield_n(&b, vec![x, Value::Int(i as i64)])?;
            }
            recv.clone()
        }
        "each_with_object" => {
            let b = block(it, args, name)?;
            let memo = arg(args, 0);
            for x in items {
                it.yield_n(&b, vec![x, memo.clone()])?;
            }
            memo
        }
        "inject" | "reduce" => {
            let (mut acc, op) = match (args.pos.len(), &args.block) {
                (0, _) => (None, None),
                (1, Some(_)) => (Some(arg(args, 0)), None),
                (1, None) => (None, Some(it.to_s(&arg(args, 0))?)),
                _ => (Some(arg(args, 0)), Some(it.to_s(&arg(args, 1))?)),
            };
            for x in items {
                acc = Some(match acc {
                    None => x,
                    Some(a) => match &op {
                        Some(op) => it.call_method(&a, op, Args::new(vec![x]))?,
                        None => {
                            let b = block(it, args, name)?;
                            it.yield_n(&b, vec![a, x])?
                        }
                    },
                });
            }
            acc.unwrap_or(Value::Nil)
        }
        "sum" => {
            let mut values = vec![];
            for x in items {
                values.push(match &args.block {
                    Some(b) => it.yield1(b, x)?,
                    None => x,
                });
            }
            sum(it, args.pos.first().cloned().unwrap_or(Value::Int(0)), values)?
        }
        "count" => match (&args.block, args.pos.first()) {
            (_, Some(target)) => {
                let mut n = 0;
                for x in &items {
                    if it.equal(x, target)? {
                        n += 1;
                    }
                }
                Value::Int(n)
            }
            (Some(b), None) => {
                let mut n = 0;
                for x in items {
                    if it.yield1(b, x)?.truthy() {
                        n += 1;
                    }
                }
                Value::Int(n)
            }
            (None, None) => Value::Int(items.len() as i64),
        },
        "include?" | "member?" => {
            let target = arg(args, 0);
            let mut hit = false;
            for x in &items {
                if it.equal(x, &target)? {
                    hit = true;
                    break;
                }
            }
            Value::Bool(hit)
        }
        "all?" | "any?" | "none?" | "one?" => {
            let mut hits = 0;
            let total = items.len();
            for x in items {
                let t = match (&args.block, args.pos.first()) {
                    (_, Some(p)) => it.case_eq(p, &x)?,
                    (Some(b), None) => it.yield1(b, x)?.truthy(),
                    (None, None) => x.truthy(),
                };
                if t {
                    hits += 1;
                }
            }
            Value::Bool(match name {
                "all?" => hits == total,
                "any?" => hits > 0,
                "none?" => hits == 0,
                _ => hits == 1,
            })
        }
        "first" => match args.pos.first() {
            None => items.first().cloned().unwrap_or(Value::Nil),
            Some(n) => {
                let n = it.expect_int(n)?;
                if n < 0 {
                    return it.raise("ArgumentError", "negative array size");
                }
                Value::array(items.into_iter().take(n as usize).collect())
            }
        },
        "take" => {
            let n = it.expect_int(&arg(args, 0))?;
            if n < 0 {
                return it.raise("ArgumentError", "attempt to take negative size");
            }
            Value::array(items.into_iter().take(n as usize).collect())
        }
        "drop" => {
            let n = it.expect_int(&arg(args, 0))?;
            if n < 0 {
                return it.raise("ArgumentError", "attempt to drop negative size");
            }
            Value::array(items.into_iter().skip(n as usize).collect())
        }
        "take_while" | "drop_while" => {
            let b = block(it, args, name)?;
            let mut out = vec![];
            let mut taking = true;
            for x in items {
                if taking && !it.yield1(&b, x.clone())?.truthy() {
                    taking = false;
                }
                if taking == (name == "take_while") {
                    out.push(x);
                }
            }
            Value::array(out)
        }
        "to_a" | "entries" => Value::array(items),
        "sort" => Value::array(sort_values(it, items, args.block.as_ref())?),
        "sort_by" | "min_by" | "max_by" | "group_by" | "uniq" | "index_by" | "to_set" | "tally" | "chunk_while" => {
            return keyed(it, items, name, args).map(Some)
        }
        "min" | "max" if !args.pos.is_empty() => {
            let n = it.expect_int(&arg(args, 0))?;
            if n < 0 {
                return it.raise("ArgumentError", &format!("negative size ({n})"));
            }
            let mut sorted = sort_values(it, items, args.block.as_ref())?;
            if name == "max" {
                sorted.reverse();
            }
            sorted.truncate(n as usize);
            Value::array(sorted)
        }
        "min" | "max" => {
            if items.is_empty() {
                return Ok(Some(Value::Nil));
            }
            let mut best = items[0].clone();
            for x in items.into_iter().skip(1) {
                let o = match &args.block {
                    Some(b) => match it.call_proc(b, Args::new(vec![x.clone(), best.clone()]))? {
                        Value::Int(i) => i.cmp(&0),
                        _ => std::cmp::Ordering::Equal,
                    },
                    None => compare(it, &x, &best)?,
                };
                if (name == "min" && o.is_lt()) || (name == "max" && o.is_gt()) {
                    best = x;
                }
            }
            best
        }
        "minmax" => {
            let min = call(it, recv, items.clone(), "min", args)?.unwrap();
            let max = call(it, recv, items, "max", args)?.unwrap();
            Value::array(vec![min, max])
        }
        "zip" => {
            let others: Vec<Vec<Value>> = args.pos.iter().map(|o| self::items(it, o)).collect::<R<_>>()?;
            Value::array(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| {
                        let mut row = vec![x];
                        for o in &others {
                            row.push(o.get(i).cloned().unwrap_or(Value::Nil));
                        }
                        Value::array(row)
                    })
                    .collect(),
            )
        }
        "each_slice" | "each_cons" => {
            let n = it.expect_int(&arg(args, 0))?;
            if n <= 0 {
                return it.raise("ArgumentError", "invalid slice size");
            }
            let n = n as usize;
            let groups: Vec<Value> = if name == "each_slice" {
                items.chunks(n).map(|c| Value::array(c.to_vec())).collect()
            } else {
                items.windows(n).map(|c| Value::array(c.to_vec())).collect()
            };
            match &args.block {
                Some(b) => {
                    for g in groups {
                        it.yield1(b, g)?;
                    }
                    recv.clone()
                }
                None => Value::array(groups),
            }
        }
        "to_h" => {
            let mut h = RHash::default();
            for x in items {
                let pair = match &args.block {
                    Some(b) => it.yield1(b, x)?,
                    None => x,
                };
                match &pair {
                    Value::Array(a) if a.borrow().len() == 2 => {
                        let a = a.borrow();
                        h.insert(a[0].clone(), a[1].clone());
                    }
                    other => {
                        let n = it.class_name(other);
                        return it.raise("TypeError", &format!("wrong element type {n} (expected array)"));
                    }
                }
            }
            Value::hash(h)
        }
        "each_entry_with_index" => return Ok(None),
        "cycle" | "lazy" | "each_entry_slice" | "chunk" | "slice_when" | "slice_before" | "slice_after"
        | "zip_with" => return it.unsupported(format!("Enumerable#{name}")),
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// `sum` as Ruby adds: integers exactly, floats with Kahan-Babuska compensation (so
/// `[0.1, 0.2, 0.3].sum == 0.6`), anything else with `+`.
fn sum(it: &mut Interp, init: Value, values: Vec<Value>) -> R<Value> {
    let mut acc = init;
    let mut rest = values.into_iter().peekable();
    // integers first, exactly
    while let (Value::Int(a), Some(Value::Int(b))) = (&acc, rest.peek()) {
        acc = match a.checked_add(*b) {
            Some(v) => Value::Int(v),
            None => return it.unsupported("an Integer beyond 64 bits"),
        };
        rest.next();
    }
    if matches!(acc, Value::Int(_) | Value::Float(_)) && matches!(rest.peek(), Some(Value::Float(_))) {
        let mut f = if let Value::Int(i) = acc {
            i as f64
        } else if let Value::Float(x) = acc {
            x
        } else {
            0.0
        };
        let mut c = 0.0;
        while let Some(x) = rest.peek() {
            let x = match x {
                Value::Float(x) => *x,
                Value::Int(i) => *i as f64,
                _ => break,
            };
            rest.next();
            let t = f + x;
            if f.abs() >= x.abs() {
                c += (f - t) + x;
            } else {
                c += (x - t) + f;
            }
            f = t;
        }
        acc = Value::Float(f + c);
    }
    for x in rest {
        acc = it.call_method(&acc, "+", Args::new(vec![x]))?;
    }
    Ok(acc)
}

/// Methods that compute a key per item with the block.
fn keyed(it: &mut Interp, items: Vec<Value>, name: &str, args: &Args) -> R<Value> {
    let mut keys = vec![];
    for x in &items {
        let k = match &args.block {
            Some(b) => it.yield1(b, x.clone())?,
            None if matches!(name, "uniq" | "tally" | "to_set") => x.clone(),
            None => return it.unsupported(format!("{name} without a block")),
        };
        keys.push(k);
    }
    Ok(match name {
        "sort_by" => {
            let mut pairs: Vec<(Value, Value)> = keys.into_iter().zip(items).collect();
            let mut err = None;
            let mut idx: Vec<usize> = (0..pairs.len()).collect();
            let keys_only: Vec<Value> = pairs.iter().map(|p| p.0.clone()).collect();
            let mut as_values: Vec<Value> = idx.iter().map(|i| Value::Int(*i as i64)).collect();
            merge_sort(&mut as_values, &mut |a, b| {
                if err.is_some() {
                    return std::cmp::Ordering::Equal;
                }
                let (Value::Int(x), Value::Int(y)) = (a, b) else { return std::cmp::Ordering::Equal };
                match compare(it, &keys_only[*x as usize], &keys_only[*y as usize]) {
                    Ok(o) => o,
                    Err(e) => {
                        err = Some(e);
                        std::cmp::Ordering::Equal
                    }
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
            idx = as_values.iter().map(|v| if let Value::Int(i) = v { *i as usize } else { 0 }).collect();
            let sorted: Vec<Value> = idx.iter().map(|i| std::mem::replace(&mut pairs[*i].1, Value::Nil)).collect();
            Value::array(sorted)
        }
        "min_by" | "max_by" => {
            if items.is_empty() {
                return Ok(Value::Nil);
            }
            let mut best = 0;
            for i in 1..items.len() {
                let o = compare(it, &keys[i], &keys[best])?;
                if (name == "min_by" && o.is_lt()) || (name == "max_by" && o.is_gt()) {
                    best = i;
                }
            }
            items[best].clone()
        }
        "group_by" | "index_by" => {
            let mut h = RHash::default();
            for (k, x) in keys.into_iter().zip(items) {
                if name == "index_by" {
                    h.insert(k, x);
                    continue;
                }
                match h.get(&k) {
                    Some(Value::Array(a)) => a.borrow_mut().push(x),
                    _ => h.insert(k, Value::array(vec![x])),
                }
            }
            Value::hash(h)
        }
        "uniq" => {
            let mut seen = std::collections::HashSet::new();
            let mut out = vec![];
            for (k, x) in keys.into_iter().zip(items) {
                if seen.insert(k.hash_key()) {
                    out.push(x);
                }
            }
            Value::array(out)
        }
        "tally" => {
            let mut h = RHash::default();
            for k in keys {
                let n = match h.get(&k) {
                    Some(Value::Int(n)) => n + 1,
                    _ => 1,
                };
                h.insert(k, Value::Int(n));
            }
            Value::hash(h)
        }
        _ => return it.unsupported(format!("Enumerable#{name}")),
    })
}

/// Range methods (then Enumerable's).
pub fn range(it: &mut Interp, recv: &Value, r: &Rc<RRange>, name: &str, args: &Args) -> R<Option<Value>> {
    let v = match name {
        "first" | "begin" | "min" if args.pos.is_empty() && name != "min" => {
            if name == "first" && r.start.is_nil() {
                return it.raise("RangeError", "cannot get the first element of beginless range");
            }
            r.start.clone()
        }
        "last" | "end" if args.pos.is_empty() => r.end.clone(),
        "exclude_end?" => Value::Bool(r.exclusive),
        "include?" | "member?" | "===" | "cover?" => {
            let x = arg(args, 0);
            let above = match &r.start {
                Value::Nil => true,
                s => compare(it, s, &x).map(|o| o.is_le()).unwrap_or(false),
            };
            let below = match &r.end {
                Value::Nil => true,
                e => compare(it, &x, e).map(|o| if r.exclusive { o.is_lt() } else { o.is_le() }).unwrap_or(false),
            };
            Value::Bool(above && below)
        }
        "size" | "count" | "length" if args.pos.is_empty() && args.block.is_none() => match (&r.start, &r.end) {
            (Value::Int(a), Value::Int(b)) => Value::Int(((b - a) + if r.exclusive { 0 } else { 1 }).max(0)),
            _ => Value::Int(range_items(it, r)?.len() as i64),
        },
        "to_s" | "inspect" => {
            let a = if r.start.is_nil() {
                String::new()
            } else if name == "to_s" {
                it.to_s(&r.start)?
            } else {
                it.inspect(&r.start)?
            };
            let b = if r.end.is_nil() {
                String::new()
            } else if name == "to_s" {
                it.to_s(&r.end)?
            } else {
                it.inspect(&r.end)?
            };
            Value::str(format!("{a}{}{b}", if r.exclusive { "..." } else { ".." }))
        }
        "step" | "%" => {
            let n = it.expect_int(&arg(args, 0))?;
            if n <= 0 {
                return it.raise("ArgumentError", "step can't be negative");
            }
            let all = range_items(it, r)?;
            let picked: Vec<Value> = all.into_iter().step_by(n as usize).collect();
            match &args.block {
                Some(b) => {
                    for x in picked {
                        it.yield1(b, x)?;
                    }
                    recv.clone()
                }
                None => Value::array(picked),
            }
        }
        "==" | "eql?" => Value::Bool(it.equal(recv, &arg(args, 0))?),
        "hash" => Value::Int(recv.identity() as i64),
        _ => {
            if r.end.is_nil() && matches!(name, "each" | "map" | "select" | "to_a" | "sum" | "count") {
                return it.unsupported(format!("Range#{name} on an endless range"));
            }
            let items = range_items(it, r)?;
            return call(it, recv, items, name, args);
        }
    };
    Ok(Some(v))
}
