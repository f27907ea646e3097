//! Spins forever (after saying so). Hook `once` returns at once instead, so that the same
//! component shows the engine still works after a timeout; hook `panic` panics.

use wharf_plugin_sdk::{Context, Hook};

struct EndlessLoop;

impl Hook for EndlessLoop {
    fn run(ctx: &Context) -> Result<(), String> {
        if ctx.hook == "once" {
            wharf_plugin_sdk::info!("returning at once");
            return Ok(());
        }
        if ctx.hook == "panic" {
            panic!("boom in {}", ctx.get("WHERE").unwrap_or("?"));
        }
        wharf_plugin_sdk::info!("spinning");
        let mut x: u64 = 1;
        loop {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

wharf_plugin_sdk::export_hook!(EndlessLoop);
