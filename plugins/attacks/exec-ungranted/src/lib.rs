//! Tries to run `sh -c id` (declared in its manifest, not granted by the user) and a program
//! it did not even declare. Returns the refusal it got as its error, or reports the escape.

use wharf_plugin_sdk::process::{describe, Command, Error};
use wharf_plugin_sdk::{Context, Hook};

struct ExecUngranted;

impl Hook for ExecUngranted {
    fn run(ctx: &Context) -> Result<(), String> {
        let program = ctx.get("PROGRAM").unwrap_or("sh");
        let args: Vec<&str> = ctx.get("ARGS").map(|a| a.split(' ').collect()).unwrap_or_else(|| vec!["-c", "id"]);
        match Command::new(program).args(args).run() {
            Ok(out) => Err(format!("ran {program}: exit {:?}, stdout {:?}", out.exit_code, out.stdout.trim())),
            Err(Error::NotGranted(msg)) => Err(format!("refused: {msg}")),
            Err(e) => Err(format!("other error: {}", describe(&e))),
        }
    }
}

wharf_plugin_sdk::export_hook!(ExecUngranted);
