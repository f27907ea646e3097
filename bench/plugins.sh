#!/usr/bin/env bash
# Plugin host costs, for the same post-deploy hook written in Rust (examples/hooks/rust-notify),
# Python (bench/hooks/notify.py, sdk/python) and JavaScript (bench/hooks/notify.js, sdk/js, both
# backends): cold compile of the component, load of the precompiled file from the cache, a warm
# hook call (fresh Store + instance per call), one run as a fresh Wharf process does it, and the
# same hook as a shell script (what Kamal runs today), side by side. Writes a Markdown table to
# BENCHMARKS.md under "## Plugins (bench/plugins.sh)" (that section is replaced; the rest kept).
# Needs the kits' toolchains (scripts/install-deps).
#
#   bench/plugins.sh
#
# Environment (all optional):
#   ITERATIONS=2000          warm calls measured at most (shell-script runs: a fifth of that)
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
for c in cargo rustup node "$PY"; do command -v "$c" >/dev/null || die "$c not found"; done

rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
guests="$root/target/wasm-guests"
cargo build --release --target wasm32-wasip2 --manifest-path examples/hooks/rust-notify/Cargo.toml --target-dir "$guests"
wasm="$guests/wasm32-wasip2/release/rust_notify.wasm"
# The Python and JavaScript twins, rebuilt when a source is newer than the component.
out="$guests/bench"
mkdir -p "$out"
stale() { local f=$1; shift; [ ! -e "$f" ] || [ -n "$(find "$@" -newer "$f" -print -quit)" ]; }
wit=wit/wharf-plugin@0.1.0
if stale "$out/notify-py.wasm" bench/hooks/notify.py sdk/python/build.sh sdk/python/wharf_plugin "$wit"; then
  bash sdk/python/build.sh bench/hooks/notify.py -o "$out/notify-py.wasm" || die "the Python kit failed (run scripts/install-deps)"
fi
for backend in quickjs starlingmonkey; do
  if stale "$out/notify-$backend.wasm" bench/hooks/notify.js sdk/js/build.mjs sdk/js/src sdk/js/package-lock.json "$wit"; then
    node sdk/js/build.mjs bench/hooks/notify.js -o "$out/notify-$backend.wasm" --backend "$backend" ||
      die "the JavaScript kit failed (run scripts/install-deps)"
  fi
done
cargo build --profile "$PROFILE" -p wharf-plugin-host --example bench
dir=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
table=$("$root/target/$dir/examples/bench" --iterations "$ITERATIONS" \
  Rust "$wasm" examples/hooks/rust-notify/plugin.toml \
  Python "$out/notify-py.wasm" bench/hooks/python-notify.toml \
  "JavaScript (QuickJS)" "$out/notify-quickjs.wasm" bench/hooks/js-notify.toml \
  "JavaScript (StarlingMonkey)" "$out/notify-starlingmonkey.wasm" bench/hooks/js-notify.toml)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
rev=$(git -C "$root" describe --always --dirty 2>/dev/null || echo "an uncommitted tree")
wasmtime=$(awk '/^name = "wasmtime"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
cpy=$(/opt/wharf-py-venv/bin/componentize-py --version 2>/dev/null || echo componentize-py)
npmv() { node -p "require('./sdk/js/node_modules/$1/package.json').version" 2>/dev/null || echo "?"; }
jco=$(npmv @bytecodealliance/jco) cjs=$(npmv @bytecodealliance/componentize-js) qjs=$(npmv componentize-qjs)

WHARF_BENCH_DIR="$root/bench" "$PY" - "$root/$BENCH_OUT" "$SECTION" <<PY
import os, re, sys
out, section = sys.argv[1], sys.argv[2]
table = """$table"""
lines = [
    section,
    "",
    "Run: \`bench/plugins.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (at ${rev}).",
    "",
    "- Machine: $(nproc) CPUs, $cpu; $(uname -sr); load average $load_before (1/5/15 min) before the run,"
    " $load_after after (the machine is shared: compare columns, not runs).",
    "- Host: \`engine/plugin-host\` ($PROFILE profile), wasmtime $wasmtime, current-thread tokio runtime.",
    "- Hooks: the same post-deploy summary, one \`log\` call per run: \`examples/hooks/rust-notify\` (Rust,"
    " wasm32-wasip2, release, \`opt-level = \"s\"\`), \`bench/hooks/notify.py\` (sdk/python, $cpy),"
    " \`bench/hooks/notify.js\` (sdk/js, jco $jco; QuickJS = componentize-qjs $qjs with the synchronous ABI,"
    " StarlingMonkey = componentize-js $cjs with \`-d all\`). Log records go to a no-op sink. The shell-script"
    " hook echoes the same line.",
    "- Cold load = what the first deploy after installing or upgrading a plugin pays; cached load = every later"
    " Wharf start; warm call = every further run in the same process; one run in a fresh process = engine"
    " start + cached load + first call, what a \`wharf deploy\` pays for a hook it runs once. Medians.",
    "",
    table,
    "",
]
block = "\n".join(lines)
print(block)
sys.path.insert(0, os.environ["WHARF_BENCH_DIR"])
from write_section import write_section
write_section(out, section, block)
PY
