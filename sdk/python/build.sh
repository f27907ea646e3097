#!/usr/bin/env bash
# Builds a Wharf plugin written in Python into a WebAssembly component with componentize-py.
#
#   sdk/python/build.sh APP.py -o OUT.wasm [-w hook|secrets-adapter] [--http] [-p DIR]...
#
# APP.py defines one subclass of wharf_plugin.Hook (or SecretsAdapter for -w secrets-adapter).
# --http adds the import of wasi:http/outgoing-handler (for wharf_plugin.http; the host lets the
# plugin reach only the hosts its manifest lists and the user grants).
# -p adds a directory of pure-Python modules the plugin imports (APP.py's own directory is always
# on the path). The WIT is the repository's wit/wharf-plugin@0.1.0 (or $WHARF_WIT), read at build
# time: the bindings always match it. componentize-py is $COMPONENTIZE_PY, else the one that
# scripts/install-deps puts in /opt/wharf-py-venv, else the first on PATH.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "sdk/python/build.sh: $*" >&2; exit 2; }
usage() { sed -n '4,4p' "${BASH_SOURCE[0]}" | sed 's/^#  *//' >&2; exit 2; }

app="" out="" world=hook http=0 paths=()
while (($#)); do
  case "$1" in
    -o|--output) out=${2:?}; shift 2 ;;
    -w|--world) world=${2:?}; shift 2 ;;
    --http) http=1; shift ;;
    -p|--path) paths+=(-p "$(cd "${2:?}" && pwd)"); shift 2 ;;
    -h|--help) usage ;;
    -*) die "unknown option $1" ;;
    *) [ -z "$app" ] || die "one APP.py only"; app=$1; shift ;;
  esac
done
[ -n "$app" ] && [ -n "$out" ] || usage
[ -f "$app" ] || die "$app: no such file"
case "$world" in hook|secrets-adapter) ;; *) die "world $world: the Python kit builds hook and secrets-adapter" ;; esac

wit=${WHARF_WIT:-$here/../../wit/wharf-plugin@0.1.0}
[ -d "$wit" ] || die "no WIT at $wit (set WHARF_WIT)"
cpy=${COMPONENTIZE_PY:-}
if [ -z "$cpy" ]; then
  if [ -x /opt/wharf-py-venv/bin/componentize-py ]; then cpy=/opt/wharf-py-venv/bin/componentize-py
  else cpy=$(command -v componentize-py) || die "componentize-py not found: run scripts/install-deps"
  fi
fi

app_dir=$(cd "$(dirname "$app")" && pwd)
module=$(basename "$app" .py)
[[ "$module" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "$app: the file name must be a Python module name"
case "$module" in wharf_plugin|wharf_entry|wit_world) die "$app: $module is a name the kit uses; rename the file" ;; esac
if command -v python3 >/dev/null && ! python3 -c "import sys; sys.exit('$module' in sys.stdlib_module_names)"; then
  die "$app: $module is a standard library module, which would be imported instead; rename the file"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The entry module componentize-py exports: it wires the user's class to the world's exports.
cat >"$tmp/wharf_entry.py" <<PY
import wharf_plugin
import $module
WitWorld = wharf_plugin._world($module, "$world")
PY

# componentize-py imports the modules at build time, which leaves __pycache__ directories in the
# source tree: remove the ones this build created.
new_caches=()
for d in "$app_dir" "$here/wharf_plugin" "${paths[@]/#-p/}"; do
  [ -n "$d" ] && [ ! -e "$d/__pycache__" ] && new_caches+=("$d/__pycache__")
done
trap 'rm -rf "$tmp" "${new_caches[@]}"' EXIT

# With --http: a world of our own that is the plugin's world plus wasi:http, resolved against
# the wharf:plugin WIT and WASI's (sdk/python/wasi-wit).
wit_world=$world
if ((http)); then
  mkdir -p "$tmp/wit/deps/wharf-plugin"
  cp "$wit"/*.wit "$tmp/wit/deps/wharf-plugin/"
  cp "$here"/wasi-wit/*.wit "$tmp/wit/deps/"
  version=$(sed -n 's/^package wharf:plugin@\([0-9.]*\);/\1/p' "$wit/worlds.wit" | head -1)
  cat >"$tmp/wit/world.wit" <<WIT
package wharf:python-kit;

world $world-http {
    include wharf:plugin/$world@$version;
    import wasi:http/outgoing-handler@0.2.12;
}
WIT
  wit=$tmp/wit
  wit_world=$world-http
fi

mkdir -p "$(dirname "$out")"
"$cpy" -q -d "$wit" -w "$wit_world" componentize -p "$tmp" -p "$here" -p "$app_dir" "${paths[@]}" \
  wharf_entry -o "$out.tmp"
# Stamp the plugin API version (the WIT package's) into the component, as a top-level custom
# section `wharf:api-version` (what the Rust SDK's export macros embed): Wharf reads it, so
# plugin.toml need not say which API the plugin was built against.
api=$(sed -n 's/^package wharf:plugin@\([0-9.]*\);/\1/p' "${WHARF_WIT:-$here/../../wit/wharf-plugin@0.1.0}/worlds.wit" | head -1)
[ -n "$api" ] || die "no 'package wharf:plugin@VERSION;' in the WIT's worlds.wit"
python3 - "$out.tmp" "$api" <<'PY'
import sys
def leb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)
name, payload = b"wharf:api-version", sys.argv[2].encode()
body = leb(len(name)) + name + payload
with open(sys.argv[1], "ab") as f:
    f.write(b"\x00" + leb(len(body)) + body)
PY
mv "$out.tmp" "$out"
echo "built $out ($(($(stat -c %s "$out") / 1024)) KB, world $world, API $api)" >&2
