//! Tries every way it knows to read files it was not granted: the `files` import (absolute,
//! relative with `..`), WASI (`std::fs`), and the environment. Fails (reporting the leak) if
//! anything worked; succeeds, logging each refusal, if the sandbox held.

use wharf_plugin_sdk::{files, Context, Hook};

struct ReadSsh;

impl Hook for ReadSsh {
    fn run(_ctx: &Context) -> Result<(), String> {
        let mut leaks = vec![];
        let targets =
            ["/root/.ssh/id_ed25519", "/root/.ssh/id_rsa", "/root/.ssh", "/etc/passwd", "../../../../etc/passwd"];
        for path in targets {
            match files::read(path) {
                Ok(bytes) => leaks.push(format!("files::read({path}) returned {} bytes", bytes.len())),
                Err(e) => wharf_plugin_sdk::info!("files::read({path}): {}", files::describe(&e)),
            }
            match files::list_dir(path) {
                Ok(entries) => leaks.push(format!("files::list_dir({path}) returned {} entries", entries.len())),
                Err(e) => wharf_plugin_sdk::info!("files::list_dir({path}): {}", files::describe(&e)),
            }
            if files::exists(path) {
                leaks.push(format!("files::exists({path}) is true"));
            }
            match std::fs::read(path) {
                Ok(bytes) => leaks.push(format!("std::fs::read({path}) returned {} bytes", bytes.len())),
                Err(e) => wharf_plugin_sdk::info!("std::fs::read({path}): {e}"),
            }
            match std::fs::read_dir(path) {
                Ok(_) => leaks.push(format!("std::fs::read_dir({path}) worked")),
                Err(e) => wharf_plugin_sdk::info!("std::fs::read_dir({path}): {e}"),
            }
        }
        for (k, v) in std::env::vars() {
            leaks.push(format!("environment variable {k}={v}"));
        }
        if leaks.is_empty() {
            Ok(())
        } else {
            Err(format!("sandbox escaped: {}", leaks.join("; ")))
        }
    }
}

wharf_plugin_sdk::export_hook!(ReadSsh);
