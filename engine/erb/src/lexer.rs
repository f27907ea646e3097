//! Ruby's tokens, for the subset of Ruby that deploy.yml templates use.
//!
//! Ruby's lexer depends on what came before: `/` starts a regexp where a value is expected and
//! divides after one; `foo -1` passes `-1` to `foo` while `foo - 1` subtracts; `{` after a method
//! name opens a block and elsewhere a hash. This lexer follows Ruby's rules for those cases by
//! remembering whether the previous token ended a value, whether a space came before, and which
//! names are local variables (a local variable is never a command call: `x -1` subtracts).
//! String literals keep their `#{...}` parts as source text with the line they start on; the
//! parser parses them.

use std::collections::HashSet;

/// A piece of a string literal: text, or `#{code}` (its source and the line it starts on).
#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    Lit(String),
    Code(String, u32),
}

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Int(i64),
    Float(f64),
    /// A string literal (`'...'`, `"..."`, `%q`, `%Q`, `%()`, heredocs, `?c`).
    Str(Vec<StrPart>),
    /// A command: backticks or `%x(...)`.
    XStr(Vec<StrPart>),
    /// `:name`, `:"..."` (parts), `%s(...)`.
    Sym(Vec<StrPart>),
    /// `/.../flags` and `%r{...}flags`.
    Regex(Vec<StrPart>, String),
    /// `%w[...]` / `%W[...]`: the words.
    Words(Vec<Vec<StrPart>>),
    /// `%i[...]`.
    Symbols(Vec<String>),
    /// A name starting lower-case or `_`, possibly ending in `?` or `!`.
    Ident(String),
    /// A name starting upper-case.
    Const(String),
    IVar(String),
    CVar(String),
    GVar(String),
    /// `name:` (a hash key or keyword argument).
    Label(String),
    /// `"text":` (a hash key).
    StrLabel(Vec<StrPart>),
    Kw(&'static str),
    Op(&'static str),
    /// End of a statement: a line break or `;`.
    Nl,
    Eof,
}

/// A token and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
    /// Whether white space came right before it.
    pub space_before: bool,
}

/// Why lexing failed (a Ruby syntax error).
#[derive(Debug, Clone, PartialEq)]
pub struct LexError {
    pub line: u32,
    pub message: String,
}

const KEYWORDS: &[&str] = &[
    "alias",
    "and",
    "begin",
    "BEGIN",
    "break",
    "case",
    "class",
    "def",
    "defined?",
    "do",
    "else",
    "elsif",
    "end",
    "END",
    "ensure",
    "false",
    "for",
    "if",
    "in",
    "module",
    "next",
    "nil",
    "not",
    "or",
    "redo",
    "rescue",
    "retry",
    "return",
    "self",
    "super",
    "then",
    "true",
    "undef",
    "unless",
    "until",
    "when",
    "while",
    "yield",
    "__FILE__",
    "__LINE__",
    "__ENCODING__",
];

/// Operators, longest first.
const OPERATORS: &[&str] = &[
    "**=", "<=>", "===", "...", "<<=", ">>=", "&&=", "||=", "&.", "**", "==", "!=", ">=", "<=", "&&", "||", "<<", ">>",
    "=~", "!~", "..", "::", "->", "=>", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "+", "-", "*", "/", "%", "=",
    "<", ">", "!", "&", "|", "^", "~", "?", ":", ",", ".", ";", "(", ")", "[", "]", "{", "}",
];

/// Tokens after which a line break does not end the statement.
fn continues_line(tok: &Tok) -> bool {
    match tok {
        Tok::Op(op) => !matches!(*op, ")" | "]" | "}"),
        Tok::Kw(kw) => matches!(*kw, "and" | "or" | "not"),
        Tok::Nl => true,
        _ => false,
    }
}

/// Whether the token ends a value (so that an operator, not an operand, comes next).
fn ends_value(tok: &Tok) -> bool {
    match tok {
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
        | Tok::CVar(_)
        | Tok::GVar(_) => true,
        Tok::Kw(kw) => matches!(*kw, "end" | "self" | "nil" | "true" | "false" | "__FILE__" | "__LINE__"),
        Tok::Op(op) => matches!(*op, ")" | "]" | "}"),
        _ => false,
    }
}

pub struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: u32,
    tokens: Vec<Token>,
    /// Names assigned so far (`x = ...`, block parameters, `|a, b|`): never command calls.
    locals: HashSet<String>,
    /// Heredocs whose bodies start after the current line: (token index, terminator, squiggly, dash, raw).
    pending_heredocs: Vec<(usize, String, bool, bool, bool)>,
    /// Nesting of `(`/`[`/`{` inside which a line break does not end a statement (parentheses
    /// and brackets), or does (braces of blocks and hashes keep their line breaks as separators).
    paren_depth: Vec<char>,
    /// When lexing `#{...}`: stop at the `}` that closes it.
    stop_at_brace: bool,
    /// A `\` line continuation since the last token.
    continued: bool,
}

/// Splits `src` into tokens; `first_line` is the line `src` starts on.
pub fn lex(src: &str, first_line: u32) -> Result<Vec<Token>, LexError> {
    lex_with_locals(src, first_line, &[])
}

/// Splits `src` into tokens, knowing `locals` as local variables already.
pub fn lex_with_locals(src: &str, first_line: u32, locals: &[String]) -> Result<Vec<Token>, LexError> {
    let mut lexer = Lexer::new(src, first_line);
    lexer.locals.extend(locals.iter().cloned());
    lexer.run()?;
    Ok(lexer.tokens)
}

impl Lexer {
    fn new(src: &str, first_line: u32) -> Self {
        Lexer {
            chars: src.chars().collect(),
            pos: 0,
            line: first_line,
            tokens: vec![],
            locals: HashSet::new(),
            pending_heredocs: vec![],
            paren_depth: vec![],
            stop_at_brace: false,
            continued: false,
        }
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError { line: self.line, message: message.into() })
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars().enumerate().all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    fn last(&self) -> Option<&Tok> {
        self.tokens.last().map(|t| &t.tok)
    }

    fn value_ended(&self) -> bool {
        self.last().map(ends_value).unwrap_or(false)
    }

    /// Whether the previous token is a method name that may take command arguments (an
    /// identifier that is not a local variable), so that `foo -1`, `foo [1]`, `foo /x/`, `foo *a`
    /// and `foo :sym` pass an argument.
    fn after_command_name(&self) -> bool {
        match self.tokens.last() {
            Some(Token { tok: Tok::Ident(name), .. }) => {
                if self.locals.contains(name) {
                    return false;
                }
                // `x.foo -1` is a call too; a name right after `def` is not
                !matches!(self.tokens.iter().rev().nth(1).map(|t| &t.tok), Some(Tok::Kw("def")))
            }
            _ => false,
        }
    }

    fn push(&mut self, tok: Tok, line: u32, space_before: bool) {
        self.continued = false;
        self.tokens.push(Token { tok, line, space_before });
    }

    fn run(&mut self) -> Result<(), LexError> {
        let mut space_before = true;
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\x0c' | '\x0b' | '\r' => {
                    self.pos += 1;
                    space_before = true;
                }
                '\\' if self.peek_at(1) == Some('\n') => {
                    self.pos += 2;
                    self.line += 1;
                    space_before = true;
                    self.continued = true;
                }
                '#' => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                '\n' => {
                    self.pos += 1;
                    let line = self.line;
                    self.line += 1;
                    self.read_heredoc_bodies()?;
                    self.newline(line);
                    space_before = true;
                    // `=begin` ... `=end` comments
                    if self.starts_with("=begin") {
                        loop {
                            match self.peek() {
                                None => break,
                                Some('\n') => {
                                    self.pos += 1;
                                    self.line += 1;
                                    if self.starts_with("=end") {
                                        while self.peek().is_some_and(|c| c != '\n') {
                                            self.pos += 1;
                                        }
                                        break;
                                    }
                                }
                                _ => self.pos += 1,
                            }
                        }
                    }
                }
                '}' if self.stop_at_brace && self.paren_depth.is_empty() => {
                    return Ok(());
                }
                _ => {
                    self.token(space_before)?;
                    space_before = false;
                }
            }
        }
        if self.stop_at_brace {
            return self.err("unterminated string meets end of file");
        }
        if !self.pending_heredocs.is_empty() {
            self.read_heredoc_bodies()?;
        }
        let line = self.line;
        self.push(Tok::Nl, line, true);
        self.push(Tok::Eof, line, true);
        Ok(())
    }

    fn newline(&mut self, line: u32) {
        if matches!(self.paren_depth.last(), Some('(' | '[')) {
            return;
        }
        if self.last().map(continues_line).unwrap_or(true) {
            return;
        }
        // a line starting with `.meth` or `&.meth` continues the previous one
        let mut i = self.pos;
        loop {
            while matches!(self.chars.get(i), Some(' ' | '\t' | '\r')) {
                i += 1;
            }
            match self.chars.get(i) {
                Some('\n') => i += 1,
                Some('#') => {
                    while self.chars.get(i).is_some_and(|c| *c != '\n') {
                        i += 1;
                    }
                }
                _ => break,
            }
        }
        let next = (self.chars.get(i).copied(), self.chars.get(i + 1).copied());
        if matches!(next, (Some('.'), Some(n)) if n != '.') || next == (Some('&'), Some('.')) {
            return;
        }
        self.push(Tok::Nl, line, true);
    }

    fn token(&mut self, space_before: bool) -> Result<(), LexError> {
        let line = self.line;
        let c = self.peek().unwrap();
        let value_ended = self.value_ended();
        // an operand position: after an operator, or a command argument (`foo -1`, `puts [x]`)
        let next_is_space = matches!(self.peek_at(1), Some(' ' | '\t' | '\n' | '\r') | None);
        let command_arg = space_before && self.after_command_name() && !next_is_space;
        let operand = !value_ended || command_arg;

        if c.is_ascii_digit() {
            return self.number(line, space_before);
        }
        if c.is_alphabetic() || c == '_' || !c.is_ascii() {
            return self.identifier(line, space_before);
        }
        match c {
            '"' | '`' => {
                self.pos += 1;
                let parts = self.string_body(c, c, Body::Interpolated)?;
                return self.finish_string(c, parts, line, space_before);
            }
            '\'' => {
                self.pos += 1;
                let parts = self.string_body('\'', '\'', Body::Raw)?;
                return self.finish_string('\'', parts, line, space_before);
            }
            '@' => {
                let start = self.pos;
                self.pos += 1;
                if self.peek() == Some('@') {
                    self.pos += 1;
                }
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.pos += 1;
                }
                let name: String = self.chars[start..self.pos].iter().collect();
                let tok = if name.starts_with("@@") { Tok::CVar(name) } else { Tok::IVar(name) };
                self.push(tok, line, space_before);
                return Ok(());
            }
            '$' => return self.global(line, space_before),
            ':' if self.peek_at(1) == Some('"') && operand_or_arg(value_ended, space_before) => {
                self.pos += 2;
                let parts = self.string_body('"', '"', Body::Interpolated)?;
                self.push(Tok::Sym(parts), line, space_before);
                return Ok(());
            }
            ':' if self.peek_at(1) != Some(':')
                && operand_or_arg(value_ended, space_before)
                && self.peek_at(1).is_some_and(|c| c.is_alphabetic() || c == '_' || "+-*/<=>![%&|^~@$".contains(c)) =>
            {
                self.pos += 1;
                let name = self.symbol_name()?;
                self.push(Tok::Sym(vec![StrPart::Lit(name)]), line, space_before);
                return Ok(());
            }
            '/' if operand => {
                self.pos += 1;
                let parts = self.string_body('/', '/', Body::Regex)?;
                let flags = self.regex_flags();
                self.push(Tok::Regex(parts, flags), line, space_before);
                return Ok(());
            }
            '%' if operand && self.percent_literal_follows() => return self.percent_literal(line, space_before),
            '?' if operand && self.char_literal_follows() => {
                self.pos += 1;
                let ch = self.peek().unwrap();
                self.pos += 1;
                let text = if ch == '\\' {
                    let e = self.peek().ok_or(LexError { line, message: "incomplete character syntax".into() })?;
                    self.pos += 1;
                    escape_char(e).map(String::from).unwrap_or_else(|| e.to_string())
                } else {
                    ch.to_string()
                };
                self.push(Tok::Str(vec![StrPart::Lit(text)]), line, space_before);
                return Ok(());
            }
            '<' if self.starts_with("<<") && operand && self.heredoc_follows() => {
                return self.heredoc_start(line, space_before);
            }
            _ => {}
        }
        // operators
        for op in OPERATORS {
            if self.starts_with(op) {
                self.pos += op.chars().count();
                let tok = match *op {
                    ";" => {
                        self.push(Tok::Nl, line, space_before);
                        return Ok(());
                    }
                    "-" | "+" if operand && !self.peek().is_some_and(char::is_whitespace) => {
                        if self.peek().is_some_and(|c| c.is_ascii_digit()) && *op == "-" {
                            // `-1` is a literal (binding tighter than `.`)
                            return self.negative_number(line, space_before);
                        }
                        Tok::Op(if *op == "-" { "-@" } else { "+@" })
                    }
                    "-" | "+" if !value_ended => Tok::Op(if *op == "-" { "-@" } else { "+@" }),
                    "*" | "**" | "&" if operand && !self.peek().is_some_and(char::is_whitespace) => {
                        Tok::Op(match *op {
                            "*" => "*@",
                            "**" => "**@",
                            _ => "&@",
                        })
                    }
                    "*" | "**" | "&" if !value_ended => Tok::Op(match *op {
                        "*" => "*@",
                        "**" => "**@",
                        _ => "&@",
                    }),
                    "[" => {
                        self.paren_depth.push('[');
                        // `a[1]` and `x [1]` (x a local) index; `foo [1]` and `[1]` are arrays
                        if value_ended && (!space_before || !self.after_command_name()) {
                            Tok::Op("[]")
                        } else {
                            Tok::Op("[")
                        }
                    }
                    "(" => {
                        self.paren_depth.push('(');
                        // `foo(` calls; `foo (x)` passes a parenthesised argument
                        let call = !space_before
                            && matches!(
                                self.last(),
                                Some(Tok::Ident(_) | Tok::Const(_) | Tok::Kw("defined?" | "super" | "yield"))
                            )
                            || matches!(self.last(), Some(Tok::Op(".") | Tok::Op("&.")));
                        if call {
                            Tok::Op("(call")
                        } else {
                            Tok::Op("(")
                        }
                    }
                    "{" => {
                        self.paren_depth.push('{');
                        let block = matches!(self.last(), Some(Tok::Ident(n)) if !self.locals.contains(n))
                            || matches!(self.last(), Some(Tok::Op(")") | Tok::Const(_)))
                            || matches!(self.last(), Some(Tok::Op("]")) if !space_before);
                        if block {
                            Tok::Op("{block")
                        } else {
                            Tok::Op("{")
                        }
                    }
                    ")" | "]" | "}" => {
                        self.paren_depth.pop();
                        Tok::Op(op)
                    }
                    "?" if !value_ended => {
                        return self.err("syntax error, unexpected '?'");
                    }
                    _ => Tok::Op(op),
                };
                self.push(tok, line, space_before);
                return Ok(());
            }
        }
        self.err(format!("Invalid char '{c}' in expression"))
    }

    fn number(&mut self, line: u32, space_before: bool) -> Result<(), LexError> {
        let tok = self.read_number()?;
        self.push(tok, line, space_before);
        Ok(())
    }

    fn negative_number(&mut self, line: u32, space_before: bool) -> Result<(), LexError> {
        let tok = match self.read_number()? {
            Tok::Int(i) => Tok::Int(-i),
            Tok::Float(f) => Tok::Float(-f),
            other => other,
        };
        self.push(tok, line, space_before);
        Ok(())
    }

    fn read_number(&mut self) -> Result<Tok, LexError> {
        let start = self.pos;
        if self.peek() == Some('0') && matches!(self.peek_at(1), Some('x' | 'X' | 'b' | 'B' | 'o' | 'O')) {
            let radix = match self.peek_at(1).unwrap().to_ascii_lowercase() {
                'x' => 16,
                'b' => 2,
                _ => 8,
            };
            self.pos += 2;
            let digits_start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                self.pos += 1;
            }
            let digits: String = self.chars[digits_start..self.pos].iter().filter(|c| **c != '_').collect();
            return i64::from_str_radix(&digits, radix)
                .map(Tok::Int)
                .or_else(|_| self.err(format!("numeric literal without digits or too large: {digits}")));
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '_') {
            self.pos += 1;
        }
        let mut float = false;
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            float = true;
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '_') {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some('e' | 'E'))
            && (self.peek_at(1).is_some_and(|c| c.is_ascii_digit())
                || (matches!(self.peek_at(1), Some('+' | '-')) && self.peek_at(2).is_some_and(|c| c.is_ascii_digit())))
        {
            float = true;
            self.pos += 2;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let text: String = self.chars[start..self.pos].iter().filter(|c| **c != '_').collect();
        if float {
            text.parse().map(Tok::Float).or_else(|_| self.err(format!("bad number {text}")))
        } else if text.len() > 1 && text.starts_with('0') {
            i64::from_str_radix(&text[1..], 8)
                .map(Tok::Int)
                .or_else(|_| self.err(format!("Invalid octal digit {text}")))
        } else {
            text.parse().map(Tok::Int).or_else(|_| self.err(format!("integer too large: {text}")))
        }
    }

    fn identifier(&mut self, line: u32, space_before: bool) -> Result<(), LexError> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || !c.is_ascii()) {
            self.pos += 1;
        }
        let after_dot =
            matches!(self.last(), Some(Tok::Op(".") | Tok::Op("&."))) || matches!(self.last(), Some(Tok::Kw("def")));
        // `name?` / `name!` (but not `a ?b :c`, `x != y`)
        if matches!(self.peek(), Some('?' | '!')) && self.peek_at(1) != Some('=') {
            let ternary_like = self.peek() == Some('?')
                && self.locals.contains(&self.chars[start..self.pos].iter().collect::<String>());
            if !ternary_like {
                self.pos += 1;
            }
        } else if matches!(self.peek(), Some('?' | '!')) && self.peek_at(1) == Some('=') && self.peek_at(2) == Some('=')
        {
            // `a?==b`: rare; leave as is
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        // `name:` labels (not `name::`, not `a ? b : c` with a space)
        if self.peek() == Some(':') && self.peek_at(1) != Some(':') && !name.ends_with('?') && !after_dot {
            let prev = self.last();
            let label_position = matches!(
                prev,
                Some(Tok::Op("{" | "{block" | "," | "(" | "(call" | "|" | "[" | "**@")) | Some(Tok::Nl) | None
            ) || self.after_command_name_or_call_start();
            if label_position || !matches!(self.peek_at(1), Some(c) if !c.is_whitespace()) {
                self.pos += 1;
                self.push(Tok::Label(name), line, space_before);
                return Ok(());
            }
        }
        if !after_dot {
            if name == "defined" && self.peek() == Some('?') {
                self.pos += 1;
                self.push(Tok::Kw("defined?"), line, space_before);
                return Ok(());
            }
            if let Some(kw) = KEYWORDS.iter().find(|k| **k == name) {
                self.push(Tok::Kw(kw), line, space_before);
                return Ok(());
            }
        }
        let first = name.chars().next().unwrap();
        let tok = if first.is_uppercase() { Tok::Const(name.clone()) } else { Tok::Ident(name.clone()) };
        // remember local variables: `x = ...` (not `x == ...`), `|a, b|`, `for x in`
        if first.is_lowercase() || first == '_' {
            let mut i = self.pos;
            while matches!(self.chars.get(i), Some(' ' | '\t')) {
                i += 1;
            }
            let assigns = self.chars.get(i) == Some(&'=') && !matches!(self.chars.get(i + 1), Some('=' | '~' | '>'));
            let op_assigns = matches!(
                (self.chars.get(i), self.chars.get(i + 1), self.chars.get(i + 2)),
                (Some('|'), Some('|'), Some('='))
                    | (Some('&'), Some('&'), Some('='))
                    | (Some('+' | '-' | '*'), Some('='), _)
            );
            let in_params = self.in_block_params();
            let multi = self.chars.get(i) == Some(&',') && self.multiple_assignment_follows(i);
            if !after_dot && (assigns || op_assigns || in_params || multi) {
                self.locals.insert(name);
            }
        }
        self.push(tok, line, space_before);
        Ok(())
    }

    /// `foo a: 1`: a label right after a command name.
    fn after_command_name_or_call_start(&self) -> bool {
        self.after_command_name()
    }

    /// Whether we are between the `|` bars of block parameters.
    fn in_block_params(&self) -> bool {
        let mut bars = 0;
        for t in self.tokens.iter().rev() {
            match &t.tok {
                Tok::Op("|") => bars += 1,
                Tok::Op("{block") | Tok::Kw("do") => return bars % 2 == 1,
                Tok::Ident(_) | Tok::Op(",") | Tok::Op("*@") | Tok::Op("&@") | Tok::Op("(") | Tok::Op(")") => {}
                Tok::Op("||") => return false,
                _ if bars == 0 => return false,
                _ => {}
            }
        }
        false
    }

    /// `a, b = ...`: names followed by `,` up to an `=` on the same line.
    fn multiple_assignment_follows(&self, mut i: usize) -> bool {
        if !matches!(self.last(), None | Some(Tok::Nl) | Some(Tok::Op(",")) | Some(Tok::Op("*@"))) {
            return false;
        }
        while let Some(c) = self.chars.get(i) {
            match c {
                '\n' | ';' => return false,
                '=' => {
                    return !matches!(self.chars.get(i + 1), Some('=' | '~' | '>'));
                }
                c if c.is_alphanumeric() || *c == '_' || *c == ',' || *c == ' ' || *c == '*' => i += 1,
                _ => return false,
            }
        }
        false
    }

    fn global(&mut self, line: u32, space_before: bool) -> Result<(), LexError> {
        let start = self.pos;
        self.pos += 1;
        match self.peek() {
            Some(c) if c.is_alphabetic() || c == '_' => {
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.pos += 1;
                }
            }
            Some(c) if c.is_ascii_digit() => {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
            Some('-') => self.pos += 2,
            Some(c) if "~*$?!@/\\;,.=:<>\"&`'+0".contains(c) => self.pos += 1,
            _ => return self.err("'$' without identifiers is not allowed as a global variable name"),
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        self.push(Tok::GVar(name), line, space_before);
        Ok(())
    }

    fn symbol_name(&mut self) -> Result<String, LexError> {
        let start = self.pos;
        let c = self.peek().unwrap();
        if c.is_alphabetic() || c == '_' {
            while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                self.pos += 1;
            }
            if matches!(self.peek(), Some('?' | '!' | '='))
                && self.peek_at(1) != Some('=')
                && self.peek_at(1) != Some('>')
            {
                self.pos += 1;
            }
        } else if c == '@' || c == '$' {
            self.pos += 1;
            while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '@') {
                self.pos += 1;
            }
        } else {
            for op in [
                "[]=", "[]", "<=>", "===", "==", "=~", "!=", "!~", "<<", ">>", "<=", ">=", "**", "+@", "-@", "+", "-",
                "*", "/", "%", "<", ">", "!", "&", "|", "^", "~",
            ] {
                if self.starts_with(op) {
                    self.pos += op.len();
                    break;
                }
            }
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn regex_flags(&mut self) -> String {
        let mut flags = String::new();
        while let Some(c) = self.peek() {
            if "imxounse".contains(c) {
                flags.push(c);
                self.pos += 1;
            } else {
                break;
            }
        }
        flags
    }

    fn char_literal_follows(&self) -> bool {
        match (self.peek_at(1), self.peek_at(2)) {
            (Some(c), next) if !c.is_whitespace() => {
                c == '\\' || !next.is_some_and(|n| n.is_alphanumeric() || n == '_')
            }
            _ => false,
        }
    }

    fn percent_literal_follows(&self) -> bool {
        match (self.peek_at(1), self.peek_at(2)) {
            (Some('w' | 'W' | 'i' | 'I' | 'q' | 'Q' | 'x' | 'r' | 's'), Some(d)) => {
                !d.is_alphanumeric() && !d.is_whitespace()
            }
            (Some(d), _) => matches!(d, '(' | '[' | '{' | '<' | '|' | '!' | '/' | '^'),
            _ => false,
        }
    }

    fn percent_literal(&mut self, line: u32, space_before: bool) -> Result<(), LexError> {
        self.pos += 1;
        let mut kind = 'Q';
        if self.peek().is_some_and(|c| c.is_alphabetic()) {
            kind = self.peek().unwrap();
            self.pos += 1;
        }
        let open = self.peek().unwrap();
        self.pos += 1;
        let close = match open {
            '(' => ')',
            '[' => ']',
            '{' => '}',
            '<' => '>',
            c => c,
        };
        let mode = match kind {
            'r' => Body::Regex,
            'Q' | 'W' | 'I' | 'x' => Body::Interpolated,
            _ => Body::Raw,
        };
        let parts = self.string_body(open, close, mode)?;
        let tok = match kind {
            'q' | 'Q' => Tok::Str(parts),
            'x' => Tok::XStr(parts),
            'r' => {
                let flags = self.regex_flags();
                Tok::Regex(parts, flags)
            }
            's' => Tok::Sym(parts),
            'w' | 'W' => Tok::Words(split_words(parts)),
            'i' | 'I' => Tok::Symbols(
                split_words(parts)
                    .into_iter()
                    .map(|w| w.into_iter().map(|p| if let StrPart::Lit(s) = p { s } else { String::new() }).collect())
                    .collect(),
            ),
            other => return self.err(format!("unknown type of %string: {other}")),
        };
        self.push(tok, line, space_before);
        Ok(())
    }

    /// Reads a string body up to `close` (nesting `open`/`close` pairs when they differ): raw
    /// bodies know only `\\` and `\close`; others handle `#{...}`, and escapes unless a regexp.
    fn string_body(&mut self, open: char, close: char, mode: Body) -> Result<Vec<StrPart>, LexError> {
        let start_line = self.line;
        let mut parts = vec![];
        let mut buf = String::new();
        let mut depth = 0;
        let interpolate = mode != Body::Raw;
        let regex = mode == Body::Regex;
        loop {
            let Some(c) = self.peek() else {
                return Err(LexError { line: start_line, message: "unterminated string meets end of file".into() });
            };
            self.pos += 1;
            if c == '\n' {
                self.line += 1;
            }
            if c == close && depth == 0 {
                break;
            }
            if open != close && c == open {
                depth += 1;
            } else if open != close && c == close {
                depth -= 1;
            }
            if c == '\\' {
                let Some(e) = self.peek() else { continue };
                self.pos += 1;
                if e == '\n' {
                    self.line += 1;
                }
                if !interpolate {
                    if e == close || e == '\\' || (open != close && e == open) {
                        buf.push(e);
                    } else {
                        buf.push('\\');
                        buf.push(e);
                    }
                    continue;
                }
                if regex {
                    // regexps keep their escapes for the regexp engine, but `\/` is `/`
                    if e == close {
                        buf.push(e);
                    } else {
                        buf.push('\\');
                        buf.push(e);
                    }
                    continue;
                }
                match e {
                    'u' => {
                        if self.peek() == Some('{') {
                            self.pos += 1;
                            let mut hex = String::new();
                            while let Some(h) = self.peek() {
                                self.pos += 1;
                                if h == '}' {
                                    break;
                                }
                                hex.push(h);
                            }
                            for cp in hex.split_whitespace() {
                                if let Some(ch) = u32::from_str_radix(cp, 16).ok().and_then(char::from_u32) {
                                    buf.push(ch);
                                }
                            }
                        } else {
                            let hex: String =
                                self.chars[self.pos..(self.pos + 4).min(self.chars.len())].iter().collect();
                            self.pos += hex.len();
                            if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                buf.push(ch);
                            }
                        }
                    }
                    'x' => {
                        let mut hex = String::new();
                        while hex.len() < 2 && self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                            hex.push(self.peek().unwrap());
                            self.pos += 1;
                        }
                        if let Ok(b) = u8::from_str_radix(&hex, 16) {
                            buf.push(b as char);
                        }
                    }
                    '0'..='7' => {
                        let mut oct = e.to_string();
                        while oct.len() < 3 && self.peek().is_some_and(|c| ('0'..='7').contains(&c)) {
                            oct.push(self.peek().unwrap());
                            self.pos += 1;
                        }
                        if let Ok(b) = u8::from_str_radix(&oct, 8) {
                            buf.push(b as char);
                        }
                    }
                    '\n' => {}
                    other => match escape_char(other) {
                        Some(s) => buf.push_str(s),
                        None => buf.push(other),
                    },
                }
                continue;
            }
            if interpolate && c == '#' && self.peek() == Some('{') {
                self.pos += 1;
                if !buf.is_empty() {
                    parts.push(StrPart::Lit(std::mem::take(&mut buf)));
                }
                let code_line = self.line;
                let code = self.interpolation_source()?;
                parts.push(StrPart::Code(code, code_line));
                continue;
            }
            if interpolate && c == '#' && matches!(self.peek(), Some('@' | '$')) {
                // `#@var` / `#$var`
                let start = self.pos;
                self.pos += 1;
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '@') {
                    self.pos += 1;
                }
                if !buf.is_empty() {
                    parts.push(StrPart::Lit(std::mem::take(&mut buf)));
                }
                parts.push(StrPart::Code(self.chars[start..self.pos].iter().collect(), self.line));
                continue;
            }
            buf.push(c);
        }
        if !buf.is_empty() || parts.is_empty() {
            parts.push(StrPart::Lit(buf));
        }
        Ok(parts)
    }

    /// The source of `#{...}` up to its closing brace (which is consumed).
    fn interpolation_source(&mut self) -> Result<String, LexError> {
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.interpolation_source_inner())
    }

    fn interpolation_source_inner(&mut self) -> Result<String, LexError> {
        let start = self.pos;
        let start_line = self.line;
        let rest: String = self.chars[self.pos..].iter().collect();
        let mut inner = Lexer::new(&rest, start_line);
        inner.stop_at_brace = true;
        inner.locals = self.locals.clone();
        inner.run()?;
        let consumed = inner.pos;
        self.pos = start + consumed + 1;
        self.line = inner.line;
        Ok(self.chars[start..start + consumed].iter().collect())
    }

    fn finish_string(
        &mut self,
        quote: char,
        parts: Vec<StrPart>,
        line: u32,
        space_before: bool,
    ) -> Result<(), LexError> {
        if quote == '`' {
            self.push(Tok::XStr(parts), line, space_before);
            return Ok(());
        }
        // `"key": value`
        if self.peek() == Some(':') && self.peek_at(1) != Some(':') {
            let prev = self.last();
            if matches!(prev, Some(Tok::Op("{" | "{block" | "," | "(" | "(call"))) || matches!(prev, Some(Tok::Nl)) {
                self.pos += 1;
                self.push(Tok::StrLabel(parts), line, space_before);
                return Ok(());
            }
        }
        // adjacent literals on one line concatenate: "a" "b"
        let line_now = self.line;
        let continued = self.continued;
        if let Some(Token { tok: Tok::Str(prev), line: prev_line, .. }) = self.tokens.last_mut() {
            if *prev_line == line_now || continued {
                prev.extend(parts);
                return Ok(());
            }
        }
        self.push(Tok::Str(parts), line, space_before);
        Ok(())
    }

    fn heredoc_follows(&self) -> bool {
        let mut i = self.pos + 2;
        if matches!(self.chars.get(i), Some('~' | '-')) {
            i += 1;
        }
        match self.chars.get(i) {
            Some('\'' | '"') => true,
            Some(c) => c.is_ascii_uppercase() || *c == '_',
            None => false,
        }
    }

    fn heredoc_start(&mut self, line: u32, space_before: bool) -> Result<(), LexError> {
        self.pos += 2;
        let mut squiggly = false;
        let mut dash = false;
        match self.peek() {
            Some('~') => {
                squiggly = true;
                self.pos += 1;
            }
            Some('-') => {
                dash = true;
                self.pos += 1;
            }
            _ => {}
        }
        let mut raw = false;
        let id: String = if matches!(self.peek(), Some('\'' | '"')) {
            let q = self.peek().unwrap();
            raw = q == '\'';
            self.pos += 1;
            let start = self.pos;
            while self.peek().is_some_and(|c| c != q) {
                self.pos += 1;
            }
            let id = self.chars[start..self.pos].iter().collect();
            self.pos += 1;
            id
        } else {
            let start = self.pos;
            while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                self.pos += 1;
            }
            self.chars[start..self.pos].iter().collect()
        };
        let index = self.tokens.len();
        self.push(Tok::Str(vec![]), line, space_before);
        self.pending_heredocs.push((index, id, squiggly, dash, raw));
        Ok(())
    }

    /// After a line break: the bodies of the heredocs started on the line just ended.
    fn read_heredoc_bodies(&mut self) -> Result<(), LexError> {
        let pending = std::mem::take(&mut self.pending_heredocs);
        for (index, id, squiggly, dash, raw) in pending {
            let mut lines = vec![];
            loop {
                if self.pos >= self.chars.len() {
                    return self.err(format!("can't find string \"{id}\" anywhere before EOF"));
                }
                let start = self.pos;
                while self.peek().is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().collect();
                if self.peek() == Some('\n') {
                    self.pos += 1;
                }
                self.line += 1;
                let candidate = if squiggly || dash { text.trim_start() } else { text.as_str() };
                if candidate.trim_end_matches('\r') == id {
                    break;
                }
                lines.push(text);
            }
            if squiggly {
                let indent = lines
                    .iter()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| l.chars().take_while(|c| *c == ' ' || *c == '\t').count())
                    .min()
                    .unwrap_or(0);
                for l in lines.iter_mut() {
                    let drop = l.chars().take_while(|c| *c == ' ' || *c == '\t').count().min(indent);
                    *l = l.chars().skip(drop).collect();
                }
            }
            let mut body = String::new();
            for l in &lines {
                body.push_str(l);
                body.push('\n');
            }
            let parts = if raw {
                vec![StrPart::Lit(body)]
            } else {
                let mut inner = Lexer::new(&body, self.tokens[index].line + 1);
                // a body is read like a double-quoted string that ends at the end of the body
                inner.chars.push('\u{0}');
                inner.string_body('\u{1}', '\u{0}', Body::Interpolated)?
            };
            self.tokens[index].tok = Tok::Str(parts);
        }
        Ok(())
    }
}

/// How a literal's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// `'...'`, `%q`, `%w`: only `\\` and the closing delimiter are escapes.
    Raw,
    /// `"..."`, `%Q`, backticks: escapes and `#{...}`.
    Interpolated,
    /// `/.../`, `%r`: `#{...}`; escapes stay for the regexp engine.
    Regex,
}

fn operand_or_arg(value_ended: bool, space_before: bool) -> bool {
    !value_ended || space_before
}

fn escape_char(e: char) -> Option<&'static str> {
    Some(match e {
        'n' => "\n",
        't' => "\t",
        'r' => "\r",
        's' => " ",
        '0' => "\0",
        'e' => "\x1b",
        'a' => "\x07",
        'b' => "\x08",
        'f' => "\x0c",
        'v' => "\x0b",
        _ => return None,
    })
}

/// `%w` words: split on unescaped white space.
fn split_words(parts: Vec<StrPart>) -> Vec<Vec<StrPart>> {
    let mut words: Vec<Vec<StrPart>> = vec![];
    let mut current: Vec<StrPart> = vec![];
    let mut buf = String::new();
    for part in parts {
        match part {
            StrPart::Lit(s) => {
                for c in s.chars() {
                    if c.is_whitespace() {
                        if !buf.is_empty() {
                            current.push(StrPart::Lit(std::mem::take(&mut buf)));
                        }
                        if !current.is_empty() {
                            words.push(std::mem::take(&mut current));
                        }
                    } else {
                        buf.push(c);
                    }
                }
            }
            code => {
                if !buf.is_empty() {
                    current.push(StrPart::Lit(std::mem::take(&mut buf)));
                }
                current.push(code);
            }
        }
    }
    if !buf.is_empty() {
        current.push(StrPart::Lit(buf));
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src, 1).unwrap().into_iter().map(|t| t.tok).filter(|t| *t != Tok::Eof).collect()
    }

    #[test]
    fn slash_and_minus_depend_on_context() {
        assert_eq!(toks("a / 2"), vec![Tok::Ident("a".into()), Tok::Op("/"), Tok::Int(2), Tok::Nl]);
        assert!(matches!(toks("x.gsub /a/, 'b'")[3], Tok::Regex(..)));
        assert_eq!(toks("x = 1; x -1")[5], Tok::Op("-"));
        assert_eq!(toks("foo -1"), vec![Tok::Ident("foo".into()), Tok::Int(-1), Tok::Nl]);
        assert_eq!(toks("a[1]")[1], Tok::Op("[]"));
        assert_eq!(toks("foo [1]")[1], Tok::Op("["));
    }

    #[test]
    fn strings_and_interpolation() {
        assert_eq!(
            toks("\"a#{b}c\""),
            vec![
                Tok::Str(vec![StrPart::Lit("a".into()), StrPart::Code("b".into(), 1), StrPart::Lit("c".into())]),
                Tok::Nl
            ]
        );
        assert_eq!(toks("'a\\'b\\n'"), vec![Tok::Str(vec![StrPart::Lit("a'b\\n".into())]), Tok::Nl]);
        assert_eq!(toks("\"#{\"}\"}\""), vec![Tok::Str(vec![StrPart::Code("\"}\"".into(), 1)]), Tok::Nl]);
        assert!(matches!(&toks("%w[a b  c]")[0], Tok::Words(w) if w.len() == 3));
        assert_eq!(toks("x = <<~EOS\n  a\n    b\n  EOS\ny")[2], Tok::Str(vec![StrPart::Lit("a\n  b\n".into())]));
    }

    #[test]
    fn labels_symbols_and_ternaries() {
        assert_eq!(toks("{a: 1}")[1], Tok::Label("a".into()));
        assert_eq!(toks("x ? :a : :b")[2], Tok::Sym(vec![StrPart::Lit("a".into())]));
        assert_eq!(toks("A::B")[1], Tok::Op("::"));
        assert_eq!(toks("a.present? ? 1 : 2")[2], Tok::Ident("present?".into()));
    }

    #[test]
    fn line_breaks_after_operators_and_before_dots_continue() {
        assert_eq!(toks("a +\nb"), vec![Tok::Ident("a".into()), Tok::Op("+"), Tok::Ident("b".into()), Tok::Nl]);
        assert_eq!(toks("a\n  .b").len(), 4);
        assert_eq!(toks("f(a,\nb)").iter().filter(|t| **t == Tok::Nl).count(), 1);
    }
}
