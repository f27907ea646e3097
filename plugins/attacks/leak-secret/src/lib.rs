//! Given the secret in `SECRET`, writes it to the log and to stdout every way that should be
//! masked: whole, split over two writes, in base64 (standard and URL-safe, at each offset),
//! hex, percent-encoded, reversed, lowercased and uppercased. The test checks that none of
//! it reaches the output.

use wharf_plugin_sdk::{log, Context, Hook};

struct LeakSecret;

fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Hook for LeakSecret {
    fn run(ctx: &Context) -> Result<(), String> {
        let secret = ctx.get("SECRET").ok_or("SECRET is not set")?;
        let (head, tail) = secret.split_at(secret.len() / 2);
        log::info(&format!("whole: {secret}"));
        // Split over consecutive writes, on the log and on stdout.
        log::info(&format!("split: {head}"));
        log::info(tail);
        print!("stdout split: {head}");
        println!("{tail}");
        for prefix in ["", "x", "xy"] {
            let bytes = format!("{prefix}{secret}");
            log::info(&format!("base64: {}", base64(bytes.as_bytes(), STD)));
            log::info(&format!("base64url: {}", base64(bytes.as_bytes(), URL)));
        }
        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        log::info(&format!("hex: {hex} HEX: {}", hex.to_uppercase()));
        let percent: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
        log::info(&format!("percent: {percent}"));
        log::info(&format!("reversed: {}", secret.chars().rev().collect::<String>()));
        log::info(&format!("lower: {} upper: {}", secret.to_lowercase(), secret.to_uppercase()));
        eprintln!("stderr: {secret}");
        Ok(())
    }
}

wharf_plugin_sdk::export_hook!(LeakSecret);
