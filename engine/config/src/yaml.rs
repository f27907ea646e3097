//! YAML the way Ruby's Psych reads and writes it, on libyaml (the C library Psych binds, here in
//! its Rust translation `unsafe-libyaml`): same parser, same events, same error messages.
//!
//! Loading ([`load_str`]) builds a [`serde_yaml::Value`] with Psych's rules:
//! - plain scalars resolve as Psych's `ScalarScanner#tokenize` does (YAML 1.1-ish: `yes`/`no`/
//!   `on`/`off` are booleans, `1_000` and `0x1F` integers, `0755` octal, `1:30` sexagesimal,
//!   `~`/`null`/empty nil, `:name` a Ruby symbol);
//! - Ruby symbols are `Value::Tagged` with tag `!ruby/symbol` (see [`symbol`]), dates and times
//!   `!ruby/date` / `!ruby/time` holding the source text;
//! - anchors and aliases are expanded; `<<` merge keys merge as Psych does (`hash.merge!`);
//! - duplicate keys keep the last value, at the first key's position (Ruby's `Hash#[]=`).
//!
//! Emitting ([`to_yaml`]) follows Psych's `YAMLTree` style choices (which strings get quoted) and
//! lets libyaml lay the document out, so `kamal config` output matches byte for byte.

use crate::error::{ConfigError, ErrorKind};
use serde_yaml::value::{Tag, TaggedValue};
use serde_yaml::{Mapping, Number, Value};
use std::collections::HashMap;
use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::ptr;
#[allow(clippy::unsafe_removed_from_name)]
use unsafe_libyaml as sys;

const SYMBOL_TAG: &str = "!ruby/symbol";
const DATE_TAG: &str = "!ruby/date";
const TIME_TAG: &str = "!ruby/time";

/// A Ruby symbol (`:name` in YAML) as a value.
pub fn symbol(name: &str) -> Value {
    Value::Tagged(Box::new(TaggedValue { tag: Tag::new(SYMBOL_TAG), value: Value::String(name.to_string()) }))
}

/// The name of a Ruby symbol value.
pub fn as_symbol(v: &Value) -> Option<&str> {
    match v {
        Value::Tagged(t) if t.tag == Tag::new(SYMBOL_TAG) => t.value.as_str(),
        _ => None,
    }
}

/// Whether a value is a Ruby `Date` or `Time` loaded from a plain scalar.
pub fn is_date_or_time(v: &Value) -> bool {
    matches!(v, Value::Tagged(t) if t.tag == Tag::new(DATE_TAG) || t.tag == Tag::new(TIME_TAG))
}

fn tagged(tag: &str, s: &str) -> Value {
    Value::Tagged(Box::new(TaggedValue { tag: Tag::new(tag), value: Value::String(s.to_string()) }))
}

// ---------------------------------------------------------------------------------------------
// Loading

enum Event {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias(String),
    Scalar { anchor: Option<String>, tag: Option<String>, value: String, plain: bool },
    SequenceStart { anchor: Option<String> },
    SequenceEnd,
    MappingStart { anchor: Option<String> },
    MappingEnd,
}

struct Parser<'a> {
    sys: Box<MaybeUninit<sys::yaml_parser_t>>,
    _input: &'a [u8],
    file: Option<String>,
}

impl<'a> Parser<'a> {
    fn new(input: &'a [u8], file: Option<String>) -> Self {
        let mut sys = Box::new(MaybeUninit::<sys::yaml_parser_t>::uninit());
        unsafe {
            let p = sys.as_mut_ptr();
            if sys::yaml_parser_initialize(p).fail {
                panic!("libyaml: out of memory");
            }
            sys::yaml_parser_set_encoding(p, sys::YAML_UTF8_ENCODING);
            sys::yaml_parser_set_input_string(p, input.as_ptr(), input.len() as u64);
        }
        Parser { sys, _input: input, file }
    }

    fn error(&self) -> ConfigError {
        // Psych::SyntaxError: "(<file>): <problem> <context> at line L column C", with the
        // context mark (1-based) as Psych reports it.
        unsafe {
            let p = &*self.sys.as_ptr();
            let problem = cstr(p.problem);
            let context = cstr(p.context);
            let err: Vec<String> = [problem, context].into_iter().flatten().collect();
            let file = self.file.clone().unwrap_or_else(|| "<unknown>".to_string());
            ConfigError::new(
                ErrorKind::Yaml,
                format!(
                    "({}): {} at line {} column {}",
                    file,
                    err.join(" "),
                    p.context_mark.line + 1,
                    p.context_mark.column + 1
                ),
            )
        }
    }

    fn next(&mut self) -> Result<Event, ConfigError> {
        let mut event = MaybeUninit::<sys::yaml_event_t>::uninit();
        unsafe {
            let p = self.sys.as_mut_ptr();
            if sys::yaml_parser_parse(p, event.as_mut_ptr()).fail {
                return Err(self.error());
            }
            let e = &*event.as_ptr();
            let out = match e.type_ {
                sys::YAML_STREAM_START_EVENT => Event::StreamStart,
                sys::YAML_STREAM_END_EVENT => Event::StreamEnd,
                sys::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
                sys::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
                sys::YAML_ALIAS_EVENT => Event::Alias(cstr_u8(e.data.alias.anchor).unwrap_or_default()),
                sys::YAML_SCALAR_EVENT => {
                    let s = e.data.scalar;
                    let bytes = std::slice::from_raw_parts(s.value, s.length as usize);
                    Event::Scalar {
                        anchor: cstr_u8(s.anchor),
                        tag: cstr_u8(s.tag),
                        value: String::from_utf8_lossy(bytes).into_owned(),
                        plain: s.style == sys::YAML_PLAIN_SCALAR_STYLE,
                    }
                }
                sys::YAML_SEQUENCE_START_EVENT => {
                    Event::SequenceStart { anchor: cstr_u8(e.data.sequence_start.anchor) }
                }
                sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
                sys::YAML_MAPPING_START_EVENT => Event::MappingStart { anchor: cstr_u8(e.data.mapping_start.anchor) },
                sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
                _ => Event::StreamEnd,
            };
            sys::yaml_event_delete(event.as_mut_ptr());
            Ok(out)
        }
    }
}

impl Drop for Parser<'_> {
    fn drop(&mut self) {
        unsafe { sys::yaml_parser_delete(self.sys.as_mut_ptr()) }
    }
}

unsafe fn cstr(p: *const std::ffi::c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        Some(CStr::from_ptr(p).to_string_lossy().into_owned())
    }
}

unsafe fn cstr_u8(p: *const u8) -> Option<String> {
    cstr(p as *const std::ffi::c_char)
}

struct Loader<'a> {
    parser: Parser<'a>,
    anchors: HashMap<String, Value>,
}

impl Loader<'_> {
    fn node(&mut self, event: Event) -> Result<Value, ConfigError> {
        match event {
            Event::Alias(name) => Ok(self.anchors.get(&name).cloned().unwrap_or(Value::Null)),
            Event::Scalar { anchor, tag, value, plain } => {
                let v = resolve_scalar(&value, tag.as_deref(), plain);
                if let Some(a) = anchor {
                    self.anchors.insert(a, v.clone());
                }
                Ok(v)
            }
            Event::SequenceStart { anchor } => {
                let mut items = vec![];
                loop {
                    match self.parser.next()? {
                        Event::SequenceEnd => break,
                        e => items.push(self.node(e)?),
                    }
                }
                let v = Value::Sequence(items);
                if let Some(a) = anchor {
                    self.anchors.insert(a, v.clone());
                }
                Ok(v)
            }
            Event::MappingStart { anchor } => {
                let mut map = Mapping::new();
                loop {
                    let key_event = self.parser.next()?;
                    if let Event::MappingEnd = key_event {
                        break;
                    }
                    let merge_key = matches!(&key_event, Event::Scalar { value, tag, .. }
                        if value == "<<" && tag.as_deref() != Some("tag:yaml.org,2002:str"));
                    let key = self.node(key_event)?;
                    let value = {
                        let e = self.parser.next()?;
                        self.node(e)?
                    };
                    if merge_key {
                        merge_into(&mut map, value);
                    } else {
                        map.insert(key, value);
                    }
                }
                let v = Value::Mapping(map);
                if let Some(a) = anchor {
                    self.anchors.insert(a, v.clone());
                }
                Ok(v)
            }
            _ => Ok(Value::Null),
        }
    }
}

/// Psych's `<<` handling: a hash is `merge!`d; an array of hashes is merged right to left
/// first; anything else is stored under the `<<` key.
fn merge_into(map: &mut Mapping, value: Value) {
    match value {
        Value::Mapping(m) => {
            for (k, v) in m {
                map.insert(k, v);
            }
        }
        Value::Sequence(items) if items.iter().all(|i| matches!(i, Value::Mapping(_))) => {
            let mut h = Mapping::new();
            for item in items.into_iter().rev() {
                if let Value::Mapping(m) = item {
                    for (k, v) in m {
                        h.insert(k, v);
                    }
                }
            }
            for (k, v) in h {
                map.insert(k, v);
            }
        }
        other => {
            map.insert(Value::String("<<".into()), other);
        }
    }
}

/// Loads the first document of a YAML string as Psych's `unsafe_load` does; an empty stream is
/// `false` (as in Psych). `file` names the file in syntax errors (`(<unknown>)` otherwise).
pub fn load_str(input: &str, file: Option<&str>) -> Result<Value, ConfigError> {
    let mut loader = Loader { parser: Parser::new(input.as_bytes(), file.map(String::from)), anchors: HashMap::new() };
    loop {
        match loader.parser.next()? {
            Event::StreamStart => continue,
            Event::DocumentStart => {
                let e = loader.parser.next()?;
                let v = loader.node(e)?;
                return Ok(v);
            }
            Event::StreamEnd => return Ok(Value::Bool(false)),
            Event::DocumentEnd => continue,
            _ => continue,
        }
    }
}

fn resolve_scalar(value: &str, tag: Option<&str>, plain: bool) -> Value {
    match tag {
        None => {
            if plain {
                tokenize(value)
            } else {
                Value::String(value.to_string())
            }
        }
        Some("tag:yaml.org,2002:str") | Some("!str") => Value::String(value.to_string()),
        Some("tag:yaml.org,2002:int") => match parse_int(value) {
            Some(v) => v,
            None => Value::String(value.to_string()),
        },
        Some("tag:yaml.org,2002:float") | Some("!float") => match tokenize(value) {
            Value::Number(n) => Value::Number(Number::from(n.as_f64().unwrap_or(0.0))),
            other => other,
        },
        Some("tag:yaml.org,2002:null") => Value::Null,
        Some("tag:yaml.org,2002:bool") => tokenize(value),
        Some("!ruby/symbol") | Some("!ruby/sym") => symbol(value),
        Some(_) => {
            if plain {
                tokenize(value)
            } else {
                Value::String(value.to_string())
            }
        }
    }
}

fn is_word_or_special(c: char) -> bool {
    // [[:alpha:]_\s!@#$%\^&*(){}<>|/\\~;=]
    c.is_alphabetic() || c == '_' || c.is_whitespace() || "!@#$%^&*(){}<>|/\\~;=".contains(c)
}

/// `%r{^[^\d.:-]?[[:alpha:]_\s!@#$%\^&*(){}<>|/\\~;=]+}` (prefix match).
fn looks_like_string(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else { return false };
    if is_word_or_special(first) {
        return true;
    }
    if first.is_ascii_digit() || first == '.' || first == ':' || first == '-' {
        return false;
    }
    chars.next().map(is_word_or_special).unwrap_or(false)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// `^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$`
fn is_time(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize, min: usize, max: usize| -> bool {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        *i - start >= min
    };
    if !digits(&mut i, 4, 4) || b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    if !digits(&mut i, 1, 2) || b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    if !digits(&mut i, 1, 2) {
        return false;
    }
    match b.get(i) {
        Some(b'T') | Some(b't') => i += 1,
        Some(c) if c.is_ascii_whitespace() => {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1
            }
        }
        _ => return false,
    }
    if !digits(&mut i, 1, 2) || b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    if !digits(&mut i, 2, 2) || b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    if !digits(&mut i, 2, 2) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1
        }
    }
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1
    }
    if i == b.len() {
        return true;
    }
    if b[i] == b'Z' {
        return i + 1 == b.len();
    }
    if b[i] == b'-' || b[i] == b'+' {
        i += 1;
        if !digits(&mut i, 1, 2) {
            return false;
        }
        if b.get(i) == Some(&b':') {
            i += 1
        }
        let rest = &s[i..];
        return rest.is_empty() || (rest.len() == 2 && all_digits(rest));
    }
    false
}

/// `^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$`
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || !all_digits(parts[0]) {
        return false;
    }
    let (m, d) = (parts[1], parts[2]);
    let month_ok =
        all_digits(m) && (m.len() == 1 || (m.len() == 2 && (m.starts_with('0') || ["10", "11", "12"].contains(&m))));
    let day_ok = all_digits(d)
        && (d.len() == 1
            || (d.len() == 2
                && (d.starts_with('0') || d.starts_with('1') || d.starts_with('2') || d == "30" || d == "31")));
    month_ok && day_ok
}

/// `^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}(\.[0-9_]*)?$` → the parts, if it matches.
fn sexagesimal(s: &str, float: bool) -> bool {
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) if float => (m, Some(f)),
        Some(_) => return false,
        None if float => return false,
        None => (s, None),
    };
    if let Some(f) = frac {
        if !f.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return false;
        }
    }
    let parts: Vec<&str> = main.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return false;
    }
    let head = parts[0].strip_prefix(['-', '+']).unwrap_or(parts[0]);
    if head.is_empty()
        || !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return false;
    }
    parts[1..].iter().all(|p| {
        let b = p.as_bytes();
        match b.len() {
            1 => b[0].is_ascii_digit(),
            2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
            _ => false,
        }
    })
}

/// Ruby's `String#to_i` (leading integer, 0 when none).
fn ruby_to_i(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let mut n: i64 = 0;
    let mut prev_digit = false;
    for c in rest.chars() {
        if let Some(d) = c.to_digit(10) {
            n = n.saturating_mul(10).saturating_add(d as i64);
            prev_digit = true;
        } else if c == '_' && prev_digit {
            prev_digit = false;
        } else {
            break;
        }
    }
    if neg {
        -n
    } else {
        n
    }
}

/// Psych's `FLOAT` regexp (base 10 part):
/// `^[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?$`
fn is_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let Some((int, rest)) = s.split_once('.') else { return false };
    if !int.is_empty()
        && (!int.starts_with(|c: char| c.is_ascii_digit())
            || !int.chars().all(|c| c.is_ascii_digit() || c == '_' || c == ','))
    {
        return false;
    }
    let (frac, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    match exp {
        None => true,
        Some(e) => {
            let Some(d) = e.strip_prefix(['-', '+']) else { return false };
            all_digits(d)
        }
    }
}

/// Psych's legacy `INTEGER` regexp and `Integer(string.delete(",_"))`.
fn parse_int(s: &str) -> Option<Value> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let clean = |t: &str| t.chars().filter(|c| *c != '_' && *c != ',').collect::<String>();
    let magnitude: Option<i128> = if let Some(bin) = body.strip_prefix("0b") {
        if !bin.is_empty() && bin.chars().all(|c| c == '0' || c == '1' || c == '_' || c == ',') {
            i128::from_str_radix(&clean(bin), 2).ok()
        } else {
            None
        }
    } else if let Some(hex) = body.strip_prefix("0x") {
        if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit() || c == '_' || c == ',') {
            i128::from_str_radix(&clean(hex), 16).ok()
        } else {
            None
        }
    } else if body.len() > 1 && body.starts_with('0') {
        if body[1..].chars().all(|c| ('0'..='7').contains(&c) || c == '_' || c == ',') {
            let digits = clean(&body[1..]);
            if digits.is_empty() {
                Some(0)
            } else {
                i128::from_str_radix(&digits, 8).ok()
            }
        } else {
            None
        }
    } else if body == "0" {
        Some(0)
    } else {
        // [1-9](?:[0-9]|,[0-9]|_[0-9])*
        let b = body.as_bytes();
        if b.is_empty() || !(b'1'..=b'9').contains(&b[0]) {
            return None;
        }
        let mut i = 1;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                i += 1;
            } else if (b[i] == b',' || b[i] == b'_') && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
                i += 2;
            } else {
                return None;
            }
        }
        clean(body).parse::<i128>().ok()
    };
    let m = magnitude?;
    let n = if neg { -m } else { m };
    if let Ok(i) = i64::try_from(n) {
        Some(Value::Number(Number::from(i)))
    } else if let Ok(u) = u64::try_from(n) {
        Some(Value::Number(Number::from(u)))
    } else {
        Some(Value::Number(Number::from(n as f64)))
    }
}

/// Psych's `ScalarScanner#tokenize` for plain scalars.
pub fn tokenize(s: &str) -> Value {
    if s.is_empty() {
        return Value::Null;
    }
    if looks_like_string(s) || s.contains('\n') {
        if s.chars().count() > 5 {
            return Value::String(s.to_string());
        }
        let first = s.chars().next().unwrap().to_ascii_lowercase();
        if !"ytonf~".contains(first) {
            return Value::String(s.to_string());
        }
        let lower = s.to_ascii_lowercase();
        return match lower.as_str() {
            "~" | "null" => Value::Null,
            "yes" | "true" | "on" => Value::Bool(true),
            "no" | "false" | "off" => Value::Bool(false),
            _ => Value::String(s.to_string()),
        };
    }
    if is_time(s) {
        return tagged(TIME_TAG, s);
    }
    if is_date(s) {
        return tagged(DATE_TAG, s);
    }
    let lower = s.to_ascii_lowercase();
    if lower == ".inf" || lower == "+.inf" {
        return Value::Number(Number::from(f64::INFINITY));
    }
    if lower == "-.inf" {
        return Value::Number(Number::from(f64::NEG_INFINITY));
    }
    if lower == ".nan" {
        return Value::Number(Number::from(f64::NAN));
    }
    if s.starts_with(':') && s.len() > 1 {
        let name = &s[1..];
        let name = if (name.starts_with('"') || name.starts_with('\'')) && name.len() >= 2 {
            let q = &name[..1];
            match name[1..].find(q) {
                Some(end) => name[1..1 + end].strip_prefix(':').unwrap_or(&name[1..1 + end]),
                None => name,
            }
        } else {
            name
        };
        return symbol(name);
    }
    if sexagesimal(s, false) {
        let parts: Vec<&str> = s.split(':').collect();
        let mut i: i64 = 0;
        for (e, n) in parts.iter().enumerate() {
            i += ruby_to_i(n) * 60_i64.pow((e as i32 - 2).unsigned_abs());
        }
        return Value::Number(Number::from(i));
    }
    if sexagesimal(s, true) {
        let parts: Vec<&str> = s.split(':').collect();
        let mut f: f64 = 0.0;
        for (e, n) in parts.iter().enumerate() {
            let v: f64 = n.replace('_', "").parse().unwrap_or(ruby_to_i(n) as f64);
            f += v * 60_f64.powi((e as i32 - 2).abs());
        }
        return Value::Number(Number::from(f));
    }
    if is_float(s) {
        let t = s.strip_prefix(['-', '+']).unwrap_or(s);
        if t == "." {
            return Value::String(s.to_string());
        }
        let cleaned: String = s.chars().filter(|c| *c != ',' && *c != '_').collect();
        // gsub(/\.([Ee]|$)/, '\1')
        let cleaned = cleaned.replace(".e", "e").replace(".E", "E");
        let cleaned = cleaned.strip_suffix('.').map(String::from).unwrap_or(cleaned);
        let cleaned = if cleaned.starts_with('.') || cleaned.starts_with("-.") || cleaned.starts_with("+.") {
            cleaned.replacen('.', "0.", 1)
        } else {
            cleaned
        };
        if let Ok(f) = cleaned.parse::<f64>() {
            return Value::Number(Number::from(f));
        }
        return Value::String(s.to_string());
    }
    if let Some(v) = parse_int(s) {
        return v;
    }
    Value::String(s.to_string())
}

// ---------------------------------------------------------------------------------------------
// Emitting

/// A value to emit with Psych's `to_yaml`: plain YAML values plus Ruby objects that appear in
/// `kamal config` output.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A loaded YAML value (symbols as [`symbol`] values).
    Value(Value),
    /// A Ruby hash with arbitrary node keys and values (e.g. symbol keys).
    Hash(Vec<(Node, Node)>),
    /// A Ruby array.
    Array(Vec<Node>),
    /// A Ruby object (`!ruby/object:Class` with instance variables).
    Object(String, Vec<(String, Node)>),
}

impl Node {
    /// A string node.
    pub fn str(s: impl Into<String>) -> Node {
        Node::Value(Value::String(s.into()))
    }

    /// A symbol node (`:name`).
    pub fn sym(s: &str) -> Node {
        Node::Value(symbol(s))
    }
}

struct Emitter {
    sys: Box<MaybeUninit<sys::yaml_emitter_t>>,
    // boxed: libyaml's write handler holds a pointer to it
    #[allow(clippy::box_collection)]
    out: Box<Vec<u8>>,
}

unsafe fn write_handler(data: *mut std::ffi::c_void, buffer: *mut u8, size: u64) -> i32 {
    let out = &mut *(data as *mut Vec<u8>);
    out.extend_from_slice(std::slice::from_raw_parts(buffer, size as usize));
    1
}

#[derive(Clone, Copy)]
enum Style {
    Any,
    Plain,
    Single,
    Double,
    Literal,
}

impl Emitter {
    fn new() -> Self {
        let mut sys = Box::new(MaybeUninit::<sys::yaml_emitter_t>::uninit());
        let mut out = Box::new(Vec::new());
        unsafe {
            let e = sys.as_mut_ptr();
            if sys::yaml_emitter_initialize(e).fail {
                panic!("libyaml: out of memory");
            }
            // Psych::Emitter: unicode on, indentation 2, line width 0 (libyaml then uses 80)
            sys::yaml_emitter_set_unicode(e, true);
            sys::yaml_emitter_set_indent(e, 2);
            sys::yaml_emitter_set_width(e, 0);
            sys::yaml_emitter_set_output(e, write_handler, (&mut *out) as *mut Vec<u8> as *mut std::ffi::c_void);
        }
        Emitter { sys, out }
    }

    fn emit(&mut self, f: impl FnOnce(*mut sys::yaml_event_t) -> bool) -> Result<(), ConfigError> {
        let mut event = MaybeUninit::<sys::yaml_event_t>::uninit();
        unsafe {
            if f(event.as_mut_ptr()) {
                return Err(ConfigError::runtime("YAML emitter: invalid event"));
            }
            if sys::yaml_emitter_emit(self.sys.as_mut_ptr(), event.as_mut_ptr()).fail {
                return Err(ConfigError::runtime("YAML emitter error"));
            }
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        value: &str,
        tag: Option<&str>,
        plain: bool,
        quoted: bool,
        style: Style,
    ) -> Result<(), ConfigError> {
        let tag_c = tag.map(|t| std::ffi::CString::new(t).unwrap());
        let style = match style {
            Style::Any => sys::YAML_ANY_SCALAR_STYLE,
            Style::Plain => sys::YAML_PLAIN_SCALAR_STYLE,
            Style::Single => sys::YAML_SINGLE_QUOTED_SCALAR_STYLE,
            Style::Double => sys::YAML_DOUBLE_QUOTED_SCALAR_STYLE,
            Style::Literal => sys::YAML_LITERAL_SCALAR_STYLE,
        };
        self.emit(|e| unsafe {
            sys::yaml_scalar_event_initialize(
                e,
                ptr::null(),
                tag_c.as_ref().map_or(ptr::null(), |t| t.as_ptr() as *const u8),
                value.as_ptr(),
                value.len() as i32,
                plain,
                quoted,
                style,
            )
            .fail
        })
    }

    fn node(&mut self, node: &Node) -> Result<(), ConfigError> {
        match node {
            Node::Value(v) => self.value(v),
            Node::Hash(pairs) => {
                self.mapping_start(None)?;
                for (k, v) in pairs {
                    self.node(k)?;
                    self.node(v)?;
                }
                self.emit(|e| unsafe { sys::yaml_mapping_end_event_initialize(e).fail })
            }
            Node::Array(items) => {
                self.emit(|e| unsafe {
                    sys::yaml_sequence_start_event_initialize(
                        e,
                        ptr::null(),
                        ptr::null(),
                        true,
                        sys::YAML_BLOCK_SEQUENCE_STYLE,
                    )
                    .fail
                })?;
                for i in items {
                    self.node(i)?;
                }
                self.emit(|e| unsafe { sys::yaml_sequence_end_event_initialize(e).fail })
            }
            Node::Object(class, ivars) => {
                self.mapping_start(Some(&format!("!ruby/object:{class}")))?;
                for (k, v) in ivars {
                    self.string(k)?;
                    self.node(v)?;
                }
                self.emit(|e| unsafe { sys::yaml_mapping_end_event_initialize(e).fail })
            }
        }
    }

    fn mapping_start(&mut self, tag: Option<&str>) -> Result<(), ConfigError> {
        let tag_c = tag.map(|t| std::ffi::CString::new(t).unwrap());
        self.emit(|e| unsafe {
            sys::yaml_mapping_start_event_initialize(
                e,
                ptr::null(),
                tag_c.as_ref().map_or(ptr::null(), |t| t.as_ptr() as *const u8),
                tag_c.is_none(),
                sys::YAML_BLOCK_MAPPING_STYLE,
            )
            .fail
        })
    }

    fn value(&mut self, v: &Value) -> Result<(), ConfigError> {
        match v {
            Value::Null => self.scalar("", Some("tag:yaml.org,2002:null"), true, false, Style::Any),
            Value::Bool(b) => self.scalar(if *b { "true" } else { "false" }, None, true, false, Style::Any),
            Value::Number(n) => {
                let s = if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                    if f.is_nan() {
                        ".nan".to_string()
                    } else if f.is_infinite() {
                        if f > 0.0 {
                            ".inf".into()
                        } else {
                            "-.inf".into()
                        }
                    } else {
                        crate::ruby::float_to_s(f)
                    }
                } else {
                    n.to_string()
                };
                self.scalar(&s, None, true, false, Style::Any)
            }
            Value::String(s) => self.string(s),
            Value::Sequence(items) => self.node(&Node::Array(items.iter().cloned().map(Node::Value).collect())),
            Value::Mapping(m) => {
                self.mapping_start(None)?;
                for (k, v) in m {
                    self.value(k)?;
                    self.value(v)?;
                }
                self.emit(|e| unsafe { sys::yaml_mapping_end_event_initialize(e).fail })
            }
            Value::Tagged(t) => {
                let inner = crate::ruby::to_s(&t.value);
                if t.tag == Tag::new(SYMBOL_TAG) {
                    if inner.is_empty() {
                        self.scalar("", Some("!ruby/symbol"), false, false, Style::Any)
                    } else {
                        self.scalar(&format!(":{inner}"), None, true, false, Style::Any)
                    }
                } else if t.tag == Tag::new(DATE_TAG) || t.tag == Tag::new(TIME_TAG) {
                    self.scalar(&inner, None, true, false, Style::Any)
                } else {
                    self.value(&t.value)
                }
            }
        }
    }

    /// Psych's `YAMLTree#visit_String` style choice.
    fn string(&mut self, o: &str) -> Result<(), ConfigError> {
        // `o =~ /\n(?!\Z)/`: a newline that is not the last character nor followed by a final one
        let b = o.as_bytes();
        let multiline = b
            .iter()
            .enumerate()
            .any(|(i, c)| *c == b'\n' && !(i + 1 == b.len() || (i + 2 == b.len() && b[i + 1] == b'\n')));
        let (style, tag, plain, quote) = if multiline {
            (Style::Literal, None, true, true)
        } else if o == "<<" {
            (Style::Single, Some("tag:yaml.org,2002:str"), false, false)
        } else if o == "y" || o == "Y" || o == "n" || o == "N" || starts_non_word_without_quote(o) {
            (Style::Double, None, true, true)
        } else if !matches!(tokenize(o), Value::String(_)) || leading_zero_89(o) {
            (Style::Single, None, true, true)
        } else {
            (Style::Plain, None, true, true)
        };
        self.scalar(o, tag, plain, quote, style)
    }

    fn finish(mut self) -> Result<String, ConfigError> {
        unsafe {
            if sys::yaml_emitter_flush(self.sys.as_mut_ptr()).fail {
                return Err(ConfigError::runtime("YAML emitter error"));
            }
        }
        let out = std::mem::take(&mut *self.out);
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

impl Drop for Emitter {
    fn drop(&mut self) {
        unsafe { sys::yaml_emitter_delete(self.sys.as_mut_ptr()) }
    }
}

/// `o =~ /^[^[:word:]][^"]*$/` (Ruby's `^`/`$` are line anchors, and both classes match newlines).
fn starts_non_word_without_quote(o: &str) -> bool {
    let chars: Vec<char> = o.chars().collect();
    (0..chars.len()).any(|p| {
        let line_start = p == 0 || chars[p - 1] == '\n';
        if !line_start || chars[p].is_alphanumeric() || chars[p] == '_' {
            return false;
        }
        // `[^"]*$`: an end of line (or of the string) before any `"`
        for &c in &chars[p + 1..] {
            if c == '\n' {
                return true;
            }
            if c == '"' {
                return false;
            }
        }
        true
    })
}

/// `/\A0[0-7]*[89]/`
fn leading_zero_89(o: &str) -> bool {
    let Some(rest) = o.strip_prefix('0') else { return false };
    let rest = rest.trim_start_matches(|c: char| ('0'..='7').contains(&c));
    rest.starts_with('8') || rest.starts_with('9')
}

/// Ruby's `obj.to_yaml` for a node: `---` document, block style, Psych's quoting.
pub fn to_yaml(node: &Node) -> Result<String, ConfigError> {
    let mut e = Emitter::new();
    e.emit(|ev| unsafe { sys::yaml_stream_start_event_initialize(ev, sys::YAML_UTF8_ENCODING).fail })?;
    e.emit(|ev| unsafe {
        sys::yaml_document_start_event_initialize(ev, ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), false).fail
    })?;
    e.node(node)?;
    e.emit(|ev| unsafe { sys::yaml_document_end_event_initialize(ev, true).fail })?;
    e.emit(|ev| unsafe { sys::yaml_stream_end_event_initialize(ev).fail })?;
    e.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Value {
        tokenize(s)
    }

    #[test]
    fn tokenizes_like_psych() {
        assert_eq!(t("yes"), Value::Bool(true));
        assert_eq!(t("Off"), Value::Bool(false));
        assert_eq!(t("y"), Value::String("y".into()));
        assert_eq!(t("~"), Value::Null);
        assert_eq!(t("NULL"), Value::Null);
        assert_eq!(t("1_000"), Value::Number(1000.into()));
        assert_eq!(t("1,000"), Value::Number(1000.into()));
        assert_eq!(t("0755"), Value::Number(493.into()));
        assert_eq!(t("0x1F"), Value::Number(31.into()));
        assert_eq!(t("0b101"), Value::Number(5.into()));
        assert_eq!(t("08"), Value::String("08".into()));
        assert_eq!(t("-1"), Value::Number((-1).into()));
        assert_eq!(t("1.5"), Value::Number(1.5.into()));
        assert_eq!(t(".5"), Value::Number(0.5.into()));
        assert_eq!(t("1.3.0"), Value::String("1.3.0".into()));
        assert_eq!(t("1e3"), Value::String("1e3".into()));
        assert_eq!(t("10m"), Value::String("10m".into()));
        assert_eq!(t("1.1.1.1"), Value::String("1.1.1.1".into()));
        assert_eq!(t("22:22"), Value::Number(((22 * 3600 + 22 * 60) as i64).into()));
        assert_eq!(t("3306:3306"), Value::String("3306:3306".into()));
        assert_eq!(t(":verbose"), symbol("verbose"));
        assert_eq!(t("25%"), Value::String("25%".into()));
        assert_eq!(t("40_000_000"), Value::Number(40_000_000.into()));
        assert!(is_date_or_time(&t("2024-01-31")));
        assert!(is_date_or_time(&t("2024-01-31 10:00:00")));
        assert_eq!(t("v0.9.2"), Value::String("v0.9.2".into()));
        assert_eq!(t("true_ish"), Value::String("true_ish".into()));
    }

    #[test]
    fn loads_aliases_merges_and_duplicates() {
        let v = load_str("x: &a\n  p: 1\n  q: 2\ny:\n  <<: *a\n  q: 3\nz: 1\nz: 2\n", None).unwrap();
        assert_eq!(crate::ruby::dig(&v, &["y", "p"]), Some(&Value::Number(1.into())));
        assert_eq!(crate::ruby::dig(&v, &["y", "q"]), Some(&Value::Number(3.into())));
        assert_eq!(crate::ruby::get(&v, "z"), Some(&Value::Number(2.into())));
        let v = load_str("a: '1'\nb: \"yes\"\nc: |\n  x\n", None).unwrap();
        assert_eq!(crate::ruby::get(&v, "a"), Some(&Value::String("1".into())));
        assert_eq!(crate::ruby::get(&v, "b"), Some(&Value::String("yes".into())));
        assert_eq!(crate::ruby::get(&v, "c"), Some(&Value::String("x\n".into())));
    }

    #[test]
    fn syntax_errors_like_psych() {
        let e = load_str("a: b\n c: d\n", None).unwrap_err();
        assert_eq!(e.to_string(), "(<unknown>): mapping values are not allowed in this context at line 2 column 3");
    }

    #[test]
    fn emits_like_psych() {
        let node = Node::Hash(vec![
            (Node::sym("roles"), Node::Array(vec![Node::str("web")])),
            (Node::sym("version"), Node::str("999")),
            (Node::sym("empty"), Node::Array(vec![])),
            (Node::sym("logging"), Node::Array(vec![Node::str("--log-opt"), Node::str("max-size=\"10m\"")])),
            (Node::sym("level"), Node::sym("fatal")),
            (Node::sym("nothing"), Node::Value(Value::Null)),
            (Node::sym("n"), Node::Value(Value::Number(22.into()))),
        ]);
        assert_eq!(
            to_yaml(&node).unwrap(),
            "---\n:roles:\n- web\n:version: '999'\n:empty: []\n:logging:\n- \"--log-opt\"\n- max-size=\"10m\"\n:level: :fatal\n:nothing:\n:n: 22\n"
        );
    }
}
