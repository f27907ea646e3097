//! Development aid: what `kamal config -c FILE [-d DEST]` prints with version 999, or
//! `ERROR (<Class>): <message>`. Used to compare Wharf with Kamal's own code on many configs.
use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let options = wharf_config::LoadOptions {
        config_file: args[1].clone().into(),
        destination: args.get(2).cloned(),
        version: Some("999".into()),
        env: std::env::vars().collect(),
        secrets: Arc::new(wharf_config::NoSecrets),
        docker_arch: Some("amd64".into()),
        ..Default::default()
    };
    match wharf_config::Configuration::load(options).and_then(|c| wharf_config::summary::config_yaml(&c)) {
        Ok(s) => println!("{s}"),
        Err(e) => println!("ERROR ({}): {}", e.ruby_class(), e),
    }
}
