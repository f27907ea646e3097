//! A recursive-descent parser for the Ruby subset, with Ruby's precedence table, command calls
//! without parentheses (`require "x"`, `ENV.fetch "X", "y"`), `do`/`{}` blocks binding as in
//! Ruby, statement modifiers and local variables known at parse time (so that `x` is a variable
//! after `x = 1` even where the assignment did not run, as in Ruby).
//!
//! What it cannot parse is reported as a [`SyntaxError`] with the line; the renderer then treats
//! the template as beyond the built-in evaluator (a system Ruby may render it).

use crate::ast::*;
use crate::lexer::{lex, LexError, StrPart, Tok, Token};
use std::collections::HashSet;
use std::rc::Rc;

/// Why a program could not be parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub line: u32,
    pub message: String,
}

impl From<LexError> for SyntaxError {
    fn from(e: LexError) -> Self {
        SyntaxError { line: e.line, message: e.message }
    }
}

type PResult<T> = Result<T, SyntaxError>;

/// Parses a program (a template compiled by [`crate::template::compile`], or any Ruby source).
pub fn parse_program(src: &str) -> PResult<Node> {
    parse_program_with_locals(src, &[])
}

/// Parses a program evaluated where `locals` are already local variables (`result(binding)`).
pub fn parse_program_with_locals(src: &str, locals: &[String]) -> PResult<Node> {
    let toks = crate::lexer::lex_with_locals(src, 1, locals)?;
    let scope: HashSet<String> = locals.iter().cloned().collect();
    let mut p = Parser { toks, pos: 0, scopes: vec![(scope, true)], no_pipe: 0, no_do: 0, in_def: 0, nesting: 0 };
    let body = p.statements(&[])?;
    if !matches!(p.peek(), Tok::Eof) {
        return p.unexpected();
    }
    Ok(body)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    /// Local variable names per scope, and whether the scope starts afresh (`def`, `module`,
    /// `class`) rather than seeing its parent's (blocks).
    scopes: Vec<(HashSet<String>, bool)>,
    /// Inside block parameters: `|` ends them rather than being an operator (`|a, b = 2|`).
    no_pipe: usize,
    /// Inside `while`/`until`/`for` conditions, `do` belongs to the loop.
    no_do: usize,
    in_def: usize,
    /// How deep primaries nest right now.
    nesting: usize,
}

/// The deepest nesting of expressions the parser accepts.
const MAX_NESTING: usize = 1_000;

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Eof => "end-of-input".into(),
        Tok::Nl => "'\\n'".into(),
        Tok::Kw(k) => format!("'{k}'"),
        Tok::Op(o) => format!("'{}'", o.trim_end_matches("call").trim_end_matches("block").trim_end_matches('@')),
        Tok::Ident(i) => format!("local variable or method '{i}'"),
        Tok::Const(c) => format!("constant '{c}'"),
        Tok::Int(_) | Tok::Float(_) => "numeric literal".into(),
        Tok::Str(_) => "string literal".into(),
        Tok::Label(l) => format!("label '{l}:'"),
        other => format!("{other:?}"),
    }
}

impl Parser {
    // ---- token helpers ---------------------------------------------------------------------

    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_token(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn peek_at(&self, n: usize) -> &Tok {
        self.toks.get(self.pos + n).map(|t| &t.tok).unwrap_or(&Tok::Eof)
    }

    fn line(&self) -> u32 {
        self.toks[self.pos].line
    }

    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].tok.clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Kw(k) if *k == kw)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.next();
            true
        } else {
            false
        }
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.next();
            true
        } else {
            false
        }
    }

    fn expect_op(&mut self, op: &str) -> PResult<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            let shown = op.trim_end_matches("call").trim_end_matches("block");
            self.error(format!("syntax error, unexpected {}, expecting '{shown}'", describe(self.peek())))
        }
    }

    fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            self.error(format!("syntax error, unexpected {}, expecting '{kw}'", describe(self.peek())))
        }
    }

    fn error<T>(&self, message: String) -> PResult<T> {
        Err(SyntaxError { line: self.line(), message })
    }

    fn unexpected<T>(&self) -> PResult<T> {
        self.error(format!("syntax error, unexpected {}", describe(self.peek())))
    }

    fn skip_newlines(&mut self) {
        while matches!(self.peek(), Tok::Nl) {
            self.next();
        }
    }

    fn skip_terms(&mut self) {
        while matches!(self.peek(), Tok::Nl) || self.is_op(";") {
            self.next();
        }
    }

    /// Parses with a scope of its own that does not see the enclosing local variables (module
    /// and class bodies).
    fn fresh_scope<T>(&mut self, f: impl FnOnce(&mut Parser) -> PResult<T>) -> PResult<T> {
        self.scopes.push((HashSet::new(), true));
        let r = f(self);
        self.scopes.pop();
        r
    }

    fn declare(&mut self, name: &str) {
        self.scopes.last_mut().unwrap().0.insert(name.to_string());
    }

    fn is_local(&self, name: &str) -> bool {
        for (scope, fresh) in self.scopes.iter().rev() {
            if scope.contains(name) {
                return true;
            }
            if *fresh {
                return false;
            }
        }
        false
    }

    // ---- statements ------------------------------------------------------------------------

    /// Statements until one of the `terminators` keywords (not consumed) or the end.
    fn statements(&mut self, terminators: &[&str]) -> PResult<Node> {
        let line = self.line();
        let mut nodes = vec![];
        loop {
            self.skip_terms();
            match self.peek() {
                Tok::Eof => break,
                Tok::Kw(k) if terminators.contains(k) => break,
                Tok::Op("}") if terminators.contains(&"}") => break,
                Tok::Op(")") if terminators.contains(&")") => break,
                _ => {}
            }
            nodes.push(self.statement()?);
            if !matches!(self.peek(), Tok::Nl | Tok::Eof) {
                match self.peek() {
                    Tok::Kw(k) if terminators.contains(k) => {}
                    Tok::Op("}") if terminators.contains(&"}") => {}
                    Tok::Op(")") if terminators.contains(&")") => {}
                    _ => return self.unexpected(),
                }
            }
        }
        Ok(Node::seq(nodes, line))
    }

    /// A statement with its modifiers (`x if y`, `x rescue y`, `x while y`).
    fn statement(&mut self) -> PResult<Node> {
        let mut node = self.expr_statement()?;
        loop {
            let line = self.line();
            if self.eat_kw("if") {
                let cond = self.expr_statement()?;
                node = Node::new(Kind::If(Box::new(cond), Box::new(node), Box::new(Node::nil(line))), line);
            } else if self.eat_kw("unless") {
                let cond = self.expr_statement()?;
                node = Node::new(Kind::If(Box::new(cond), Box::new(Node::nil(line)), Box::new(node)), line);
            } else if self.eat_kw("while") {
                let cond = self.expr_statement()?;
                let do_while = matches!(node.kind, Kind::Begin { .. });
                node = Node::new(Kind::While(Box::new(cond), Box::new(node), do_while), line);
            } else if self.eat_kw("until") {
                let cond = self.expr_statement()?;
                let do_while = matches!(node.kind, Kind::Begin { .. });
                let cond = Node::new(Kind::Not(Box::new(cond)), line);
                node = Node::new(Kind::While(Box::new(cond), Box::new(node), do_while), line);
            } else if self.eat_kw("rescue") {
                let fallback = self.expr_statement()?;
                node = rescue_modifier(node, fallback, line);
            } else {
                return Ok(node);
            }
        }
    }

    /// `not x`, `x and y`, `x or y` (lowest precedence, left-associative).
    fn expr_statement(&mut self) -> PResult<Node> {
        let mut left = self.not_expr()?;
        loop {
            let line = self.line();
            if self.eat_kw("and") {
                self.skip_newlines();
                let right = self.not_expr()?;
                left = Node::new(Kind::And(Box::new(left), Box::new(right)), line);
            } else if self.eat_kw("or") {
                self.skip_newlines();
                let right = self.not_expr()?;
                left = Node::new(Kind::Or(Box::new(left), Box::new(right)), line);
            } else {
                return Ok(left);
            }
        }
    }

    fn not_expr(&mut self) -> PResult<Node> {
        let line = self.line();
        if self.eat_kw("not") {
            let inner = self.not_expr()?;
            return Ok(Node::new(Kind::Not(Box::new(inner)), line));
        }
        self.expression()
    }

    /// An expression that may be a command call or an assignment.
    fn expression(&mut self) -> PResult<Node> {
        if let Some(node) = self.try_multiple_assignment()? {
            return Ok(node);
        }
        self.arg_or_command()
    }

    fn try_multiple_assignment(&mut self) -> PResult<Option<Node>> {
        // `a, b = ...` / `*a, b = ...` / `a, (b, c) = ...`
        let start = self.pos;
        let starts_like =
            matches!(self.peek(), Tok::Ident(_) | Tok::IVar(_) | Tok::GVar(_) | Tok::Op("*@") | Tok::Op("("));
        if !starts_like {
            return Ok(None);
        }
        // look for a `,` before `=` on this statement at depth 0
        let mut depth = 0i32;
        let mut i = self.pos;
        let mut saw_comma = false;
        loop {
            match &self.toks[i].tok {
                Tok::Op("(" | "[" | "[]" | "(call" | "{" | "{block") => depth += 1,
                Tok::Op(")" | "]" | "}") => depth -= 1,
                Tok::Op(",") if depth == 0 => saw_comma = true,
                Tok::Op("=") if depth == 0 => break,
                Tok::Nl | Tok::Eof => return Ok(None),
                Tok::Kw(_) => return Ok(None),
                Tok::Op("==" | "=>" | "+=" | "-=" | "||=" | "&&=") => return Ok(None),
                _ => {}
            }
            if depth < 0 {
                return Ok(None);
            }
            i += 1;
        }
        if !saw_comma {
            return Ok(None);
        }
        let line = self.line();
        let targets = match self.mlhs_list() {
            Ok(t) if self.is_op("=") => t,
            _ => {
                self.pos = start;
                return Ok(None);
            }
        };
        self.expect_op("=")?;
        self.skip_newlines();
        let mut values = vec![self.arg_or_splat()?];
        while self.eat_op(",") {
            self.skip_newlines();
            values.push(self.arg_or_splat()?);
        }
        let value = if values.len() == 1 && !matches!(values[0].kind, Kind::Splat(_)) {
            values.pop().unwrap()
        } else {
            Node::new(Kind::Array(values), line)
        };
        Ok(Some(Node::new(Kind::MultiAsgn(targets, Box::new(value)), line)))
    }

    fn mlhs_list(&mut self) -> PResult<Vec<Target>> {
        let mut targets = vec![];
        loop {
            if self.eat_op("*@") {
                let name = match self.peek().clone() {
                    Tok::Ident(n) => {
                        self.next();
                        self.declare(&n);
                        Some(n)
                    }
                    _ => None,
                };
                targets.push(Target::Splat(name));
            } else if self.eat_op("(") {
                let inner = self.mlhs_list()?;
                self.expect_op(")")?;
                targets.push(Target::Nested(inner, None));
            } else {
                let node = self.primary_postfix()?;
                targets.push(self.to_target(node)?);
            }
            if !self.eat_op(",") {
                break;
            }
            if self.is_op("=") {
                break;
            }
        }
        Ok(targets)
    }

    fn to_target(&mut self, node: Node) -> PResult<Target> {
        Ok(match node.kind {
            Kind::LVar(n) => Target::Local(n),
            Kind::IVar(n) => Target::IVar(n),
            Kind::GVar(n) => Target::GVar(n),
            Kind::CVar(n) => Target::CVar(n),
            Kind::Const(scope, n) => Target::Const(scope, n),
            Kind::Call(call) if call.recv.is_none() && call.args.is_empty() && call.block.is_none() => {
                self.declare(&call.name);
                Target::Local(call.name.clone())
            }
            Kind::Call(call) if call.name == "[]" && call.recv.is_some() => {
                let call = Rc::try_unwrap(call).unwrap_or_else(|c| Call {
                    recv: c.recv.clone(),
                    name: c.name.clone(),
                    args: c.args.clone(),
                    block: None,
                    block_arg: None,
                    safe_nav: false,
                    vcall: false,
                    has_parens: true,
                });
                Target::Index(Box::new(call.recv.unwrap()), call.args)
            }
            Kind::Call(call) if call.recv.is_some() && call.args.is_empty() && call.block.is_none() => {
                Target::Attr(Box::new(call.recv.clone().unwrap()), call.name.clone())
            }
            _ => return self.error("syntax error, unexpected '=', cannot assign".into()),
        })
    }

    /// An argument-level expression, or a command call (`foo a, b`) with its `do` block.
    fn arg_or_command(&mut self) -> PResult<Node> {
        self.arg()
    }

    // ---- operator precedence ---------------------------------------------------------------

    /// `arg`: assignment, then ternary and the binary operators.
    fn arg(&mut self) -> PResult<Node> {
        let line = self.line();
        let start = self.pos;
        let left = self.ternary()?;
        // assignment
        if let Tok::Op(op) = self.peek().clone() {
            let assign_op = match op {
                "=" => Some(""),
                "+=" => Some("+"),
                "-=" => Some("-"),
                "*=" => Some("*"),
                "/=" => Some("/"),
                "%=" => Some("%"),
                "**=" => Some("**"),
                "||=" => Some("||"),
                "&&=" => Some("&&"),
                "|=" => Some("|"),
                "&=" => Some("&"),
                "<<=" => Some("<<"),
                ">>=" => Some(">>"),
                "^=" => Some("^"),
                _ => None,
            };
            if let Some(bin) = assign_op {
                if !is_assignable(&left) {
                    self.pos = start;
                    return self.error("syntax error, unexpected '=', cannot assign".into());
                }
                self.next();
                self.skip_newlines();
                let target = self.to_target(left)?;
                let mut value = self.arg_rhs()?;
                if self.is_kw("rescue") && bin.is_empty() {
                    let l = self.line();
                    self.next();
                    let fallback = self.arg()?;
                    value = rescue_modifier(value, fallback, l);
                }
                return Ok(if bin.is_empty() {
                    Node::new(Kind::Asgn(Box::new(target), Box::new(value)), line)
                } else {
                    Node::new(Kind::OpAsgn(Box::new(target), bin.to_string(), Box::new(value)), line)
                });
            }
        }
        Ok(left)
    }

    /// The right side of an assignment: an argument, a command call, or `a, b` (an array).
    fn arg_rhs(&mut self) -> PResult<Node> {
        let line = self.line();
        let first = self.arg_or_splat()?;
        if self.is_op(",") {
            let mut items = vec![first];
            while self.eat_op(",") {
                self.skip_newlines();
                items.push(self.arg_or_splat()?);
            }
            return Ok(Node::new(Kind::Array(items), line));
        }
        if let Kind::Splat(_) = first.kind {
            return Ok(Node::new(Kind::Array(vec![first]), line));
        }
        Ok(first)
    }

    fn arg_or_splat(&mut self) -> PResult<Node> {
        let line = self.line();
        if self.eat_op("*@") {
            let inner = self.arg()?;
            return Ok(Node::new(Kind::Splat(Box::new(inner)), line));
        }
        self.arg()
    }

    fn ternary(&mut self) -> PResult<Node> {
        let line = self.line();
        let cond = self.range()?;
        if self.is_op("?") {
            self.next();
            self.skip_newlines();
            let then = self.ternary_branch()?;
            self.skip_newlines();
            // `a ? b :c` lexes `:c` as a symbol; accept a label too (`a ? b: c`)
            if !self.eat_op(":") {
                return self.error(format!("syntax error, unexpected {}, expecting ':'", describe(self.peek())));
            }
            self.skip_newlines();
            let otherwise = self.ternary_branch()?;
            return Ok(Node::new(Kind::If(Box::new(cond), Box::new(then), Box::new(otherwise)), line));
        }
        Ok(cond)
    }

    fn ternary_branch(&mut self) -> PResult<Node> {
        // a branch may be an assignment (`x ? a = 1 : b`) or a nested ternary
        let node = self.ternary()?;
        if self.is_op("=") && is_assignable(&node) {
            self.next();
            let target = self.to_target(node)?;
            let value = self.ternary_branch()?;
            let line = self.line();
            return Ok(Node::new(Kind::Asgn(Box::new(target), Box::new(value)), line));
        }
        Ok(node)
    }

    fn range(&mut self) -> PResult<Node> {
        let line = self.line();
        if self.is_op("..") || self.is_op("...") {
            // beginless range
            let excl = self.is_op("...");
            self.next();
            let end = self.oror()?;
            return Ok(Node::new(Kind::Range(None, Some(Box::new(end)), excl), line));
        }
        let left = self.oror()?;
        if self.is_op("..") || self.is_op("...") {
            let excl = self.is_op("...");
            self.next();
            let endless = matches!(self.peek(), Tok::Nl | Tok::Eof | Tok::Op(")" | "]" | ","))
                || matches!(self.peek(), Tok::Kw("then" | "do"));
            let end = if endless { None } else { Some(Box::new(self.oror()?)) };
            return Ok(Node::new(Kind::Range(Some(Box::new(left)), end, excl), line));
        }
        Ok(left)
    }

    fn oror(&mut self) -> PResult<Node> {
        let mut left = self.andand()?;
        while self.is_op("||") {
            let line = self.line();
            self.next();
            self.skip_newlines();
            let right = self.andand()?;
            left = Node::new(Kind::Or(Box::new(left), Box::new(right)), line);
        }
        Ok(left)
    }

    fn andand(&mut self) -> PResult<Node> {
        let mut left = self.not_op()?;
        while self.is_op("&&") {
            let line = self.line();
            self.next();
            self.skip_newlines();
            let right = self.not_op()?;
            left = Node::new(Kind::And(Box::new(left), Box::new(right)), line);
        }
        Ok(left)
    }

    fn not_op(&mut self) -> PResult<Node> {
        let line = self.line();
        if self.is_kw("defined?") && !matches!(self.peek_at(1), Tok::Op("(call" | "(")) {
            self.next();
            let paren = self.eat_op("(call") || self.eat_op("(");
            self.skip_newlines();
            let inner = if paren {
                let e = self.statement()?;
                self.skip_newlines();
                self.expect_op(")")?;
                e
            } else {
                self.unary()?
            };
            return Ok(Node::new(Kind::Defined(Box::new(inner)), line));
        }
        self.equality()
    }

    fn equality(&mut self) -> PResult<Node> {
        let left = self.comparison()?;
        let op = match self.peek() {
            Tok::Op(o @ ("==" | "!=" | "===" | "=~" | "!~" | "<=>")) => *o,
            _ => return Ok(left),
        };
        let line = self.line();
        self.next();
        self.skip_newlines();
        let right = self.comparison()?;
        Ok(match op {
            "!=" => Node::new(Kind::Not(Box::new(binop(left, "==", right, line))), line),
            "!~" => Node::new(Kind::Not(Box::new(binop(left, "=~", right, line))), line),
            _ => binop(left, op, right, line),
        })
    }

    fn comparison(&mut self) -> PResult<Node> {
        let mut left = self.bit_or()?;
        while let Tok::Op(o @ ("<" | ">" | "<=" | ">=")) = self.peek() {
            let op = *o;
            let line = self.line();
            self.next();
            self.skip_newlines();
            let right = self.bit_or()?;
            left = binop(left, op, right, line);
        }
        Ok(left)
    }

    fn bit_or(&mut self) -> PResult<Node> {
        let mut left = self.bit_and()?;
        while let Tok::Op(o @ ("|" | "^")) = self.peek() {
            if *o == "|" && self.no_pipe > 0 {
                break;
            }
            let op = *o;
            let line = self.line();
            self.next();
            self.skip_newlines();
            let right = self.bit_and()?;
            left = binop(left, op, right, line);
        }
        Ok(left)
    }

    fn bit_and(&mut self) -> PResult<Node> {
        let mut left = self.shift()?;
        while self.is_op("&") {
            let line = self.line();
            self.next();
            self.skip_newlines();
            let right = self.shift()?;
            left = binop(left, "&", right, line);
        }
        Ok(left)
    }

    fn shift(&mut self) -> PResult<Node> {
        let mut left = self.additive()?;
        while let Tok::Op(o @ ("<<" | ">>")) = self.peek() {
            let op = *o;
            let line = self.line();
            self.next();
            self.skip_newlines();
            let right = self.additive()?;
            left = binop(left, op, right, line);
        }
        Ok(left)
    }

    fn additive(&mut self) -> PResult<Node> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Op(o @ ("+" | "-")) => *o,
                // `a -1` after a value is subtraction too
                Tok::Int(i) if *i < 0 && !self.peek_token().space_before => "-int",
                _ => return Ok(left),
            };
            let line = self.line();
            if op == "-int" {
                let Tok::Int(i) = self.next() else { unreachable!() };
                let right = Node::new(Kind::Int(-i), line);
                left = binop(left, "-", right, line);
                continue;
            }
            self.next();
            self.skip_newlines();
            let right = self.multiplicative()?;
            left = binop(left, op, right, line);
        }
    }

    fn multiplicative(&mut self) -> PResult<Node> {
        let mut left = self.unary_minus()?;
        while let Tok::Op(o @ ("*" | "/" | "%")) = self.peek() {
            let op = *o;
            let line = self.line();
            self.next();
            self.skip_newlines();
            let right = self.unary_minus()?;
            left = binop(left, op, right, line);
        }
        Ok(left)
    }

    fn unary_minus(&mut self) -> PResult<Node> {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.unary_minus_inner())
    }

    fn unary_minus_inner(&mut self) -> PResult<Node> {
        let line = self.line();
        if self.eat_op("-@") {
            let inner = self.unary_minus()?;
            return Ok(call_node(Some(inner), "-@", vec![], line));
        }
        self.power()
    }

    fn power(&mut self) -> PResult<Node> {
        let left = self.unary()?;
        if self.is_op("**") {
            let line = self.line();
            self.next();
            self.skip_newlines();
            let right = self.unary_minus()?; // right-associative
            return Ok(binop(left, "**", right, line));
        }
        Ok(left)
    }

    fn unary(&mut self) -> PResult<Node> {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.unary_inner())
    }

    fn unary_inner(&mut self) -> PResult<Node> {
        let line = self.line();
        if self.eat_op("!") {
            let inner = self.unary()?;
            return Ok(Node::new(Kind::Not(Box::new(inner)), line));
        }
        if self.eat_op("~") {
            let inner = self.unary()?;
            return Ok(call_node(Some(inner), "~", vec![], line));
        }
        if self.eat_op("+@") {
            let inner = self.unary()?;
            return Ok(call_node(Some(inner), "+@", vec![], line));
        }
        if self.eat_op("&@") {
            // `&blk` outside argument lists is not valid
            return self.unexpected();
        }
        self.primary_postfix()
    }

    // ---- primaries and calls ---------------------------------------------------------------

    fn primary_postfix(&mut self) -> PResult<Node> {
        let mut node = self.primary()?;
        loop {
            let line = self.line();
            match self.peek().clone() {
                Tok::Op(dot @ ("." | "&.")) => {
                    self.next();
                    self.skip_newlines();
                    let safe = dot == "&.";
                    let name = match self.next() {
                        Tok::Ident(n) | Tok::Const(n) => n,
                        Tok::Label(n) => {
                            // `a.b:` never happens in our subset; treat as name then ':'
                            n
                        }
                        Tok::Kw(k) => k.to_string(),
                        Tok::Op("(call" | "(") => {
                            // `x.(args)` is `x.call(args)`
                            self.pos -= 1;
                            "call".to_string()
                        }
                        Tok::Op(op) => match op {
                            "<<" | "+" | "-" | "*" | "/" | "%" | "==" | "<" | ">" | "<=" | ">=" | "<=>" | "==="
                            | "=~" | "!" | "**" | "&" | "|" | "^" => op.to_string(),
                            "-@" => "-".into(),
                            "+@" => "+".into(),
                            "*@" => "*".into(),
                            "&@" => "&".into(),
                            "[" | "[]" => {
                                self.expect_op("]")?;
                                "[]".into()
                            }
                            _ => return self.unexpected(),
                        },
                        _ => return self.unexpected(),
                    };
                    // `recv.name = value` is an attribute assignment: leave `=` to `arg`
                    node = self.call_rest(Some(node), name, safe, line)?;
                }
                Tok::Op("::") => {
                    self.next();
                    match self.next() {
                        Tok::Const(n) => {
                            if self.is_op("(call") {
                                node = self.call_rest(Some(node), n, false, line)?;
                            } else {
                                node = Node::new(Kind::Const(Some(Box::new(node)), n), line);
                            }
                        }
                        Tok::Ident(n) => node = self.call_rest(Some(node), n, false, line)?,
                        _ => return self.unexpected(),
                    }
                }
                Tok::Op("[]") => {
                    self.next();
                    self.skip_newlines();
                    let args = self.call_args_until("]")?;
                    node = call_node(Some(node), "[]", args, line);
                }
                _ => return Ok(node),
            }
        }
    }

    /// After a method name: parenthesised or command arguments, and a block.
    fn call_rest(&mut self, recv: Option<Node>, name: String, safe_nav: bool, line: u32) -> PResult<Node> {
        let mut args = vec![];
        let mut block_arg = None;
        let mut has_parens = false;
        if self.is_op("(call") || (self.is_op("(") && !self.peek_token().space_before) {
            self.next();
            self.skip_newlines();
            let (a, b) = self.paren_args()?;
            args = a;
            block_arg = b;
            has_parens = true;
        } else if self.command_args_follow() {
            let (a, b) = self.command_args()?;
            args = a;
            block_arg = b;
            has_parens = true;
        }
        let block = self.block()?;
        let vcall = recv.is_none() && !has_parens && block.is_none();
        Ok(Node::new(
            Kind::Call(Rc::new(Call { recv, name, args, block, block_arg, safe_nav, vcall, has_parens })),
            line,
        ))
    }

    /// Whether the next token starts command arguments (`foo x`, `foo "a"`, `foo -1`).
    fn command_args_follow(&self) -> bool {
        let t = self.peek_token();
        if !t.space_before {
            return false;
        }
        match &t.tok {
            Tok::Int(_)
            | Tok::Float(_)
            | Tok::Str(_)
            | Tok::XStr(_)
            | Tok::Sym(_)
            | Tok::Regex(..)
            | Tok::Words(_)
            | Tok::Symbols(_)
            | Tok::Ident(_)
            | Tok::Const(_)
            | Tok::IVar(_)
            | Tok::GVar(_)
            | Tok::CVar(_)
            | Tok::Label(_)
            | Tok::StrLabel(_) => true,
            Tok::Kw(k) => {
                matches!(*k, "nil" | "true" | "false" | "self" | "not" | "defined?" | "__FILE__" | "__LINE__")
            }
            Tok::Op(op) => matches!(*op, "[" | "(" | "-@" | "+@" | "!" | "*@" | "&@" | "**@" | "->" | "::" | "~"),
            _ => false,
        }
    }

    /// Arguments inside `( ... )` (the `(` consumed), up to and including `)`.
    fn paren_args(&mut self) -> PResult<(Vec<Node>, Option<Node>)> {
        let mut args = vec![];
        let mut kwargs: Vec<(Option<Node>, Node)> = vec![];
        let mut block_arg = None;
        self.skip_newlines();
        let line = self.line();
        while !self.is_op(")") {
            self.one_arg(&mut args, &mut kwargs, &mut block_arg, true)?;
            self.skip_newlines();
            if !self.eat_op(",") {
                break;
            }
            self.skip_newlines();
        }
        self.skip_newlines();
        self.expect_op(")")?;
        if !kwargs.is_empty() {
            args.push(Node::new(Kind::Hash(kwargs), line));
            args.last_mut().unwrap().line = u32::MAX - line; // marks a keyword hash (see is_kwargs)
        }
        Ok((args, block_arg))
    }

    /// Command arguments: up to the end of the statement (no `do` block of their own).
    fn command_args(&mut self) -> PResult<(Vec<Node>, Option<Node>)> {
        let mut args = vec![];
        let mut kwargs: Vec<(Option<Node>, Node)> = vec![];
        let mut block_arg = None;
        let line = self.line();
        self.no_do += 1;
        let result = (|| -> PResult<()> {
            loop {
                self.one_arg(&mut args, &mut kwargs, &mut block_arg, false)?;
                if !self.eat_op(",") {
                    break;
                }
                self.skip_newlines();
            }
            Ok(())
        })();
        self.no_do -= 1;
        result?;
        if !kwargs.is_empty() {
            args.push(Node::new(Kind::Hash(kwargs), u32::MAX - line));
        }
        Ok((args, block_arg))
    }

    fn one_arg(
        &mut self,
        args: &mut Vec<Node>,
        kwargs: &mut Vec<(Option<Node>, Node)>,
        block_arg: &mut Option<Node>,
        in_parens: bool,
    ) -> PResult<()> {
        let line = self.line();
        if let Some(pair) = self.labelled_pair(")")? {
            kwargs.push(pair);
            return Ok(());
        }
        match self.peek().clone() {
            Tok::Op("&@") => {
                self.next();
                if matches!(self.peek(), Tok::Op(")" | ",")) {
                    *block_arg = Some(Node::new(Kind::BlockPass(None), line));
                } else {
                    let value = self.arg_no_command()?;
                    *block_arg = Some(value);
                }
            }
            Tok::Op("*@") => {
                self.next();
                let value = self.arg_no_command()?;
                args.push(Node::new(Kind::Splat(Box::new(value)), line));
            }
            _ => {
                let value = if in_parens { self.statement_in_parens()? } else { self.arg_no_command()? };
                if self.eat_op("=>") {
                    self.skip_newlines();
                    let v = self.arg_no_command()?;
                    kwargs.push((Some(value), v));
                } else {
                    if !kwargs.is_empty() {
                        return self.error("syntax error, unexpected argument after keyword arguments".into());
                    }
                    args.push(value);
                }
            }
        }
        Ok(())
    }

    /// `name: value`, `"name": value` or `**hash` in a hash or argument list closed by `close`;
    /// `name:` alone is `name: name`.
    fn labelled_pair(&mut self, close: &str) -> PResult<Option<(Option<Node>, Node)>> {
        let line = self.line();
        Ok(Some(match self.peek().clone() {
            Tok::Label(name) => {
                self.next();
                self.skip_newlines();
                let value =
                    if self.is_op(",") || self.is_op(close) { self.name_node(&name, line) } else { self.arg()? };
                (Some(Node::new(Kind::Sym(name), line)), value)
            }
            Tok::StrLabel(parts) => {
                self.next();
                self.skip_newlines();
                let value = self.arg()?;
                let parts = self.parts(parts)?;
                (Some(Node::new(Kind::DSym(parts), line)), value)
            }
            Tok::Op("**@") => {
                self.next();
                (None, self.arg()?)
            }
            _ => return Ok(None),
        }))
    }

    fn statement_in_parens(&mut self) -> PResult<Node> {
        // inside parentheses an argument may be a full expression with `rescue`/`if` modifiers
        // only when wrapped in another pair; a plain argument is `arg`
        let node = self.arg()?;
        Ok(node)
    }

    fn arg_no_command(&mut self) -> PResult<Node> {
        self.arg()
    }

    fn name_node(&self, name: &str, line: u32) -> Node {
        if self.is_local(name) {
            Node::new(Kind::LVar(name.to_string()), line)
        } else {
            call_node(None, name, vec![], line)
        }
    }

    /// Arguments of `[ ... ]` indexing up to `]` (consumed).
    fn call_args_until(&mut self, close: &str) -> PResult<Vec<Node>> {
        let mut args = vec![];
        let mut kwargs = vec![];
        let mut block_arg = None;
        self.skip_newlines();
        while !self.is_op(close) {
            self.one_arg(&mut args, &mut kwargs, &mut block_arg, true)?;
            self.skip_newlines();
            if !self.eat_op(",") {
                break;
            }
            self.skip_newlines();
        }
        self.expect_op(close)?;
        if !kwargs.is_empty() {
            let line = self.line();
            args.push(Node::new(Kind::Hash(kwargs), line));
        }
        Ok(args)
    }

    /// A `{ |x| ... }` or `do |x| ... end` block, if one follows.
    fn block(&mut self) -> PResult<Option<Rc<BlockDef>>> {
        if self.is_op("{block") {
            self.next();
            return Ok(Some(self.block_body("}")?));
        }
        if self.is_kw("do") && self.no_do == 0 {
            self.next();
            return Ok(Some(self.block_body("end")?));
        }
        Ok(None)
    }

    fn block_body(&mut self, close: &str) -> PResult<Rc<BlockDef>> {
        let saved_no_do = std::mem::replace(&mut self.no_do, 0);
        self.scopes.push((HashSet::new(), false));
        let result = (|| -> PResult<BlockDef> {
            self.skip_newlines();
            let mut has_params = false;
            let mut params = Params::default();
            if self.eat_op("||") {
                has_params = true;
            } else if self.eat_op("|") {
                has_params = true;
                params = self.param_list(&["|"])?;
                // block-local variables: `|x; y, z|`
                if matches!(self.peek(), Tok::Nl) {
                    self.next();
                    while let Tok::Ident(n) = self.peek().clone() {
                        self.next();
                        self.declare(&n);
                        params.block_locals.push(n);
                        if !self.eat_op(",") {
                            break;
                        }
                    }
                }
                self.expect_op("|")?;
            }
            let body = if close == "}" {
                let b = self.statements(&["}"])?;
                self.expect_op("}")?;
                b
            } else {
                let b = self.body_with_rescue(&["end"])?;
                self.expect_kw("end")?;
                b
            };
            Ok(BlockDef { params, has_params, numbered: numbered_params(&body), body })
        })();
        self.scopes.pop();
        self.no_do = saved_no_do;
        Ok(Rc::new(result?))
    }

    /// Parameters up to one of `closers` (not consumed).
    fn param_list(&mut self, closers: &[&str]) -> PResult<Params> {
        let mut params = Params::default();
        let closed =
            |p: &Parser| closers.iter().any(|c| p.is_op(c)) || matches!(p.peek(), Tok::Nl if closers.contains(&"\n"));
        self.skip_newlines_if(closers);
        while !closed(self) {
            let line = self.line();
            match self.next() {
                Tok::Ident(name) => {
                    self.declare(&name);
                    if self.eat_op("=") {
                        self.no_pipe += 1;
                        let default = self.ternary();
                        self.no_pipe -= 1;
                        params.optional.push((name, default?));
                    } else if params.rest.is_some() {
                        params.post.push(Target::Local(name));
                    } else {
                        params.required.push(Target::Local(name));
                    }
                }
                Tok::Label(name) => {
                    self.declare(&name);
                    if matches!(self.peek(), Tok::Op(",")) || closed(self) {
                        params.keywords.push((name, None));
                    } else {
                        let default = self.ternary()?;
                        params.keywords.push((name, Some(default)));
                    }
                }
                Tok::Op("*@" | "*") => {
                    let name = match self.peek().clone() {
                        Tok::Ident(n) => {
                            self.next();
                            self.declare(&n);
                            n
                        }
                        _ => "*".into(),
                    };
                    params.rest = Some(name);
                }
                Tok::Op("**@" | "**") => {
                    let name = match self.peek().clone() {
                        Tok::Ident(n) => {
                            self.next();
                            self.declare(&n);
                            n
                        }
                        _ => "**".into(),
                    };
                    params.kwrest = Some(name);
                }
                Tok::Op("&@" | "&") => {
                    let name = match self.peek().clone() {
                        Tok::Ident(n) => {
                            self.next();
                            self.declare(&n);
                            n
                        }
                        _ => "&".into(),
                    };
                    params.block = Some(name);
                }
                Tok::Op("(" | "(call") => {
                    let inner = self.nested_params()?;
                    if params.rest.is_some() {
                        params.post.push(inner);
                    } else {
                        params.required.push(inner);
                    }
                }
                _ => {
                    self.pos -= 1;
                    let _ = line;
                    return self.unexpected();
                }
            }
            self.skip_newlines_if(closers);
            if !self.eat_op(",") {
                break;
            }
            self.skip_newlines_if(closers);
        }
        Ok(params)
    }

    fn skip_newlines_if(&mut self, closers: &[&str]) {
        if closers.contains(&")") {
            self.skip_newlines();
        }
    }

    fn nested_params(&mut self) -> PResult<Target> {
        let mut targets = vec![];
        loop {
            match self.next() {
                Tok::Ident(name) => {
                    self.declare(&name);
                    targets.push(Target::Local(name));
                }
                Tok::Op("*@" | "*") => {
                    let name = match self.peek().clone() {
                        Tok::Ident(n) => {
                            self.next();
                            self.declare(&n);
                            Some(n)
                        }
                        _ => None,
                    };
                    targets.push(Target::Splat(name));
                }
                Tok::Op("(" | "(call") => targets.push(self.nested_params()?),
                _ => {
                    self.pos -= 1;
                    return self.unexpected();
                }
            }
            if !self.eat_op(",") {
                break;
            }
        }
        self.expect_op(")")?;
        Ok(Target::Nested(targets, None))
    }

    fn parts(&mut self, parts: Vec<StrPart>) -> PResult<Vec<Part>> {
        let mut out = vec![];
        for part in parts {
            match part {
                StrPart::Lit(s) => out.push(Part::Lit(s)),
                StrPart::Code(src, line) => {
                    let toks = lex(&src, line)?;
                    let mut inner = Parser {
                        toks,
                        pos: 0,
                        scopes: self.scopes.clone(),
                        no_pipe: 0,
                        no_do: 0,
                        in_def: self.in_def,
                        nesting: self.nesting,
                    };
                    let node = inner.statements(&[])?;
                    if !matches!(inner.peek(), Tok::Eof) {
                        return inner.unexpected();
                    }
                    // names assigned inside `#{}` are locals afterwards too
                    if let (Some(mine), Some(theirs)) = (self.scopes.last_mut(), inner.scopes.last()) {
                        mine.0.extend(theirs.0.iter().cloned());
                    }
                    out.push(Part::Code(node));
                }
            }
        }
        Ok(out)
    }

    /// A primary expression. Nesting is limited (no deploy.yml nests this deep) and grows the
    /// stack on demand.
    fn primary(&mut self) -> PResult<Node> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            self.nesting -= 1;
            return self.error(format!("nesting deeper than {MAX_NESTING} levels"));
        }
        let r = stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.primary_inner());
        self.nesting -= 1;
        r
    }

    fn primary_inner(&mut self) -> PResult<Node> {
        let line = self.line();
        let tok = self.next();
        Ok(match tok {
            Tok::Int(i) => Node::new(Kind::Int(i), line),
            Tok::Float(f) => Node::new(Kind::Float(f), line),
            Tok::Str(parts) => {
                let parts = self.parts(parts)?;
                Node::new(Kind::Str(parts), line)
            }
            Tok::XStr(parts) => {
                let parts = self.parts(parts)?;
                Node::new(Kind::XStr(parts), line)
            }
            Tok::Sym(parts) => match parts.as_slice() {
                [StrPart::Lit(s)] => Node::new(Kind::Sym(s.clone()), line),
                _ => {
                    let parts = self.parts(parts)?;
                    Node::new(Kind::DSym(parts), line)
                }
            },
            Tok::Regex(parts, flags) => {
                let parts = self.parts(parts)?;
                Node::new(Kind::Regex(parts, flags), line)
            }
            Tok::Words(words) => {
                let mut items = vec![];
                for w in words {
                    let parts = self.parts(w)?;
                    items.push(Node::new(Kind::Str(parts), line));
                }
                Node::new(Kind::Array(items), line)
            }
            Tok::Symbols(words) => {
                Node::new(Kind::Array(words.into_iter().map(|w| Node::new(Kind::Sym(w), line)).collect()), line)
            }
            Tok::IVar(n) => Node::new(Kind::IVar(n), line),
            Tok::CVar(n) => Node::new(Kind::CVar(n), line),
            Tok::GVar(n) => Node::new(Kind::GVar(n), line),
            Tok::Label(name) => {
                // a label outside a hash or arguments: `puts a: 1` handled by command args; here
                // it is a hash without braces as a statement (rare) — reject
                return self.error(format!("syntax error, unexpected label '{name}:'"));
            }
            Tok::Ident(name) => {
                if self.is_local(&name) && !self.is_op("(call") && !self.is_op("{block") {
                    return Ok(Node::new(Kind::LVar(name), line));
                }
                if matches!(name.as_str(), "_1" | "_2" | "it") && !self.command_args_follow() && !self.is_op("(call") {
                    return Ok(Node::new(Kind::LVar(name), line));
                }
                if name == "lambda" || name == "proc" {
                    if let Some(block) = self.block()? {
                        return Ok(Node::new(
                            Kind::Call(Rc::new(Call {
                                recv: None,
                                name,
                                args: vec![],
                                block: Some(block),
                                block_arg: None,
                                safe_nav: false,
                                vcall: false,
                                has_parens: false,
                            })),
                            line,
                        ));
                    }
                }
                self.call_rest(None, name, false, line)?
            }
            Tok::Const(name) => {
                if self.is_op("(call") {
                    self.call_rest(None, name, false, line)?
                } else {
                    Node::new(Kind::Const(None, name), line)
                }
            }
            Tok::Op("::") => match self.next() {
                Tok::Const(name) => Node::new(Kind::Const(Some(Box::new(Node::new(Kind::Cbase, line))), name), line),
                _ => return self.unexpected(),
            },
            Tok::Op("[") => {
                let items = self.call_args_until("]")?;
                Node::new(Kind::Array(items), line)
            }
            Tok::Op("{") => self.hash_literal(line)?,
            Tok::Op("(") | Tok::Op("(call") => {
                self.skip_terms();
                if self.eat_op(")") {
                    return Ok(Node::nil(line));
                }
                let saved = std::mem::replace(&mut self.no_do, 0);
                let body = self.statements(&[")"]);
                self.no_do = saved;
                let body = body?;
                self.skip_terms();
                self.expect_op(")")?;
                // `(a, b)` is not an expression in Ruby
                Node::new(Kind::Begin { body: Box::new(body), rescues: vec![], else_body: None, ensure: None }, line)
                    .unwrap_parens()
            }
            Tok::Op("->") => self.lambda(line)?,
            Tok::Op("..") | Tok::Op("...") => {
                self.pos -= 1;
                return self.range();
            }
            Tok::Kw(kw) => return self.keyword(kw, line),
            Tok::StrLabel(_) => return self.error("syntax error, unexpected label".into()),
            other => {
                self.pos -= 1;
                let _ = other;
                return self.unexpected();
            }
        })
    }

    fn hash_literal(&mut self, line: u32) -> PResult<Node> {
        let mut pairs = vec![];
        self.skip_newlines();
        while !self.is_op("}") {
            if let Some(pair) = self.labelled_pair("}")? {
                pairs.push(pair);
            } else {
                let key = self.arg()?;
                self.skip_newlines();
                self.expect_op("=>")?;
                self.skip_newlines();
                let value = self.arg()?;
                pairs.push((Some(key), value));
            }
            self.skip_newlines();
            if !self.eat_op(",") {
                break;
            }
            self.skip_newlines();
        }
        self.skip_newlines();
        self.expect_op("}")?;
        Ok(Node::new(Kind::Hash(pairs), line))
    }

    fn lambda(&mut self, line: u32) -> PResult<Node> {
        self.scopes.push((HashSet::new(), false));
        let result = (|| -> PResult<BlockDef> {
            let mut params = Params::default();
            if self.eat_op("(") || self.eat_op("(call") {
                params = self.param_list(&[")"])?;
                self.expect_op(")")?;
            } else if matches!(self.peek(), Tok::Ident(_)) {
                params = self.param_list(&["{block", "{"])?;
            }
            let body = if self.eat_op("{block") || self.eat_op("{") {
                let b = self.statements(&["}"])?;
                self.expect_op("}")?;
                b
            } else if self.eat_kw("do") {
                let b = self.body_with_rescue(&["end"])?;
                self.expect_kw("end")?;
                b
            } else {
                return self.unexpected();
            };
            Ok(BlockDef { params, has_params: true, numbered: numbered_params(&body), body })
        })();
        self.scopes.pop();
        Ok(Node::new(Kind::Lambda(Rc::new(result?)), line))
    }

    fn keyword(&mut self, kw: &'static str, line: u32) -> PResult<Node> {
        Ok(match kw {
            "nil" => Node::nil(line),
            "true" => Node::new(Kind::True, line),
            "false" => Node::new(Kind::False, line),
            "self" => Node::new(Kind::SelfRef, line),
            "__FILE__" => Node::new(Kind::Str(vec![Part::Lit("(erb)".into())]), line),
            "__LINE__" => Node::new(Kind::Line, line),
            "if" | "unless" => {
                let cond = self.condition()?;
                let then = self.statements(&["elsif", "else", "end"])?;
                let otherwise = self.if_tail(kw == "unless")?;
                if kw == "if" {
                    Node::new(Kind::If(Box::new(cond), Box::new(then), Box::new(otherwise)), line)
                } else {
                    Node::new(Kind::If(Box::new(cond), Box::new(otherwise), Box::new(then)), line)
                }
            }
            "while" | "until" => {
                self.no_do += 1;
                let cond = self.expr_statement();
                self.no_do -= 1;
                let mut cond = cond?;
                self.eat_kw("do");
                let body = self.statements(&["end"])?;
                self.expect_kw("end")?;
                if kw == "until" {
                    cond = Node::new(Kind::Not(Box::new(cond)), line);
                }
                Node::new(Kind::While(Box::new(cond), Box::new(body), false), line)
            }
            "for" => {
                let targets = self.mlhs_list_for()?;
                self.expect_kw("in")?;
                self.no_do += 1;
                let iter = self.expr_statement();
                self.no_do -= 1;
                let iter = iter?;
                self.eat_kw("do");
                let body = self.statements(&["end"])?;
                self.expect_kw("end")?;
                Node::new(Kind::For(Box::new(targets), Box::new(iter), Box::new(body)), line)
            }
            "case" => self.case(line)?,
            "begin" => {
                let node = self.begin_body(line, &["end"])?;
                self.expect_kw("end")?;
                node
            }
            "def" => self.def(line)?,
            "module" => {
                let path = self.const_path()?;
                let body = self.fresh_scope(|p| p.statements(&["end"]))?;
                self.expect_kw("end")?;
                Node::new(Kind::Module(Box::new(path), Box::new(body)), line)
            }
            "class" => {
                if self.eat_op("<<") {
                    let target = self.arg()?;
                    let body = self.fresh_scope(|p| p.statements(&["end"]))?;
                    self.expect_kw("end")?;
                    return Ok(Node::new(Kind::SClass(Box::new(target), Box::new(body)), line));
                }
                let path = self.const_path()?;
                let superclass = if self.eat_op("<") { Some(Box::new(self.arg()?)) } else { None };
                let body = self.fresh_scope(|p| p.statements(&["end"]))?;
                self.expect_kw("end")?;
                Node::new(Kind::Class(Box::new(path), superclass, Box::new(body)), line)
            }
            "return" | "break" | "next" => {
                let value = if self.value_follows() {
                    let v = self.arg_rhs()?;
                    Some(Box::new(v))
                } else {
                    None
                };
                match kw {
                    "return" => Node::new(Kind::Return(value), line),
                    "break" => Node::new(Kind::Break(value), line),
                    _ => Node::new(Kind::Next(value), line),
                }
            }
            "redo" => Node::new(Kind::Redo, line),
            "retry" => Node::new(Kind::Retry, line),
            "yield" => {
                let args = if self.eat_op("(call")
                    || (self.is_op("(") && !self.peek_token().space_before && self.eat_op("("))
                {
                    self.paren_args()?.0
                } else if self.command_args_follow() {
                    self.command_args()?.0
                } else {
                    vec![]
                };
                Node::new(Kind::Yield(args), line)
            }
            "super" => {
                let args = if self.eat_op("(call") || self.eat_op("(") {
                    Some(self.paren_args()?.0)
                } else if self.command_args_follow() {
                    Some(self.command_args()?.0)
                } else {
                    None
                };
                Node::new(Kind::Super(args), line)
            }
            "alias" => {
                let a = self.method_name_token()?;
                let b = self.method_name_token()?;
                Node::new(Kind::Alias(a, b), line)
            }
            "not" => {
                let inner = self.expression()?;
                Node::new(Kind::Not(Box::new(inner)), line)
            }
            "defined?" => {
                // `defined?(x)` is a primary: `defined?(x).inspect` works
                self.next();
                self.skip_newlines();
                let e = self.statement()?;
                self.skip_newlines();
                self.expect_op(")")?;
                Node::new(Kind::Defined(Box::new(e)), line)
            }
            "BEGIN" | "END" | "undef" | "__ENCODING__" => {
                return self.error(format!("'{kw}' is not supported by the built-in evaluator"))
            }
            _ => {
                self.pos -= 1;
                return self.unexpected();
            }
        })
    }

    fn method_name_token(&mut self) -> PResult<String> {
        match self.next() {
            Tok::Ident(n) | Tok::Const(n) => Ok(n),
            Tok::Sym(parts) => match parts.as_slice() {
                [StrPart::Lit(s)] => Ok(s.clone()),
                _ => self.unexpected(),
            },
            Tok::GVar(n) => Ok(n),
            _ => self.unexpected(),
        }
    }

    fn value_follows(&self) -> bool {
        !matches!(
            self.peek(),
            Tok::Nl
                | Tok::Eof
                | Tok::Op("}" | ")" | "]" | ";")
                | Tok::Kw("if" | "unless" | "end" | "while" | "until" | "rescue")
        )
    }

    fn mlhs_list_for(&mut self) -> PResult<Target> {
        let mut targets = vec![];
        loop {
            match self.next() {
                Tok::Ident(name) => {
                    self.declare(&name);
                    targets.push(Target::Local(name));
                }
                _ => {
                    self.pos -= 1;
                    return self.unexpected();
                }
            }
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(if targets.len() == 1 { targets.pop().unwrap() } else { Target::Nested(targets, None) })
    }

    /// A condition followed by `then` or a line break.
    fn condition(&mut self) -> PResult<Node> {
        let cond = self.expr_statement()?;
        if !self.eat_kw("then") && !matches!(self.peek(), Tok::Nl) {
            return self.error(format!(
                "syntax error, unexpected {}, expecting 'then' or ';' or '\\n'",
                describe(self.peek())
            ));
        }
        Ok(cond)
    }

    fn if_tail(&mut self, is_unless: bool) -> PResult<Node> {
        let line = self.line();
        if !is_unless && self.eat_kw("elsif") {
            let cond = self.condition()?;
            let then = self.statements(&["elsif", "else", "end"])?;
            let otherwise = self.if_tail(false)?;
            return Ok(Node::new(Kind::If(Box::new(cond), Box::new(then), Box::new(otherwise)), line));
        }
        if self.eat_kw("else") {
            let body = self.statements(&["end"])?;
            self.expect_kw("end")?;
            return Ok(body);
        }
        self.expect_kw("end")?;
        Ok(Node::nil(line))
    }

    fn case(&mut self, line: u32) -> PResult<Node> {
        let subject = if matches!(self.peek(), Tok::Nl) { None } else { Some(Box::new(self.expr_statement()?)) };
        self.skip_terms();
        let mut whens = vec![];
        if self.is_kw("in") {
            return self.error("pattern matching (case/in) is not supported by the built-in evaluator".into());
        }
        while self.eat_kw("when") {
            let mut values = vec![];
            loop {
                self.skip_newlines();
                values.push(self.arg_or_splat()?);
                if !self.eat_op(",") {
                    break;
                }
            }
            if !self.eat_kw("then") && !matches!(self.peek(), Tok::Nl) {
                return self.unexpected();
            }
            let body = self.statements(&["when", "else", "end"])?;
            whens.push((values, body));
        }
        let otherwise = if self.eat_kw("else") { self.statements(&["end"])? } else { Node::nil(line) };
        self.expect_kw("end")?;
        Ok(Node::new(Kind::Case(subject, whens, Box::new(otherwise)), line))
    }

    /// A body with optional `rescue`/`else`/`ensure` clauses (of `begin`, `def`, `do` blocks).
    fn begin_body(&mut self, line: u32, terminators: &[&str]) -> PResult<Node> {
        let mut stops: Vec<&str> = vec!["rescue", "else", "ensure"];
        stops.extend_from_slice(terminators);
        let body = self.statements(&stops)?;
        let mut rescues = vec![];
        while self.eat_kw("rescue") {
            let mut classes = vec![];
            let mut var = None;
            while !matches!(self.peek(), Tok::Nl | Tok::Kw("then")) && !self.is_op("=>") {
                classes.push(self.arg_or_splat()?);
                if !self.eat_op(",") {
                    break;
                }
                self.skip_newlines();
            }
            if self.eat_op("=>") {
                let node = self.primary_postfix()?;
                var = Some(self.to_target(node)?);
            }
            self.eat_kw("then");
            let body = self.statements(&stops)?;
            rescues.push(Rescue { classes, var, body });
        }
        let else_body = if self.eat_kw("else") { Some(Box::new(self.statements(&stops)?)) } else { None };
        let ensure = if self.eat_kw("ensure") { Some(Box::new(self.statements(terminators)?)) } else { None };
        if rescues.is_empty() && else_body.is_none() && ensure.is_none() {
            return Ok(Node::new(Kind::Begin { body: Box::new(body), rescues, else_body, ensure }, line));
        }
        Ok(Node::new(Kind::Begin { body: Box::new(body), rescues, else_body, ensure }, line))
    }

    fn body_with_rescue(&mut self, terminators: &[&str]) -> PResult<Node> {
        let line = self.line();
        let node = self.begin_body(line, terminators)?;
        Ok(node.unwrap_parens())
    }

    fn def(&mut self, line: u32) -> PResult<Node> {
        // def name / def self.name / def Const.name, operators and setters
        let mut singleton = None;
        let first = self.next();
        let mut name = match first {
            Tok::Ident(n) | Tok::Const(n) => n,
            Tok::Kw("self") => "self".into(),
            Tok::Op(op) => op.trim_end_matches('@').to_string(),
            Tok::Kw(k) => k.to_string(),
            _ => {
                self.pos -= 1;
                return self.unexpected();
            }
        };
        if self.eat_op(".") {
            singleton = Some(Box::new(match name.as_str() {
                "self" => Node::new(Kind::SelfRef, line),
                n => Node::new(Kind::Const(None, n.to_string()), line),
            }));
            name = match self.next() {
                Tok::Ident(n) | Tok::Const(n) => n,
                Tok::Kw(k) => k.to_string(),
                Tok::Label(n) => n,
                _ => {
                    self.pos -= 1;
                    return self.unexpected();
                }
            };
        }
        // setter `def x=(v)`
        if self.is_op("=") && !self.peek_token().space_before && matches!(self.peek_at(1), Tok::Op("(" | "(call")) {
            self.next();
            name.push('=');
        }
        self.scopes.push((HashSet::new(), true));
        self.in_def += 1;
        let result = (|| -> PResult<(Params, Node)> {
            let params = if self.eat_op("(call") || self.eat_op("(") {
                let p = self.param_list(&[")"])?;
                self.skip_newlines();
                self.expect_op(")")?;
                p
            } else if !matches!(self.peek(), Tok::Nl) && !self.is_op("=") {
                self.param_list(&["\n"])?
            } else {
                Params::default()
            };
            if self.eat_op("=") {
                // endless def
                self.skip_newlines();
                let body = self.statement()?;
                return Ok((params, body));
            }
            let body = self.body_with_rescue(&["end"])?;
            self.expect_kw("end")?;
            Ok((params, body))
        })();
        self.in_def -= 1;
        self.scopes.pop();
        let (params, body) = result?;
        Ok(Node::new(Kind::Def(singleton, Rc::new(MethodDef { name, params, body })), line))
    }

    fn const_path(&mut self) -> PResult<Node> {
        let line = self.line();
        let mut node = match self.next() {
            Tok::Const(n) => Node::new(Kind::Const(None, n), line),
            Tok::Op("::") => match self.next() {
                Tok::Const(n) => Node::new(Kind::Const(Some(Box::new(Node::new(Kind::Cbase, line))), n), line),
                _ => return self.unexpected(),
            },
            _ => {
                self.pos -= 1;
                return self.error("class/module name must be CONSTANT".into());
            }
        };
        while self.eat_op("::") {
            match self.next() {
                Tok::Const(n) => node = Node::new(Kind::Const(Some(Box::new(node)), n), line),
                _ => return self.unexpected(),
            }
        }
        Ok(node)
    }
}

impl Node {
    /// `(expr)` is the expression itself.
    fn unwrap_parens(self) -> Node {
        match self.kind {
            Kind::Begin { body, rescues, else_body: None, ensure: None } if rescues.is_empty() => *body,
            kind => Node { kind, line: self.line },
        }
    }
}

fn is_assignable(node: &Node) -> bool {
    match &node.kind {
        Kind::LVar(_) | Kind::IVar(_) | Kind::GVar(_) | Kind::CVar(_) | Kind::Const(..) => true,
        Kind::Call(c) => {
            (c.recv.is_none() && c.args.is_empty() && c.block.is_none() && !c.has_parens)
                || (c.name == "[]" && c.recv.is_some() && c.block.is_none())
                || (c.recv.is_some() && c.args.is_empty() && c.block.is_none() && !c.has_parens)
        }
        _ => false,
    }
}

/// Whether an argument node is a keyword hash (`foo(a: 1)`), as opposed to a hash literal.
pub fn is_kwargs(node: &Node) -> bool {
    matches!(node.kind, Kind::Hash(_)) && node.line > u32::MAX / 2
}

fn rescue_modifier(body: Node, fallback: Node, line: u32) -> Node {
    Node::new(
        Kind::Begin {
            body: Box::new(body),
            rescues: vec![Rescue { classes: vec![], var: None, body: fallback }],
            else_body: None,
            ensure: None,
        },
        line,
    )
}

fn call_node(recv: Option<Node>, name: &str, args: Vec<Node>, line: u32) -> Node {
    let vcall = recv.is_none() && args.is_empty();
    Node::new(
        Kind::Call(Rc::new(Call {
            recv,
            name: name.to_string(),
            args,
            block: None,
            block_arg: None,
            safe_nav: false,
            vcall,
            has_parens: false,
        })),
        line,
    )
}

fn binop(left: Node, op: &str, right: Node, line: u32) -> Node {
    Node::new(
        Kind::Call(Rc::new(Call {
            recv: Some(left),
            name: op.to_string(),
            args: vec![right],
            block: None,
            block_arg: None,
            safe_nav: false,
            vcall: false,
            has_parens: true,
        })),
        line,
    )
}

/// How many numbered parameters (`_1`, `_2`, `it`) a block body uses.
fn numbered_params(body: &Node) -> u8 {
    fn walk(n: &Node, max: &mut u8) {
        match &n.kind {
            Kind::LVar(name) => match name.as_str() {
                "_1" | "it" => *max = (*max).max(1),
                "_2" => *max = (*max).max(2),
                _ => {}
            },
            Kind::Seq(v) | Kind::Array(v) => v.iter().for_each(|x| walk(x, max)),
            Kind::Call(c) => {
                if let Some(r) = &c.recv {
                    walk(r, max);
                }
                c.args.iter().for_each(|x| walk(x, max));
            }
            Kind::Str(parts) | Kind::XStr(parts) | Kind::DSym(parts) => {
                for p in parts {
                    if let Part::Code(c) = p {
                        walk(c, max);
                    }
                }
            }
            Kind::And(a, b) | Kind::Or(a, b) => {
                walk(a, max);
                walk(b, max);
            }
            Kind::Not(a) | Kind::Splat(a) => walk(a, max),
            Kind::If(a, b, c) => {
                walk(a, max);
                walk(b, max);
                walk(c, max);
            }
            Kind::Asgn(_, v) | Kind::OpAsgn(_, _, v) => walk(v, max),
            Kind::Hash(pairs) => {
                for (k, v) in pairs {
                    if let Some(k) = k {
                        walk(k, max);
                    }
                    walk(v, max);
                }
            }
            _ => {}
        }
    }
    let mut max = 0;
    walk(body, &mut max);
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> Node {
        parse_program(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"))
    }

    #[test]
    fn parses_what_templates_use() {
        for src in [
            "_erbout = +''; _erbout.<< \"a\".freeze; _erbout.<<(( ENV.fetch(\"X\") { \"y\" } ).to_s); _erbout",
            "x = ENV['A'] || 'b'\nif x == 'b' then 1 elsif x then 2 else 3 end",
            "hosts = ENV.fetch('HOSTS', '').split(',').map(&:strip)\nhosts.each do |h| puts h end",
            "require 'dotenv'; Dotenv.load('.env')",
            "case ENV['E'] when 'a', 'b' then 1 when nil then 2 else 3 end",
            "def helper(a, b = 2, *rest, key: 1, &blk) a + b end\nhelper 1",
            "module Deploy\n  def self.hosts\n    %w[a b]\n  end\nend\nDeploy.hosts.join(\",\")",
            "x = `git rev-parse HEAD`.strip rescue 'unknown'",
            "a, b = 'x:y'.split(':')",
            "{ a: 1, 'b' => 2, \"c\": 3 }.map { |k, v| \"#{k}=#{v}\" }.join(' ')",
            "begin\n  File.read('x')\nrescue Errno::ENOENT => e\n  e.message\nensure\n  1\nend",
            "ENV.fetch('A', nil).presence || (raise 'no A')",
            "x = ->(a) { a * 2 }\nx.(3)",
            "[1, 2, 3].select(&:odd?).sum",
            "puts(x) unless defined?(x)",
            "v = ENV['V'].to_i > 0 ? 'yes' : 'no'",
            "s = <<~EOS\n  a #{1 + 1}\nEOS\ns",
            "Kamal::Utils.docker_arch == \"arm64\" ? \"amd64\" : \"arm64\"",
        ] {
            ok(src);
        }
    }

    #[test]
    fn locals_are_known_at_parse_time() {
        let node = ok("x = 1 if false\nx");
        let Kind::Seq(nodes) = node.kind else { panic!() };
        assert!(matches!(nodes[1].kind, Kind::LVar(_)));
        let node = ok("y");
        assert!(matches!(node.kind, Kind::Call(ref c) if c.vcall));
    }

    #[test]
    fn reports_the_line_of_a_syntax_error() {
        let err = parse_program("a = 1\nif a\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("expecting 'end'"), "{err:?}");
    }
}
