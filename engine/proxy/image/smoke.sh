#!/usr/bin/env bash
# End-to-end check of the proxy image the way Kamal uses it, on a real test server (hostlab: own
# netns, sshd, dockerd; a registry on localhost):
#   build the FROM-scratch image and push it as localhost:5001/basecamp/kamal-proxy:v0.9.2;
#   over SSH, start it with Kamal's exact `docker run` for the proxy;
#   boot an app container and switch traffic to it with `docker exec kamal-proxy kamal-proxy deploy`;
#   deploy a second version (zero downtime: a curl loop runs throughout), restart the proxy
#   (state restored), reboot it as Kamal's `proxy reboot` does (the image's
#   org.opencontainers.image.title label lets `docker container prune` remove the stopped
#   container), and check every answer on the server's port 80.
# Prints each step; exits non-zero on the first failure. Usage: smoke.sh [--keep] (leave hostlab up).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
hostlab=${HOSTLAB:-$root/../shared/hostlab/hostlab.sh}
keep=0; [[ "${1:-}" == --keep ]] && keep=1
# A hostlab of its own (directory, subnet, names, registry port), so that it never disturbs
# another test's servers.
export HOSTLAB_DIR=${SMOKE_HOSTLAB_DIR:-${TMPDIR:-/tmp}/hostlab-proxy-smoke}
export HOSTLAB_NET=${SMOKE_HOSTLAB_NET:-10.201.0} HOSTLAB_PREFIX=hps HOSTLAB_REGISTRY_PORT=5001
registry=localhost:$HOSTLAB_REGISTRY_PORT
image=$registry/basecamp/kamal-proxy:v0.9.2
passed=0
step() { printf '\n==> %s\n' "$*"; }
ok() { passed=$((passed + 1)); printf '    ok: %s\n' "$*"; }
fail() { printf '    FAIL: %s\n' "$*" >&2; exit 1; }

step "test server: $hostlab up 1"
"$hostlab" up 1 >/dev/null
eval "$("$hostlab" env)"
host=${HOSTLAB_HOSTS%% *}
ssh_() { ssh -F "$HOSTLAB_SSH_CONFIG" "$host" "$@"; }
[[ $keep == 1 ]] || trap '"$hostlab" down >/dev/null 2>&1 || true' EXIT

step "build and push $image (static musl binary, FROM scratch)"
bash "$here/build.sh" --push --docker-host "$HOSTLAB_DOCKER_HOST_1" "$image"

label=$(ssh_ "docker pull -q $image >/dev/null && docker image inspect -f '{{index .Config.Labels \"org.opencontainers.image.title\"}}' $image")
[[ $label == kamal-proxy ]] && ok "image labelled org.opencontainers.image.title=kamal-proxy" || fail "image title label: '$label'"

run_proxy() { # Kamal's docker run for the proxy
  ssh_ "docker run --name kamal-proxy --network kamal --detach --restart unless-stopped \
    --volume kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy \
    --publish 80:80 --publish 443:443 --log-opt max-size=10m $image kamal-proxy run" >/dev/null
}

step "start the proxy on $host with Kamal's docker run"
ssh_ "docker rm -f kamal-proxy app-web-1 app-web-2 >/dev/null 2>&1; docker network create kamal >/dev/null 2>&1" || true
run_proxy
for _ in $(seq 50); do curl -s -o /dev/null "http://$host/" && break; sleep 0.1; done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$host/")
[[ $code == 404 ]] && ok "proxy answers 404 with no service deployed" || fail "expected 404, got $code"

boot() { # boot VERSION: an app container answering / with the version and /up with ok
  ssh_ "docker run --detach --name app-web-$1 --network kamal --label service=app --env KAMAL_VERSION=$1 \
    $registry/busybox:latest sh -c 'mkdir -p /www && echo \$KAMAL_VERSION > /www/index.html && echo ok > /www/up && exec httpd -f -p 80 -h /www'"
}
deploy() { # deploy CONTAINER_ID: Kamal's proxy deploy command
  ssh_ "docker exec kamal-proxy kamal-proxy deploy app-web --target=\"${1:0:12}:80\" --deploy-timeout=\"30s\" --drain-timeout=\"30s\""
}

step "boot version 1 and deploy it"
cid=$(boot 1)
deploy "$cid"
body=$(curl -fsS "http://$host/")
[[ $body == 1 ]] && ok "http://$host/ answers version 1" || fail "got '$body'"

step "deploy version 2 under a curl loop"
( n=0 bad=0; while [[ ! -f /tmp/smoke.stop ]]; do
    b=$(curl -s -m 5 "http://$host/") || b=ERR
    n=$((n + 1)); [[ $b == 1 || $b == 2 ]] || bad=$((bad + 1))
  done; echo "$n $bad" >/tmp/smoke.result ) &
loop=$!
rm -f /tmp/smoke.stop /tmp/smoke.result
cid=$(boot 2)
deploy "$cid"
ssh_ "docker stop app-web-1" >/dev/null
sleep 0.5; touch /tmp/smoke.stop; wait $loop
read -r n bad </tmp/smoke.result; rm -f /tmp/smoke.stop /tmp/smoke.result
[[ $bad == 0 ]] && ok "$n requests during the switch, 0 failed" || fail "$bad of $n requests failed"
body=$(curl -fsS "http://$host/")
[[ $body == 2 ]] && ok "http://$host/ answers version 2" || fail "got '$body'"
ssh_ "docker exec kamal-proxy kamal-proxy list" | grep -q "app-web" && ok "kamal-proxy list shows app-web" || fail "list"

step "restart the proxy container: state is restored"
ssh_ "docker restart kamal-proxy" >/dev/null
for _ in $(seq 100); do b=$(curl -s "http://$host/" || true); [[ $b == 2 ]] && break; sleep 0.1; done
[[ $b == 2 ]] && ok "after restart http://$host/ answers version 2" || fail "after restart got '$b'"

step "Kamal's proxy reboot commands: stop, prune by label, run: state is restored"
ssh_ "docker container stop kamal-proxy >/dev/null; \
  docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy >/dev/null"
[[ -z $(ssh_ "docker ps -a -q --filter name=^kamal-proxy$") ]] && ok "the stopped proxy container was pruned by its label" \
  || fail "docker container prune --filter label=org.opencontainers.image.title=kamal-proxy left the container"
run_proxy
for _ in $(seq 100); do b=$(curl -s "http://$host/" || true); [[ $b == 2 ]] && break; sleep 0.1; done
[[ $b == 2 ]] && ok "after the reboot http://$host/ answers version 2" || fail "after the reboot got '$b'"

step "a target that never gets healthy is refused; version 2 keeps serving"
bad_cid=$(ssh_ "docker run --detach --name app-web-3 --network kamal $registry/busybox:latest sleep 600")
if out=$(ssh_ "docker exec kamal-proxy kamal-proxy deploy app-web --target=\"${bad_cid:0:12}:80\" --deploy-timeout=\"2s\"" 2>&1); then
  fail "deploy of an unhealthy target succeeded"
fi
[[ $out == *"target failed to become healthy within configured timeout (2s)"* ]] && ok "refused: $out" || fail "unexpected: $out"
[[ $(curl -fsS "http://$host/") == 2 ]] && ok "still version 2" || fail "routing changed"

printf '\nproxy image smoke: %d passed, 0 failed\n' "$passed"
