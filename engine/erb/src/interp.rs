//! The evaluator: walks the syntax tree with Ruby's semantics (truthiness, local scopes, blocks
//! and procs, `break`/`next`/`return`, exceptions with `rescue`/`ensure`/`retry`, methods,
//! modules and classes defined by the template, constants). Built-in methods live in
//! [`crate::methods`]; this module decides which method runs.

use crate::ast::*;
use crate::context::Context;
use crate::error::{Ctrl, Stop, R};
use crate::known;
use crate::parser::is_kwargs;
use crate::value::*;
use indexmap::IndexMap;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Arguments of a call: positional, keywords (`a: 1`), and a block.
#[derive(Default, Clone)]
pub struct Args {
    pub pos: Vec<Value>,
    pub kw: Option<Value>,
    pub block: Option<Rc<RProc>>,
}

impl Args {
    pub fn new(pos: Vec<Value>) -> Args {
        Args { pos, kw: None, block: None }
    }

    /// Keywords folded into a trailing hash (for methods without keyword parameters).
    pub fn positional(&self) -> Vec<Value> {
        let mut v = self.pos.clone();
        if let Some(kw) = &self.kw {
            v.push(kw.clone());
        }
        v
    }

    pub fn len(&self) -> usize {
        self.pos.len() + usize::from(self.kw.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A keyword argument by name.
    pub fn kwarg(&self, name: &str) -> Option<Value> {
        match &self.kw {
            Some(Value::Hash(h)) => h.borrow().get(&Value::sym(name)),
            _ => None,
        }
    }
}

/// A method frame: what `self`, `return` and `yield` refer to.
struct Frame {
    id: usize,
    self_val: Value,
    /// Where `def` defines methods and where constants are looked up first (innermost last).
    lexical: Vec<Rc<RModule>>,
    block: Option<Rc<RProc>>,
    method: Option<(Rc<MethodDef>, Option<Rc<RModule>>)>,
    args: Vec<Value>,
}

/// How deep method calls and nested `inspect`s may go (Ruby's stack is deeper, but a template
/// that recurses this far is broken).
const MAX_DEPTH: usize = 2_000;

/// Stack growth for deep recursion (see [`Interp::eval`]).
pub(crate) const STACK_RED_ZONE: usize = 128 * 1024;
pub(crate) const STACK_SEGMENT: usize = 4 * 1024 * 1024;

pub struct Interp {
    pub ctx: Context,
    pub globals: HashMap<String, Value>,
    /// Methods defined at the top level (private methods of Object).
    pub object_methods: HashMap<String, Rc<MethodDef>>,
    /// Constants defined at the top level.
    pub object_consts: IndexMap<String, Value>,
    /// Built-in classes and modules, created on first use so that they keep their identity.
    pub classes: HashMap<String, Rc<RModule>>,
    /// Instance variables of `main`.
    pub main_ivars: RefCell<HashMap<String, Value>>,
    frames: Vec<Frame>,
    /// Innermost first: the tag of the block being run (0 for a loop).
    break_targets: Vec<usize>,
    next_tag: usize,
    pub last_status: Value,
    /// Features `require`d so far.
    pub loaded: HashSet<String>,
    steps: u64,
    depth: usize,
    /// The line being evaluated (for messages).
    pub line: u32,
    pub main: Value,
    pub env_obj: Value,
    /// Inside `class << self`: `def` defines singleton methods.
    in_singleton_class: bool,
}

impl Interp {
    pub fn new(ctx: Context) -> Interp {
        let main = Value::lib(Lib::Main);
        let mut interp = Interp {
            ctx,
            globals: HashMap::new(),
            object_methods: HashMap::new(),
            object_consts: IndexMap::new(),
            classes: HashMap::new(),
            main_ivars: RefCell::new(HashMap::new()),
            frames: vec![],
            break_targets: vec![],
            next_tag: 1,
            last_status: Value::Nil,
            loaded: HashSet::new(),
            steps: 0,
            depth: 0,
            line: 1,
            main: main.clone(),
            env_obj: Value::lib(Lib::Env),
            in_singleton_class: false,
        };
        interp.frames.push(Frame { id: 0, self_val: main, lexical: vec![], block: None, method: None, args: vec![] });
        interp
    }

    /// Runs a program at the top level with fresh local variables (as ERB's `new_toplevel`).
    pub fn run_toplevel(&mut self, program: &Node) -> R<Value> {
        self.run_in_scope(program, &Scope::new(None))
    }

    /// Runs a program with the given local variables (ERB's `result(binding)`).
    pub fn run_in_scope(&mut self, program: &Node, scope: &Rc<Scope>) -> R<Value> {
        match self.eval(program, scope) {
            Err(Ctrl::Return(v, 0)) => Ok(v),
            Err(Ctrl::Break(..)) => self.raise("SyntaxError", "Invalid break"),
            Err(Ctrl::Next(_)) => self.raise("SyntaxError", "Invalid next"),
            Err(Ctrl::Redo) => self.raise("SyntaxError", "Invalid redo"),
            Err(Ctrl::Retry) => self.raise("SyntaxError", "Invalid retry without rescue"),
            Err(Ctrl::Throw(tag, _)) => {
                let shown = self.inspect(&tag)?;
                self.raise("UncaughtThrowError", &format!("uncaught throw {shown}"))
            }
            other => other,
        }
    }

    // ---- errors --------------------------------------------------------------------------------

    /// A Ruby exception of `class` with `message`.
    pub fn raise<T>(&mut self, class: &str, message: &str) -> R<T> {
        let class = self.class(class);
        Err(Ctrl::Raise(Rc::new(RException { class, message: message.to_string(), line: self.line })))
    }

    pub fn unsupported<T>(&self, what: impl Into<String>) -> R<T> {
        Err(Ctrl::Stop(Stop::Unsupported { line: self.line, what: what.into() }))
    }

    /// `ArgumentError` for a call with the wrong number of arguments.
    pub fn arity<T>(&mut self, given: usize, expected: &str) -> R<T> {
        self.raise("ArgumentError", &format!("wrong number of arguments (given {given}, expected {expected})"))
    }

    /// Checks the number of arguments for a built-in method.
    pub fn check_arity(&mut self, args: &Args, min: usize, max: usize) -> R<()> {
        let n = args.len();
        if n < min || n > max {
            let expected = if min == max {
                min.to_string()
            } else if max == usize::MAX {
                format!("{min}+")
            } else {
                format!("{min}..{max}")
            };
            return self.arity(n, &expected);
        }
        Ok(())
    }

    /// `TypeError: no implicit conversion of X into String`.
    pub fn expect_str(&mut self, v: &Value) -> R<String> {
        match v {
            Value::Str(s) => Ok(s.s.borrow().clone()),
            other => {
                let shown = self.implicit_name(other);
                self.raise("TypeError", &format!("no implicit conversion of {shown} into String"))
            }
        }
    }

    /// `Integer` for an argument (`TypeError` otherwise).
    pub fn expect_int(&mut self, v: &Value) -> R<i64> {
        match v {
            Value::Int(i) => Ok(*i),
            Value::Float(f) if f.is_finite() => Ok(f.trunc() as i64),
            other => {
                let shown = self.implicit_name(other);
                self.raise("TypeError", &format!("no implicit conversion of {shown} into Integer"))
            }
        }
    }

    /// How TypeError names a value: `nil`, `true`, or its class.
    pub fn implicit_name(&self, v: &Value) -> String {
        match v {
            Value::Nil => "nil".into(),
            Value::Bool(true) => "true".into(),
            Value::Bool(false) => "false".into(),
            other => self.class_name(other),
        }
    }

    // ---- classes ---------------------------------------------------------------------------

    /// The built-in class or module named `name` (created once).
    pub fn class(&mut self, name: &str) -> Rc<RModule> {
        if let Some(c) = self.classes.get(name) {
            return c.clone();
        }
        let superclass = known::superclass(name).map(|s| self.class(s));
        let is_class = known::is_class(name);
        let m = RModule::new(name, is_class, superclass, true);
        self.classes.insert(name.to_string(), m.clone());
        m
    }

    /// The class name of a value (`String`, `NilClass`, a user class...).
    pub fn class_name(&self, v: &Value) -> String {
        match v {
            Value::Nil => "NilClass".into(),
            Value::Bool(true) => "TrueClass".into(),
            Value::Bool(false) => "FalseClass".into(),
            Value::Int(_) => "Integer".into(),
            Value::Float(_) => "Float".into(),
            Value::Str(_) => "String".into(),
            Value::Sym(_) => "Symbol".into(),
            Value::Array(_) => "Array".into(),
            Value::Hash(_) => "Hash".into(),
            Value::Range(_) => "Range".into(),
            Value::Regexp(_) => "Regexp".into(),
            Value::Proc(_) => "Proc".into(),
            Value::Module(m) => if m.is_class { "Class" } else { "Module" }.into(),
            Value::Object(o) => o.class.name.clone(),
            Value::Exception(e) => e.class.name.clone(),
            Value::Lib(l) => match &**l {
                Lib::Status { .. } => "Process::Status".into(),
                Lib::Time { .. } => "Time".into(),
                Lib::Date { .. } => "Date".into(),
                Lib::Uri(u) => crate::methods::uri::class_for(&u.borrow()).into(),
                Lib::MatchData { .. } => "MatchData".into(),
                Lib::Env => "Object".into(),
                Lib::Enumerator { .. } => "Enumerator".into(),
                Lib::Erb { .. } => "ERB".into(),
                Lib::Binding(_) => "Binding".into(),
                Lib::Main => "Object".into(),
            },
        }
    }

    /// The class of a value as a module object.
    pub fn class_of(&mut self, v: &Value) -> Rc<RModule> {
        match v {
            Value::Object(o) => o.class.clone(),
            Value::Exception(e) => e.class.clone(),
            other => {
                let name = self.class_name(other);
                self.class(&name)
            }
        }
    }

    /// `is_a?`: whether `v` is an instance of `m` or of a subclass, or includes the module.
    pub fn is_a(&mut self, v: &Value, m: &Rc<RModule>) -> bool {
        let class = self.class_of(v);
        if class.inherits(&m.name) {
            return true;
        }
        known::includes(&class.name, &m.name)
    }

    // ---- evaluation ------------------------------------------------------------------------

    fn tick(&mut self) -> R<()> {
        self.steps += 1;
        if self.steps > self.ctx.max_steps {
            let max = self.ctx.max_steps;
            return self.unsupported(format!("a template that runs more than {max} steps (an endless loop?)"));
        }
        Ok(())
    }

    /// Evaluates a node. Deeply nested code grows the stack on demand rather than overflowing it.
    pub fn eval(&mut self, node: &Node, scope: &Rc<Scope>) -> R<Value> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || self.eval_node(node, scope))
    }

    fn eval_node(&mut self, node: &Node, scope: &Rc<Scope>) -> R<Value> {
        self.tick()?;
        if node.line < u32::MAX / 2 {
            self.line = node.line;
        }
        match &node.kind {
            Kind::Nil => Ok(Value::Nil),
            Kind::True => Ok(Value::Bool(true)),
            Kind::False => Ok(Value::Bool(false)),
            Kind::SelfRef => Ok(self.self_val()),
            Kind::Int(i) => Ok(Value::Int(*i)),
            Kind::Float(f) => Ok(Value::Float(*f)),
            Kind::Line => Ok(Value::Int(node.line as i64)),
            Kind::Str(parts) => Ok(Value::str(self.interpolate(parts, scope)?)),
            Kind::XStr(parts) => {
                let cmd = self.interpolate(parts, scope)?;
                crate::methods::process::backtick(self, &cmd)
            }
            Kind::Sym(s) => Ok(Value::sym(s)),
            Kind::DSym(parts) => {
                let s = self.interpolate(parts, scope)?;
                Ok(Value::sym(&s))
            }
            Kind::Regex(parts, flags) => {
                let source = self.interpolate(parts, scope)?;
                crate::methods::regexp::compile(self, &source, flags)
            }
            Kind::Array(items) => {
                let mut out = vec![];
                for item in items {
                    if let Kind::Splat(inner) = &item.kind {
                        let v = self.eval(inner, scope)?;
                        out.extend(self.splat_values(v)?);
                    } else if is_kwargs(item) {
                        out.push(self.eval_hash_pairs(item, scope)?);
                    } else {
                        out.push(self.eval(item, scope)?);
                    }
                }
                Ok(Value::array(out))
            }
            Kind::Hash(_) => self.eval_hash_pairs(node, scope),
            Kind::Range(start, end, excl) => {
                let start = match start {
                    Some(s) => self.eval(s, scope)?,
                    None => Value::Nil,
                };
                let end = match end {
                    Some(e) => self.eval(e, scope)?,
                    None => Value::Nil,
                };
                let ok = matches!(
                    (&start, &end),
                    (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_) | Value::Nil)
                        | (Value::Nil, _)
                        | (_, Value::Nil)
                        | (Value::Str(_), Value::Str(_))
                );
                if !ok {
                    return self.raise("ArgumentError", "bad value for range");
                }
                Ok(Value::Range(Rc::new(RRange { start, end, exclusive: *excl })))
            }
            Kind::LVar(name) => Ok(scope.get(name).unwrap_or(Value::Nil)),
            Kind::IVar(name) => Ok(self.ivar_get(name)),
            Kind::CVar(name) => match self.globals.get(&format!("@@{name}")) {
                Some(v) => Ok(v.clone()),
                None => self.raise("NameError", &format!("uninitialized class variable {name} in Object")),
            },
            Kind::GVar(name) => self.gvar_get(name),
            Kind::Const(scope_node, name) => self.const_get(scope_node.as_deref(), name, scope),
            Kind::Cbase => Ok(Value::Module(self.class("Object"))),
            Kind::Asgn(target, value) => {
                let v = self.eval(value, scope)?;
                self.assign(target, v.clone(), scope)?;
                Ok(v)
            }
            Kind::OpAsgn(target, op, value) => self.op_assign(target, op, value, scope),
            Kind::MultiAsgn(targets, value) => {
                let v = self.eval(value, scope)?;
                let items = match &v {
                    Value::Array(a) => a.borrow().clone(),
                    other => self.to_ary_for_masgn(other)?,
                };
                self.destructure(targets, items, scope, false)?;
                Ok(v)
            }
            Kind::Call(call) => self.eval_call(call, node.line, scope),
            Kind::Super(args) => self.eval_super(args.as_deref(), scope),
            Kind::Yield(args) => {
                let args = self.eval_args(args, scope)?;
                let Some(block) = self.frames.last().and_then(|f| f.block.clone()) else {
                    return self.raise("LocalJumpError", "no block given (yield)");
                };
                self.call_proc(&block, args)
            }
            Kind::Splat(inner) => {
                let v = self.eval(inner, scope)?;
                Ok(Value::array(self.splat_values(v)?))
            }
            Kind::DoubleSplat(inner) => self.eval(inner, scope),
            Kind::BlockPass(_) => self.unsupported("anonymous block forwarding (&)"),
            Kind::And(a, b) => {
                let l = self.eval(a, scope)?;
                if l.truthy() {
                    self.eval(b, scope)
                } else {
                    Ok(l)
                }
            }
            Kind::Or(a, b) => {
                let l = self.eval(a, scope)?;
                if l.truthy() {
                    Ok(l)
                } else {
                    self.eval(b, scope)
                }
            }
            Kind::Not(a) => {
                let v = self.eval(a, scope)?;
                match &v {
                    Value::Object(_) => self.call_method(&v, "!", Args::default()),
                    _ => Ok(Value::Bool(!v.truthy())),
                }
            }
            Kind::Defined(inner) => self.defined(inner, scope),
            Kind::If(cond, then, otherwise) => {
                if self.eval(cond, scope)?.truthy() {
                    self.eval(then, scope)
                } else {
                    self.eval(otherwise, scope)
                }
            }
            Kind::While(cond, body, do_while) => self.eval_while(cond, body, *do_while, scope),
            Kind::For(target, iter, body) => self.eval_for(target, iter, body, scope),
            Kind::Case(subject, whens, otherwise) => self.eval_case(subject.as_deref(), whens, otherwise, scope),
            Kind::Begin { body, rescues, else_body, ensure } => {
                self.eval_begin(body, rescues, else_body.as_deref(), ensure.as_deref(), scope)
            }
            Kind::Def(singleton, def) => self.eval_def(singleton.as_deref(), def, scope),
            Kind::Module(path, body) => self.eval_module(path, None, body, false, scope),
            Kind::Class(path, superclass, body) => self.eval_module(path, superclass.as_deref(), body, true, scope),
            Kind::SClass(target, body) => {
                let t = self.eval(target, scope)?;
                match t {
                    Value::Module(m) => {
                        // `class << self`: defs become singleton methods
                        self.with_module_body(&m, body, true)
                    }
                    _ => self.unsupported("class << object"),
                }
            }
            Kind::Return(value) => {
                let v = match value {
                    Some(v) => self.eval(v, scope)?,
                    None => Value::Nil,
                };
                let id = self.frames.last().map(|f| f.id).unwrap_or(0);
                Err(Ctrl::Return(v, id))
            }
            Kind::Break(value) => {
                let v = match value {
                    Some(v) => self.eval(v, scope)?,
                    None => Value::Nil,
                };
                match self.break_targets.last() {
                    Some(tag) => Err(Ctrl::Break(v, *tag)),
                    None => self.raise("SyntaxError", "Invalid break"),
                }
            }
            Kind::Next(value) => {
                let v = match value {
                    Some(v) => self.eval(v, scope)?,
                    None => Value::Nil,
                };
                Err(Ctrl::Next(v))
            }
            Kind::Redo => Err(Ctrl::Redo),
            Kind::Retry => Err(Ctrl::Retry),
            Kind::Seq(nodes) => {
                let mut last = Value::Nil;
                for n in nodes {
                    last = self.eval(n, scope)?;
                }
                Ok(last)
            }
            Kind::Lambda(def) => Ok(self.make_proc(def, scope, true)),
            Kind::Alias(new, old) => {
                let module = self.frames.last().and_then(|f| f.lexical.last().cloned());
                match module {
                    Some(m) => {
                        let found = m.imethods.borrow().get(old).cloned();
                        match found {
                            Some(def) => {
                                m.imethods.borrow_mut().insert(new.clone(), def);
                                Ok(Value::Nil)
                            }
                            None => self.unsupported(format!("alias of built-in method {old}")),
                        }
                    }
                    None => match self.object_methods.get(old).cloned() {
                        Some(def) => {
                            self.object_methods.insert(new.clone(), def);
                            Ok(Value::Nil)
                        }
                        None => self.unsupported(format!("alias of built-in method {old}")),
                    },
                }
            }
        }
    }

    pub fn self_val(&self) -> Value {
        self.frames.last().map(|f| f.self_val.clone()).unwrap_or_else(|| self.main.clone())
    }

    fn interpolate(&mut self, parts: &[Part], scope: &Rc<Scope>) -> R<String> {
        let mut out = String::new();
        for part in parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Code(node) => {
                    let v = self.eval(node, scope)?;
                    out.push_str(&self.to_s(&v)?);
                }
            }
        }
        Ok(out)
    }

    fn eval_hash_pairs(&mut self, node: &Node, scope: &Rc<Scope>) -> R<Value> {
        let Kind::Hash(pairs) = &node.kind else { unreachable!() };
        let mut h = RHash::default();
        for (k, v) in pairs {
            match k {
                Some(k) => {
                    let key = self.eval(k, scope)?;
                    let value = self.eval(v, scope)?;
                    h.insert(key, value);
                }
                None => {
                    let other = self.eval(v, scope)?;
                    match other {
                        Value::Hash(o) => {
                            for (k, v) in o.borrow().pairs() {
                                h.insert(k, v);
                            }
                        }
                        Value::Nil => {}
                        other => {
                            let name = self.class_name(&other);
                            return self.raise("TypeError", &format!("no implicit conversion of {name} into Hash"));
                        }
                    }
                }
            }
        }
        Ok(Value::hash(h))
    }

    /// `*x`: an array's items; `nil` gives none; a hash gives its pairs; others themselves.
    pub fn splat_values(&mut self, v: Value) -> R<Vec<Value>> {
        Ok(match v {
            Value::Array(a) => a.borrow().clone(),
            Value::Nil => vec![],
            Value::Hash(h) => h.borrow().pairs().into_iter().map(|(k, v)| Value::array(vec![k, v])).collect(),
            Value::Range(_) => match crate::methods::enumerable::to_a(self, &v)? {
                Value::Array(a) => a.borrow().clone(),
                _ => vec![],
            },
            other => vec![other],
        })
    }

    fn to_ary_for_masgn(&mut self, v: &Value) -> R<Vec<Value>> {
        Ok(match v {
            Value::Nil => vec![Value::Nil],
            other => vec![other.clone()],
        })
    }

    // ---- variables -------------------------------------------------------------------------

    fn ivar_get(&self, name: &str) -> Value {
        match &self.self_val() {
            Value::Object(o) => o.ivars.borrow().get(name).cloned().unwrap_or(Value::Nil),
            Value::Module(m) => m.ivars.borrow().get(name).cloned().unwrap_or(Value::Nil),
            _ => self.main_ivars.borrow().get(name).cloned().unwrap_or(Value::Nil),
        }
    }

    fn ivar_set(&self, name: &str, v: Value) {
        match &self.self_val() {
            Value::Object(o) => {
                o.ivars.borrow_mut().insert(name.to_string(), v);
            }
            Value::Module(m) => {
                m.ivars.borrow_mut().insert(name.to_string(), v);
            }
            _ => {
                self.main_ivars.borrow_mut().insert(name.to_string(), v);
            }
        }
    }

    fn gvar_get(&mut self, name: &str) -> R<Value> {
        match name {
            "$?" => Ok(self.last_status.clone()),
            "$stdout" | "$stderr" | "$stdin" | "$PROGRAM_NAME" | "$0" | "$LOAD_PATH" | "$:" | "$LOADED_FEATURES"
            | "$\"" | "$~" | "$1" | "$2" | "$3" | "$4" | "$5" | "$6" | "$7" | "$8" | "$9" | "$&" | "$`" | "$'"
            | "$!" | "$@" | "$;" | "$," | "$/" | "$\\" | "$." | "$<" | "$>" | "$_" | "$*" | "$$" | "$DEBUG"
            | "$VERBOSE" | "$FILENAME" | "$-w" | "$-v" => match self.globals.get(name) {
                Some(v) => Ok(v.clone()),
                None => match name {
                    "$$" => Ok(Value::Int(std::process::id() as i64)),
                    "$~" | "$1" | "$2" | "$3" | "$4" | "$5" | "$6" | "$7" | "$8" | "$9" | "$&" | "$!" => Ok(Value::Nil),
                    "$," | "$/" | "$\\" | "$;" => Ok(if name == "$/" { Value::str("\n") } else { Value::Nil }),
                    "$*" => Ok(Value::array(vec![])),
                    "$DEBUG" => Ok(Value::Bool(false)),
                    "$VERBOSE" => Ok(Value::Bool(false)),
                    _ => self.unsupported(format!("the global variable {name}")),
                },
            },
            _ => Ok(self.globals.get(name).cloned().unwrap_or(Value::Nil)),
        }
    }

    pub fn assign(&mut self, target: &Target, v: Value, scope: &Rc<Scope>) -> R<()> {
        match target {
            Target::Local(name) => scope.set(name, v),
            Target::IVar(name) => self.ivar_set(name, v),
            Target::GVar(name) => match name.as_str() {
                "$stdout" | "$stderr" | "$0" | "$PROGRAM_NAME" | "$VERBOSE" | "$DEBUG" | "$," | "$/" | "$;" => {
                    return self.unsupported(format!("assigning the global variable {name}"))
                }
                _ => {
                    self.globals.insert(name.clone(), v);
                }
            },
            Target::CVar(name) => {
                self.globals.insert(format!("@@{name}"), v);
            }
            Target::Const(scope_node, name) => {
                let module = match scope_node {
                    Some(s) => match self.eval(s, scope)? {
                        Value::Module(m) => Some(m),
                        _ => return self.raise("TypeError", "not a class/module"),
                    },
                    None => self.frames.last().and_then(|f| f.lexical.last().cloned()),
                };
                match module {
                    Some(m) if !(m.builtin && m.name == "Object") => {
                        m.consts.borrow_mut().insert(name.clone(), v);
                    }
                    _ => {
                        self.object_consts.insert(name.clone(), v);
                    }
                }
            }
            Target::Index(recv, index) => {
                let r = self.eval(recv, scope)?;
                let mut args = self.eval_args(index, scope)?;
                args.pos.push(v);
                self.call_method(&r, "[]=", args)?;
            }
            Target::Attr(recv, name) => {
                let r = self.eval(recv, scope)?;
                self.call_method(&r, &format!("{name}="), Args::new(vec![v]))?;
            }
            Target::Nested(targets, _) => {
                let items = match &v {
                    Value::Array(a) => a.borrow().clone(),
                    other => vec![other.clone()],
                };
                self.destructure(targets, items, scope, false)?;
            }
            Target::Splat(name) => {
                if let Some(name) = name {
                    scope.set(name, v);
                }
            }
        }
        Ok(())
    }

    /// Spreads `items` over `targets` (with one `*rest`).
    pub fn destructure(&mut self, targets: &[Target], items: Vec<Value>, scope: &Rc<Scope>, define: bool) -> R<()> {
        let splat_at = targets.iter().position(|t| matches!(t, Target::Splat(_)));
        let set = |this: &mut Self, t: &Target, v: Value| -> R<()> {
            match (t, define) {
                (Target::Local(n), true) => {
                    scope.define(n, v);
                    Ok(())
                }
                _ => this.assign(t, v, scope),
            }
        };
        match splat_at {
            None => {
                for (i, t) in targets.iter().enumerate() {
                    set(self, t, items.get(i).cloned().unwrap_or(Value::Nil))?;
                }
            }
            Some(at) => {
                let after = targets.len() - at - 1;
                for (i, t) in targets[..at].iter().enumerate() {
                    set(self, t, items.get(i).cloned().unwrap_or(Value::Nil))?;
                }
                let rest_end = items.len().saturating_sub(after).max(at);
                let rest: Vec<Value> = items.get(at..rest_end).map(|s| s.to_vec()).unwrap_or_default();
                if let Target::Splat(Some(name)) = &targets[at] {
                    if define {
                        scope.define(name, Value::array(rest));
                    } else {
                        scope.set(name, Value::array(rest));
                    }
                }
                for (i, t) in targets[at + 1..].iter().enumerate() {
                    set(self, t, items.get(rest_end + i).cloned().unwrap_or(Value::Nil))?;
                }
            }
        }
        Ok(())
    }

    fn op_assign(&mut self, target: &Target, op: &str, value: &Node, scope: &Rc<Scope>) -> R<Value> {
        // read the current value (evaluating receivers once)
        let (current, writer): (Value, Box<dyn Fn(&mut Self, Value) -> R<()>>) = match target {
            Target::Index(recv, index) => {
                let r = self.eval(recv, scope)?;
                let args = self.eval_args(index, scope)?;
                let cur = self.call_method(&r, "[]", args.clone())?;
                let writer = move |this: &mut Self, v: Value| -> R<()> {
                    let mut a = args.clone();
                    a.pos.push(v);
                    this.call_method(&r, "[]=", a)?;
                    Ok(())
                };
                (cur, Box::new(writer))
            }
            Target::Attr(recv, name) => {
                let r = self.eval(recv, scope)?;
                let cur = self.call_method(&r, name, Args::default())?;
                let setter = format!("{name}=");
                let writer = move |this: &mut Self, v: Value| -> R<()> {
                    this.call_method(&r, &setter, Args::new(vec![v]))?;
                    Ok(())
                };
                (cur, Box::new(writer))
            }
            Target::Const(s, name) => {
                let cur = match self.const_lookup(s.as_deref(), name, scope)? {
                    Some(v) => v,
                    None if op == "||" => Value::Nil,
                    None => return self.raise("NameError", &format!("uninitialized constant {name}")),
                };
                let t = target.clone();
                let scope2 = scope.clone();
                (cur, Box::new(move |this: &mut Self, v: Value| this.assign(&t, v, &scope2)))
            }
            other => {
                let cur = match other {
                    Target::Local(n) => scope.get(n).unwrap_or(Value::Nil),
                    Target::IVar(n) => self.ivar_get(n),
                    Target::GVar(n) => self.gvar_get(n)?,
                    Target::CVar(n) => self.globals.get(&format!("@@{n}")).cloned().unwrap_or(Value::Nil),
                    _ => return self.unsupported("this kind of assignment"),
                };
                let t = other.clone();
                let scope2 = scope.clone();
                (cur, Box::new(move |this: &mut Self, v: Value| this.assign(&t, v, &scope2)))
            }
        };
        let result = match op {
            "||" => {
                if current.truthy() {
                    return Ok(current);
                }
                self.eval(value, scope)?
            }
            "&&" => {
                if !current.truthy() {
                    return Ok(current);
                }
                self.eval(value, scope)?
            }
            _ => {
                let rhs = self.eval(value, scope)?;
                self.call_method(&current, op, Args::new(vec![rhs]))?
            }
        };
        writer(self, result.clone())?;
        Ok(result)
    }

    // ---- constants -------------------------------------------------------------------------

    fn const_get(&mut self, scope_node: Option<&Node>, name: &str, scope: &Rc<Scope>) -> R<Value> {
        match self.const_lookup(scope_node, name, scope)? {
            Some(v) => Ok(v),
            None => {
                let full = match scope_node {
                    Some(Node { kind: Kind::Cbase, .. }) | None => name.to_string(),
                    Some(s) => match self.eval(s, scope)? {
                        Value::Module(m) if m.name != "Object" => format!("{}::{name}", m.name),
                        _ => name.to_string(),
                    },
                };
                if known::constant_exists(&full) {
                    return self.unsupported(format!("the constant {full}"));
                }
                self.raise("NameError", &format!("uninitialized constant {full}"))
            }
        }
    }

    fn const_lookup(&mut self, scope_node: Option<&Node>, name: &str, scope: &Rc<Scope>) -> R<Option<Value>> {
        match scope_node {
            Some(Node { kind: Kind::Cbase, .. }) => self.toplevel_const(name),
            Some(s) => {
                let owner = self.eval(s, scope)?;
                match owner {
                    Value::Module(m) => {
                        if let Some(v) = m.consts.borrow().get(name) {
                            return Ok(Some(v.clone()));
                        }
                        if m.builtin {
                            if m.name == "Object" {
                                return self.toplevel_const(name);
                            }
                            return crate::methods::constants::nested(self, &m.name, name);
                        }
                        // a user module inherits constants from its superclass chain
                        let mut sup = m.superclass.clone();
                        while let Some(s) = sup {
                            if let Some(v) = s.consts.borrow().get(name) {
                                return Ok(Some(v.clone()));
                            }
                            sup = s.superclass.clone();
                        }
                        Ok(None)
                    }
                    other => {
                        let shown = self.inspect(&other)?;
                        self.raise("TypeError", &format!("{shown} is not a class/module"))
                    }
                }
            }
            None => {
                let lexical: Vec<Rc<RModule>> = self.frames.last().map(|f| f.lexical.clone()).unwrap_or_default();
                for m in lexical.iter().rev() {
                    if let Some(v) = m.consts.borrow().get(name) {
                        return Ok(Some(v.clone()));
                    }
                    if m.builtin {
                        if let Some(v) = crate::methods::constants::nested(self, &m.name, name)? {
                            return Ok(Some(v));
                        }
                    }
                }
                self.toplevel_const(name)
            }
        }
    }

    fn toplevel_const(&mut self, name: &str) -> R<Option<Value>> {
        if let Some(v) = self.object_consts.get(name) {
            return Ok(Some(v.clone()));
        }
        crate::methods::constants::toplevel(self, name)
    }

    // ---- calls -----------------------------------------------------------------------------

    pub fn eval_args(&mut self, nodes: &[Node], scope: &Rc<Scope>) -> R<Args> {
        let mut args = Args::default();
        for n in nodes {
            if let Kind::Splat(inner) = &n.kind {
                let v = self.eval(inner, scope)?;
                let items = self.splat_values(v)?;
                args.pos.extend(items);
            } else if is_kwargs(n) {
                let h = self.eval_hash_pairs(n, scope)?;
                // an empty `**{}` passes nothing
                if let Value::Hash(hh) = &h {
                    if hh.borrow().map.is_empty() {
                        continue;
                    }
                }
                args.kw = Some(h);
            } else {
                args.pos.push(self.eval(n, scope)?);
            }
        }
        Ok(args)
    }

    fn make_proc(&mut self, def: &Rc<BlockDef>, scope: &Rc<Scope>, is_lambda: bool) -> Value {
        let tag = self.next_tag;
        self.next_tag += 1;
        let frame = self.frames.last().map(|f| f.id).unwrap_or(0);
        let module = self.frames.last().and_then(|f| f.lexical.last().cloned());
        Value::Proc(Rc::new(RProc {
            kind: ProcKind::Block { def: def.clone(), scope: scope.clone(), self_val: self.self_val(), frame, module },
            is_lambda,
            tag,
        }))
    }

    fn eval_call(&mut self, call: &Call, line: u32, scope: &Rc<Scope>) -> R<Value> {
        let recv = match &call.recv {
            Some(r) => {
                let v = self.eval(r, scope)?;
                if call.safe_nav && v.is_nil() {
                    return Ok(Value::Nil);
                }
                Some(v)
            }
            None => None,
        };
        let mut args = self.eval_args(&call.args, scope)?;
        let mut block_tag = None;
        if let Some(def) = &call.block {
            let Value::Proc(p) = self.make_proc(def, scope, false) else { unreachable!() };
            block_tag = Some(p.tag);
            args.block = Some(p);
        } else if let Some(b) = &call.block_arg {
            let v = self.eval(b, scope)?;
            args.block = match v {
                Value::Nil => None,
                Value::Proc(p) => Some(p),
                Value::Sym(s) => {
                    Some(Rc::new(RProc { kind: ProcKind::Symbol(s.to_string()), is_lambda: false, tag: 0 }))
                }
                Value::Lib(ref l) if matches!(**l, Lib::Main) => None,
                other => {
                    let name = self.class_name(&other);
                    return self.raise("TypeError", &format!("wrong argument type {name} (expected Proc)"));
                }
            };
        }
        self.line = line;
        let result = match recv {
            Some(r) => self.call_method(&r, &call.name, args),
            None => self.call_function(&call.name, args, call.vcall, scope),
        };
        match result {
            Err(Ctrl::Break(v, tag)) if Some(tag) == block_tag => Ok(v),
            other => other,
        }
    }

    /// A call without a receiver: the template's own methods, then Kernel's.
    fn call_function(&mut self, name: &str, args: Args, vcall: bool, scope: &Rc<Scope>) -> R<Value> {
        let self_val = self.self_val();
        if name == "binding" && args.is_empty() && !self.object_methods.contains_key(name) {
            return Ok(Value::lib(Lib::Binding(scope.clone())));
        }
        // methods of the module or object `self` is
        if let Some((def, owner)) = self.find_user_method(&self_val, name) {
            return self.invoke(def, owner, self_val, args);
        }
        if let Some(def) = self.object_methods.get(name).cloned() {
            return self.invoke(def, None, self_val, args);
        }
        if let Some(r) = crate::methods::kernel::call(self, name, &args)? {
            return Ok(r);
        }
        // a built-in method of self (`self` is main, a module or an object)
        if !matches!(self_val, Value::Lib(ref l) if matches!(**l, Lib::Main)) {
            if let Some(r) = crate::methods::dispatch(self, &self_val, name, &args)? {
                return Ok(r);
            }
        }
        if known::kernel_function(name) {
            return self.unsupported(format!("Kernel#{name}"));
        }
        let shown = self.describe_receiver(&self_val);
        if vcall {
            self.raise("NameError", &format!("undefined local variable or method `{name}' for {shown}"))
        } else {
            self.raise("NoMethodError", &format!("undefined method `{name}' for {shown}"))
        }
    }

    /// How NoMethodError names a receiver (Ruby 3.3): `nil`, `main:Object`, `an instance of
    /// String`, `module Kernel`, `class Foo`.
    pub fn describe_receiver(&self, v: &Value) -> String {
        match v {
            Value::Nil => "nil".into(),
            Value::Bool(true) => "true".into(),
            Value::Bool(false) => "false".into(),
            Value::Lib(l) if matches!(**l, Lib::Main) => "main".into(),
            Value::Module(m) => format!("{} {}", if m.is_class { "class" } else { "module" }, m.name),
            other => format!("an instance of {}", self.class_name(other)),
        }
    }

    fn find_user_method(&mut self, recv: &Value, name: &str) -> Option<(Rc<MethodDef>, Option<Rc<RModule>>)> {
        match recv {
            Value::Module(m) => {
                let mut cur = Some(m.clone());
                while let Some(c) = cur {
                    if let Some(d) = c.smethods.borrow().get(name) {
                        return Some((d.clone(), Some(c.clone())));
                    }
                    if c.extended_self.get() {
                        if let Some(d) = c.imethods.borrow().get(name) {
                            return Some((d.clone(), Some(c.clone())));
                        }
                    }
                    cur = c.superclass.clone();
                }
                None
            }
            Value::Object(o) => o.class.find_imethod(name).map(|d| (d, Some(o.class.clone()))),
            Value::Lib(l) if matches!(**l, Lib::Main) => None,
            other => {
                // methods the template added to a built-in class (`class String; def x`)
                let class = self.class_of(other);
                let mut cur = Some(class);
                while let Some(c) = cur {
                    if let Some(d) = c.imethods.borrow().get(name) {
                        return Some((d.clone(), Some(c.clone())));
                    }
                    cur = c.superclass.clone();
                }
                None
            }
        }
    }

    /// Calls a method on a receiver.
    pub fn call_method(&mut self, recv: &Value, name: &str, args: Args) -> R<Value> {
        self.tick()?;
        if let Some((def, owner)) = self.find_user_method(recv, name) {
            return self.invoke(def, owner, recv.clone(), args);
        }
        if let Some(v) = crate::methods::dispatch(self, recv, name, &args)? {
            return Ok(v);
        }
        // private methods of Object defined at the top level, called with `self.`
        if matches!(recv, Value::Lib(l) if matches!(**l, Lib::Main)) {
            if let Some(def) = self.object_methods.get(name).cloned() {
                return self.invoke(def, None, recv.clone(), args);
            }
        }
        let class = match recv {
            Value::Module(m) if m.builtin => format!("s:{}", m.name),
            Value::Module(m) => format!("s:{}", if m.is_class { "Class" } else { "Module" }),
            Value::Lib(l) if matches!(**l, Lib::Env) => "s:ENV".into(),
            Value::Lib(l) if matches!(**l, Lib::Main) => "s:main".into(),
            other => format!("i:{}", self.class_name(other)),
        };
        if known::method_exists(&class, name) {
            let shown = match recv {
                Value::Module(m) => format!("{}.{name}", m.name),
                Value::Lib(l) if matches!(**l, Lib::Env) => format!("ENV.{name}"),
                other => format!("{}#{name}", self.class_name(other)),
            };
            return self.unsupported(shown);
        }
        let shown = self.describe_receiver(recv);
        self.raise("NoMethodError", &format!("undefined method `{name}' for {shown}"))
    }

    /// Runs a method the template defined.
    pub fn invoke(&mut self, def: Rc<MethodDef>, owner: Option<Rc<RModule>>, self_val: Value, args: Args) -> R<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return self.raise("SystemStackError", "stack level too deep");
        }
        let id = self.next_tag;
        self.next_tag += 1;
        let scope = Scope::new(None);
        let mut lexical = self.frames.last().map(|f| f.lexical.clone()).unwrap_or_default();
        if let Some(o) = &owner {
            if lexical.last().map(|m| !Rc::ptr_eq(m, o)).unwrap_or(true) {
                lexical.push(o.clone());
            }
        }
        let all_args = args.positional();
        self.frames.push(Frame {
            id,
            self_val,
            lexical,
            block: args.block.clone(),
            method: Some((def.clone(), owner)),
            args: all_args,
        });
        let saved_targets = std::mem::take(&mut self.break_targets);
        let result = self.bind_params(&def.params, args, &scope, true).and_then(|_| self.eval(&def.body, &scope));
        self.break_targets = saved_targets;
        self.frames.pop();
        self.depth -= 1;
        match result {
            Err(Ctrl::Return(v, fid)) if fid == id => Ok(v),
            other => other,
        }
    }

    /// Binds arguments to parameters. Methods and lambdas check the count; blocks do not.
    fn bind_params(&mut self, params: &Params, mut args: Args, scope: &Rc<Scope>, strict: bool) -> R<()> {
        // keywords: a trailing hash feeds keyword parameters
        let has_kw_params = !params.keywords.is_empty() || params.kwrest.is_some();
        let mut kw: Option<Value> = None;
        if has_kw_params {
            kw = args.kw.take();
            if kw.is_none() && !strict {
                if let Some(Value::Hash(_)) = args.pos.last() {
                    kw = args.pos.pop();
                }
            }
        } else if let Some(k) = args.kw.take() {
            args.pos.push(k);
        }
        let pos = args.pos;
        let required = params.required.len() + params.post.len();
        let optional = params.optional.len();
        if strict {
            let max = if params.rest.is_some() { usize::MAX } else { required + optional };
            if pos.len() < required || pos.len() > max {
                let expected = if params.rest.is_some() {
                    format!("{required}+")
                } else if optional > 0 {
                    format!("{required}..{}", required + optional)
                } else {
                    required.to_string()
                };
                return self.arity(pos.len(), &expected);
            }
        }
        let n_req = params.required.len();
        let n_post = params.post.len();
        let available_for_optional = pos.len().saturating_sub(n_req + n_post);
        let mut i = 0;
        for t in &params.required {
            let v = pos.get(i).cloned().unwrap_or(Value::Nil);
            self.bind_target(t, v, scope)?;
            i += 1;
        }
        for (k, (name, default)) in params.optional.iter().enumerate() {
            if k < available_for_optional {
                scope.define(name, pos[i].clone());
                i += 1;
            } else {
                let v = self.eval(default, scope)?;
                scope.define(name, v);
            }
        }
        if let Some(rest) = &params.rest {
            let end = pos.len().saturating_sub(n_post).max(i);
            let items = pos.get(i..end).map(|s| s.to_vec()).unwrap_or_default();
            i = end;
            if rest != "*" {
                scope.define(rest, Value::array(items));
            }
        }
        for t in &params.post {
            let v = pos.get(i).cloned().unwrap_or(Value::Nil);
            self.bind_target(t, v, scope)?;
            i += 1;
        }
        if has_kw_params {
            let given: Vec<(Value, Value)> = match &kw {
                Some(Value::Hash(h)) => h.borrow().pairs(),
                _ => vec![],
            };
            let mut used = HashSet::new();
            for (name, default) in &params.keywords {
                let found = given.iter().find(|(k, _)| matches!(k, Value::Sym(s) if &**s == name.as_str()));
                match (found, default) {
                    (Some((_, v)), _) => {
                        used.insert(name.clone());
                        scope.define(name, v.clone());
                    }
                    (None, Some(d)) => {
                        let v = self.eval(d, scope)?;
                        scope.define(name, v);
                    }
                    (None, None) => {
                        return self.raise("ArgumentError", &format!("missing keyword: :{name}"));
                    }
                }
            }
            let mut rest = RHash::default();
            for (k, v) in given {
                let known_kw = matches!(&k, Value::Sym(s) if used.contains(&s.to_string()));
                if !known_kw {
                    if params.kwrest.is_none() && strict {
                        let shown = self.inspect(&k)?;
                        return self.raise("ArgumentError", &format!("unknown keyword: {shown}"));
                    }
                    rest.insert(k, v);
                }
            }
            if let Some(name) = &params.kwrest {
                if name != "**" {
                    scope.define(name, Value::hash(rest));
                }
            }
        }
        if let Some(name) = &params.block {
            if name != "&" {
                scope.define(name, args.block.map(Value::Proc).unwrap_or(Value::Nil));
            }
        }
        for name in &params.block_locals {
            scope.define(name, Value::Nil);
        }
        Ok(())
    }

    fn bind_target(&mut self, t: &Target, v: Value, scope: &Rc<Scope>) -> R<()> {
        match t {
            Target::Local(name) => {
                scope.define(name, v);
                Ok(())
            }
            Target::Nested(targets, _) => {
                let items = match &v {
                    Value::Array(a) => a.borrow().clone(),
                    other => vec![other.clone()],
                };
                self.destructure(targets, items, scope, true)
            }
            other => self.assign(other, v, scope),
        }
    }

    /// Calls a block, proc or lambda with arguments.
    pub fn call_proc(&mut self, p: &Rc<RProc>, args: Args) -> R<Value> {
        self.tick()?;
        match &p.kind {
            ProcKind::Symbol(name) => {
                let mut pos = args.positional();
                if pos.is_empty() {
                    return self.raise("ArgumentError", "no receiver given");
                }
                let recv = pos.remove(0);
                self.call_method(&recv, name, Args { pos, kw: None, block: args.block })
            }
            ProcKind::Native(f) => {
                let f = f.clone();
                let mut f = f.borrow_mut();
                (*f)(self, args.positional())
            }
            ProcKind::Method { recv, name } => {
                if matches!(recv, Value::Lib(l) if matches!(**l, Lib::Main)) {
                    let scope = Scope::new(None);
                    return self.call_function(name, args, false, &scope);
                }
                self.call_method(recv, name, args)
            }
            ProcKind::Block { def, scope, self_val, frame, module } => {
                let block_scope = Scope::new(Some(scope.clone()));
                let mut args = args;
                // a block with several parameters spreads a single array argument
                if !p.is_lambda
                    && def.has_params
                    && args.pos.len() == 1
                    && args.kw.is_none()
                    && (def.params.arity_for_spread() > 1
                        || (def.params.required.len() == 1 && matches!(def.params.required[0], Target::Nested(..)))
                        || (def.params.rest.is_some() && def.params.arity_for_spread() > 1))
                {
                    if let Value::Array(a) = &args.pos[0] {
                        let items = a.borrow().clone();
                        args.pos = items;
                    }
                }
                if def.numbered > 0 {
                    let first = args.pos.first().cloned().unwrap_or(Value::Nil);
                    if def.numbered > 1 {
                        if let Value::Array(a) = &first {
                            let items = a.borrow().clone();
                            block_scope.define("_1", items.first().cloned().unwrap_or(Value::Nil));
                            block_scope.define("_2", items.get(1).cloned().unwrap_or(Value::Nil));
                        } else {
                            block_scope.define("_1", first);
                            block_scope.define("_2", args.pos.get(1).cloned().unwrap_or(Value::Nil));
                        }
                    } else {
                        block_scope.define("_1", first.clone());
                        block_scope.define("it", first);
                    }
                }
                // run with the self and frame the block was made in
                let mut lexical =
                    self.frames.iter().find(|f| f.id == *frame).map(|f| f.lexical.clone()).unwrap_or_default();
                if let Some(m) = module {
                    if lexical.last().map(|l| !Rc::ptr_eq(l, m)).unwrap_or(true) {
                        lexical.push(m.clone());
                    }
                }
                let outer_block = self.frames.iter().find(|f| f.id == *frame).and_then(|f| f.block.clone());
                let outer_method = self.frames.iter().find(|f| f.id == *frame).and_then(|f| f.method.clone());
                let outer_args =
                    self.frames.iter().find(|f| f.id == *frame).map(|f| f.args.clone()).unwrap_or_default();
                self.frames.push(Frame {
                    id: *frame,
                    self_val: self_val.clone(),
                    lexical,
                    block: outer_block,
                    method: outer_method,
                    args: outer_args,
                });
                self.break_targets.push(p.tag);
                let strict = p.is_lambda;
                let result = self.bind_params(&def.params, args, &block_scope, strict).and_then(|_| loop {
                    match self.eval(&def.body, &block_scope) {
                        Err(Ctrl::Redo) => continue,
                        other => break other,
                    }
                });
                self.break_targets.pop();
                self.frames.pop();
                match result {
                    Err(Ctrl::Next(v)) => Ok(v),
                    Err(Ctrl::Break(v, tag)) if p.is_lambda && tag == p.tag => Ok(v),
                    Err(Ctrl::Return(v, _)) if p.is_lambda => Ok(v),
                    other => other,
                }
            }
        }
    }

    /// Calls a block with one value per call (`each`), as `yield x`.
    pub fn yield1(&mut self, block: &Rc<RProc>, v: Value) -> R<Value> {
        self.call_proc(block, Args::new(vec![v]))
    }

    /// Calls a block with several values (`each_with_index`, hash pairs).
    pub fn yield_n(&mut self, block: &Rc<RProc>, vs: Vec<Value>) -> R<Value> {
        self.call_proc(block, Args::new(vs))
    }

    fn eval_super(&mut self, args: Option<&[Node]>, scope: &Rc<Scope>) -> R<Value> {
        let Some(frame) = self.frames.last() else { return self.unsupported("super outside a method") };
        let Some((def, owner)) = frame.method.clone() else {
            return self.raise("RuntimeError", "super called outside of method");
        };
        let self_val = frame.self_val.clone();
        let block = frame.block.clone();
        let implicit_args = frame.args.clone();
        let mut args = match args {
            Some(nodes) => self.eval_args(nodes, scope)?,
            None => Args::new(implicit_args),
        };
        if args.block.is_none() {
            args.block = block;
        }
        let parent = owner.and_then(|o| o.superclass.clone());
        if let Some(p) = &parent {
            if let Some(m) = p.find_imethod(&def.name) {
                return self.invoke(m, Some(p.clone()), self_val, args);
            }
        }
        if let Some(r) = crate::methods::dispatch(self, &self_val, &def.name, &args)? {
            return Ok(r);
        }
        self.unsupported(format!("super in {}", def.name))
    }

    // ---- control structures ----------------------------------------------------------------

    fn eval_while(&mut self, cond: &Node, body: &Node, do_while: bool, scope: &Rc<Scope>) -> R<Value> {
        self.break_targets.push(0);
        let result = (|| {
            let mut first = do_while;
            loop {
                if !first && !self.eval(cond, scope)?.truthy() {
                    return Ok(Value::Nil);
                }
                first = false;
                match self.eval(body, scope) {
                    Ok(_) | Err(Ctrl::Next(_)) => {}
                    Err(Ctrl::Break(v, 0)) => return Ok(v),
                    Err(e) => return Err(e),
                }
            }
        })();
        self.break_targets.pop();
        result
    }

    fn eval_for(&mut self, target: &Target, iter: &Node, body: &Node, scope: &Rc<Scope>) -> R<Value> {
        let collection = self.eval(iter, scope)?;
        let items = match crate::methods::enumerable::to_a(self, &collection)? {
            Value::Array(a) => a.borrow().clone(),
            _ => vec![],
        };
        self.break_targets.push(0);
        let result = (|| {
            for item in items {
                self.assign(target, item, scope)?;
                match self.eval(body, scope) {
                    Ok(_) | Err(Ctrl::Next(_)) => {}
                    Err(Ctrl::Break(v, 0)) => return Ok(v),
                    Err(e) => return Err(e),
                }
            }
            Ok(collection.clone())
        })();
        self.break_targets.pop();
        result
    }

    fn eval_case(
        &mut self,
        subject: Option<&Node>,
        whens: &[(Vec<Node>, Node)],
        otherwise: &Node,
        scope: &Rc<Scope>,
    ) -> R<Value> {
        let subject = match subject {
            Some(s) => Some(self.eval(s, scope)?),
            None => None,
        };
        for (values, body) in whens {
            for v in values {
                let candidates = if let Kind::Splat(inner) = &v.kind {
                    let x = self.eval(inner, scope)?;
                    self.splat_values(x)?
                } else {
                    vec![self.eval(v, scope)?]
                };
                for c in candidates {
                    let hit = match &subject {
                        Some(s) => self.case_eq(&c, s)?,
                        None => c.truthy(),
                    };
                    if hit {
                        return self.eval(body, scope);
                    }
                }
            }
        }
        self.eval(otherwise, scope)
    }

    /// `pattern === value`.
    pub fn case_eq(&mut self, pattern: &Value, value: &Value) -> R<bool> {
        let v = self.call_method(pattern, "===", Args::new(vec![value.clone()]))?;
        Ok(v.truthy())
    }

    fn eval_begin(
        &mut self,
        body: &Node,
        rescues: &[Rescue],
        else_body: Option<&Node>,
        ensure: Option<&Node>,
        scope: &Rc<Scope>,
    ) -> R<Value> {
        let result = loop {
            let attempt = self.eval(body, scope);
            let outcome = match attempt {
                Err(Ctrl::Raise(exc)) if !rescues.is_empty() => {
                    let mut handled = None;
                    'clauses: for clause in rescues {
                        let classes: Vec<Value> = if clause.classes.is_empty() {
                            vec![Value::Module(self.class("StandardError"))]
                        } else {
                            let mut out = vec![];
                            for c in &clause.classes {
                                if let Kind::Splat(inner) = &c.kind {
                                    let v = self.eval(inner, scope)?;
                                    out.extend(self.splat_values(v)?);
                                } else {
                                    out.push(self.eval(c, scope)?);
                                }
                            }
                            out
                        };
                        for class in classes {
                            let Value::Module(m) = class else {
                                return self.raise("TypeError", "class or module required for rescue clause");
                            };
                            if exc.class.inherits(&m.name) {
                                handled = Some(clause);
                                break 'clauses;
                            }
                        }
                    }
                    match handled {
                        Some(clause) => {
                            self.globals.insert("$!".into(), Value::Exception(exc.clone()));
                            if let Some(var) = &clause.var {
                                self.assign(var, Value::Exception(exc.clone()), scope)?;
                            }
                            let r = self.eval(&clause.body, scope);
                            self.globals.remove("$!");
                            match r {
                                Err(Ctrl::Retry) => continue,
                                other => other,
                            }
                        }
                        None => Err(Ctrl::Raise(exc)),
                    }
                }
                Ok(v) => match else_body {
                    Some(e) => self.eval(e, scope),
                    None => Ok(v),
                },
                other => other,
            };
            break outcome;
        };
        if let Some(ensure) = ensure {
            self.eval(ensure, scope)?;
        }
        result
    }

    fn defined(&mut self, node: &Node, scope: &Rc<Scope>) -> R<Value> {
        let what = match &node.kind {
            Kind::LVar(_) => Some("local-variable"),
            Kind::IVar(name) => {
                let set = match &self.self_val() {
                    Value::Object(o) => o.ivars.borrow().contains_key(name),
                    _ => self.main_ivars.borrow().contains_key(name),
                };
                set.then_some("instance-variable")
            }
            Kind::GVar(name) => self.globals.contains_key(name).then_some("global-variable"),
            Kind::Const(s, name) => match self.const_lookup(s.as_deref(), name, scope) {
                Ok(Some(_)) => Some("constant"),
                Ok(None) => {
                    let full = name.clone();
                    if known::constant_exists(&full) {
                        return self.unsupported(format!("defined?({full})"));
                    }
                    None
                }
                Err(Ctrl::Raise(_)) => None,
                Err(e) => return Err(e),
            },
            Kind::Call(call) => {
                let exists = match &call.recv {
                    None => {
                        self.object_methods.contains_key(&call.name)
                            || crate::methods::kernel::is_function(&call.name)
                            || known::kernel_function(&call.name)
                    }
                    Some(r) => match self.eval(r, scope) {
                        Ok(v) => crate::methods::responds_to(self, &v, &call.name),
                        Err(Ctrl::Raise(_)) => false,
                        Err(e) => return Err(e),
                    },
                };
                exists.then_some("method")
            }
            Kind::SelfRef => Some("self"),
            Kind::Nil => Some("expression"),
            Kind::True | Kind::False => Some("expression"),
            Kind::Asgn(..) | Kind::OpAsgn(..) | Kind::MultiAsgn(..) => Some("assignment"),
            Kind::Yield(_) => self.frames.last().and_then(|f| f.block.as_ref()).map(|_| "yield"),
            _ => Some("expression"),
        };
        Ok(match what {
            Some(w) => Value::frozen_str(w),
            None => Value::Nil,
        })
    }

    // ---- definitions -----------------------------------------------------------------------

    fn eval_def(&mut self, singleton: Option<&Node>, def: &Rc<MethodDef>, scope: &Rc<Scope>) -> R<Value> {
        let name = Value::sym(&def.name);
        if let Some(target) = singleton {
            let t = self.eval(target, scope)?;
            match t {
                Value::Module(m) => {
                    m.smethods.borrow_mut().insert(def.name.clone(), def.clone());
                }
                Value::Lib(l) if matches!(*l, Lib::Main) => {
                    self.object_methods.insert(def.name.clone(), def.clone());
                }
                _ => return self.unsupported("singleton methods on objects"),
            }
            return Ok(name);
        }
        let module = self.frames.last().and_then(|f| f.lexical.last().cloned());
        match module {
            Some(m) => {
                if self.in_singleton_class {
                    m.smethods.borrow_mut().insert(def.name.clone(), def.clone());
                } else {
                    m.imethods.borrow_mut().insert(def.name.clone(), def.clone());
                    if m.module_function.get() {
                        m.smethods.borrow_mut().insert(def.name.clone(), def.clone());
                    }
                }
            }
            None => {
                self.object_methods.insert(def.name.clone(), def.clone());
            }
        }
        Ok(name)
    }

    fn eval_module(
        &mut self,
        path: &Node,
        superclass: Option<&Node>,
        body: &Node,
        is_class: bool,
        scope: &Rc<Scope>,
    ) -> R<Value> {
        let Kind::Const(owner_node, name) = &path.kind else { return self.unsupported("module name") };
        let owner: Option<Rc<RModule>> = match owner_node.as_deref() {
            Some(Node { kind: Kind::Cbase, .. }) => None,
            Some(o) => match self.eval(o, scope)? {
                Value::Module(m) => Some(m),
                _ => return self.raise("TypeError", "not a class/module"),
            },
            None => self.frames.last().and_then(|f| f.lexical.last().cloned()),
        };
        let existing = match &owner {
            Some(o) => o.consts.borrow().get(name).cloned(),
            None => match self.object_consts.get(name).cloned() {
                Some(v) => Some(v),
                None => match crate::methods::constants::toplevel(self, name) {
                    Ok(Some(v @ Value::Module(_))) => Some(v),
                    _ => None,
                },
            },
        };
        let superclass = match superclass {
            Some(s) => match self.eval(s, scope)? {
                Value::Module(m) => Some(m),
                _ => return self.raise("TypeError", "superclass must be a Class"),
            },
            None => None,
        };
        let module = match existing {
            Some(Value::Module(m)) => {
                if m.is_class != is_class {
                    return self
                        .raise("TypeError", &format!("{name} is not a {}", if is_class { "class" } else { "module" }));
                }
                m
            }
            Some(_) => {
                return self
                    .raise("TypeError", &format!("{name} is not a {}", if is_class { "class" } else { "module" }))
            }
            None => {
                let full = match &owner {
                    Some(o) if o.name != "Object" => format!("{}::{name}", o.name),
                    _ => name.clone(),
                };
                let sup = if is_class { Some(superclass.unwrap_or_else(|| self.class("Object"))) } else { None };
                let m = RModule::new(&full, is_class, sup, false);
                match &owner {
                    Some(o) if !(o.builtin && o.name == "Object") => {
                        o.consts.borrow_mut().insert(name.clone(), Value::Module(m.clone()));
                    }
                    _ => {
                        self.object_consts.insert(name.clone(), Value::Module(m.clone()));
                    }
                }
                m
            }
        };
        self.with_module_body(&module, body, false)
    }

    fn with_module_body(&mut self, module: &Rc<RModule>, body: &Node, singleton_class: bool) -> R<Value> {
        let mut lexical = self.frames.last().map(|f| f.lexical.clone()).unwrap_or_default();
        lexical.push(module.clone());
        let id = self.frames.last().map(|f| f.id).unwrap_or(0);
        self.frames.push(Frame {
            id,
            self_val: Value::Module(module.clone()),
            lexical,
            block: None,
            method: None,
            args: vec![],
        });
        let saved = std::mem::replace(&mut self.in_singleton_class, singleton_class);
        let scope = Scope::new(None);
        let result = self.eval(body, &scope);
        self.in_singleton_class = saved;
        self.frames.pop();
        result
    }

    // ---- conversions -----------------------------------------------------------------------

    /// `to_s` as string interpolation and `puts` use it.
    pub fn to_s(&mut self, v: &Value) -> R<String> {
        Ok(match v {
            Value::Str(s) => s.s.borrow().clone(),
            Value::Nil => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => float_to_s(*f),
            Value::Sym(s) => s.to_string(),
            Value::Array(_) | Value::Hash(_) | Value::Range(_) => self.inspect_or_to_s(v, false)?,
            Value::Object(_) => {
                let r = self.call_method(v, "to_s", Args::default())?;
                match r {
                    Value::Str(s) => s.s.borrow().clone(),
                    other => self.default_to_s(&other),
                }
            }
            Value::Exception(e) => e.message.clone(),
            Value::Module(m) => m.name.clone(),
            Value::Regexp(r) => crate::methods::regexp::to_s(r),
            Value::Proc(_) => "#<Proc>".into(),
            Value::Lib(l) => crate::methods::lib_to_s(self, l)?,
        })
    }

    fn default_to_s(&self, v: &Value) -> String {
        format!("#<{}>", self.class_name(v))
    }

    /// `inspect` (Ruby 3.3 formats: `{"a"=>1, :b=>2}`, `[1, "x"]`, `nil`).
    pub fn inspect(&mut self, v: &Value) -> R<String> {
        self.inspect_or_to_s(v, true)
    }

    fn inspect_or_to_s(&mut self, v: &Value, inspect: bool) -> R<String> {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || self.inspect_inner(v, inspect))
    }

    fn inspect_inner(&mut self, v: &Value, _inspect: bool) -> R<String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return self.raise("SystemStackError", "stack level too deep");
        }
        let out = (|| {
            Ok(match v {
                Value::Nil => "nil".into(),
                Value::Str(s) => inspect_str(&s.s.borrow()),
                Value::Sym(s) => inspect_sym(s),
                Value::Array(a) => {
                    let items = a.borrow().clone();
                    let mut parts = vec![];
                    for i in &items {
                        parts.push(self.inspect(i)?);
                    }
                    format!("[{}]", parts.join(", "))
                }
                Value::Hash(h) => {
                    let pairs = h.borrow().pairs();
                    if pairs.is_empty() {
                        return Ok("{}".into());
                    }
                    let mut parts = vec![];
                    for (k, v) in &pairs {
                        parts.push(format!("{}=>{}", self.inspect(k)?, self.inspect(v)?));
                    }
                    format!("{{{}}}", parts.join(", "))
                }
                Value::Range(r) => {
                    let a = if r.start.is_nil() { String::new() } else { self.inspect(&r.start)? };
                    let b = if r.end.is_nil() { String::new() } else { self.inspect(&r.end)? };
                    format!("{a}{}{b}", if r.exclusive { "..." } else { ".." })
                }
                Value::Regexp(r) => crate::methods::regexp::inspect(r),
                Value::Exception(e) => {
                    if e.message.is_empty() {
                        e.class.name.clone()
                    } else {
                        format!("#<{}: {}>", e.class.name, e.message)
                    }
                }
                Value::Object(_) => {
                    let r = self.call_method(v, "inspect", Args::default())?;
                    self.to_s(&r)?
                }
                Value::Lib(l) => crate::methods::lib_inspect(self, l)?,
                other => self.to_s(other)?,
            })
        })();
        self.depth -= 1;
        out
    }

    /// `==` between values.
    pub fn equal(&mut self, a: &Value, b: &Value) -> R<bool> {
        Ok(match (a, b) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Int(x), Value::Int(y)) => x == y,
            (Value::Float(x), Value::Float(y)) => x == y,
            (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (*x as f64) == *y,
            (Value::Str(x), Value::Str(y)) => *x.s.borrow() == *y.s.borrow(),
            (Value::Sym(x), Value::Sym(y)) => x == y,
            (Value::Array(x), Value::Array(y)) => {
                if Rc::ptr_eq(x, y) {
                    return Ok(true);
                }
                let (x, y) = (x.borrow().clone(), y.borrow().clone());
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (p, q) in x.iter().zip(y.iter()) {
                    if !self.equal(p, q)? {
                        return Ok(false);
                    }
                }
                true
            }
            (Value::Hash(x), Value::Hash(y)) => {
                if Rc::ptr_eq(x, y) {
                    return Ok(true);
                }
                let (xp, yh) = (x.borrow().pairs(), y.borrow().clone());
                if xp.len() != yh.map.len() {
                    return Ok(false);
                }
                for (k, v) in xp {
                    match yh.get(&k) {
                        Some(w) => {
                            if !self.equal(&v, &w)? {
                                return Ok(false);
                            }
                        }
                        None => return Ok(false),
                    }
                }
                true
            }
            (Value::Range(x), Value::Range(y)) => {
                x.exclusive == y.exclusive && self.equal(&x.start, &y.start)? && self.equal(&x.end, &y.end)?
            }
            (Value::Object(_), _) => {
                let r = self.call_method(a, "==", Args::new(vec![b.clone()]))?;
                r.truthy()
            }
            (Value::Lib(x), Value::Lib(y)) => crate::methods::lib_equal(x, y),
            (Value::Regexp(x), Value::Regexp(y)) => x.source == y.source && x.flags == y.flags,
            _ => a.identity() == b.identity() && std::mem::discriminant(a) == std::mem::discriminant(b),
        })
    }

    /// Whether the object has had `freeze` called (strings only track it).
    pub fn check_frozen(&mut self, s: &RString) -> R<()> {
        if s.frozen.get() {
            let shown = inspect_str(&s.s.borrow());
            return self.raise("FrozenError", &format!("can't modify frozen String: {shown}"));
        }
        Ok(())
    }

    /// The current frame's block (for `block_given?`).
    pub fn frame_block(&self) -> Option<Rc<RProc>> {
        self.frames.last().and_then(|f| f.block.clone())
    }

    /// The current method's name (`__method__`).
    pub fn frame_method(&self) -> Option<String> {
        self.frames.last().and_then(|f| f.method.as_ref().map(|(d, _)| d.name.clone()))
    }

    /// The module whose body is running (for `module_function`, `attr_reader`).
    pub fn current_module(&self) -> Option<Rc<RModule>> {
        match self.frames.last().map(|f| &f.self_val) {
            Some(Value::Module(m)) => Some(m.clone()),
            _ => None,
        }
    }
}
