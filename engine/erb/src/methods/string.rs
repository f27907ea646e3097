//! String and Symbol methods, with Ruby's semantics for `strip` (NUL and ASCII white space),
//! `split` (awk-style on a single space, trailing empty fields dropped), `sub`/`gsub` with
//! string or regexp patterns and `\1`-style replacements, `to_i` (leading digits), and the
//! ActiveSupport inflections Kamal loads (`camelize`, `underscore`, `inquiry`...).

use super::arg;
use super::regexp::{self, Pattern};
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use std::rc::Rc;

fn ruby_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\0')
}

pub fn call(it: &mut Interp, recv: &Value, rs: &Rc<RString>, name: &str, args: &Args) -> R<Option<Value>> {
    let s = rs.s.borrow().clone();
    let v =
        match name {
            "to_s" | "to_str" => recv.clone(),
            "inspect" | "dump" => Value::str(inspect_str(&s)),
            "to_sym" | "intern" => Value::sym(&s),
            "to_i" => {
                let base = match args.pos.first() {
                    Some(Value::Int(b)) => *b as u32,
                    _ => 10,
                };
                let n = to_i(&s, base);
                if n == i64::MAX {
                    return it.unsupported("an Integer beyond 64 bits");
                }
                Value::Int(n)
            }
            "to_f" => Value::Float(to_f(&s)),
            "to_r" | "to_c" => return it.unsupported(format!("String#{name}")),
            "length" | "size" => Value::Int(s.chars().count() as i64),
            "bytesize" => Value::Int(s.len() as i64),
            "empty?" => Value::Bool(s.is_empty()),
            "strip" => Value::str(s.trim_matches(ruby_ws)),
            "lstrip" => Value::str(s.trim_start_matches(ruby_ws)),
            "rstrip" => Value::str(s.trim_end_matches(ruby_ws)),
            "chomp" => Value::str(chomp(&s, args.pos.first().map(|v| it.to_s(v)).transpose()?.as_deref())),
            "chop" => {
                let mut t = s.clone();
                if t.ends_with("\r\n") {
                    t.truncate(t.len() - 2);
                } else {
                    t.pop();
                }
                Value::str(t)
            }
            "upcase" => Value::str(s.to_uppercase()),
            "downcase" => Value::str(s.to_lowercase()),
            "capitalize" => Value::str(capitalize(&s)),
            "swapcase" => Value::str(
                s.chars()
                    .map(|c| {
                        if c.is_uppercase() {
                            c.to_lowercase().collect::<String>()
                        } else {
                            c.to_uppercase().collect()
                        }
                    })
                    .collect::<String>(),
            ),
            "strip!" | "lstrip!" | "rstrip!" | "chomp!" | "upcase!" | "downcase!" | "capitalize!" | "squeeze!"
            | "chop!" => {
                it.check_frozen(rs)?;
                let base = &name[..name.len() - 1];
                let new = call(it, recv, rs, base, args)?.unwrap();
                let new = new.as_str().unwrap_or_default();
                if new == s {
                    Value::Nil
                } else {
                    *rs.s.borrow_mut() = new;
                    recv.clone()
                }
            }
            "start_with?" => {
                let mut hit = false;
                for p in &args.pos {
                    hit |= match p {
                        Value::Regexp(r) => regexp::match_at_start(&r.regex, &s),
                        other => s.starts_with(&it.expect_str(other)?),
                    };
                }
                Value::Bool(hit)
            }
            "end_with?" => {
                let mut hit = false;
                for p in &args.pos {
                    hit |= s.ends_with(&it.expect_str(p)?);
                }
                Value::Bool(hit)
            }
            "delete_prefix" => {
                let p = it.expect_str(&arg(args, 0))?;
                Value::str(s.strip_prefix(&p).unwrap_or(&s))
            }
            "delete_suffix" => {
                let p = it.expect_str(&arg(args, 0))?;
                Value::str(s.strip_suffix(&p).unwrap_or(&s))
            }
            "include?" => {
                it.check_arity(args, 1, 1)?;
                let p = it.expect_str(&arg(args, 0))?;
                Value::Bool(s.contains(&p))
            }
            "index" | "rindex" => {
                let found = match arg(args, 0) {
                    Value::Regexp(r) => {
                        if name == "index" {
                            r.regex.find(&s).map(|m| m.start())
                        } else {
                            r.regex.find_iter(&s).last().map(|m| m.start())
                        }
                    }
                    other => {
                        let p = it.expect_str(&other)?;
                        if name == "index" {
                            s.find(&p)
                        } else {
                            s.rfind(&p)
                        }
                    }
                };
                match found {
                    Some(b) => Value::Int(s[..b].chars().count() as i64),
                    None => Value::Nil,
                }
            }
            "+" => {
                it.check_arity(args, 1, 1)?;
                let other = it.expect_str(&arg(args, 0))?;
                Value::str(s + &other)
            }
            "*" => {
                let n = it.expect_int(&arg(args, 0))?;
                if n < 0 {
                    return it.raise("ArgumentError", "negative argument");
                }
                Value::str(s.repeat(n as usize))
            }
            "%" => {
                let values = match arg(args, 0) {
                    Value::Array(a) => a.borrow().clone(),
                    other => vec![other],
                };
                Value::str(super::format::sprintf(it, &s, &values)?)
            }
            "<<" | "concat" => {
                it.check_frozen(rs)?;
                for a in &args.pos {
                    let add = match a {
                        Value::Int(i) => char::from_u32(*i as u32).map(String::from).unwrap_or_default(),
                        other => it.expect_str(other)?,
                    };
                    rs.s.borrow_mut().push_str(&add);
                }
                recv.clone()
            }
            "prepend" => {
                it.check_frozen(rs)?;
                let mut pre = String::new();
                for a in &args.pos {
                    pre.push_str(&it.expect_str(a)?);
                }
                rs.s.borrow_mut().insert_str(0, &pre);
                recv.clone()
            }
            "replace" => {
                it.check_frozen(rs)?;
                let new = it.expect_str(&arg(args, 0))?;
                *rs.s.borrow_mut() = new;
                recv.clone()
            }
            "==" | "===" | "eql?" => Value::Bool(matches!(arg(args, 0), Value::Str(o) if *o.s.borrow() == s)),
            "<=>" => match arg(args, 0) {
                Value::Str(o) => Value::Int(cmp_i(s.as_str().cmp(o.s.borrow().as_str()))),
                _ => Value::Nil,
            },
            "<" | ">" | "<=" | ">=" => {
                let other = match arg(args, 0) {
                    Value::Str(o) => o.s.borrow().clone(),
                    other => return super::enumerable::cmperr(it, recv, &other),
                };
                let o = s.as_str().cmp(other.as_str());
                Value::Bool(match name {
                    "<" => o.is_lt(),
                    ">" => o.is_gt(),
                    "<=" => o.is_le(),
                    _ => o.is_ge(),
                })
            }
            "between?" => {
                let lo = it.expect_str(&arg(args, 0))?;
                let hi = it.expect_str(&arg(args, 1))?;
                Value::Bool(s >= lo && s <= hi)
            }
            "casecmp" => match arg(args, 0) {
                Value::Str(o) => Value::Int(cmp_i(s.to_ascii_lowercase().cmp(&o.s.borrow().to_ascii_lowercase()))),
                _ => Value::Nil,
            },
            "casecmp?" => match arg(args, 0) {
                Value::Str(o) => Value::Bool(s.to_lowercase() == o.s.borrow().to_lowercase()),
                _ => Value::Nil,
            },
            "=~" => match arg(args, 0) {
                Value::Regexp(r) => regexp::match_op(it, &r, &s)?,
                Value::Str(_) => return it.raise("TypeError", "wrong argument type String (expected Regexp)"),
                other => it.call_method(&other, "=~", Args::new(vec![recv.clone()]))?,
            },
            "match" | "match?" => {
                let pattern = Pattern::from_value(it, &arg(args, 0))?;
                let re = pattern.regex(it)?;
                if name == "match?" {
                    Value::Bool(re.is_match(&s))
                } else {
                    regexp::match_data_for(it, &re, &s, true)?
                }
            }
            "scan" => {
                let pattern = Pattern::from_value(it, &arg(args, 0))?;
                let re = pattern.regex(it)?;
                let mut out = vec![];
                for caps in re.captures_iter(&s) {
                    let item = if caps.len() > 1 {
                        Value::array(
                            (1..caps.len())
                                .map(|i| caps.get(i).map(|m| Value::str(m.as_str())).unwrap_or(Value::Nil))
                                .collect(),
                        )
                    } else {
                        Value::str(caps.get(0).unwrap().as_str())
                    };
                    out.push(item);
                }
                if let Some(b) = &args.block {
                    for item in out {
                        it.yield1(b, item)?;
                    }
                    recv.clone()
                } else {
                    Value::array(out)
                }
            }
            "sub" | "gsub" | "sub!" | "gsub!" => {
                let global = name.starts_with('g');
                let result = regexp::substitute(it, &s, args, global)?;
                if name.ends_with('!') {
                    it.check_frozen(rs)?;
                    if result == s {
                        Value::Nil
                    } else {
                        *rs.s.borrow_mut() = result;
                        recv.clone()
                    }
                } else {
                    Value::str(result)
                }
            }
            "tr" | "tr_s" | "delete" | "squeeze" | "count" => {
                let sets: Vec<String> = args.pos.iter().map(|a| it.expect_str(a)).collect::<R<_>>()?;
                match name {
                    "tr" | "tr_s" => {
                        it.check_arity(args, 2, 2)?;
                        Value::str(tr(&s, &sets[0], &sets[1], name == "tr_s"))
                    }
                    "delete" => {
                        if sets.is_empty() {
                            return it.arity(0, "1+");
                        }
                        Value::str(s.chars().filter(|c| !sets.iter().all(|set| in_set(*c, set))).collect::<String>())
                    }
                    "squeeze" => {
                        let mut out = String::new();
                        let mut last = None;
                        for c in s.chars() {
                            let squeezable = sets.is_empty() || sets.iter().all(|set| in_set(c, set));
                            if Some(c) == last && squeezable {
                                continue;
                            }
                            out.push(c);
                            last = Some(c);
                        }
                        Value::str(out)
                    }
                    _ => {
                        if sets.is_empty() {
                            return it.arity(0, "1+");
                        }
                        Value::Int(s.chars().filter(|c| sets.iter().all(|set| in_set(*c, set))).count() as i64)
                    }
                }
            }
            "split" => split(it, &s, args)?,
            "lines" => Value::array(lines(&s).into_iter().map(Value::str).collect()),
            "chars" => Value::array(s.chars().map(|c| Value::str(c.to_string())).collect()),
            "bytes" => Value::array(s.bytes().map(|b| Value::Int(b as i64)).collect()),
            "each_line" | "each_char" => {
                let items: Vec<String> =
                    if name == "each_line" { lines(&s) } else { s.chars().map(|c| c.to_string()).collect() };
                match &args.block {
                    Some(b) => {
                        for i in items {
                            it.yield1(b, Value::str(i))?;
                        }
                        recv.clone()
                    }
                    None => Value::array(items.into_iter().map(Value::str).collect()),
                }
            }
            "reverse" => Value::str(s.chars().rev().collect::<String>()),
            "[]" | "slice" => slice(it, &s, args)?,
            "ljust" | "rjust" | "center" => {
                let width = it.expect_int(&arg(args, 0))? as usize;
                let pad = match args.pos.get(1) {
                    Some(p) => it.expect_str(p)?,
                    None => " ".into(),
                };
                if pad.is_empty() {
                    return it.raise("ArgumentError", "zero width padding");
                }
                let len = s.chars().count();
                if width <= len {
                    Value::str(s)
                } else {
                    let total = width - len;
                    let fill = |n: usize| pad.chars().cycle().take(n).collect::<String>();
                    Value::str(match name {
                        "ljust" => s.clone() + &fill(total),
                        "rjust" => fill(total) + &s,
                        _ => {
                            let left = total / 2;
                            fill(left) + &s + &fill(total - left)
                        }
                    })
                }
            }
            "partition" | "rpartition" => {
                let found = match arg(args, 0) {
                    Value::Regexp(r) => {
                        let m = if name == "partition" { r.regex.find(&s) } else { r.regex.find_iter(&s).last() };
                        m.map(|m| (m.start(), m.end()))
                    }
                    other => {
                        let p = it.expect_str(&other)?;
                        let at = if name == "partition" { s.find(&p) } else { s.rfind(&p) };
                        at.map(|a| (a, a + p.len()))
                    }
                };
                match found {
                    Some((a, b)) => Value::array(vec![Value::str(&s[..a]), Value::str(&s[a..b]), Value::str(&s[b..])]),
                    None if name == "partition" => {
                        Value::array(vec![Value::str(s.clone()), Value::str(""), Value::str("")])
                    }
                    None => Value::array(vec![Value::str(""), Value::str(""), Value::str(s.clone())]),
                }
            }
            "ord" => match s.chars().next() {
                Some(c) => Value::Int(c as i64),
                None => return it.raise("ArgumentError", "empty string"),
            },
            "hex" => Value::Int(to_i(s.trim_start_matches("0x").trim_start_matches("0X"), 16)),
            "oct" => Value::Int(to_i(&s, 8)),
            "succ" | "next" => Value::str(succ(&s)),
            "upto" => return it.unsupported("String#upto"),
            "hash" => Value::Int(fxhash(&s)),
            "freeze" => {
                rs.frozen.set(true);
                recv.clone()
            }
            "+@" => {
                if rs.frozen.get() {
                    Value::str(s)
                } else {
                    recv.clone()
                }
            }
            "-@" | "dedup" => Value::frozen_str(s),
            "force_encoding" | "encode" | "unicode_normalize" | "scrub" | "b" => {
                if name == "force_encoding" || name == "scrub" {
                    recv.clone()
                } else {
                    return it.unsupported(format!("String#{name}"));
                }
            }
            "valid_encoding?" => Value::Bool(true),
            "ascii_only?" => Value::Bool(s.is_ascii()),
            "shellescape" => Value::str(shellescape(&s)),
            "shellsplit" => match wharf_secrets::shell::shellsplit(&s) {
                Ok(words) => Value::array(words.into_iter().map(Value::str).collect()),
                Err(_) => return it.raise("ArgumentError", &format!("Unmatched quote: {}", inspect_str(&s))),
            },
            // ActiveSupport (core_ext/string/inflections, inquiry)
            "inquiry" => return it.unsupported("String#inquiry"),
            "camelize" | "camelcase" => {
                let lower_first = matches!(arg(args, 0), Value::Sym(ref x) if &**x == "lower");
                Value::str(camelize(&s, !lower_first))
            }
            "underscore" => Value::str(underscore(&s)),
            "dasherize" => Value::str(s.replace('_', "-")),
            "demodulize" => Value::str(s.rsplit("::").next().unwrap_or("").to_string()),
            "humanize" | "titleize" | "titlecase" | "pluralize" | "singularize" | "parameterize" | "classify"
            | "tableize" | "constantize" | "safe_constantize" | "foreign_key" | "deconstantize" | "upcase_first"
            | "downcase_first" | "squish" | "truncate" => return it.unsupported(format!("String#{name}")),
            _ => return Ok(None),
        };
    Ok(Some(v))
}

fn cmp_i(o: std::cmp::Ordering) -> i64 {
    match o {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

fn fxhash(s: &str) -> i64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h as i64
}

/// Ruby's `String#chomp`.
pub fn chomp(s: &str, sep: Option<&str>) -> String {
    match sep {
        None => {
            if let Some(t) = s.strip_suffix("\r\n") {
                t.to_string()
            } else if let Some(t) = s.strip_suffix('\n').or_else(|| s.strip_suffix('\r')) {
                t.to_string()
            } else {
                s.to_string()
            }
        }
        Some("") => s.trim_end_matches(['\n']).trim_end_matches("\r\n").to_string(),
        Some(sep) => s.strip_suffix(sep).unwrap_or(s).to_string(),
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(f) => f.to_uppercase().collect::<String>() + &chars.as_str().to_lowercase(),
        None => String::new(),
    }
}

/// Ruby's `String#to_i`: leading white space, sign, digits (underscores between), rest ignored.
pub fn to_i(s: &str, base: u32) -> i64 {
    let t = s.trim_start_matches(ruby_ws);
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let t = if base == 16 { t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t) } else { t };
    let mut n: i64 = 0;
    let mut prev_underscore = false;
    let mut any = false;
    for c in t.chars() {
        if c == '_' && any && !prev_underscore {
            prev_underscore = true;
            continue;
        }
        match c.to_digit(base) {
            Some(d) => {
                n = match n.checked_mul(base as i64).and_then(|m| m.checked_add(d as i64)) {
                    Some(m) => m,
                    // beyond 64 bits: Ruby has a Bignum, the evaluator does not (see `to_i`)
                    None => return i64::MAX,
                };
                any = true;
                prev_underscore = false;
            }
            None => break,
        }
    }
    if neg {
        -n
    } else {
        n
    }
}

/// Ruby's `String#to_f`: the longest leading float.
pub fn to_f(s: &str) -> f64 {
    let t = s.trim_start_matches(ruby_ws);
    let mut end = 0;
    let bytes = t.as_bytes();
    let mut seen_digit = false;
    let mut seen_dot = false;
    let mut seen_e = false;
    let mut i = 0;
    if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
        i += 1;
    }
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() {
            seen_digit = true;
            end = i + 1;
        } else if c == b'_' && seen_digit {
        } else if c == b'.' && !seen_dot && !seen_e && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit() {
            seen_dot = true;
        } else if (c == b'e' || c == b'E') && seen_digit && !seen_e {
            seen_e = true;
            if i + 1 < bytes.len() && (bytes[i + 1] == b'-' || bytes[i + 1] == b'+') {
                i += 1;
            }
        } else {
            break;
        }
        i += 1;
    }
    t[..end].replace('_', "").parse().unwrap_or(0.0)
}

/// `tr` character sets: ranges `a-z`, negation `^`.
fn expand_set(set: &str) -> (Vec<char>, bool) {
    let chars: Vec<char> = set.chars().collect();
    let (negate, chars) = if chars.len() > 1 && chars[0] == '^' { (true, &chars[1..]) } else { (false, &chars[..]) };
    let mut out = vec![];
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if i + 2 < chars.len() && chars[i + 1] == '-' {
            let (a, b) = (chars[i] as u32, chars[i + 2] as u32);
            if a <= b {
                out.extend((a..=b).filter_map(char::from_u32));
            }
            i += 3;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    (out, negate)
}

fn in_set(c: char, set: &str) -> bool {
    let (chars, negate) = expand_set(set);
    chars.contains(&c) != negate
}

fn tr(s: &str, from: &str, to: &str, squeeze: bool) -> String {
    let (from_chars, negate) = expand_set(from);
    let (to_chars, _) = expand_set(to);
    let mut out = String::new();
    let mut last_translated: Option<char> = None;
    for c in s.chars() {
        let pos = from_chars.iter().position(|x| *x == c);
        let translated =
            if negate {
                if pos.is_none() {
                    to_chars.last().copied()
                } else {
                    None
                }
            } else {
                pos.map(|p| {
                    if to_chars.is_empty() {
                        None
                    } else {
                        Some(*to_chars.get(p).unwrap_or(to_chars.last().unwrap()))
                    }
                })
                .map(|x| x.unwrap_or('\u{0}'))
            };
        match translated {
            Some('\u{0}') if to_chars.is_empty() => {}
            Some(t) => {
                if squeeze && last_translated == Some(t) {
                    continue;
                }
                out.push(t);
                last_translated = Some(t);
            }
            None => {
                out.push(c);
                last_translated = None;
            }
        }
    }
    out
}

fn lines(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    for c in s.chars() {
        cur.push(c);
        if c == '\n' {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `String#split`.
fn split(it: &mut Interp, s: &str, args: &Args) -> R<Value> {
    it.check_arity(args, 0, 2)?;
    let limit = match args.pos.get(1) {
        Some(v) => it.expect_int(v)?,
        None => 0,
    };
    let pattern = args.pos.first().cloned().unwrap_or(Value::Nil);
    let mut parts: Vec<String> = vec![];
    let awk = match &pattern {
        Value::Nil => true,
        Value::Str(p) => *p.s.borrow() == " ",
        _ => false,
    };
    if awk {
        // leading white space skipped, runs of white space separate
        let mut rest = s.trim_start_matches(ruby_ws);
        loop {
            if rest.is_empty() {
                break;
            }
            if limit > 0 && parts.len() as i64 == limit - 1 {
                parts.push(rest.to_string());
                break;
            }
            match rest.find(ruby_ws) {
                Some(i) => {
                    parts.push(rest[..i].to_string());
                    let after = &rest[i..];
                    let trimmed = after.trim_start_matches(ruby_ws);
                    if trimmed.is_empty() && limit < 0 {
                        parts.push(String::new());
                    }
                    rest = trimmed;
                }
                None => {
                    parts.push(rest.to_string());
                    break;
                }
            }
        }
    } else {
        match &pattern {
            Value::Str(p) => {
                let p = p.s.borrow().clone();
                if p.is_empty() {
                    let chars: Vec<String> = s.chars().map(|c| c.to_string()).collect();
                    if limit > 0 && chars.len() as i64 > limit {
                        let mut v: Vec<String> = chars[..(limit - 1) as usize].to_vec();
                        v.push(chars[(limit - 1) as usize..].concat());
                        parts = v;
                    } else {
                        parts = chars;
                    }
                } else {
                    let mut rest = s;
                    loop {
                        if limit > 0 && parts.len() as i64 == limit - 1 {
                            parts.push(rest.to_string());
                            break;
                        }
                        match rest.find(&p) {
                            Some(i) => {
                                parts.push(rest[..i].to_string());
                                rest = &rest[i + p.len()..];
                            }
                            None => {
                                parts.push(rest.to_string());
                                break;
                            }
                        }
                    }
                }
            }
            Value::Regexp(r) => {
                let mut last = 0;
                for caps in r.regex.captures_iter(s) {
                    let m = caps.get(0).unwrap();
                    if m.end() == 0 && m.start() == 0 {
                        continue;
                    }
                    if m.start() == m.end() && m.start() >= s.len() {
                        break;
                    }
                    if limit > 0 && parts.len() as i64 == limit - 1 {
                        break;
                    }
                    if m.start() == m.end() {
                        // split between characters
                        parts.push(s[last..m.start()].to_string());
                        last = m.start();
                        continue;
                    }
                    parts.push(s[last..m.start()].to_string());
                    for i in 1..caps.len() {
                        if let Some(g) = caps.get(i) {
                            parts.push(g.as_str().to_string());
                        }
                    }
                    last = m.end();
                }
                parts.push(s[last..].to_string());
            }
            other => {
                let n = it.class_name(other);
                return it.raise("TypeError", &format!("wrong argument type {n} (expected Regexp)"));
            }
        }
        if s.is_empty() {
            parts.clear();
        }
    }
    if limit == 0 {
        while parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
    }
    Ok(Value::array(parts.into_iter().map(Value::str).collect()))
}

/// `str[...]` / `slice`.
fn slice(it: &mut Interp, s: &str, args: &Args) -> R<Value> {
    it.check_arity(args, 1, 2)?;
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as i64;
    let sub = |a: i64, n: i64| -> Value {
        let start = if a < 0 { a + len } else { a };
        if start < 0 || start > len || n < 0 {
            return Value::Nil;
        }
        let end = (start + n).min(len);
        Value::str(chars[start as usize..end as usize].iter().collect::<String>())
    };
    Ok(match (arg(args, 0), args.pos.get(1)) {
        (Value::Int(i), None) => {
            let idx = if i < 0 { i + len } else { i };
            if idx < 0 || idx >= len {
                Value::Nil
            } else {
                Value::str(chars[idx as usize].to_string())
            }
        }
        (Value::Int(i), Some(n)) => {
            let n = it.expect_int(n)?;
            sub(i, n)
        }
        (Value::Range(r), None) => {
            let (a, n) = super::enumerable::range_bounds(it, &r, len)?;
            match a {
                Some(a) => sub(a, n),
                None => Value::Nil,
            }
        }
        (Value::Str(p), None) => {
            let p = p.s.borrow().clone();
            if s.contains(&p) {
                Value::str(p)
            } else {
                Value::Nil
            }
        }
        (Value::Regexp(r), group) => {
            let group = match group {
                Some(Value::Int(g)) => *g as usize,
                Some(Value::Str(n)) => {
                    let name = n.s.borrow().clone();
                    return Ok(r
                        .regex
                        .captures(s)
                        .and_then(|c| c.name(&name))
                        .map(|m| Value::str(m.as_str()))
                        .unwrap_or(Value::Nil));
                }
                _ => 0,
            };
            r.regex.captures(s).and_then(|c| c.get(group)).map(|m| Value::str(m.as_str())).unwrap_or(Value::Nil)
        }
        (other, _) => {
            let n = it.implicit_name(&other);
            return it.raise("TypeError", &format!("no implicit conversion of {n} into Integer"));
        }
    })
}

fn succ(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut chars: Vec<char> = s.chars().collect();
    let mut i = chars.len();
    loop {
        if i == 0 {
            let first = chars[0];
            let carry = if first.is_ascii_digit() {
                '1'
            } else if first.is_ascii_uppercase() {
                'A'
            } else {
                'a'
            };
            chars.insert(0, carry);
            break;
        }
        i -= 1;
        let c = chars[i];
        match c {
            'z' => chars[i] = 'a',
            'Z' => chars[i] = 'A',
            '9' => chars[i] = '0',
            c if c.is_ascii_alphanumeric() => {
                chars[i] = char::from_u32(c as u32 + 1).unwrap();
                break;
            }
            _ => {
                chars[i] = char::from_u32(c as u32 + 1).unwrap_or(c);
                break;
            }
        }
    }
    chars.into_iter().collect()
}

/// `Shellwords.escape`.
pub fn shellescape(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let mut out = String::new();
    for c in s.chars() {
        if c == '\n' {
            out.push_str("'\n'");
        } else if c.is_ascii_alphanumeric() || "_-.,:+/@".contains(c) || !c.is_ascii() {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

/// ActiveSupport's `camelize` (without acronyms).
fn camelize(s: &str, upper_first: bool) -> String {
    let mut out = String::new();
    for (i, part) in s.split('/').enumerate() {
        if i > 0 {
            out.push_str("::");
        }
        let mut up = upper_first || i > 0;
        for (j, seg) in part.split('_').enumerate() {
            if j > 0 {
                up = true;
            }
            if seg.is_empty() {
                continue;
            }
            if up {
                out.push_str(&capitalize_first(seg));
            } else {
                out.push_str(seg);
            }
            up = true;
        }
    }
    out
}

fn capitalize_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// ActiveSupport's `underscore`.
fn underscore(s: &str) -> String {
    let s = s.replace("::", "/");
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = if i > 0 { Some(chars[i - 1]) } else { None };
            let next = chars.get(i + 1);
            let boundary = match prev {
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                _ => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else if *c == '-' {
            out.push('_');
        } else {
            out.push(*c);
        }
    }
    out
}

/// Symbol methods (mostly those of its name).
pub fn symbol(it: &mut Interp, recv: &Value, s: &Rc<str>, name: &str, args: &Args) -> R<Option<Value>> {
    let v = match name {
        "to_s" | "id2name" | "name" => Value::str(s.to_string()),
        "to_sym" => recv.clone(),
        "inspect" => Value::str(inspect_sym(s)),
        "to_proc" => Value::Proc(Rc::new(RProc { kind: ProcKind::Symbol(s.to_string()), is_lambda: true, tag: 0 })),
        "==" | "===" => Value::Bool(matches!(arg(args, 0), Value::Sym(o) if o == *s)),
        "<=>" => match arg(args, 0) {
            Value::Sym(o) => Value::Int(cmp_i(s.cmp(&o))),
            _ => Value::Nil,
        },
        "length" | "size" | "upcase" | "downcase" | "capitalize" | "swapcase" | "succ" | "start_with?"
        | "end_with?" | "empty?" | "[]" | "=~" | "match" | "match?" => {
            let as_str = Value::str(s.to_string());
            let Value::Str(rs) = &as_str else { unreachable!() };
            let r = call(it, &as_str, rs, name, args)?;
            match (name, r) {
                ("upcase" | "downcase" | "capitalize" | "swapcase" | "succ", Some(Value::Str(x))) => {
                    Value::sym(&x.s.borrow())
                }
                (_, Some(v)) => v,
                (_, None) => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(v))
}
