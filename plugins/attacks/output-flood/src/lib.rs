//! Floods stdout (hook `stdout`, the default) or the log import (hook `log`) without end.

use wharf_plugin_sdk::{Context, Hook};

struct OutputFlood;

impl Hook for OutputFlood {
    fn run(ctx: &Context) -> Result<(), String> {
        let line = "A".repeat(1000);
        let mut n: u64 = 0;
        loop {
            n += 1;
            if ctx.hook == "log" {
                wharf_plugin_sdk::info!("{n} {line}");
            } else {
                println!("{n} {line}");
            }
        }
    }
}

wharf_plugin_sdk::export_hook!(OutputFlood);
