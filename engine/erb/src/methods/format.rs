//! Text formats: `format`/`sprintf`/`String#%` (flags, width, precision; `%s %d %i %f %e %g %x
//! %o %b %c %p %%`, `%<name>s`, `%{name}`), `to_json`/`JSON.generate` as the json gem writes it,
//! and `JSON.parse` (objects keep their order).

use crate::error::R;
use crate::interp::{Args, Interp};
use crate::value::*;

/// `format(fmt, *values)`.
pub fn sprintf(it: &mut Interp, fmt: &str, values: &[Value]) -> R<String> {
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::new();
    let mut next = 0usize;
    let mut i = 0;
    let hash = match values.first() {
        Some(Value::Hash(h)) => Some(h.clone()),
        _ => None,
    };
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if i >= chars.len() {
            return it.raise("ArgumentError", "incomplete format specifier; use %% (double %) instead");
        }
        if chars[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        let mut flags = String::new();
        while i < chars.len() && "-+ 0#".contains(chars[i]) {
            flags.push(chars[i]);
            i += 1;
        }
        // %{name} and %<name>
        let mut named: Option<Value> = None;
        if i < chars.len() && (chars[i] == '{' || chars[i] == '<') {
            let close = if chars[i] == '{' { '}' } else { '>' };
            let brace = chars[i] == '{';
            let end = chars[i..].iter().position(|c| *c == close).map(|p| p + i);
            let Some(end) = end else { return it.raise("ArgumentError", "malformed name - unmatched parenthesis") };
            let key: String = chars[i + 1..end].iter().collect();
            let Some(h) = &hash else { return it.raise("ArgumentError", "one hash required") };
            let v = h.borrow().get(&Value::sym(&key));
            let Some(v) = v else { return it.raise("KeyError", &format!("key<{key}> not found")) };
            i = end + 1;
            if brace {
                out.push_str(&it.to_s(&v)?);
                continue;
            }
            named = Some(v);
            while i < chars.len() && "-+ 0#".contains(chars[i]) {
                flags.push(chars[i]);
                i += 1;
            }
        }
        let mut width = String::new();
        while i < chars.len() && chars[i].is_ascii_digit() {
            width.push(chars[i]);
            i += 1;
        }
        if i < chars.len() && chars[i] == '*' {
            return it.unsupported("format with * width");
        }
        let mut precision: Option<usize> = None;
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            let mut p = String::new();
            while i < chars.len() && chars[i].is_ascii_digit() {
                p.push(chars[i]);
                i += 1;
            }
            precision = Some(p.parse().unwrap_or(0));
        }
        if i >= chars.len() {
            return it.raise("ArgumentError", "malformed format string - %*[0-9]");
        }
        let conv = chars[i];
        i += 1;
        let value = match named.take() {
            Some(v) => v,
            None => {
                let Some(v) = values.get(next).cloned() else { return it.raise("ArgumentError", "too few arguments") };
                next += 1;
                v
            }
        };
        let width: usize = width.parse().unwrap_or(0);
        let left = flags.contains('-');
        let zero = flags.contains('0') && !left;
        let plus = flags.contains('+');
        let space = flags.contains(' ');
        let body = match conv {
            's' | 'p' => {
                let mut s = if conv == 's' { it.to_s(&value)? } else { it.inspect(&value)? };
                if let Some(p) = precision {
                    s = s.chars().take(p).collect();
                }
                s
            }
            'd' | 'i' | 'u' => {
                let n = to_integer(it, &value)?;
                let mut s = n.abs().to_string();
                if let Some(p) = precision {
                    while s.len() < p {
                        s.insert(0, '0');
                    }
                }
                sign(n < 0, plus, space) + &s
            }
            'f' | 'e' | 'E' | 'g' | 'G' => {
                let f = match &value {
                    Value::Int(n) => *n as f64,
                    Value::Float(f) => *f,
                    Value::Str(s) => match s.s.borrow().trim().parse::<f64>() {
                        Ok(f) => f,
                        Err(_) => {
                            let shown = inspect_str(&s.s.borrow());
                            return it.raise("ArgumentError", &format!("invalid value for Float(): {shown}"));
                        }
                    },
                    other => {
                        let n = it.implicit_name(other);
                        return it.raise("TypeError", &format!("can't convert {n} into Float"));
                    }
                };
                let p = precision.unwrap_or(6);
                let s = match conv {
                    'f' => crate::value::decimal_round(f.abs(), p, true),
                    'e' | 'E' => {
                        let s = format!("{:.*e}", p, f.abs());
                        let (m, e) = s.split_once('e').unwrap();
                        let e: i32 = e.parse().unwrap();
                        let s = format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
                        if conv == 'E' {
                            s.to_uppercase()
                        } else {
                            s
                        }
                    }
                    _ => return it.unsupported("format %g"),
                };
                sign(f.is_sign_negative() && !f.is_nan(), plus, space) + &s
            }
            'x' | 'X' | 'o' | 'b' | 'B' => {
                let n = to_integer(it, &value)?;
                let digits = match conv {
                    'x' => format!("{:x}", n.abs()),
                    'X' => format!("{:X}", n.abs()),
                    'o' => format!("{:o}", n.abs()),
                    _ => format!("{:b}", n.abs()),
                };
                let prefix = if flags.contains('#') {
                    match conv {
                        'x' => "0x",
                        'X' => "0X",
                        'o' => "0",
                        'b' => "0b",
                        _ => "0B",
                    }
                } else {
                    ""
                };
                if n < 0 {
                    return it.unsupported("format of a negative number in hex/octal/binary");
                }
                sign(false, plus, space) + prefix + &digits
            }
            'c' => match &value {
                Value::Int(n) => char::from_u32(*n as u32).map(String::from).unwrap_or_default(),
                other => it.to_s(other)?.chars().take(1).collect(),
            },
            other => return it.raise("ArgumentError", &format!("malformed format string - %{other}")),
        };
        let len = body.chars().count();
        if len >= width {
            out.push_str(&body);
        } else if left {
            out.push_str(&body);
            out.push_str(&" ".repeat(width - len));
        } else if zero && matches!(conv, 'd' | 'i' | 'u' | 'f' | 'e' | 'E' | 'x' | 'X' | 'o' | 'b' | 'B') {
            let (sign_part, digits) = match body.chars().next() {
                Some('-' | '+' | ' ') => body.split_at(1),
                _ => ("", body.as_str()),
            };
            out.push_str(sign_part);
            out.push_str(&"0".repeat(width - len));
            out.push_str(digits);
        } else {
            out.push_str(&" ".repeat(width - len));
            out.push_str(&body);
        }
    }
    Ok(out)
}

fn sign(negative: bool, plus: bool, space: bool) -> String {
    if negative {
        "-".into()
    } else if plus {
        "+".into()
    } else if space {
        " ".into()
    } else {
        String::new()
    }
}

fn to_integer(it: &mut Interp, v: &Value) -> R<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) => Ok(f.floor() as i64),
        Value::Str(s) => {
            let text = s.s.borrow().clone();
            match super::kernel::parse_integer_strict(&text, None) {
                Some(i) => Ok(i),
                None => it.raise("ArgumentError", &format!("invalid value for Integer(): {}", inspect_str(&text))),
            }
        }
        Value::Nil => it.raise("TypeError", "can't convert nil into Integer"),
        other => {
            let n = it.class_name(other);
            it.raise("TypeError", &format!("can't convert {n} into Integer"))
        }
    }
}

/// `to_json`.
pub fn to_json(it: &mut Interp, v: &Value, _args: &Args) -> R<Value> {
    Ok(Value::str(json(it, v, None)?))
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// JSON text; `indent` for `pretty_generate` (two spaces per level).
pub fn json(it: &mut Interp, v: &Value, indent: Option<usize>) -> R<String> {
    let nl = |level: usize| format!("\n{}", "  ".repeat(level));
    Ok(match v {
        Value::Nil => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            if !f.is_finite() {
                let shown = float_to_s(*f);
                return it.raise("JSON::GeneratorError", &format!("{shown} not allowed in JSON"));
            }
            float_to_s(*f)
        }
        Value::Str(s) => json_str(&s.s.borrow()),
        Value::Sym(s) => json_str(s),
        Value::Array(a) => {
            let items = a.borrow().clone();
            if items.is_empty() {
                return Ok("[]".into());
            }
            let mut parts = vec![];
            for x in &items {
                parts.push(json(it, x, indent.map(|l| l + 1))?);
            }
            match indent {
                Some(l) => format!("[{}{}{}]", nl(l + 1), parts.join(&format!(",{}", nl(l + 1))), nl(l)),
                None => format!("[{}]", parts.join(",")),
            }
        }
        Value::Hash(h) => {
            let pairs = h.borrow().pairs();
            if pairs.is_empty() {
                return Ok("{}".into());
            }
            let mut parts = vec![];
            for (k, x) in &pairs {
                let key = json_str(&it.to_s(k)?);
                let val = json(it, x, indent.map(|l| l + 1))?;
                parts.push(if indent.is_some() { format!("{key}: {val}") } else { format!("{key}:{val}") });
            }
            match indent {
                Some(l) => format!("{{{}{}{}}}", nl(l + 1), parts.join(&format!(",{}", nl(l + 1))), nl(l)),
                None => format!("{{{}}}", parts.join(",")),
            }
        }
        other => json_str(&it.to_s(other)?),
    })
}

/// `JSON.parse`; `None` when the text is not valid JSON.
pub fn parse_json(s: &str, symbolize: bool) -> Option<Value> {
    let chars: Vec<char> = s.chars().collect();
    let mut pos = 0;
    let v = json_value(&chars, &mut pos, symbolize)?;
    skip_ws(&chars, &mut pos);
    if pos != chars.len() {
        return None;
    }
    Some(v)
}

fn skip_ws(c: &[char], pos: &mut usize) {
    while *pos < c.len() && c[*pos].is_whitespace() {
        *pos += 1;
    }
}

fn json_value(c: &[char], pos: &mut usize, symbolize: bool) -> Option<Value> {
    skip_ws(c, pos);
    match c.get(*pos)? {
        '{' => {
            *pos += 1;
            let mut h = RHash::default();
            skip_ws(c, pos);
            if c.get(*pos) == Some(&'}') {
                *pos += 1;
                return Some(Value::hash(h));
            }
            loop {
                skip_ws(c, pos);
                let Value::Str(k) = json_string(c, pos)? else { return None };
                skip_ws(c, pos);
                if c.get(*pos) != Some(&':') {
                    return None;
                }
                *pos += 1;
                let v = json_value(c, pos, symbolize)?;
                let key = if symbolize { Value::sym(&k.s.borrow()) } else { Value::Str(k) };
                h.insert(key, v);
                skip_ws(c, pos);
                match c.get(*pos)? {
                    ',' => *pos += 1,
                    '}' => {
                        *pos += 1;
                        return Some(Value::hash(h));
                    }
                    _ => return None,
                }
            }
        }
        '[' => {
            *pos += 1;
            let mut items = vec![];
            skip_ws(c, pos);
            if c.get(*pos) == Some(&']') {
                *pos += 1;
                return Some(Value::array(items));
            }
            loop {
                items.push(json_value(c, pos, symbolize)?);
                skip_ws(c, pos);
                match c.get(*pos)? {
                    ',' => *pos += 1,
                    ']' => {
                        *pos += 1;
                        return Some(Value::array(items));
                    }
                    _ => return None,
                }
            }
        }
        '"' => json_string(c, pos),
        't' if c[*pos..].starts_with(&['t', 'r', 'u', 'e']) => {
            *pos += 4;
            Some(Value::Bool(true))
        }
        'f' if c[*pos..].starts_with(&['f', 'a', 'l', 's', 'e']) => {
            *pos += 5;
            Some(Value::Bool(false))
        }
        'n' if c[*pos..].starts_with(&['n', 'u', 'l', 'l']) => {
            *pos += 4;
            Some(Value::Nil)
        }
        _ => {
            let start = *pos;
            while *pos < c.len() && (c[*pos].is_ascii_digit() || "+-.eE".contains(c[*pos])) {
                *pos += 1;
            }
            let text: String = c[start..*pos].iter().collect();
            if text.contains(['.', 'e', 'E']) {
                text.parse().ok().map(Value::Float)
            } else {
                text.parse().ok().map(Value::Int)
            }
        }
    }
}

fn json_string(c: &[char], pos: &mut usize) -> Option<Value> {
    if c.get(*pos) != Some(&'"') {
        return None;
    }
    *pos += 1;
    let mut s = String::new();
    loop {
        let ch = *c.get(*pos)?;
        *pos += 1;
        match ch {
            '"' => return Some(Value::str(s)),
            '\\' => {
                let e = *c.get(*pos)?;
                *pos += 1;
                match e {
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'r' => s.push('\r'),
                    'b' => s.push('\x08'),
                    'f' => s.push('\x0c'),
                    'u' => {
                        let hex: String = c.get(*pos..*pos + 4)?.iter().collect();
                        *pos += 4;
                        s.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    other => s.push(other),
                }
            }
            other => s.push(other),
        }
    }
}

/// `to_yaml` needs Psych's emitter: not built in.
pub fn to_yaml(it: &mut Interp, _v: &Value, _args: &Args) -> R<Value> {
    it.unsupported("to_yaml")
}
