//! Development aid: loads YAML from stdin the way Psych does and prints it back the way Psych's
//! `to_yaml` does. Compare with `ruby -ryaml -e 'print YAML.unsafe_load(STDIN.read).to_yaml'`.
use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    match wharf_config::yaml::load_str(&input, None) {
        Ok(v) => print!("{}", wharf_config::yaml::to_yaml(&wharf_config::yaml::Node::Value(v)).unwrap()),
        Err(e) => println!("ERROR {e}"),
    }
}
