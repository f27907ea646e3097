//! Ruby values: nil, booleans, Integer, Float, String, Symbol, Array, Hash, Range, Regexp, procs,
//! modules and classes, objects of user classes, exceptions and the few library objects templates
//! use (Process::Status, Time, Date, URI, MatchData). Strings, arrays and hashes are shared and
//! mutable as in Ruby (`<<` changes every reference).

use crate::ast::{BlockDef, MethodDef};
use indexmap::IndexMap;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

#[derive(Clone)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<RString>),
    Sym(Rc<str>),
    Array(Rc<RefCell<Vec<Value>>>),
    Hash(Rc<RefCell<RHash>>),
    Range(Rc<RRange>),
    Regexp(Rc<RRegexp>),
    Proc(Rc<RProc>),
    Module(Rc<RModule>),
    Object(Rc<RObject>),
    Exception(Rc<RException>),
    /// A library object (Time, URI, Process::Status, MatchData, ENV, main ...).
    Lib(Rc<Lib>),
}

/// A mutable string.
#[derive(Debug)]
pub struct RString {
    pub s: RefCell<String>,
    pub frozen: Cell<bool>,
}

/// A hash: insertion-ordered, keyed by `eql?`.
#[derive(Clone, Default)]
pub struct RHash {
    pub map: IndexMap<HashKey, (Value, Value)>,
    pub default: Option<Value>,
    pub default_proc: Option<Value>,
}

/// A hash key: values compared by `eql?` (so `1` and `1.0` differ).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum HashKey {
    Nil,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(String),
    Sym(Rc<str>),
    Array(Vec<HashKey>),
    /// Other objects hash by identity.
    Ptr(usize),
}

pub struct RRange {
    pub start: Value,
    pub end: Value,
    pub exclusive: bool,
}

pub struct RRegexp {
    pub source: String,
    pub flags: String,
    pub regex: regex::Regex,
}

/// A block, proc or lambda: its code, the scope it closes over and the `self` it sees. A
/// `Symbol#to_proc` or `Method` object has no code of its own.
pub struct RProc {
    pub kind: ProcKind,
    pub is_lambda: bool,
    /// Unique per creation: `break` in the block leaves the call it was passed to.
    pub tag: usize,
}

pub enum ProcKind {
    Block {
        def: Rc<BlockDef>,
        scope: Rc<Scope>,
        self_val: Value,
        frame: usize,
        module: Option<Rc<RModule>>,
    },
    Symbol(String),
    Method {
        recv: Value,
        name: String,
    },
    /// A block written in Rust (an Enumerator feeding a user block).
    Native(NativeBlock),
}

/// A block written in Rust: gets the yielded values, answers the block's value.
pub type NativeBlock = Rc<RefCell<dyn FnMut(&mut crate::interp::Interp, Vec<Value>) -> crate::error::R<Value>>>;

/// Local variables: a block's scope sees its parents'.
pub struct Scope {
    pub vars: RefCell<HashMap<String, Value>>,
    pub parent: Option<Rc<Scope>>,
}

impl Scope {
    pub fn new(parent: Option<Rc<Scope>>) -> Rc<Scope> {
        Rc::new(Scope { vars: RefCell::new(HashMap::new()), parent })
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.vars.borrow().get(name) {
            return Some(v.clone());
        }
        self.parent.as_ref().and_then(|p| p.get(name))
    }

    /// Assigns where the variable lives, or here.
    pub fn set(&self, name: &str, value: Value) {
        if !self.set_existing(name, value.clone()) {
            self.vars.borrow_mut().insert(name.to_string(), value);
        }
    }

    fn set_existing(&self, name: &str, value: Value) -> bool {
        if let Some(slot) = self.vars.borrow_mut().get_mut(name) {
            *slot = value;
            return true;
        }
        match &self.parent {
            Some(p) => p.set_existing(name, value),
            None => false,
        }
    }

    /// The names of the variables visible here.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.vars.borrow().keys().cloned().collect();
        if let Some(p) = &self.parent {
            names.extend(p.names());
        }
        names
    }

    /// Defines in this scope (block parameters shadow outer variables).
    pub fn define(&self, name: &str, value: Value) {
        self.vars.borrow_mut().insert(name.to_string(), value);
    }
}

/// A module or class, built-in or defined by the template.
pub struct RModule {
    pub name: String,
    pub is_class: bool,
    pub superclass: Option<Rc<RModule>>,
    pub consts: RefCell<IndexMap<String, Value>>,
    /// Methods defined with `def self.x` (or `module_function`, `extend self`).
    pub smethods: RefCell<HashMap<String, Rc<MethodDef>>>,
    /// Instance methods (`def x` in the body).
    pub imethods: RefCell<HashMap<String, Rc<MethodDef>>>,
    /// `module_function` with no arguments: later `def`s are singleton methods too.
    pub module_function: Cell<bool>,
    /// `extend self`.
    pub extended_self: Cell<bool>,
    /// Built-in modules and classes behave natively (their methods are Rust code).
    pub builtin: bool,
    pub ivars: RefCell<HashMap<String, Value>>,
}

impl RModule {
    pub fn new(name: &str, is_class: bool, superclass: Option<Rc<RModule>>, builtin: bool) -> Rc<RModule> {
        Rc::new(RModule {
            name: name.to_string(),
            is_class,
            superclass,
            consts: RefCell::new(IndexMap::new()),
            smethods: RefCell::new(HashMap::new()),
            imethods: RefCell::new(HashMap::new()),
            module_function: Cell::new(false),
            extended_self: Cell::new(false),
            builtin,
            ivars: RefCell::new(HashMap::new()),
        })
    }

    /// Whether this class is `other` or inherits from it.
    pub fn inherits(&self, other: &str) -> bool {
        if self.name == other {
            return true;
        }
        match &self.superclass {
            Some(s) => s.inherits(other),
            None => false,
        }
    }

    pub fn find_imethod(&self, name: &str) -> Option<Rc<MethodDef>> {
        if let Some(m) = self.imethods.borrow().get(name) {
            return Some(m.clone());
        }
        self.superclass.as_ref().and_then(|s| s.find_imethod(name))
    }
}

/// An instance of a class the template defined.
pub struct RObject {
    pub class: Rc<RModule>,
    pub ivars: RefCell<IndexMap<String, Value>>,
}

/// An exception: its class and message.
pub struct RException {
    pub class: Rc<RModule>,
    pub message: String,
    /// `KeyError#key`, `NameError#name` and the like are not kept; `errno` for Errno classes.
    pub line: u32,
}

/// Library objects.
pub enum Lib {
    /// `$?`
    Status {
        pid: u32,
        code: Option<i32>,
        signal: Option<i32>,
    },
    /// A point in time (seconds and nanoseconds since the epoch, UTC offset in seconds).
    Time {
        secs: i64,
        nanos: u32,
        offset: i32,
        utc: bool,
    },
    /// A calendar date (days since 1970-01-01).
    Date {
        days: i64,
    },
    Uri(RefCell<Uri>),
    MatchData {
        captures: Vec<Option<(usize, usize)>>,
        names: Vec<Option<String>>,
        subject: String,
    },
    /// `ENV`.
    Env,
    /// An Enumerator: `recv.method(*args)` not yet given its block.
    Enumerator {
        recv: Value,
        method: String,
        args: Vec<Value>,
    },
    /// `ERB.new(template, trim_mode:)`.
    Erb {
        template: String,
        trim: bool,
    },
    /// `binding`: the local variables of the place it was taken.
    Binding(Rc<Scope>),
    /// The top-level `self` (`main`).
    Main,
}

/// A parsed URI (RFC 3986, as Ruby's `URI::RFC3986_Parser` splits it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Uri {
    pub scheme: Option<String>,
    pub userinfo: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    pub path: String,
    pub query: Option<String>,
    pub fragment: Option<String>,
    pub opaque: Option<String>,
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Rc::new(RString { s: RefCell::new(s.into()), frozen: Cell::new(false) }))
    }

    pub fn frozen_str(s: impl Into<String>) -> Value {
        Value::Str(Rc::new(RString { s: RefCell::new(s.into()), frozen: Cell::new(true) }))
    }

    pub fn sym(s: &str) -> Value {
        Value::Sym(Rc::from(s))
    }

    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Rc::new(RefCell::new(items)))
    }

    pub fn hash(h: RHash) -> Value {
        Value::Hash(Rc::new(RefCell::new(h)))
    }

    pub fn lib(l: Lib) -> Value {
        Value::Lib(Rc::new(l))
    }

    pub fn truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// The string's contents, if a String.
    pub fn as_str(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.s.borrow().clone()),
            _ => None,
        }
    }

    /// The hash key for `eql?` comparison.
    pub fn hash_key(&self) -> HashKey {
        match self {
            Value::Nil => HashKey::Nil,
            Value::Bool(b) => HashKey::Bool(*b),
            Value::Int(i) => HashKey::Int(*i),
            Value::Float(f) => HashKey::Float(if *f == 0.0 { 0 } else { f.to_bits() }),
            Value::Str(s) => HashKey::Str(s.s.borrow().clone()),
            Value::Sym(s) => HashKey::Sym(s.clone()),
            Value::Array(a) => HashKey::Array(a.borrow().iter().map(Value::hash_key).collect()),
            other => HashKey::Ptr(other.identity()),
        }
    }

    /// An identity for `equal?` and hashing of reference objects.
    pub fn identity(&self) -> usize {
        match self {
            Value::Str(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Array(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Hash(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Range(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Regexp(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Proc(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Module(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Object(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Exception(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Lib(r) => Rc::as_ptr(r) as *const u8 as usize,
            Value::Nil => 8,
            Value::Bool(true) => 20,
            Value::Bool(false) => 0,
            Value::Int(i) => (*i as usize).wrapping_mul(2).wrapping_add(1),
            Value::Float(f) => f.to_bits() as usize,
            Value::Sym(s) => s.as_ptr() as usize,
        }
    }
}

impl RHash {
    pub fn get(&self, key: &Value) -> Option<Value> {
        self.map.get(&key.hash_key()).map(|(_, v)| v.clone())
    }

    pub fn insert(&mut self, key: Value, value: Value) {
        // string keys are copied and frozen, as in Ruby
        let key = match &key {
            Value::Str(s) if !s.frozen.get() => Value::frozen_str(s.s.borrow().clone()),
            _ => key,
        };
        let hk = key.hash_key();
        match self.map.get_mut(&hk) {
            Some(slot) => slot.1 = value,
            None => {
                self.map.insert(hk, (key, value));
            }
        }
    }

    pub fn remove(&mut self, key: &Value) -> Option<Value> {
        self.map.shift_remove(&key.hash_key()).map(|(_, v)| v)
    }

    pub fn pairs(&self) -> Vec<(Value, Value)> {
        self.map.values().cloned().collect()
    }
}

/// Ruby's `Float#to_s`.
pub fn float_to_s(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    let abs = f.abs();
    if (1e-4..1e16).contains(&abs) {
        let s = format!("{f}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        // shortest digits in exponent form: 1.0e+16, 1.5e-05
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap();
        let mantissa = if mantissa.contains('.') { mantissa.to_string() } else { format!("{mantissa}.0") };
        let exp: i32 = exp.parse().unwrap();
        format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

/// Ruby's `String#inspect`.
pub fn inspect_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x1b' => out.push_str("\\e"),
            '\0' => out.push_str("\\0"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0b' => out.push_str("\\v"),
            '\x0c' => out.push_str("\\f"),
            '#' if matches!(chars.peek(), Some('{' | '$' | '@')) => out.push_str("\\#"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Ruby's `Symbol#inspect`: `:name`, or `:"odd name"`.
pub fn inspect_sym(s: &str) -> String {
    let simple = {
        let mut chars = s.chars();
        match chars.next() {
            Some(c) if c.is_alphabetic() || c == '_' => {
                let rest: Vec<char> = chars.collect();
                let (body, last) = match rest.last() {
                    Some('?' | '!' | '=') => (&rest[..rest.len() - 1], true),
                    _ => (&rest[..], false),
                };
                let _ = last;
                body.iter().all(|c| c.is_alphanumeric() || *c == '_')
            }
            _ => matches!(
                s,
                "+" | "-"
                    | "*"
                    | "/"
                    | "%"
                    | "**"
                    | "=="
                    | "==="
                    | "!="
                    | "<"
                    | ">"
                    | "<="
                    | ">="
                    | "<=>"
                    | "<<"
                    | ">>"
                    | "!"
                    | "[]"
                    | "[]="
                    | "=~"
                    | "&"
                    | "|"
                    | "^"
                    | "~"
                    | "+@"
                    | "-@"
            ),
        }
    };
    if simple {
        format!(":{s}")
    } else {
        format!(":{}", inspect_str(s))
    }
}

/// `f` with `digits` decimals, rounded on its shortest decimal form (the digits `Float#to_s`
/// shows), as Ruby does: `half_even` for `format("%.2f")` (12.345 → "12.34", 2.675 → "2.68"),
/// half away from zero for `Float#round` (12.345 → 12.35).
pub fn decimal_round(f: f64, digits: usize, half_even: bool) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let negative = f.is_sign_negative() && f != 0.0;
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap();
    let exp: i64 = exp.parse().unwrap();
    let mut ds: Vec<u8> = mantissa.bytes().filter(|b| b.is_ascii_digit()).map(|b| b - b'0').collect();
    // the value is 0.d1d2d3... × 10^(exp+1): position of the decimal point in `ds`
    let mut point = exp + 1;
    // keep `point + digits` digits
    let keep = point + digits as i64;
    if keep < 0 {
        ds = vec![0];
        point = 1;
    } else {
        let keep = keep as usize;
        if ds.len() > keep {
            let rest = &ds[keep..];
            let first = rest[0];
            let exactly_half = first == 5 && rest[1..].iter().all(|d| *d == 0);
            let last_kept = if keep > 0 { ds[keep - 1] } else { 0 };
            let round_up =
                first > 5 || (first == 5 && !exactly_half) || (exactly_half && (!half_even || last_kept % 2 == 1));
            ds.truncate(keep);
            if round_up {
                let mut i = ds.len();
                loop {
                    if i == 0 {
                        ds.insert(0, 1);
                        point += 1;
                        break;
                    }
                    i -= 1;
                    if ds[i] == 9 {
                        ds[i] = 0;
                    } else {
                        ds[i] += 1;
                        break;
                    }
                }
            }
        }
    }
    // lay out integer and fraction parts
    let mut int_part = String::new();
    let mut frac_part = String::new();
    for (i, d) in ds.iter().enumerate() {
        let c = (b'0' + d) as char;
        if (i as i64) < point {
            int_part.push(c);
        } else {
            frac_part.push(c);
        }
    }
    if point > ds.len() as i64 {
        for _ in 0..(point - ds.len() as i64) {
            int_part.push('0');
        }
    }
    if point < 0 {
        frac_part = "0".repeat((-point) as usize) + &frac_part;
    }
    let int_part = int_part.trim_start_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    while frac_part.len() < digits {
        frac_part.push('0');
    }
    frac_part.truncate(digits);
    let all_zero = int_part == "0" && frac_part.chars().all(|c| c == '0');
    let sign = if negative && (!all_zero || half_even) { "-" } else { "" };
    if digits == 0 {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac_part}")
    }
}

#[cfg(test)]
mod tests {
    use super::decimal_round;

    #[test]
    #[allow(clippy::approx_constant)] // -3.14159 is a number to round, not π
    fn rounds_as_ruby() {
        // format("%.2f") in Ruby 3.3
        for (f, d, want) in [
            (12.345, 2, "12.34"),
            (2.675, 2, "2.68"),
            (0.125, 2, "0.12"),
            (0.375, 2, "0.38"),
            (1.005, 2, "1.00"),
            (0.25, 1, "0.2"),
            (0.35, 1, "0.4"),
            (2.5, 0, "2"),
            (3.5, 0, "4"),
            (12.355, 2, "12.36"),
            (1.0005, 3, "1.000"),
            (-3.14159, 3, "-3.142"),
            (1e20, 1, "100000000000000000000.0"),
            (0.0001234, 5, "0.00012"),
            (9.995, 2, "10.00"),
        ] {
            assert_eq!(decimal_round(f, d, true), want, "{f} {d}");
        }
        // Float#round
        assert_eq!(decimal_round(12.345, 2, false), "12.35");
        assert_eq!(decimal_round(0.125, 2, false), "0.13");
        assert_eq!(decimal_round(1234.5678, 2, false), "1234.57");
    }
}
