//! The syntax tree of the Ruby subset: what the parser builds and the interpreter walks.

use std::rc::Rc;

/// A node and the line it starts on (for error messages).
#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    pub line: u32,
}

/// A piece of an interpolated literal.
#[derive(Debug, Clone)]
pub enum Part {
    Lit(String),
    Code(Node),
}

/// Method or block parameters.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub required: Vec<Target>,
    pub optional: Vec<(String, Node)>,
    pub rest: Option<String>,
    pub post: Vec<Target>,
    pub keywords: Vec<(String, Option<Node>)>,
    pub kwrest: Option<String>,
    pub block: Option<String>,
    /// Block-local variables (`|x; y|`).
    pub block_locals: Vec<String>,
}

impl Params {
    /// How many parameters a block with these parameters spreads an array over.
    pub fn arity_for_spread(&self) -> usize {
        self.required.len() + self.optional.len() + self.post.len() + usize::from(self.rest.is_some())
    }
}

/// Where an assignment goes.
#[derive(Debug, Clone)]
pub enum Target {
    Local(String),
    IVar(String),
    GVar(String),
    CVar(String),
    Const(Option<Box<Node>>, String),
    /// `recv[args] = v`
    Index(Box<Node>, Vec<Node>),
    /// `recv.name = v`
    Attr(Box<Node>, String),
    /// `(a, b)` nested in a multiple assignment or block parameters.
    Nested(Vec<Target>, Option<usize>),
    /// `*a` in a multiple assignment (index into the enclosing list).
    Splat(Option<String>),
}

/// A block (`do |x| ... end` or `{ |x| ... }`) or a lambda body.
#[derive(Debug)]
pub struct BlockDef {
    pub params: Params,
    /// Whether the parameters were written (`{ |x| }`), so arrays spread over them.
    pub has_params: bool,
    pub body: Node,
    /// `_1`/`it` numbered parameters used in the body.
    pub numbered: u8,
}

/// A `def`.
#[derive(Debug)]
pub struct MethodDef {
    pub name: String,
    pub params: Params,
    pub body: Node,
}

/// A `rescue` clause.
#[derive(Debug, Clone)]
pub struct Rescue {
    pub classes: Vec<Node>,
    pub var: Option<Target>,
    pub body: Node,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Nil,
    True,
    False,
    SelfRef,
    Int(i64),
    Float(f64),
    Str(Vec<Part>),
    XStr(Vec<Part>),
    Sym(String),
    DSym(Vec<Part>),
    Regex(Vec<Part>, String),
    Array(Vec<Node>),
    /// Pairs; a `**h` entry has `None` as key.
    Hash(Vec<(Option<Node>, Node)>),
    Range(Option<Box<Node>>, Option<Box<Node>>, bool),
    LVar(String),
    IVar(String),
    GVar(String),
    CVar(String),
    /// `Name`, `Scope::Name`, `::Name` (scope `Some(Cbase)`).
    Const(Option<Box<Node>>, String),
    /// `::` at the start of a constant path.
    Cbase,
    Asgn(Box<Target>, Box<Node>),
    /// `t op= v` (op is `+`, `||`, `&&`, ...).
    OpAsgn(Box<Target>, String, Box<Node>),
    /// `a, b = v` (the optional splat index).
    MultiAsgn(Vec<Target>, Box<Node>),
    /// A method call. `recv: None` calls on self (functions like `puts`); `vcall` marks a
    /// bare name that could have been a local variable (`foo`), for NameError's message.
    Call(Rc<Call>),
    Super(Option<Vec<Node>>),
    Yield(Vec<Node>),
    Splat(Box<Node>),
    DoubleSplat(Box<Node>),
    BlockPass(Option<Box<Node>>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Defined(Box<Node>),
    If(Box<Node>, Box<Node>, Box<Node>),
    While(Box<Node>, Box<Node>, bool),
    /// `for target in iter; body; end`
    For(Box<Target>, Box<Node>, Box<Node>),
    Case(Option<Box<Node>>, Vec<(Vec<Node>, Node)>, Box<Node>),
    Begin {
        body: Box<Node>,
        rescues: Vec<Rescue>,
        else_body: Option<Box<Node>>,
        ensure: Option<Box<Node>>,
    },
    Def(Option<Box<Node>>, Rc<MethodDef>),
    Module(Box<Node>, Box<Node>),
    Class(Box<Node>, Option<Box<Node>>, Box<Node>),
    SClass(Box<Node>, Box<Node>),
    Return(Option<Box<Node>>),
    Break(Option<Box<Node>>),
    Next(Option<Box<Node>>),
    Redo,
    Retry,
    Seq(Vec<Node>),
    Lambda(Rc<BlockDef>),
    Alias(String, String),
    /// `__method__` and similar are calls; `__FILE__` is a string; `__LINE__` an integer.
    Line,
}

/// A method call.
#[derive(Debug)]
pub struct Call {
    pub recv: Option<Node>,
    pub name: String,
    pub args: Vec<Node>,
    pub block: Option<Rc<BlockDef>>,
    /// `&blk` / `&:sym` passed as the block.
    pub block_arg: Option<Node>,
    /// `&.`
    pub safe_nav: bool,
    /// A bare name with no arguments and no parentheses (`foo`): NameError rather than
    /// NoMethodError when undefined.
    pub vcall: bool,
    /// Written with parentheses or arguments (`foo()`, `foo 1`).
    pub has_parens: bool,
}

impl Node {
    pub fn new(kind: Kind, line: u32) -> Node {
        Node { kind, line }
    }

    pub fn nil(line: u32) -> Node {
        Node::new(Kind::Nil, line)
    }

    pub fn seq(mut nodes: Vec<Node>, line: u32) -> Node {
        match nodes.len() {
            0 => Node::nil(line),
            1 => nodes.pop().unwrap(),
            _ => Node::new(Kind::Seq(nodes), line),
        }
    }

    /// Ruby's source form for messages that quote a construct (`File.read`, `ENV.fetch`).
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Const(None, name) => name.clone(),
            Kind::Const(Some(scope), name) => match scope.kind {
                Kind::Cbase => format!("::{name}"),
                _ => format!("{}::{name}", scope.describe()),
            },
            Kind::LVar(n) | Kind::IVar(n) | Kind::GVar(n) | Kind::CVar(n) => n.clone(),
            Kind::Call(c) => match &c.recv {
                Some(r) => format!("{}.{}", r.describe(), c.name),
                None => c.name.clone(),
            },
            Kind::Str(_) => "a string".into(),
            Kind::SelfRef => "self".into(),
            _ => "an expression".into(),
        }
    }
}
