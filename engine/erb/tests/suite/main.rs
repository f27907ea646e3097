//! wharf-erb's integration tests, in one binary: templates rendered as Kamal's Ruby renders them,
//! by the built-in evaluator and by the system Ruby fallback.
//!
//! A new template case whose answer Ruby decides goes in `tests/cases.txt` (recorded by
//! `scripts/record-erb-cases`), not in code; a test of the sandbox goes in `commands_off`, a
//! property test in `never_panics`, a test of the fallback in `system_ruby`; anything else gets
//! its own module, declared below. Data stays in `tests/` (`cases.txt`, `cases.expected.txt`,
//! `fixtures/`). Run one module with `cargo test -p wharf-erb --test suite system_ruby::`.

/// Untrusted templates (commands off) run no program and write no file.
mod commands_off;
/// Property tests: random templates end with an answer, never a panic, a hang or a stack overflow.
mod never_panics;
/// Every template of `tests/cases.txt` renders as Kamal's Ruby did (`tests/cases.expected.txt`).
mod ruby_cases;
/// The system Ruby fallback as `WHARF_RUBY` says (auto, always, never); needs `ruby` on PATH.
mod system_ruby;
