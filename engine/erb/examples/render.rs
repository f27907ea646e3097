//! Renders a template from a file (or stdin) with the built-in evaluator, in the current
//! directory and environment: `cargo run -p wharf-erb --example render -- config/deploy.yml`.

use std::io::Read;

fn main() {
    let mut text = String::new();
    match std::env::args().nth(1) {
        Some(path) => text = std::fs::read_to_string(path).expect("read the template"),
        None => {
            std::io::stdin().read_to_string(&mut text).expect("read stdin");
        }
    }
    let ctx = wharf_erb::Context::new(std::env::vars().collect(), std::env::current_dir().unwrap());
    let mut evaluator = wharf_erb::Evaluator::new(ctx);
    match evaluator.render(&text) {
        Ok(out) => print!("{out}"),
        Err(e) => {
            eprintln!("{e:?}");
            std::process::exit(1);
        }
    }
}
