//! The command type and the combinators of `Kamal::Commands::Base`.
//!
//! Kamal builds every command as an array of words (symbols and strings, some of them raw shell
//! such as `|`, `&&`, `||`, `;`, `>`, `2>&1`) that SSHKit joins with single spaces. [`Cmd`] is that
//! array, already flattened and with Ruby's `nil`s removed; [`Cmd`]'s `Display` is the joined
//! string Kamal's tests compare against. Words may be [`Token::sensitive`] (Kamal's
//! `Kamal::Utils::Sensitive`): they print as themselves, but
//! [`Cmd::to_redacted_string`] shows their redaction, as SSHKit's logs do.

use serde_yaml::Value;
use std::fmt;

/// One word of a command.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Token {
    text: String,
    redaction: Option<String>,
}

impl Token {
    /// A plain word.
    pub fn new(text: impl Into<String>) -> Token {
        Token { text: text.into(), redaction: None }
    }

    /// A secret word (`Kamal::Utils.sensitive(value, redaction:)`); Kamal's default redaction is
    /// `[REDACTED]`.
    pub fn sensitive(text: impl Into<String>, redaction: impl Into<String>) -> Token {
        Token { text: text.into(), redaction: Some(redaction.into()) }
    }

    /// The word as run.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the word is secret.
    pub fn is_sensitive(&self) -> bool {
        self.redaction.is_some()
    }

    /// The word as logged: its redaction when secret.
    pub fn redacted(&self) -> &str {
        self.redaction.as_deref().unwrap_or(&self.text)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<&str> for Token {
    fn from(s: &str) -> Token {
        Token::new(s)
    }
}

impl From<String> for Token {
    fn from(s: String) -> Token {
        Token::new(s)
    }
}

impl From<&String> for Token {
    fn from(s: &String) -> Token {
        Token::new(s.clone())
    }
}

/// A command: the flat list of words Kamal passes to SSHKit's `execute`/`capture`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Cmd {
    tokens: Vec<Token>,
    /// What the command reads on standard input (a secret, kept out of its arguments and
    /// so out of `ps`); executors feed it.
    stdin: Option<SecretInput>,
}

/// Bytes for a command's standard input, shown only as `[REDACTED]`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretInput(Vec<u8>);

impl fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Cmd {
    /// An empty command.
    pub fn new() -> Cmd {
        Cmd::default()
    }

    /// A command from words.
    pub fn from_words<I, T>(words: I) -> Cmd
    where
        I: IntoIterator<Item = T>,
        T: Into<Token>,
    {
        Cmd { tokens: words.into_iter().map(Into::into).collect(), stdin: None }
    }

    /// The command with `bytes` for its standard input.
    pub fn with_stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(SecretInput(bytes.into()));
        self
    }

    /// What the command reads on standard input, if anything.
    pub fn stdin(&self) -> Option<&[u8]> {
        self.stdin.as_ref().map(|s| s.0.as_slice())
    }

    /// The words.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The words as strings.
    pub fn words(&self) -> Vec<&str> {
        self.tokens.iter().map(Token::as_str).collect()
    }

    /// The first word (the program, or the whole command for raw shell such as
    /// `[ "${EUID:-$(id -u)}" -eq 0 ] || ...`).
    pub fn program(&self) -> Option<&str> {
        self.tokens.first().map(Token::as_str)
    }

    /// No words.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether some word is secret.
    pub fn is_sensitive(&self) -> bool {
        self.tokens.iter().any(Token::is_sensitive)
    }

    /// Appends words (anything [`Words`]).
    pub fn push(&mut self, words: impl Words) {
        words.push_into(self);
    }

    /// Appends words, builder style.
    pub fn arg(mut self, words: impl Words) -> Cmd {
        words.push_into(&mut self);
        self
    }

    /// The first word, secrets masked: what SSHKit names a failed command by (`docker` for
    /// `docker run ...`).
    pub fn name(&self) -> &str {
        self.tokens.first().map(Token::redacted).unwrap_or("")
    }

    /// The joined string with secret words replaced by their redaction (what SSHKit logs).
    pub fn to_redacted_string(&self) -> String {
        self.tokens.iter().map(Token::redacted).collect::<Vec<_>>().join(" ")
    }

    /// Consumes the command, giving its words.
    pub fn into_tokens(self) -> Vec<Token> {
        self.tokens
    }
}

/// `Array#join(" ")`.
impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.tokens.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&t.text)?;
        }
        Ok(())
    }
}

impl Cmd {
    /// Whether the joined command is `s`, without building the string.
    fn joined_eq(&self, s: &str) -> bool {
        let mut rest = s;
        for (i, t) in self.tokens.iter().enumerate() {
            if i > 0 {
                match rest.strip_prefix(' ') {
                    Some(r) => rest = r,
                    None => return false,
                }
            }
            match rest.strip_prefix(t.text.as_str()) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        rest.is_empty()
    }
}

impl PartialEq<str> for Cmd {
    fn eq(&self, other: &str) -> bool {
        self.joined_eq(other)
    }
}

impl PartialEq<&str> for Cmd {
    fn eq(&self, other: &&str) -> bool {
        self.joined_eq(other)
    }
}

impl IntoIterator for Cmd {
    type Item = Token;
    type IntoIter = std::vec::IntoIter<Token>;
    fn into_iter(self) -> Self::IntoIter {
        self.tokens.into_iter()
    }
}

/// Anything that contributes words to a command; `None` contributes nothing (Ruby's `compact`),
/// sequences are flattened (Ruby's splat and `flatten`).
pub trait Words {
    /// Appends the words to `cmd`.
    fn push_into(self, cmd: &mut Cmd);
}

impl Words for &str {
    fn push_into(self, cmd: &mut Cmd) {
        cmd.tokens.push(Token::new(self));
    }
}

impl Words for String {
    fn push_into(self, cmd: &mut Cmd) {
        cmd.tokens.push(Token::new(self));
    }
}

impl Words for &String {
    fn push_into(self, cmd: &mut Cmd) {
        cmd.tokens.push(Token::new(self.clone()));
    }
}

impl Words for Token {
    fn push_into(self, cmd: &mut Cmd) {
        cmd.tokens.push(self);
    }
}

impl Words for Cmd {
    fn push_into(self, cmd: &mut Cmd) {
        cmd.tokens.extend(self.tokens);
    }
}

impl Words for &Cmd {
    fn push_into(self, cmd: &mut Cmd) {
        cmd.tokens.extend(self.tokens.iter().cloned());
    }
}

impl<T: Words> Words for Option<T> {
    fn push_into(self, cmd: &mut Cmd) {
        if let Some(w) = self {
            w.push_into(cmd);
        }
    }
}

impl<T: Words> Words for Vec<T> {
    fn push_into(self, cmd: &mut Cmd) {
        for w in self {
            w.push_into(cmd);
        }
    }
}

impl Words for &[String] {
    fn push_into(self, cmd: &mut Cmd) {
        cmd.tokens.extend(self.iter().map(Token::from));
    }
}

impl Words for &Vec<String> {
    fn push_into(self, cmd: &mut Cmd) {
        cmd.tokens.extend(self.iter().map(Token::from));
    }
}

impl<const N: usize> Words for [&str; N] {
    fn push_into(self, cmd: &mut Cmd) {
        cmd.tokens.extend(self.iter().map(|s| Token::new(*s)));
    }
}

/// Builds a [`Cmd`] from words: `cmd!["docker", "ps", filters, maybe_flag]`.
#[macro_export]
macro_rules! cmd {
    ($($w:expr),* $(,)?) => {{
        #[allow(unused_mut)]
        let mut c = $crate::Cmd::new();
        $( $crate::Words::push_into($w, &mut c); )*
        c
    }};
}

/// One of the commands given to [`combine`] and friends: a command, a raw string (one word,
/// as Ruby's `Array("xargs docker logs ...")`), or nothing.
pub trait Part {
    /// The command, or `None` to leave it out (Ruby's `compact`).
    fn into_part(self) -> Option<Cmd>;
}

impl Part for Cmd {
    fn into_part(self) -> Option<Cmd> {
        Some(self)
    }
}

impl Part for &Cmd {
    fn into_part(self) -> Option<Cmd> {
        Some(self.clone())
    }
}

impl Part for Option<Cmd> {
    fn into_part(self) -> Option<Cmd> {
        self
    }
}

impl Part for &str {
    fn into_part(self) -> Option<Cmd> {
        Some(cmd![self])
    }
}

impl Part for String {
    fn into_part(self) -> Option<Cmd> {
        Some(cmd![self])
    }
}

impl Part for Option<String> {
    fn into_part(self) -> Option<Cmd> {
        self.map(|s| cmd![s])
    }
}

/// A list of [`Part`]s for [`combine`], [`chain`], [`pipe`], ...
#[macro_export]
macro_rules! parts {
    ($($p:expr),* $(,)?) => {
        vec![$($crate::cmd::Part::into_part($p)),*]
    };
}

/// `combine(*commands, by:)`: the commands (nils left out) joined by the word `by`.
pub fn combine(commands: Vec<Option<Cmd>>, by: &str) -> Cmd {
    let mut out = Cmd::new();
    for (i, c) in commands.into_iter().flatten().enumerate() {
        if i > 0 {
            out.tokens.push(Token::new(by));
        }
        out.tokens.extend(c.tokens);
    }
    out
}

/// `combine(..., by: "&&")`.
pub fn and(commands: Vec<Option<Cmd>>) -> Cmd {
    combine(commands, "&&")
}

/// `chain`: joined by `;`.
pub fn chain(commands: Vec<Option<Cmd>>) -> Cmd {
    combine(commands, ";")
}

/// `pipe`: joined by `|`.
pub fn pipe(commands: Vec<Option<Cmd>>) -> Cmd {
    combine(commands, "|")
}

/// `append`: joined by `>>`.
pub fn append(commands: Vec<Option<Cmd>>) -> Cmd {
    combine(commands, ">>")
}

/// `write`: joined by `>`.
pub fn write(commands: Vec<Option<Cmd>>) -> Cmd {
    combine(commands, ">")
}

/// `any`: joined by `||`.
pub fn any(commands: Vec<Option<Cmd>>) -> Cmd {
    combine(commands, "||")
}

/// `substitute`: `$(<commands joined by spaces>)`.
pub fn substitute(commands: &[Cmd]) -> String {
    let inner: Vec<String> = commands.iter().map(|c| c.to_string()).collect();
    format!("$({})", inner.join(" "))
}

/// `xargs(command)`: `xargs <command>`.
pub fn xargs(command: Cmd) -> Cmd {
    cmd!["xargs", command]
}

/// Single-quotes a string for `sh`, each `'` written `'\''` (Kamal's `gsub("'", "'\\\\''")`).
pub fn single_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `shell(command)`: `sh -c '<command>'`.
pub fn shell(command: Cmd) -> Cmd {
    cmd!["sh", "-c", single_quote(&command.to_string())]
}

/// `docker(*args)`: `docker <args>`.
pub fn docker(args: Cmd) -> Cmd {
    cmd!["docker", args]
}

/// `pack(*args)`: `pack <args>`.
pub fn pack(args: Cmd) -> Cmd {
    cmd!["pack", args]
}

/// `git(*args, path:)`: `git [-C <path>] <args>`.
pub fn git(args: Cmd, path: Option<&str>) -> Cmd {
    cmd!["git", path.map(|p| cmd!["-C", p]), args]
}

/// `grep(*args)`: `grep <args>`.
pub fn grep(args: Cmd) -> Cmd {
    cmd!["grep", args]
}

/// `Kamal::Utils.argumentize(argument, attributes, sensitive:)` for a hash: for each pair,
/// `argument` then `key=<escaped value>` when the value is present, `key=false` for `false`,
/// the bare key otherwise. Sensitive values are redacted as `key=[REDACTED]`.
pub fn argumentize<'a, I>(argument: &str, pairs: I, sensitive: bool) -> Vec<Token>
where
    I: IntoIterator<Item = (String, &'a Value)>,
{
    let mut out = vec![];
    for (key, value) in pairs {
        out.push(Token::new(argument));
        if wharf_config::ruby::present(value) {
            let attr = format!("{key}={}", wharf_config::utils::escape_value(value));
            if sensitive {
                out.push(Token::sensitive(attr, format!("{key}=[REDACTED]")));
            } else {
                out.push(Token::new(attr));
            }
        } else if matches!(value, Value::Bool(false)) {
            out.push(Token::new(format!("{key}=false")));
        } else {
            out.push(Token::new(key));
        }
    }
    out
}

/// [`argumentize`] of string pairs (`{ "foo" => "bar" }` → `--env foo="bar"`).
pub fn argumentize_strings<K: AsRef<str>, V: AsRef<str>>(
    argument: &str,
    pairs: &[(K, V)],
    sensitive: bool,
) -> Vec<Token> {
    let values: Vec<(String, Value)> =
        pairs.iter().map(|(k, v)| (k.as_ref().to_string(), Value::String(v.as_ref().to_string()))).collect();
    argumentize(argument, values.iter().map(|(k, v)| (k.clone(), v)), sensitive)
}

/// `argumentize(argument, array)`: `argument item` for each item (no escaping).
pub fn argumentize_list<S: AsRef<str>>(argument: &str, items: &[S]) -> Vec<Token> {
    items.iter().flat_map(|i| [Token::new(argument), Token::new(i.as_ref())]).collect()
}

/// Ruby's `Shellwords.escape` (`String#shellescape`): `''` for an empty string, a backslash
/// before every character but `A-Za-z0-9_-.,:+/@` and newline, newlines written `'\n'`.
pub fn shellescape(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if c == '\n' {
            out.push_str("'\n'");
        } else if c.is_ascii_alphanumeric() || "_-.,:+/@".contains(c) {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

/// Ruby's `Base64.encode64`: standard alphabet with padding, a newline after every 60
/// characters and at the end (nothing for empty input).
pub fn encode64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        encoded.push(ALPHABET[(n >> 18) as usize & 63] as char);
        encoded.push(ALPHABET[(n >> 12) as usize & 63] as char);
        encoded.push(if chunk.len() > 1 { ALPHABET[(n >> 6) as usize & 63] as char } else { '=' });
        encoded.push(if chunk.len() > 2 { ALPHABET[n as usize & 63] as char } else { '=' });
    }
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for (i, c) in encoded.chars().enumerate() {
        if i > 0 && i % 60 == 0 {
            out.push('\n');
        }
        out.push(c);
    }
    if !encoded.is_empty() {
        out.push('\n');
    }
    out
}

/// Ruby's `Base64.decode64` (lenient: characters outside the alphabet are skipped).
pub fn decode64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let mut out = vec![];
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        if c == b'=' {
            break;
        }
        if let Some(v) = val(c) {
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
    }
    out
}

/// `Pathname#dirname` of a relative or absolute path (`a/b/c` → `a/b`, `c` → `.`, `/c` → `/`).
pub fn dirname(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.starts_with('/') { "/".into() } else { ".".into() };
    }
    match trimmed.rfind('/') {
        None => ".".into(),
        Some(i) => {
            let d = trimmed[..i].trim_end_matches('/');
            if d.is_empty() {
                "/".into()
            } else {
                d.to_string()
            }
        }
    }
}

/// `Pathname#basename` (`a/b/c` → `c`).
pub fn basename(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.starts_with('/') { "/".into() } else { String::new() };
    }
    match trimmed.rfind('/') {
        None => trimmed.to_string(),
        Some(i) => trimmed[i + 1..].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_like_ruby() {
        let c = cmd!["docker", None::<&str>, vec!["a".to_string(), "b".to_string()], Some("c")];
        assert_eq!(c.to_string(), "docker a b c");
        assert_eq!(c, "docker a b c");
        assert!(c != "docker a b");
        assert!(c != "docker a b c ");
        assert_eq!(pipe(parts![cmd!["a"], None::<Cmd>, "b c"]).to_string(), "a | b c");
    }

    #[test]
    fn shell_quotes() {
        assert_eq!(shell(cmd!["echo", "'x'"]).to_string(), "sh -c 'echo '\\''x'\\'''");
    }

    #[test]
    fn shellescape_like_ruby() {
        assert_eq!(shellescape(""), "''");
        assert_eq!(shellescape("/absolute/path with spaces"), "/absolute/path\\ with\\ spaces");
        assert_eq!(shellescape("a'b\nc"), "a\\'b'\n'c");
        assert_eq!(shellescape("é"), "\\é");
    }

    #[test]
    fn base64_like_ruby() {
        assert_eq!(encode64(b""), "");
        assert_eq!(encode64(b"a"), "YQ==\n");
        assert_eq!(encode64(b"Locked by"), "TG9ja2VkIGJ5\n");
        let long = "x".repeat(50);
        let enc = encode64(long.as_bytes());
        assert_eq!(enc.lines().next().unwrap().len(), 60);
        assert!(enc.ends_with('\n'));
        assert_eq!(decode64(&enc), long.as_bytes());
    }

    #[test]
    fn paths() {
        assert_eq!(dirname(".kamal/apps/app/assets/extracted/web-999"), ".kamal/apps/app/assets/extracted");
        assert_eq!(basename(".kamal/apps/app/assets/extracted/web-999"), "web-999");
        assert_eq!(dirname("file"), ".");
        assert_eq!(dirname("/file"), "/");
    }

    #[test]
    fn sensitive_tokens() {
        let c = cmd!["docker", "login", Token::sensitive("\"pw\"", "[REDACTED]")];
        assert_eq!(c.to_string(), "docker login \"pw\"");
        assert_eq!(c.to_redacted_string(), "docker login [REDACTED]");
    }
}
