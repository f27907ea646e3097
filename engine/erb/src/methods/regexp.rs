//! Regexps: Ruby's syntax translated for the `regex` crate (`^`/`$` match at lines, `\d`, `\w`,
//! `\s` and `\h` are ASCII, `/m` lets `.` match a line break), what the crate cannot do
//! (look-around, back-references) reported as needing a real Ruby; `=~`, `match`, MatchData,
//! `$~` and `$1`..`$9`, and `sub`/`gsub` with Ruby's replacement escapes, hashes and blocks.

use super::arg;
use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;
use regex::Regex;
use std::rc::Rc;

/// Translates a Ruby regexp source to the `regex` crate's syntax.
pub fn translate(source: &str, flags: &str) -> Result<String, String> {
    let mut out = String::from("(?m");
    if flags.contains('i') {
        out.push('i');
    }
    if flags.contains('x') {
        out.push('x');
    }
    if flags.contains('m') {
        out.push('s');
    }
    out.push(')');
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    let mut in_class = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let e = chars[i + 1];
            i += 2;
            let class_body = |inside: bool, ascii: &str, bracketed: &str| {
                if inside {
                    ascii.to_string()
                } else {
                    bracketed.to_string()
                }
            };
            match e {
                'd' => out.push_str(&class_body(in_class > 0, "0-9", "[0-9]")),
                'w' => out.push_str(&class_body(in_class > 0, "a-zA-Z0-9_", "[a-zA-Z0-9_]")),
                's' => out.push_str(&class_body(in_class > 0, "\\t\\n\\x0B\\x0C\\r ", "[\\t\\n\\x0B\\x0C\\r ]")),
                'h' => out.push_str(&class_body(in_class > 0, "0-9a-fA-F", "[0-9a-fA-F]")),
                'D' if in_class == 0 => out.push_str("[^0-9]"),
                'W' if in_class == 0 => out.push_str("[^a-zA-Z0-9_]"),
                'S' if in_class == 0 => out.push_str("[^\\t\\n\\x0B\\x0C\\r ]"),
                'H' if in_class == 0 => out.push_str("[^0-9a-fA-F]"),
                'Z' => return Err("\\Z".into()),
                'G' => return Err("\\G".into()),
                'k' => return Err("a named back-reference (\\k)".into()),
                '1'..='9' if in_class == 0 => return Err(format!("a back-reference (\\{e})")),
                'R' | 'X' | 'K' => return Err(format!("\\{e}")),
                '/' => out.push('/'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            continue;
        }
        if in_class == 0 && c == '(' && chars.get(i + 1) == Some(&'?') {
            let next = chars.get(i + 2).copied();
            let next2 = chars.get(i + 3).copied();
            match (next, next2) {
                (Some('='), _) | (Some('!'), _) => return Err("a look-ahead".into()),
                (Some('<'), Some('=' | '!')) => return Err("a look-behind".into()),
                (Some('>'), _) => return Err("an atomic group".into()),
                (Some('~'), _) => return Err("an absence operator".into()),
                _ => {}
            }
        }
        if in_class == 0 && matches!(c, '+' | '*' | '?' | '}') && chars.get(i + 1) == Some(&'+') {
            return Err("a possessive quantifier".into());
        }
        if c == '[' {
            in_class += 1;
        } else if c == ']' && in_class > 0 {
            in_class -= 1;
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// A regexp literal or `Regexp.new`.
pub fn compile(it: &mut Interp, source: &str, flags: &str) -> R<Value> {
    Ok(Value::Regexp(Rc::new(build(it, source, flags)?)))
}

pub fn build(it: &mut Interp, source: &str, flags: &str) -> R<RRegexp> {
    let translated = match translate(source, flags) {
        Ok(t) => t,
        Err(what) => return it.unsupported(format!("a regexp with {what}: /{source}/")),
    };
    match Regex::new(&translated) {
        Ok(regex) => Ok(RRegexp { source: source.to_string(), flags: flags.to_string(), regex }),
        Err(e) => {
            // Ruby may accept what the crate does not; never guess
            let _ = e;
            it.unsupported(format!("the regexp /{source}/"))
        }
    }
}

pub fn to_s(r: &RRegexp) -> String {
    let on: String = ['m', 'i', 'x'].iter().filter(|f| r.flags.contains(**f)).collect();
    let off: String = ['m', 'i', 'x'].iter().filter(|f| !r.flags.contains(**f)).collect();
    format!("(?{on}{}{off}:{})", if off.is_empty() { "" } else { "-" }, r.source)
}

pub fn inspect(r: &RRegexp) -> String {
    let flags: String = ['m', 'i', 'x'].iter().filter(|f| r.flags.contains(**f)).collect();
    format!("/{}/{flags}", r.source)
}

pub fn match_at_start(re: &Regex, s: &str) -> bool {
    re.find(s).is_some_and(|m| m.start() == 0)
}

/// A pattern argument: a String (literal) or a Regexp.
pub enum Pattern {
    Literal(String),
    Regex(Regex),
}

impl Pattern {
    pub fn from_value(it: &mut Interp, v: &Value) -> R<Pattern> {
        match v {
            Value::Str(s) => Ok(Pattern::Literal(s.s.borrow().clone())),
            Value::Regexp(r) => Ok(Pattern::Regex(r.regex.clone())),
            other => {
                let n = it.class_name(other);
                it.raise("TypeError", &format!("wrong argument type {n} (expected Regexp)"))
            }
        }
    }

    pub fn regex(&self, it: &mut Interp) -> R<Regex> {
        match self {
            Pattern::Regex(r) => Ok(r.clone()),
            Pattern::Literal(s) => match Regex::new(&regex::escape(s)) {
                Ok(r) => Ok(r),
                Err(_) => it.unsupported("a pattern"),
            },
        }
    }
}

/// Sets `$~`, `$1`..`$9` after a match (or clears them).
fn set_last_match(it: &mut Interp, md: &Value) {
    it.globals.insert("$~".into(), md.clone());
    let captures: Vec<Value> = match md {
        Value::Lib(l) => match &**l {
            Lib::MatchData { captures, subject, .. } => {
                captures.iter().map(|c| c.map(|(a, b)| Value::str(&subject[a..b])).unwrap_or(Value::Nil)).collect()
            }
            _ => vec![],
        },
        _ => vec![],
    };
    it.globals.insert("$&".into(), captures.first().cloned().unwrap_or(Value::Nil));
    for n in 1..=9 {
        it.globals.insert(format!("${n}"), captures.get(n).cloned().unwrap_or(Value::Nil));
    }
}

/// The MatchData of `re` on `s` (or nil), setting `$~` when `set` is true.
pub fn match_data_for(it: &mut Interp, re: &Regex, s: &str, set: bool) -> R<Value> {
    let md = match re.captures(s) {
        Some(caps) => {
            let captures = (0..caps.len()).map(|i| caps.get(i).map(|m| (m.start(), m.end()))).collect();
            let names = re.capture_names().map(|n| n.map(String::from)).collect();
            Value::lib(Lib::MatchData { captures, names, subject: s.to_string() })
        }
        None => Value::Nil,
    };
    if set {
        set_last_match(it, &md);
    }
    Ok(md)
}

/// `str =~ re`: the character index of the match, or nil.
pub fn match_op(it: &mut Interp, r: &RRegexp, s: &str) -> R<Value> {
    let md = match_data_for(it, &r.regex, s, true)?;
    Ok(match &md {
        Value::Lib(l) => match &**l {
            Lib::MatchData { captures, .. } => {
                let start = captures[0].map(|c| c.0).unwrap_or(0);
                Value::Int(s[..start].chars().count() as i64)
            }
            _ => Value::Nil,
        },
        _ => Value::Nil,
    })
}

/// Regexp methods.
pub fn call(it: &mut Interp, recv: &Value, r: &Rc<RRegexp>, name: &str, args: &Args) -> R<Option<Value>> {
    let v = match name {
        "source" => Value::str(r.source.clone()),
        "to_s" => Value::str(to_s(r)),
        "inspect" => Value::str(inspect(r)),
        "=~" => match arg(args, 0) {
            Value::Nil => Value::Nil,
            other => {
                let s = it.expect_str(&other)?;
                match_op(it, r, &s)?
            }
        },
        "match" => match arg(args, 0) {
            Value::Nil => {
                set_last_match(it, &Value::Nil);
                Value::Nil
            }
            other => {
                let s = it.expect_str(&other)?;
                match_data_for(it, &r.regex, &s, true)?
            }
        },
        "match?" => match arg(args, 0) {
            Value::Nil => Value::Bool(false),
            other => {
                let s = it.expect_str(&other)?;
                Value::Bool(r.regex.is_match(&s))
            }
        },
        "===" => match arg(args, 0) {
            Value::Str(s) => {
                let s = s.s.borrow().clone();
                Value::Bool(!match_op(it, r, &s)?.is_nil())
            }
            Value::Sym(s) => Value::Bool(r.regex.is_match(&s)),
            _ => Value::Bool(false),
        },
        "casefold?" => Value::Bool(r.flags.contains('i')),
        "names" => Value::array(r.regex.capture_names().flatten().map(Value::str).collect()),
        "freeze" => recv.clone(),
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// MatchData methods.
pub fn match_data(it: &mut Interp, l: &Rc<Lib>, name: &str, args: &Args) -> R<Option<Value>> {
    let Lib::MatchData { captures, names, subject } = &**l else { return Ok(None) };
    let group = |i: usize| -> Value {
        captures.get(i).and_then(|c| *c).map(|(a, b)| Value::str(&subject[a..b])).unwrap_or(Value::Nil)
    };
    let v = match name {
        "[]" => match arg(args, 0) {
            Value::Int(i) => {
                let idx = if i < 0 { captures.len() as i64 + i } else { i };
                if idx < 0 {
                    Value::Nil
                } else {
                    group(idx as usize)
                }
            }
            Value::Str(_) | Value::Sym(_) => {
                let n = it.to_s(&arg(args, 0))?;
                match names.iter().position(|x| x.as_deref() == Some(n.as_str())) {
                    Some(i) => group(i),
                    None => return it.raise("IndexError", &format!("undefined group name reference: {n}")),
                }
            }
            _ => return it.unsupported("MatchData#[] with this argument"),
        },
        "to_a" => Value::array((0..captures.len()).map(group).collect()),
        "captures" => Value::array((1..captures.len()).map(group).collect()),
        "named_captures" => {
            let mut h = RHash::default();
            for (i, n) in names.iter().enumerate() {
                if let Some(n) = n {
                    h.insert(Value::str(n.clone()), group(i));
                }
            }
            Value::hash(h)
        }
        "names" => Value::array(names.iter().flatten().map(|n| Value::str(n.clone())).collect()),
        "pre_match" => Value::str(&subject[..captures[0].map(|c| c.0).unwrap_or(0)]),
        "post_match" => Value::str(&subject[captures[0].map(|c| c.1).unwrap_or(0)..]),
        "to_s" => group(0),
        "begin" => {
            let i = it.expect_int(&arg(args, 0))? as usize;
            match captures.get(i).and_then(|c| *c) {
                Some((a, _)) => Value::Int(subject[..a].chars().count() as i64),
                None => Value::Nil,
            }
        }
        "size" | "length" => Value::Int(captures.len() as i64),
        "string" => Value::frozen_str(subject.clone()),
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// `sub`/`gsub`: a pattern, then a replacement string, a hash, or a block.
pub fn substitute(it: &mut Interp, s: &str, args: &Args, global: bool) -> R<String> {
    let pos = args.positional();
    if pos.is_empty() || pos.len() > 2 {
        return it.arity(pos.len(), "1..2");
    }
    let pattern = Pattern::from_value(it, &pos[0])?;
    let re = pattern.regex(it)?;
    let replacement = pos.get(1).cloned();
    if replacement.is_none() && args.block.is_none() {
        return it.unsupported("gsub without a replacement (an enumerator)");
    }
    let mut out = String::new();
    let mut last = 0;
    let all: Vec<regex::Captures> =
        if global { re.captures_iter(s).collect() } else { re.captures(s).into_iter().collect() };
    for caps in all {
        let m = caps.get(0).unwrap();
        out.push_str(&s[last..m.start()]);
        let text = match &replacement {
            Some(Value::Str(r)) => {
                let template = r.s.borrow().clone();
                expand_replacement(&template, &caps, s, &re)
            }
            Some(Value::Hash(h)) => {
                let v = h.borrow().get(&Value::str(m.as_str())).unwrap_or(Value::Nil);
                it.to_s(&v)?
            }
            Some(other) => {
                let other = other.clone();
                it.expect_str(&other)?
            }
            None => {
                let md = match_data_for(it, &re, &s[m.start()..], false)?;
                let _ = md;
                // `$~` for the block: the match at its place in the whole string
                let captures = (0..caps.len()).map(|i| caps.get(i).map(|g| (g.start(), g.end()))).collect();
                let names = re.capture_names().map(|n| n.map(String::from)).collect();
                let md = Value::lib(Lib::MatchData { captures, names, subject: s.to_string() });
                set_last_match(it, &md);
                let b = args.block.clone().unwrap();
                let r = it.yield1(&b, Value::str(m.as_str()))?;
                it.to_s(&r)?
            }
        };
        out.push_str(&text);
        last = m.end();
        if m.start() == m.end() {
            // an empty match: copy one character and go on
            if let Some(c) = s[last..].chars().next() {
                out.push(c);
                last += c.len_utf8();
            }
        }
    }
    if last <= s.len() {
        out.push_str(&s[last..]);
    }
    Ok(out)
}

/// Ruby's replacement escapes: `\0` `\&` whole match, `\1`..`\9`, `\k<name>`, `` \` `` before,
/// `\'` after, `\\` a backslash.
fn expand_replacement(template: &str, caps: &regex::Captures, subject: &str, re: &Regex) -> String {
    let _ = re;
    let mut out = String::new();
    let chars: Vec<char> = template.chars().collect();
    let mut i = 0;
    let whole = caps.get(0).unwrap();
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            let e = chars[i + 1];
            match e {
                '0' | '&' => out.push_str(whole.as_str()),
                '1'..='9' => {
                    let n = e.to_digit(10).unwrap() as usize;
                    if let Some(g) = caps.get(n) {
                        out.push_str(g.as_str());
                    }
                }
                '`' => out.push_str(&subject[..whole.start()]),
                '\'' => out.push_str(&subject[whole.end()..]),
                '\\' => out.push('\\'),
                'k' if chars.get(i + 2) == Some(&'<') => {
                    let end = chars[i + 3..].iter().position(|c| *c == '>');
                    if let Some(end) = end {
                        let name: String = chars[i + 3..i + 3 + end].iter().collect();
                        if let Some(g) = caps.name(&name) {
                            out.push_str(g.as_str());
                        }
                        i += 4 + end;
                        continue;
                    }
                    out.push('\\');
                    out.push(e);
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            i += 2;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn translates_ruby_syntax() {
        assert_eq!(translate(r"\d+", "").unwrap(), "(?m)[0-9]+");
        assert_eq!(translate(r"[\w-]", "i").unwrap(), "(?mi)[a-zA-Z0-9_-]");
        assert!(translate(r"a(?=b)", "").is_err());
        assert!(translate(r"(a)\1", "").is_err());
        assert_eq!(translate("a.b", "m").unwrap(), "(?ms)a.b");
    }
}
