"""bench/plugins.sh: the Python twin of examples/hooks/rust-notify (one summary line, same
wording), so that the benchmark compares languages doing the same work."""

from wharf_plugin import Hook, HookFailed, log


class Notify(Hook):
    def run(self, ctx):
        if ctx.version is None:
            raise HookFailed("KAMAL_VERSION is not set")
        line = f"{ctx.service or 'the service'} {ctx.version} deployed"
        if ctx.performer:
            line += f" by {ctx.performer}"
        if ctx.destination:
            line += f" to {ctx.destination}"
        if ctx.hosts:
            line += f" on {', '.join(ctx.hosts)}"
        if ctx.runtime:
            line += f" in {ctx.runtime}s"
        log.info(line)
