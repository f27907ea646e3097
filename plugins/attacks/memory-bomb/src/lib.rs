//! Allocates (and touches) 1 MiB after 1 MiB until the allocator fails.

use wharf_plugin_sdk::{Context, Hook};

struct MemoryBomb;

impl Hook for MemoryBomb {
    fn run(_ctx: &Context) -> Result<(), String> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            let chunk = vec![0xA5u8; 1 << 20];
            hoard.push(std::hint::black_box(chunk));
            if hoard.len().is_multiple_of(64) {
                wharf_plugin_sdk::info!("holding {} MiB", hoard.len());
            }
        }
    }
}

wharf_plugin_sdk::export_hook!(MemoryBomb);
