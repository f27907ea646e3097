"""A pre-deploy check in Python: refuses to deploy what is not ready.

- A version built from uncommitted changes (Kamal's KAMAL_VERSION ends in `_uncommitted_...`)
  is refused unless the project holds `.kamal/allow-uncommitted`.
- config/deploy.yml (read through the granted project directory) must name the service being
  deployed (`service:`) and an `image:`; with a destination, config/deploy.DEST.yml must exist.

Build: `sdk/python/build.sh examples/hooks/python-check/check.py -o examples/hooks/python-check/python-check.wasm`
"""

from wharf_plugin import FileError, Hook, HookFailed, exists, log, read_file

ALLOW_FLAG = ".kamal/allow-uncommitted"


def top_level_keys(yaml_text):
    """`key: value` pairs at the top level of a YAML file (enough for the keys checked here)."""
    keys = {}
    for line in yaml_text.splitlines():
        if not line or line[0] in " \t#-" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        keys[key.strip()] = value.split(" #")[0].strip().strip("'\"")
    return keys


class Check(Hook):
    def run(self, ctx):
        version = ctx.version
        if version is None:
            raise HookFailed("KAMAL_VERSION is not set")
        if "_uncommitted_" in version:
            if not exists(ALLOW_FLAG):
                raise HookFailed(
                    f"refusing to deploy {version}: it was built from uncommitted changes; "
                    f"commit them, or create {ALLOW_FLAG} to allow it"
                )
            log.warn(f"deploying uncommitted changes ({version}): {ALLOW_FLAG} allows it")

        try:
            config = top_level_keys(read_file("config/deploy.yml"))
        except FileError as e:
            raise HookFailed(f"cannot read config/deploy.yml: {e}")
        if ctx.service and config.get("service") != ctx.service:
            raise HookFailed(
                f"config/deploy.yml names service {config.get('service')!r}, "
                f"but {ctx.service!r} is being deployed"
            )
        if not config.get("image"):
            raise HookFailed("config/deploy.yml has no image")
        dest = ctx.destination
        if dest and not exists(f"config/deploy.{dest}.yml"):
            raise HookFailed(f"destination {dest} has no config/deploy.{dest}.yml")

        where = f" to {dest}" if dest else ""
        log.info(f"pre-deploy check passed: {config['service']} {version}{where} ({config['image']})")
