#!/usr/bin/env bash
# Plugin host costs: engine start, cold compile of a component, load of the precompiled file
# from the cache, a warm hook call (fresh Store + instance per call), and the same hook as a
# shell script (what Kamal runs today). Writes a Markdown table to BENCHMARKS.md under
# "## Plugins (bench/plugins.sh)" (that section is replaced; the rest kept).
#
#   bench/plugins.sh
#
# Environment (all optional):
#   ITERATIONS=2000          warm calls measured (shell-script runs: a fifth of that)
#   PROFILE=release          cargo profile of the host (release: as Wharf ships)
#   BENCH_OUT=BENCHMARKS.md  where to write the section (relative to the repo root)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
ITERATIONS=${ITERATIONS:-2000}
PROFILE=${PROFILE:-release}
BENCH_OUT=${BENCH_OUT:-BENCHMARKS.md}
SECTION="## Plugins (bench/plugins.sh)"
PY=$(command -v python3)
die() { echo "bench/plugins.sh: $*" >&2; exit 1; }
for c in cargo rustup "$PY"; do command -v "$c" >/dev/null || die "$c not found"; done

rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
guests="$root/target/wasm-guests"
cargo build --release --target wasm32-wasip2 --manifest-path examples/hooks/rust-notify/Cargo.toml --target-dir "$guests"
wasm="$guests/wasm32-wasip2/release/rust_notify.wasm"
cargo build --profile "$PROFILE" -p wharf-plugin-host --example bench
dir=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
table=$("$root/target/$dir/examples/bench" "$wasm" examples/hooks/rust-notify/plugin.toml "$ITERATIONS")

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
rev=$(git -C "$root" describe --always --dirty 2>/dev/null || echo "an uncommitted tree")
wasmtime=$(awk '/^name = "wasmtime"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)

"$PY" - "$root/$BENCH_OUT" "$SECTION" <<PY
import os, re, sys
out, section = sys.argv[1], sys.argv[2]
table = """$table"""
lines = [
    section,
    "",
    "Run: \`bench/plugins.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (at ${rev}).",
    "",
    "- Machine: $(nproc) CPUs, $cpu; $(uname -sr); load average $load_before (1/5/15 min) before the run.",
    "- Host: \`engine/plugin-host\` ($PROFILE profile), wasmtime $wasmtime, current-thread tokio runtime.",
    "- Plugin: \`examples/hooks/rust-notify\` (Rust, wasm32-wasip2, release, \`opt-level = \"s\"\`), one \`log\`"
    " call per run; log records go to a no-op sink. The shell-script hook echoes the same line.",
    "- Cold load = what the first deploy after installing or upgrading a plugin pays; cached load = every later"
    " Wharf start; warm call = every hook run after that.",
    "",
    table,
    "",
]
block = "\n".join(lines)
print(block)
text = open(out).read() if os.path.exists(out) else "# Benchmarks\n\n"
pat = re.compile(r"^" + re.escape(section) + r"[ \t]*\n.*?(?=^## |\Z)", re.M | re.S)
if pat.search(text):
    text = pat.sub(lambda _m: block + "\n", text, count=1)
else:
    text = text.rstrip("\n") + "\n\n" + block
open(out, "w").write(text.rstrip("\n") + "\n")
print(f"wrote {out}", file=sys.stderr)
PY
