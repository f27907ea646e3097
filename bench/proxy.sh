#!/usr/bin/env bash
# Proxy throughput benchmark (a benchmark, not a test: it never fails on numbers).
#
# Measures, with wrk on loopback, one fixed-body HTTP/1.1 backend
# (engine/proxy/examples/backend.rs) reached
#   1. directly,
#   2. through Wharf's kamal-proxy (`kamal-proxy run` + `kamal-proxy deploy`),
#   3. through nginx (Debian's) as a keep-alive reverse proxy,
# and writes a Markdown table to BENCHMARKS.md under
# "## Proxy throughput (bench/proxy.sh)" (that section is replaced; the rest kept).
#
#   bench/proxy.sh
#
# Environment (all optional):
#   WRK_THREADS=2 WRK_CONNS=64 WRK_DURATION=10s WRK_WARMUP=2s WRK_TIMEOUT=5s
#   PROXY_THREADS=$(nproc)   kamal-proxy tokio workers (TOKIO_WORKER_THREADS) = nginx worker_processes
#   BACKEND_THREADS=$(nproc) backend tokio workers
#   BODY=ok                  backend response body
#   BENCH_NO_BUILD=1         reuse existing target/release binaries
#   BENCH_OUT=BENCHMARKS.md  where to write the section (relative to the repo root)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-64}
WRK_DURATION=${WRK_DURATION:-10s}
WRK_WARMUP=${WRK_WARMUP:-2s}
WRK_TIMEOUT=${WRK_TIMEOUT:-5s}
NPROC=$(nproc)
PROXY_THREADS=${PROXY_THREADS:-$NPROC}
BACKEND_THREADS=${BACKEND_THREADS:-$NPROC}
BODY=${BODY:-ok}
BENCH_OUT=${BENCH_OUT:-BENCHMARKS.md}
SECTION="## Proxy throughput (bench/proxy.sh)"
PY=$(command -v python3)

die() { echo "bench/proxy.sh: $*" >&2; exit 1; }
for c in wrk nginx curl cargo "$PY"; do command -v "$c" >/dev/null || die "$c not found"; done

# --- processes & cleanup ------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-proxy.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ $rc -ne 0 ]]; then
    for f in "$tmp"/*.log; do [[ -s "$f" ]] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_http() { # url [tries]
  for _ in $(seq "${2:-100}"); do
    curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# --- build once ---------------------------------------------------------------------
if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
  echo "==> cargo build --release -p wharf-proxy --bin kamal-proxy --example backend" >&2
  cargo build --release -p wharf-proxy --bin kamal-proxy --example backend >&2
fi
target_dir=${CARGO_TARGET_DIR:-$root/target}
proxy_bin="$target_dir/release/kamal-proxy"
backend_bin="$target_dir/release/examples/backend"
[[ -x "$proxy_bin" && -x "$backend_bin" ]] || die "missing $proxy_bin or $backend_bin"

backend_port=$(free_port) proxy_port=$(free_port) proxy_tls_port=$(free_port) nginx_port=$(free_port)

# --- backend --------------------------------------------------------------------------
"$backend_bin" --bind 127.0.0.1 --port "$backend_port" --body "$BODY" \
  --threads "$BACKEND_THREADS" --quiet >"$tmp/backend.log" 2>&1 &
backend_pid=$!; pids+=($!)
wait_http "http://127.0.0.1:$backend_port/up" || die "backend did not start"

# --- kamal-proxy ------------------------------------------------------------------------
# Own HOME (state in $HOME/.config/kamal-proxy) and control socket. Request logs are
# JSON lines on stdout: sent to /dev/null (kamal-proxy has no switch to turn them off).
mkdir -p "$tmp/home"
export KAMAL_PROXY_SOCKET="$tmp/kamal-proxy.sock"
HOME="$tmp/home" TOKIO_WORKER_THREADS="$PROXY_THREADS" \
  "$proxy_bin" run --http-port "$proxy_port" --https-port "$proxy_tls_port" \
  >/dev/null 2>"$tmp/kamal-proxy.log" &
proxy_pid=$!; pids+=($!)
for _ in $(seq 100); do [[ -S "$KAMAL_PROXY_SOCKET" ]] && break; sleep 0.1; done
[[ -S "$KAMAL_PROXY_SOCKET" ]] || die "kamal-proxy did not create $KAMAL_PROXY_SOCKET"
HOME="$tmp/home" timeout 60 "$proxy_bin" deploy bench --target "127.0.0.1:$backend_port" \
  --health-check-path /up >"$tmp/deploy.log" 2>&1 || { cat "$tmp/deploy.log" >&2; die "kamal-proxy deploy failed"; }
wait_http "http://127.0.0.1:$proxy_port/" || die "kamal-proxy does not serve the backend"

# --- nginx ------------------------------------------------------------------------------
# Same shape as kamal-proxy: HTTP/1.1 to the backend over pooled keep-alive connections,
# no per-request log, X-Forwarded-* headers set, worker count = proxy threads.
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes $PROXY_THREADS;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/client_body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  keepalive_requests 1000000;
  upstream backend {
    server 127.0.0.1:$backend_port;
    keepalive $WRK_CONNS;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
    }
  }
}
EOF
nginx -p "$tmp/nginx" -e "$tmp/nginx.log" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' \
  >>"$tmp/nginx.log" 2>&1 &
nginx_pid=$!; pids+=($!)
wait_http "http://127.0.0.1:$nginx_port/" || die "nginx did not start"

# Every path must give the same body before we measure anything.
for p in "$backend_port" "$proxy_port" "$nginx_port"; do
  got=$(curl -fsS --max-time 2 "http://127.0.0.1:$p/bench")
  [[ "$got" == "$BODY" ]] || die "127.0.0.1:$p answered ${got@Q}, expected ${BODY@Q}"
done

# --- measure ------------------------------------------------------------------------------
# CPU time (user + system, clock ticks) of a process and all its children/threads.
cpu_ticks() {
  local total=0 p
  for p in "$@" $(pgrep -P "$1" 2>/dev/null || true); do
    [[ -r /proc/$p/stat ]] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}

# run_wrk NAME PORT PID: warm up, measure, leave "rps p50_ms p99_ms errors cpu_us_per_request"
# in $tmp/NAME.res. CPU per request is the measured process's own CPU time divided by the
# requests served: unlike requests/s it does not depend on what else shares the CPUs.
run_wrk() {
  local name=$1 port=$2 pid=$3 url="http://127.0.0.1:$2/"
  echo "==> $name: wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION --latency $url" >&2
  wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_WARMUP" --timeout "$WRK_TIMEOUT" "$url" >/dev/null
  local t0 t1
  t0=$(cpu_ticks "$pid")
  wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DURATION" --timeout "$WRK_TIMEOUT" --latency "$url" \
    | tee "$tmp/$name.wrk" >&2
  t1=$(cpu_ticks "$pid")
  awk -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
    function ms(v) {                       # wrk prints 812.00us / 1.23ms / 1.02s
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    /Latency Distribution/ { dist = 1; next }
    dist && $1 == "50%" { p50 = ms($2) }
    dist && $1 == "99%" { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    / requests in / { reqs = $1 }
    /Socket errors:/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { err += $NF }
    END { printf "%s %s %s %d %.2f\n", rps, p50, p99, err, (reqs > 0 ? ticks / hz * 1e6 / reqs : 0) }
  ' "$tmp/$name.wrk" >"$tmp/$name.res"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
run_wrk direct "$backend_port" "$backend_pid"
run_wrk kamal-proxy "$proxy_port" "$proxy_pid"
run_wrk nginx "$nginx_port" "$nginx_pid"

# --- report ---------------------------------------------------------------------------------
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
nginx_version=$(nginx -v 2>&1 | sed 's/^nginx version: //')
wrk_version=$( (wrk -v 2>&1 || true) | awk 'NR == 1 { print $1, $2 }')
proxy_rev=$(git -C "$root" describe --always --dirty 2>/dev/null || echo "an uncommitted tree")

WHARF_BENCH_DIR="$root/bench" "$PY" - "$root/$BENCH_OUT" "$SECTION" "$tmp" <<PY
import os, re, sys
out, section, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
res = {}
for name in ("direct", "kamal-proxy", "nginx"):
    rps, p50, p99, err, cpu = open(os.path.join(tmp, name + ".res")).read().split()
    res[name] = (float(rps), float(p50), float(p99), int(err), float(cpu))

def ratio(a, b):
    return f"{a / b:.2f}" if b else "n/a"

d, k, n = res["direct"], res["kamal-proxy"], res["nginx"]
rows = [("backend directly", d), ("through kamal-proxy", k), ("through nginx", n)]
lines = [
    section,
    "",
    "Run: \`bench/proxy.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (proxy at ${proxy_rev}).",
    "",
    "- Machine: $NPROC CPUs, $cpu; $(uname -sr); load average $load_before (1/5/15 min) before the run.",
    "- Load: \`wrk -t$WRK_THREADS -c$WRK_CONNS -d$WRK_DURATION --latency\` (after a $WRK_WARMUP warm-up) against"
    " \`http://127.0.0.1:PORT/\`; $wrk_version.",
    "- Backend: \`engine/proxy/examples/backend.rs\` (hyper, $BACKEND_THREADS threads, keep-alive, ${#BODY}-byte body).",
    "- kamal-proxy: release build, \`kamal-proxy run\` with TOKIO_WORKER_THREADS=$PROXY_THREADS, deployed to the"
    " backend with \`kamal-proxy deploy\`; its per-request JSON log goes to /dev/null (it has no option to turn logging off).",
    "- nginx: $nginx_version, worker_processes $PROXY_THREADS (= kamal-proxy threads), access_log off,"
    " HTTP/1.1 upstream with \`keepalive $WRK_CONNS\` pooled connections, keepalive_requests 1000000 on both sides,"
    " X-Forwarded-For/-Proto/-Host set like kamal-proxy.",
    "- Everything (wrk, backend, proxy) shares the same $NPROC CPUs on loopback, so proxied figures include"
    " the CPU the proxy takes away from wrk and the backend; compare ratios, not absolute numbers.",
    "",
    "| Path | Requests/s | p50 latency | p99 latency | Errors | CPU per request (the server/proxy process) |",
    "|---|---:|---:|---:|---:|---:|",
]
for label, (rps, p50, p99, err, cpu) in rows:
    lines.append(f"| {label} | {rps:,.0f} | {p50:.3f} ms | {p99:.3f} ms | {err} | {cpu:.1f} µs |")
lines += [
    "",
    f"- kamal-proxy / direct: **{ratio(k[0], d[0])}** × requests/s",
    f"- kamal-proxy / nginx: **{ratio(k[0], n[0])}** × requests/s"
    f" (p50 {ratio(k[1], n[1])} ×, p99 {ratio(k[2], n[2])} × nginx's latency)",
    f"- CPU per proxied request: kamal-proxy {k[4]:.1f} µs, nginx {n[4]:.1f} µs ({ratio(k[4], n[4])} ×);"
    f" the backend itself takes {d[4]:.1f} µs",
    "",
]
block = "\n".join(lines)
print(block)

sys.path.insert(0, os.environ["WHARF_BENCH_DIR"])
from write_section import write_section
write_section(out, section, block)
PY
