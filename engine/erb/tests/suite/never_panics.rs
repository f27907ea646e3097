//! Property tests: whatever the template, rendering ends with an answer (text, a Ruby
//! exception, or "needs a real Ruby") and never a panic, a hang or a stack overflow. Templates
//! are random text, random sequences of Ruby tokens inside ERB tags, and random nestings of
//! well-formed expressions. Commands are off (random code must not run programs) and the step
//! budget is small (random loops end quickly).

use proptest::prelude::*;
use std::collections::HashMap;
use wharf_erb::{Context, Evaluator};

fn render(template: &str) {
    let _ = rendered(template);
}

/// The template rendered with a budget of 20,000 steps, or its error (as `{:?}` shows it).
fn rendered(template: &str) -> Result<String, String> {
    let env: HashMap<String, String> =
        [("A", "1"), ("HOSTS", "a,b"), ("EMPTY", "")].into_iter().map(|(k, v)| (k.into(), v.into())).collect();
    let dir = std::env::temp_dir();
    let (mut ctx, _out, _err) = Context::captured(env, dir);
    ctx.max_steps = 20_000;
    ctx.allow_commands = false;
    let mut evaluator = Evaluator::new(ctx);
    evaluator.render(template).map_err(|e| format!("{e:?}"))
}

const TOKENS: &[&str] = &[
    "x",
    "y",
    "ENV",
    "ENV[\"A\"]",
    "ENV.fetch(\"HOSTS\")",
    "nil",
    "true",
    "false",
    "self",
    "1",
    "2.5",
    "-3",
    "\"s\"",
    "'q'",
    ":sym",
    "\"#{x}\"",
    "[",
    "]",
    "{",
    "}",
    "(",
    ")",
    ",",
    ".",
    "&.",
    "::",
    "+",
    "-",
    "*",
    "/",
    "%",
    "**",
    "==",
    "!=",
    "<",
    ">",
    "<=>",
    "=~",
    "&&",
    "||",
    "!",
    "?",
    ":",
    "=",
    "+=",
    "||=",
    "|",
    "&",
    "do",
    "end",
    "if",
    "unless",
    "else",
    "elsif",
    "case",
    "when",
    "then",
    "while",
    "until",
    "for",
    "in",
    "def",
    "module",
    "class",
    "begin",
    "rescue",
    "ensure",
    "retry",
    "break",
    "next",
    "redo",
    "return",
    "yield",
    "->",
    "lambda",
    "proc",
    ".map",
    ".each",
    ".select",
    ".split(\",\")",
    ".join",
    ".first",
    ".strip",
    ".to_s",
    ".to_i",
    ".inspect",
    ".presence",
    ".present?",
    ".fetch",
    "raise",
    "Integer",
    "File",
    "Dir",
    "URI",
    "Time",
    "Kamal",
    "String",
    "|a|",
    "|a, b|",
    "&:upcase",
    "*x",
    "**h",
    "%w[a b]",
    "/re/",
    "<<~EOS\nx\nEOS\n",
    "\n",
    ";",
    "__dir__",
    "loop",
    "3.times",
    "defined?",
    "not",
    "and",
    "or",
    "@iv",
    "$g",
    "$?",
    "Foo",
    "Foo.new",
    "super",
    "alias",
];

const PIECES: &[&str] = &["a: ", "\n", "  - ", "<%", "<%=", "<%-", "-%>", "%>", "<%#", "<%%", "%%>", "text", "#"];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..30).prop_map(|toks| toks.join(" "))
}

/// Well-formed expressions nested to random depths.
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec!["1", "\"a\"", "ENV[\"A\"]", "nil", "[1, 2]", "{ \"k\" => 1 }", ":s", "2.5"])
        .prop_map(String::from);
    leaf.prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} || {b})")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| format!("({a} ? {b} : {c})")),
            inner.clone().prop_map(|a| format!("[{a}, {a}].map {{ |v| v.to_s }}.join(\",\")")),
            inner.clone().prop_map(|a| format!("{a}.inspect")),
            inner.clone().prop_map(|a| format!("\"#{{{a}}}\"")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("(if {a} then {b} else nil end)")),
            inner.clone().prop_map(|a| format!("(begin; {a}; rescue => e; e.message; end)")),
            inner.clone().prop_map(|a| format!("{a}.presence")),
        ]
    })
}

proptest! {
    // PROPTEST_CASES raises the count for a longer search
    #![proptest_config(ProptestConfig { cases: ProptestConfig::default().cases.max(400), ..ProptestConfig::default() })]

    #[test]
    fn random_text(s in ".{0,200}") {
        render(&s);
    }

    #[test]
    fn random_code_in_tags(code in soup(), code2 in soup()) {
        render(&format!("a: <%= {code} %>\n<% {code2} %>\nb: 1\n"));
        render(&format!("<% {code} -%>\n  - x\n<% {code2} %>"));
    }

    #[test]
    fn random_template_pieces(pieces in prop::collection::vec(prop::sample::select(PIECES), 0..40), code in soup()) {
        render(&format!("{}{code}", pieces.concat()));
    }

    #[test]
    fn nested_expressions(e in expr()) {
        render(&format!("v: <%= {e} %>\n"));
    }
}

#[test]
fn deep_nesting_and_endless_loops_end() {
    render(&format!("<%= {}1{} %>", "(".repeat(5_000), ")".repeat(5_000)));
    render(&format!("<%= {}1{} %>", "[".repeat(500), "]".repeat(500)));
    render(&format!("<%= \"{}x{}\" %>", "#{\"".repeat(300), "\"}".repeat(300)));
    // Endless loops end at the step budget, with an error that says so; endless recursion as in
    // Ruby.
    for endless in ["<% while true; end %>", "<% loop { } %>"] {
        let error = rendered(endless).expect_err(endless);
        assert!(error.contains("runs more than 20000 steps (an endless loop?)"), "{endless}: {error}");
    }
    let recursion = "<% def f(n) f(n + 1) end; f(0) %>";
    let error = rendered(recursion).expect_err(recursion);
    assert!(error.contains(r#"class: "SystemStackError", message: "stack level too deep""#), "{error}");
    render("<% a = []; a << a %><%= a.inspect %>");
}
