#!/usr/bin/env bash
# Build a FROM-scratch container image of Wharf's kamal-proxy that stands in for
# basecamp/kamal-proxy under Kamal, and optionally push it.
#
#   engine/proxy/image/build.sh [--push] [--docker-host unix:///path.sock] [--binary PATH] [NAME:TAG]
#
#   NAME:TAG        image reference (default localhost:5000/basecamp/kamal-proxy:v0.9.2)
#   --push          docker push the image after building it
#   --docker-host   daemon to talk to (else $DOCKER_HOST, else docker's default)
#   --binary PATH   package this static binary instead of building one (skips cargo)
#
# The binary is a static musl build:
#   cargo build --release --target x86_64-unknown-linux-musl -p wharf-proxy --bin kamal-proxy
#
# Image layout (same contract as upstream's image, which Kamal relies on):
#   /usr/local/bin/kamal-proxy                 root:root 0755
#   /etc/passwd, /etc/group                    user/group kamal-proxy = 1000:1000
#   /home/kamal-proxy/.config/kamal-proxy      1000:1000 0755 (Kamal mounts a volume here)
#   /tmp                                       1777 (default socket /tmp/kamal-proxy.sock)
#   /etc/ssl/certs/ca-certificates.crt         copied from the build machine
#   USER 1000:1000, HOME=/home/kamal-proxy, PATH set, EXPOSE 80 443,
#   CMD ["kamal-proxy","run"]
#   LABEL org.opencontainers.image.title=kamal-proxy: upstream's release (script/release) sets it,
#     and Kamal finds the proxy's container and image by it (`proxy reboot` and `proxy remove`
#     run `docker container prune --filter label=org.opencontainers.image.title=kamal-proxy`;
#     without it the stopped container keeps its name and the new one cannot start)
# Docker sets net.ipv4.ip_unprivileged_port_start=0 in a container's own network
# namespace, so uid 1000 can bind :80 and :443 (as with upstream's image).
set -euo pipefail

DEFAULT_IMAGE=localhost:5000/basecamp/kamal-proxy:v0.9.2
TARGET=x86_64-unknown-linux-musl
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}
die() { echo "build.sh: $*" >&2; exit 1; }

push=0 image="" binary=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --push) push=1; shift ;;
    --docker-host) [[ $# -ge 2 ]] || usage; export DOCKER_HOST="$2"; shift 2 ;;
    --docker-host=*) export DOCKER_HOST="${1#*=}"; shift ;;
    --binary) [[ $# -ge 2 ]] || usage; binary="$2"; shift 2 ;;
    --binary=*) binary="${1#*=}"; shift ;;
    -h|--help) usage 0 ;;
    -*) echo "build.sh: unknown option $1" >&2; usage ;;
    *) [[ -z "$image" ]] || { echo "build.sh: more than one image name" >&2; usage; }
       image="$1"; shift ;;
  esac
done
image=${image:-$DEFAULT_IMAGE}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)          # the Cargo workspace
command -v docker >/dev/null || die "docker client not found"
command -v python3 >/dev/null || die "python3 not found (used to write the image tarball)"
[[ -r "$CA_BUNDLE" ]] || die "CA bundle $CA_BUNDLE not readable (apt-get install ca-certificates)"

# --- 1. static binary ---------------------------------------------------------
if [[ -z "$binary" ]]; then
  # ring & co. compile C: use the musl cross compiler from musl-tools.
  if [[ -z "${CC_x86_64_unknown_linux_musl:-}" ]]; then
    if command -v x86_64-linux-musl-gcc >/dev/null; then
      export CC_x86_64_unknown_linux_musl=x86_64-linux-musl-gcc
    elif command -v musl-gcc >/dev/null; then
      export CC_x86_64_unknown_linux_musl=musl-gcc
    fi
  fi
  echo "==> cargo build --release --target $TARGET -p wharf-proxy --bin kamal-proxy" >&2
  (cd "$root" && cargo build --release --target "$TARGET" -p wharf-proxy --bin kamal-proxy)
  target_dir=$(cd "$root" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])') ||
    target_dir="$root/target"
  binary="$target_dir/$TARGET/release/kamal-proxy"
fi
[[ -x "$binary" ]] || die "no executable at $binary"

# A scratch image has no libc or loader: refuse a dynamically linked binary.
if command -v readelf >/dev/null; then
  if readelf -lW "$binary" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    die "$binary is dynamically linked (has a program interpreter); need a static build"
  fi
  if readelf -dW "$binary" 2>/dev/null | grep -q '(NEEDED)'; then
    die "$binary needs shared libraries; need a static build"
  fi
fi

# --- 2. root filesystem tarball --------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/kamal-proxy-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$binary" "$work/kamal-proxy"
if command -v strip >/dev/null; then
  strip --strip-all "$work/kamal-proxy" 2>/dev/null || true   # keep going unstripped if strip can't
fi

# python tarfile: exact owners, modes and a fixed mtime, whoever runs the script.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
python3 - "$work/rootfs.tar" "$work/kamal-proxy" "$CA_BUNDLE" "$SOURCE_DATE_EPOCH" <<'PY'
import io, sys, tarfile

out, binary, ca_bundle, mtime = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4] or 0)
UID = GID = 1000

def entry(name, kind, mode, uid=0, gid=0, data=None):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.uid, ti.gid, ti.mtime = kind, mode, uid, gid, mtime
    ti.uname = ti.gname = ""          # numeric owners only
    if data is not None:
        ti.size = len(data)
        return ti, io.BytesIO(data)
    return ti, None

files = []
def d(name, mode=0o755, uid=0, gid=0): files.append(entry(name, tarfile.DIRTYPE, mode, uid, gid))
def f(name, data, mode=0o644, uid=0, gid=0): files.append(entry(name, tarfile.REGTYPE, mode, uid, gid, data))

for p in ["etc", "etc/ssl", "etc/ssl/certs", "usr", "usr/local", "usr/local/bin", "home"]:
    d(p)
d("tmp", 0o1777)
d("home/kamal-proxy", 0o755, UID, GID)
d("home/kamal-proxy/.config", 0o755, UID, GID)
d("home/kamal-proxy/.config/kamal-proxy", 0o755, UID, GID)
f("etc/passwd", b"root:x:0:0:root:/root:/sbin/nologin\n"
                b"kamal-proxy:x:1000:1000:kamal-proxy:/home/kamal-proxy:/sbin/nologin\n"
                b"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n")
f("etc/group", b"root:x:0:\nkamal-proxy:x:1000:\nnogroup:x:65534:\n")
f("etc/ssl/certs/ca-certificates.crt", open(ca_bundle, "rb").read())
f("usr/local/bin/kamal-proxy", open(binary, "rb").read(), 0o755)

with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
    for ti, data in files:
        tar.addfile(ti, data)
PY

# --- 3. image -------------------------------------------------------------------
echo "==> docker import -> $image${DOCKER_HOST:+ (DOCKER_HOST=$DOCKER_HOST)}" >&2
docker import \
  -m "wharf kamal-proxy (FROM scratch)" \
  -c 'USER 1000:1000' \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV HOME=/home/kamal-proxy' \
  -c 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  -c 'EXPOSE 80' \
  -c 'EXPOSE 443' \
  -c 'CMD ["kamal-proxy","run"]' \
  -c 'LABEL org.opencontainers.image.title=kamal-proxy' \
  - "$image" <"$work/rootfs.tar" >/dev/null

size=$(docker image inspect -f '{{.Size}}' "$image")
id=$(docker image inspect -f '{{.Id}}' "$image")
echo "built $image ($id)"
echo "image size: $size bytes ($(( (size + 524288) / 1048576 )) MiB); binary: $(stat -c %s "$work/kamal-proxy") bytes"

if [[ $push -eq 1 ]]; then
  echo "==> docker push $image" >&2
  docker push "$image"
fi
