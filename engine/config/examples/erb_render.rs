//! Development aid: renders an ERB template from stdin with the process environment, as Wharf
//! renders deploy.yml. Compare with `ruby -rerb -e 'print ERB.new(STDIN.read, trim_mode: "-").result'`.
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let env = std::env::vars().collect();
    match wharf_config::erb::render(&input, "stdin", &env) {
        Ok(s) => print!("{s}"),
        Err(e) => println!("ERROR {e}"),
    }
}
