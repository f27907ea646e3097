//! The ERB that people put in deploy.yml, without a Ruby interpreter.
//!
//! Kamal renders each config file with `ERB.new(template, trim_mode: "-").result`. Wharf renders
//! the same templates when they only read the environment:
//! - output tags: `<%= ENV["X"] %>`, `<%= ENV['X'] %>`, `<%= ENV.fetch("X") %>` (Ruby's
//!   `KeyError`, `key not found: "X"`, when unset), `<%= ENV.fetch("X", "default") %>`,
//!   `<%= ENV.fetch("X") { "default" } %>`, `<%= ENV["X"] || "default" %>`, string literals,
//!   and `.presence`, `.to_s`, `.strip`, `.downcase`, `.upcase` on them;
//! - control tags: `<% if COND %>`, `<% unless COND %>`, `<% elsif COND %>`, `<% else %>`,
//!   `<% end %>`, where a condition is such an expression, optionally compared with `==` / `!=`,
//!   asked `.present?` / `.blank?` / `.nil?` / `.empty?` / `ENV.key?("X")`, negated with `!`, and
//!   combined with `&&` / `||` and parentheses;
//! - comments `<%# ... %>`, `<%%` for a literal `<%`, and trim mode `-`: `<%-` strips the
//!   indentation before it and `-%>` the newline after it.
//!
//! Anything else is an error naming the file and line of the tag:
//! `config/deploy.yml:12: unsupported ERB (Wharf understands ENV lookups only): <% code %>`.

use crate::error::{ConfigError, ErrorKind};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagKind {
    Output,
    Exec,
    Comment,
}

#[derive(Debug)]
enum Token {
    Text(String),
    Tag { kind: TagKind, code: String, line: usize, source: String },
}

fn line_of(template: &str, pos: usize) -> usize {
    template[..pos].matches('\n').count() + 1
}

/// Splits a template into text and tags the way ERB's trim-mode `-` scanner does.
fn scan(template: &str, file: &str) -> Result<Vec<Token>, ConfigError> {
    let mut tokens = vec![];
    let mut text = String::new();
    let mut i = 0;
    let bytes = template.as_bytes();
    while i < template.len() {
        let Some(off) = template[i..].find("<%") else {
            text.push_str(&template[i..]);
            break;
        };
        let start = i + off;
        text.push_str(&template[i..start]);
        if template[start..].starts_with("<%%") {
            text.push_str("<%");
            i = start + 3;
            continue;
        }
        let mut kind = TagKind::Exec;
        let mut code_start = start + 2;
        match bytes.get(start + 2) {
            Some(b'=') => {
                kind = TagKind::Output;
                code_start += 1;
            }
            Some(b'#') => {
                kind = TagKind::Comment;
                code_start += 1;
            }
            Some(b'-') => {
                code_start += 1;
                // `^[ \t]*<%-`: indentation before it on its line is dropped
                let line_start = text.rfind('\n').map(|p| p + 1).unwrap_or(0);
                if text[line_start..].chars().all(|c| c == ' ' || c == '\t') {
                    text.truncate(line_start);
                }
            }
            _ => {}
        }
        // Find the closing `%>` (or `-%>`), with `%%>` standing for a literal `%>` in code.
        let mut code = String::new();
        let mut j = code_start;
        let mut end = None;
        while j < template.len() {
            let rest = &template[j..];
            if rest.starts_with("%%>") {
                code.push_str("%>");
                j += 3;
            } else if rest.starts_with("-%>") {
                let mut after = j + 3;
                if template[after..].starts_with('\n') {
                    after += 1;
                }
                end = Some((j + 3, after));
                break;
            } else if rest.starts_with("%>") {
                end = Some((j + 2, j + 2));
                break;
            } else {
                let c = rest.chars().next().unwrap();
                code.push(c);
                j += c.len_utf8();
            }
        }
        let line = line_of(template, start);
        let Some((close, after)) = end else {
            return Err(ConfigError::new(
                ErrorKind::Erb,
                format!("{file}:{line}: ERB syntax error: tag `<%` is never closed with `%>`"),
            ));
        };
        if !text.is_empty() {
            tokens.push(Token::Text(std::mem::take(&mut text)));
        }
        tokens.push(Token::Tag { kind, code, line, source: template[start..close].to_string() });
        i = after;
    }
    if !text.is_empty() {
        tokens.push(Token::Text(text));
    }
    Ok(tokens)
}

/// A Ruby value in the subset.
#[derive(Debug, Clone, PartialEq)]
enum RVal {
    Nil,
    Bool(bool),
    Str(String),
}

impl RVal {
    fn truthy(&self) -> bool {
        !matches!(self, RVal::Nil | RVal::Bool(false))
    }

    fn to_s(&self) -> String {
        match self {
            RVal::Nil => String::new(),
            RVal::Bool(b) => b.to_string(),
            RVal::Str(s) => s.clone(),
        }
    }

    fn blank(&self) -> bool {
        match self {
            RVal::Nil | RVal::Bool(false) => true,
            RVal::Bool(true) => false,
            RVal::Str(s) => s.chars().all(char::is_whitespace),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Sym(&'static str),
}

/// Why an expression could not be evaluated.
enum EvalError {
    Unsupported,
    Key(String),
}

fn lex(code: &str) -> Result<Vec<Tok>, EvalError> {
    let chars: Vec<char> = code.chars().collect();
    let mut toks = vec![];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == '?' || chars[i] == '!') && chars.get(i + 1) != Some(&'=') {
                i += 1;
            }
            toks.push(Tok::Ident(chars[start..i].iter().collect()));
            continue;
        }
        if c == '"' || c == '\'' {
            let quote = c;
            i += 1;
            let mut s = String::new();
            loop {
                let Some(&ch) = chars.get(i) else { return Err(EvalError::Unsupported) };
                i += 1;
                if ch == quote {
                    break;
                }
                if ch == '\\' {
                    let Some(&esc) = chars.get(i) else { return Err(EvalError::Unsupported) };
                    i += 1;
                    if quote == '\'' {
                        if esc == '\'' || esc == '\\' {
                            s.push(esc);
                        } else {
                            s.push('\\');
                            s.push(esc);
                        }
                    } else {
                        match esc {
                            'n' => s.push('\n'),
                            't' => s.push('\t'),
                            'r' => s.push('\r'),
                            's' => s.push(' '),
                            '0' => s.push('\0'),
                            'e' => s.push('\x1b'),
                            other => s.push(other),
                        }
                    }
                } else if quote == '"' && ch == '#' && chars.get(i) == Some(&'{') {
                    // interpolation is Ruby code
                    return Err(EvalError::Unsupported);
                } else {
                    s.push(ch);
                }
            }
            toks.push(Tok::Str(s));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let sym: Option<&'static str> = match two.as_str() {
            "||" => Some("||"),
            "&&" => Some("&&"),
            "==" => Some("=="),
            "!=" => Some("!="),
            _ => None,
        };
        if let Some(s) = sym {
            toks.push(Tok::Sym(s));
            i += 2;
            continue;
        }
        let one: Option<&'static str> = match c {
            '[' => Some("["),
            ']' => Some("]"),
            '(' => Some("("),
            ')' => Some(")"),
            '{' => Some("{"),
            '}' => Some("}"),
            '.' => Some("."),
            ',' => Some(","),
            '!' => Some("!"),
            _ => None,
        };
        match one {
            Some(s) => {
                toks.push(Tok::Sym(s));
                i += 1;
            }
            None => return Err(EvalError::Unsupported),
        }
    }
    Ok(toks)
}

struct Expr<'a> {
    toks: Vec<Tok>,
    pos: usize,
    env: &'a HashMap<String, String>,
}

impl Expr<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.peek() == Some(&Tok::Sym(leak(s))) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), EvalError> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(EvalError::Unsupported)
        }
    }

    fn eat_ident(&mut self, name: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(i)) if i == name) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<RVal, EvalError> {
        let mut v = self.and()?;
        while self.eat_sym("||") {
            let rhs = self.and()?;
            if !v.truthy() {
                v = rhs;
            }
        }
        Ok(v)
    }

    fn and(&mut self) -> Result<RVal, EvalError> {
        let mut v = self.not()?;
        while self.eat_sym("&&") {
            let rhs = self.not()?;
            if v.truthy() {
                v = rhs;
            }
        }
        Ok(v)
    }

    fn not(&mut self) -> Result<RVal, EvalError> {
        if self.eat_sym("!") {
            let v = self.not()?;
            return Ok(RVal::Bool(!v.truthy()));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<RVal, EvalError> {
        let lhs = self.postfix()?;
        if self.eat_sym("==") {
            let rhs = self.postfix()?;
            return Ok(RVal::Bool(lhs == rhs));
        }
        if self.eat_sym("!=") {
            let rhs = self.postfix()?;
            return Ok(RVal::Bool(lhs != rhs));
        }
        Ok(lhs)
    }

    fn postfix(&mut self) -> Result<RVal, EvalError> {
        let mut v = self.primary()?;
        while self.eat_sym(".") {
            let Some(Tok::Ident(m)) = self.peek().cloned() else { return Err(EvalError::Unsupported) };
            self.pos += 1;
            v = match m.as_str() {
                "present?" => RVal::Bool(!v.blank()),
                "blank?" => RVal::Bool(v.blank()),
                "nil?" => RVal::Bool(v == RVal::Nil),
                "empty?" => match &v {
                    RVal::Str(s) => RVal::Bool(s.is_empty()),
                    _ => return Err(EvalError::Unsupported),
                },
                "presence" => {
                    if v.blank() {
                        RVal::Nil
                    } else {
                        v
                    }
                }
                "to_s" => RVal::Str(v.to_s()),
                "strip" | "downcase" | "upcase" => match &v {
                    RVal::Str(s) => RVal::Str(match m.as_str() {
                        "strip" => s.trim().to_string(),
                        "downcase" => s.to_lowercase(),
                        _ => s.to_uppercase(),
                    }),
                    _ => return Err(EvalError::Unsupported),
                },
                _ => return Err(EvalError::Unsupported),
            };
        }
        Ok(v)
    }

    fn string_arg(&mut self) -> Result<String, EvalError> {
        match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(s)
            }
            _ => Err(EvalError::Unsupported),
        }
    }

    fn primary(&mut self) -> Result<RVal, EvalError> {
        match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(RVal::Str(s))
            }
            Some(Tok::Sym("(")) => {
                self.pos += 1;
                let v = self.or()?;
                self.expect_sym(")")?;
                Ok(v)
            }
            Some(Tok::Ident(id)) => {
                self.pos += 1;
                match id.as_str() {
                    "nil" => Ok(RVal::Nil),
                    "true" => Ok(RVal::Bool(true)),
                    "false" => Ok(RVal::Bool(false)),
                    "ENV" => self.env_access(),
                    _ => Err(EvalError::Unsupported),
                }
            }
            _ => Err(EvalError::Unsupported),
        }
    }

    fn env_access(&mut self) -> Result<RVal, EvalError> {
        if self.eat_sym("[") {
            let name = self.string_arg()?;
            self.expect_sym("]")?;
            return Ok(self.env.get(&name).map(|v| RVal::Str(v.clone())).unwrap_or(RVal::Nil));
        }
        self.expect_sym(".")?;
        if self.eat_ident("fetch") {
            self.expect_sym("(")?;
            let name = self.string_arg()?;
            let default = if self.eat_sym(",") { Some(self.or()?) } else { None };
            self.expect_sym(")")?;
            let block = if self.eat_sym("{") {
                let v = self.or()?;
                self.expect_sym("}")?;
                Some(v)
            } else {
                None
            };
            return match self.env.get(&name) {
                Some(v) => Ok(RVal::Str(v.clone())),
                None => match block.or(default) {
                    Some(d) => Ok(d),
                    None => Err(EvalError::Key(format!("key not found: {:?}", name))),
                },
            };
        }
        if self.eat_ident("key?") || self.eat_ident("has_key?") || self.eat_ident("include?") {
            self.expect_sym("(")?;
            let name = self.string_arg()?;
            self.expect_sym(")")?;
            return Ok(RVal::Bool(self.env.contains_key(&name)));
        }
        Err(EvalError::Unsupported)
    }
}

fn leak(s: &str) -> &'static str {
    match s {
        "||" => "||",
        "&&" => "&&",
        "==" => "==",
        "!=" => "!=",
        "[" => "[",
        "]" => "]",
        "(" => "(",
        ")" => ")",
        "{" => "{",
        "}" => "}",
        "." => ".",
        "," => ",",
        _ => "!",
    }
}

fn eval(code: &str, env: &HashMap<String, String>) -> Result<RVal, EvalError> {
    let toks = lex(code)?;
    if toks.is_empty() {
        return Ok(RVal::Nil);
    }
    let mut e = Expr { toks, pos: 0, env };
    let v = e.or()?;
    if e.pos != e.toks.len() {
        return Err(EvalError::Unsupported);
    }
    Ok(v)
}

enum Stmt<'a> {
    If(&'a str),
    Unless(&'a str),
    Elsif(&'a str),
    Else,
    End,
    Nothing,
}

fn statement(code: &str) -> Option<Stmt<'_>> {
    let c = code.trim();
    let c = c.strip_suffix(" then").map(str::trim_end).unwrap_or(c);
    let keyword = |kw: &str| -> Option<&str> {
        c.strip_prefix(kw).filter(|rest| rest.starts_with([' ', '(', '!', '\t'])).map(str::trim)
    };
    if c.is_empty() {
        Some(Stmt::Nothing)
    } else if c == "else" {
        Some(Stmt::Else)
    } else if c == "end" {
        Some(Stmt::End)
    } else if let Some(cond) = keyword("if") {
        Some(Stmt::If(cond))
    } else if let Some(cond) = keyword("unless") {
        Some(Stmt::Unless(cond))
    } else {
        keyword("elsif").map(Stmt::Elsif)
    }
}

struct Frame {
    /// Whether the enclosing context is emitting.
    parent_active: bool,
    /// Whether some branch of this if has been taken.
    taken: bool,
    /// Whether the current branch is emitting.
    active: bool,
    line: usize,
    seen_else: bool,
}

/// Renders an ERB template as Kamal does (`trim_mode: "-"`), reading `ENV` from `env`. `file`
/// is the path named in errors (e.g. `config/deploy.yml`).
pub fn render(template: &str, file: &str, env: &HashMap<String, String>) -> Result<String, ConfigError> {
    let tokens = scan(template, file)?;
    let mut out = String::new();
    let mut stack: Vec<Frame> = vec![];
    let active = |stack: &Vec<Frame>| stack.last().map(|f| f.active).unwrap_or(true);
    let unsupported = |line: usize, source: &str| {
        ConfigError::new(
            ErrorKind::Erb,
            format!("{file}:{line}: unsupported ERB (Wharf understands ENV lookups only): {source}"),
        )
    };
    let evaluate = |code: &str, line: usize, source: &str| -> Result<RVal, ConfigError> {
        eval(code, env).map_err(|e| match e {
            EvalError::Unsupported => unsupported(line, source),
            EvalError::Key(msg) => ConfigError::new(ErrorKind::Key, msg),
        })
    };
    for token in tokens {
        match token {
            Token::Text(t) => {
                if active(&stack) {
                    out.push_str(&t);
                }
            }
            Token::Tag { kind: TagKind::Comment, .. } => {}
            Token::Tag { kind: TagKind::Output, code, line, source } => {
                if active(&stack) {
                    out.push_str(&evaluate(&code, line, &source)?.to_s());
                } else {
                    // still reject what Ruby could not parse either way
                    if lex(&code).is_err() {
                        return Err(unsupported(line, &source));
                    }
                }
            }
            Token::Tag { kind: TagKind::Exec, code, line, source } => {
                let Some(stmt) = statement(&code) else { return Err(unsupported(line, &source)) };
                let cur = active(&stack);
                match stmt {
                    Stmt::Nothing => {}
                    Stmt::If(cond) | Stmt::Unless(cond) => {
                        let negate = matches!(stmt, Stmt::Unless(_));
                        let v = if cur { evaluate(cond, line, &source)?.truthy() != negate } else { false };
                        stack.push(Frame { parent_active: cur, taken: v, active: cur && v, line, seen_else: false });
                    }
                    Stmt::Elsif(cond) => {
                        let Some(frame) = stack.last() else {
                            return Err(ConfigError::new(
                                ErrorKind::Erb,
                                format!("{file}:{line}: ERB syntax error: `elsif` without `if`"),
                            ));
                        };
                        if frame.seen_else {
                            return Err(ConfigError::new(
                                ErrorKind::Erb,
                                format!("{file}:{line}: ERB syntax error: `elsif` after `else`"),
                            ));
                        }
                        let (parent, taken) = (frame.parent_active, frame.taken);
                        let v = if parent && !taken { evaluate(cond, line, &source)?.truthy() } else { false };
                        let frame = stack.last_mut().unwrap();
                        frame.active = parent && !taken && v;
                        frame.taken = taken || v;
                    }
                    Stmt::Else => {
                        let Some(frame) = stack.last_mut() else {
                            return Err(ConfigError::new(
                                ErrorKind::Erb,
                                format!("{file}:{line}: ERB syntax error: `else` without `if`"),
                            ));
                        };
                        frame.active = frame.parent_active && !frame.taken;
                        frame.taken = true;
                        frame.seen_else = true;
                    }
                    Stmt::End => {
                        if stack.pop().is_none() {
                            return Err(ConfigError::new(
                                ErrorKind::Erb,
                                format!("{file}:{line}: ERB syntax error: `end` without `if`"),
                            ));
                        }
                    }
                }
            }
        }
    }
    if let Some(frame) = stack.last() {
        return Err(ConfigError::new(
            ErrorKind::Erb,
            format!("{file}:{}: ERB syntax error: `if` without `end`", frame.line),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> HashMap<String, String> {
        [("A".to_string(), "1".to_string()), ("EMPTY".to_string(), String::new())].into_iter().collect()
    }

    #[test]
    fn lookups() {
        let e = env();
        assert_eq!(render("x: <%= ENV[\"A\"] %>", "f", &e).unwrap(), "x: 1");
        assert_eq!(render("x: <%= ENV['B'] %>", "f", &e).unwrap(), "x: ");
        assert_eq!(render("x: <%= ENV.fetch('B', 'd') %>", "f", &e).unwrap(), "x: d");
        assert_eq!(render("x: <%= ENV.fetch(\"B\") { \"d\" } %>", "f", &e).unwrap(), "x: d");
        assert_eq!(render("x: <%= ENV[\"B\"] || \"d\" %>", "f", &e).unwrap(), "x: d");
        assert_eq!(render("x: <%= ENV[\"EMPTY\"] || \"d\" %>", "f", &e).unwrap(), "x: ");
        assert_eq!(render("x: <%= ENV[\"EMPTY\"].presence || \"d\" %>", "f", &e).unwrap(), "x: d");
        let err = render("x: <%= ENV.fetch(\"B\") %>", "f", &e).unwrap_err();
        assert_eq!(err.to_string(), "key not found: \"B\"");
        assert_eq!(err.kind(), ErrorKind::Key);
    }

    #[test]
    fn conditionals_and_trimming() {
        let e = env();
        let t = "a:\n<% if ENV[\"A\"] == \"1\" -%>\n  - one\n<% else -%>\n  - other\n<% end -%>\nb: 2\n";
        assert_eq!(render(t, "f", &e).unwrap(), "a:\n  - one\nb: 2\n");
        let t = "a:\n  <%- unless ENV[\"A\"].present? -%>\n  - one\n  <%- end -%>\nb: 2\n";
        assert_eq!(render(t, "f", &e).unwrap(), "a:\nb: 2\n");
        let t = "<% if ENV['B'] %>x<% elsif ENV['A'] %>y<% else %>z<% end %>";
        assert_eq!(render(t, "f", &e).unwrap(), "y");
        assert_eq!(render("<%# comment -%>\na", "f", &e).unwrap(), "a");
        assert_eq!(render("<%% x %>", "f", &e).unwrap(), "<% x %>");
    }

    #[test]
    fn unsupported_names_file_and_line() {
        let e = env();
        let err = render("a: 1\nb: <%= `whoami` %>\n", "config/deploy.yml", &e).unwrap_err();
        assert_eq!(
            err.to_string(),
            "config/deploy.yml:2: unsupported ERB (Wharf understands ENV lookups only): <%= `whoami` %>"
        );
    }
}
