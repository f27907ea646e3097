//! Reads `TARGET` (a FIFO nobody writes to, in a granted directory) through the `files` import
//! (hook `files`) or through WASI's `std::fs` (hook `wasi`). A read that never returns must be
//! cut short by the plugin's deadline; one that fails is reported as its error.

use wharf_plugin_sdk::{files, Context, Hook};

struct FifoRead;

impl Hook for FifoRead {
    fn run(ctx: &Context) -> Result<(), String> {
        let target = ctx.get("TARGET").ok_or("TARGET is not set")?;
        let read = if ctx.hook == "files" {
            files::read(target).map_err(|e| files::describe(&e))
        } else {
            std::fs::read(target).map_err(|e| e.to_string())
        };
        match read {
            Ok(bytes) => Err(format!("read {} bytes", bytes.len())),
            Err(e) => Err(format!("refused: {e}")),
        }
    }
}

wharf_plugin_sdk::export_hook!(FifoRead);
