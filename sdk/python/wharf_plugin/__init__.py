"""Write Wharf plugins (hooks, secrets adapters) in Python, for componentize-py.

A plugin is a WebAssembly component implementing one world of the `wharf:plugin@0.1.0` WIT
package (`wit/wharf-plugin@0.1.0/` in the Wharf repository). This module wraps the bindings
componentize-py generates from that WIT (the `wit_world` package, made at build time) so that a
hook is a class with one method:

    from wharf_plugin import Hook, HookFailed, log

    class Notify(Hook):
        def run(self, ctx):
            if ctx.version is None:
                raise HookFailed("KAMAL_VERSION is not set")
            log.info(f"{ctx.service} {ctx.version} deployed")

Build it with `sdk/python/build.sh notify.py -o notify.wasm` (see sdk/python/README.md).

What the host offers: `log` (secret values masked by the host; `print` works too, stdout at
info, stderr at warn), `run` (programs the manifest declares and the user grants; no shell),
`read_file`/`read_bytes`/`list_dir`/`exists` (granted directories only; `open()` works there
too). No network; every call runs in a fresh instance, so nothing is kept between calls.
"""

import sys
import traceback
from dataclasses import dataclass, fields
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from componentize_py_types import Err
from wit_world.imports import files as _files
from wit_world.imports import log as _log
from wit_world.imports import process as _process

__all__ = [
    "Context", "DirEntry", "FileError", "Hook", "HookFailed", "Output", "ProcessError",
    "SecretsAdapter", "exists", "list_dir", "log", "read_bytes", "read_file", "run",
]


# --- log -------------------------------------------------------------------------------------

# `print` goes to the host's log (stdout at info, stderr at warn) line by line, in order with
# `log` calls, and nothing is left in a buffer when the instance is dropped.
for _stream in (sys.stdout, sys.stderr):
    try:
        _stream.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):
        pass

class _Log:
    """`log.info("...")` and friends: one message through the host (secret values masked)."""

    def _say(self, level, message) -> None:
        _log.log(level, str(message))

    def trace(self, message) -> None:
        self._say(_log.Level.TRACE, message)

    def debug(self, message) -> None:
        self._say(_log.Level.DEBUG, message)

    def info(self, message) -> None:
        self._say(_log.Level.INFO, message)

    def warn(self, message) -> None:
        self._say(_log.Level.WARN, message)

    warning = warn

    def error(self, message) -> None:
        self._say(_log.Level.ERROR, message)


log = _Log()


# --- process ---------------------------------------------------------------------------------

Output = _process.Output
"""A program that ran: `exit_code` (None when killed by a signal), `stdout`, `stderr`,
`truncated`."""


class ProcessError(Exception):
    """A program did not run, or (with `check=True`) exited with a non-zero code.

    `kind` is `not-granted`, `spawn-failed`, `timed-out` or `exit`; `output` is the program's
    `Output` for `exit`, else None. `str(e)` is a one-line description.
    """

    def __init__(self, kind: str, message: str, output: Optional[Output] = None):
        super().__init__(message)
        self.kind = kind
        self.output = output


_COMMAND_FIELDS = {f.name for f in fields(_process.Command)}


def run(
    program: str,
    args: Sequence[str] = (),
    *,
    env: Union[Mapping[str, str], Iterable[Tuple[str, str]], None] = None,
    cwd: Optional[str] = None,
    timeout_ms: Optional[int] = None,
    terminal: bool = False,
    check: bool = True,
) -> Output:
    """Runs `program` with `args` (no shell) and returns its `Output`.

    `env` sets variables on the program (their names must be declared in the manifest's
    `[capabilities] env` and granted); `cwd` is a granted directory (default: the project);
    `timeout_ms` limits the run (never beyond the hook's own deadline); `terminal` gives the
    program the user's terminal for stdin and stderr, so it can prompt (needs the manifest's
    `terminal` capability and the grant). Raises `ProcessError` when the program is not granted,
    cannot start, times out or, with `check`, exits non-zero.
    """
    pairs = list(env.items()) if isinstance(env, Mapping) else list(env or [])
    given = dict(
        program=program, args=[str(a) for a in args], env=pairs, cwd=cwd, timeout_ms=timeout_ms,
        terminal=terminal,
    )
    for name, value, unset in (("env", pairs, []), ("terminal", terminal, False)):
        if name not in _COMMAND_FIELDS and value != unset:
            raise ProcessError("not-granted", f"this plugin API has no process {name}")
    kwargs = {k: v for k, v in given.items() if k in _COMMAND_FIELDS}
    try:
        out = _process.run(_process.Command(**kwargs))
    except Err as e:
        v = e.value
        if isinstance(v, _process.Error_NotGranted):
            raise ProcessError("not-granted", v.value) from None
        if isinstance(v, _process.Error_TimedOut):
            raise ProcessError("timed-out", f"{program} timed out after {v.value} ms") from None
        raise ProcessError("spawn-failed", f"{program}: {v.value}") from None
    if check and out.exit_code != 0:
        how = "was killed by a signal" if out.exit_code is None else f"exited with {out.exit_code}"
        detail = out.stderr.strip().splitlines()[-1:] or [""]
        raise ProcessError("exit", f"{program} {how}" + (f": {detail[0]}" if detail[0] else ""), out)
    return out


# --- files -----------------------------------------------------------------------------------

DirEntry = _files.DirEntry
"""One entry of `list_dir`: `name`, `is_dir`, `size`."""


class FileError(Exception):
    """A file could not be read. `kind` is `not-granted`, `not-found`, `too-large` or `io`."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _file_call(f, path: str):
    try:
        return f(path)
    except Err as e:
        v = e.value
        kind = {
            _files.Error_NotGranted: "not-granted",
            _files.Error_NotFound: "not-found",
            _files.Error_TooLarge: "too-large",
        }.get(type(v), "io")
        text = f"{path}: file too large ({v.value} bytes)" if kind == "too-large" else v.value
        raise FileError(kind, text) from None


def read_file(path: str) -> str:
    """The text of the file at `path` (absolute, or relative to the project)."""
    return _file_call(_files.read_string, path)


def read_bytes(path: str) -> bytes:
    """The bytes of the file at `path`."""
    return bytes(_file_call(_files.read, path))


def list_dir(path: str) -> List[DirEntry]:
    """The entries of the directory at `path`, sorted by name."""
    return _file_call(_files.list_dir, path)


def exists(path: str) -> bool:
    """Whether `path` exists inside a granted directory."""
    return _files.exists(path)


# --- hook ------------------------------------------------------------------------------------

class Context:
    """What a hook receives: `name` (such as `post-deploy`) and Kamal's variables, as a dict
    (`ctx.env`, `ctx["KAMAL_VERSION"]`, `ctx.get(...)`) and as properties (`ctx.version`)."""

    def __init__(self, name: str, env: Dict[str, str]):
        self.name = name
        self.env = env

    def get(self, key: str, default: Optional[str] = None) -> Optional[str]:
        return self.env.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self.env[key]

    def __contains__(self, key: str) -> bool:
        return key in self.env

    def __repr__(self) -> str:
        return f"Context(name={self.name!r}, env={self.env!r})"

    version = property(lambda self: self.env.get("KAMAL_VERSION"), doc="KAMAL_VERSION")
    service = property(lambda self: self.env.get("KAMAL_SERVICE"), doc="KAMAL_SERVICE")
    service_version = property(lambda self: self.env.get("KAMAL_SERVICE_VERSION"), doc="service@version")
    performer = property(lambda self: self.env.get("KAMAL_PERFORMER"), doc="KAMAL_PERFORMER")
    destination = property(lambda self: self.env.get("KAMAL_DESTINATION"), doc="KAMAL_DESTINATION")
    command = property(lambda self: self.env.get("KAMAL_COMMAND"), doc="KAMAL_COMMAND")
    subcommand = property(lambda self: self.env.get("KAMAL_SUBCOMMAND"), doc="KAMAL_SUBCOMMAND")
    recorded_at = property(lambda self: self.env.get("KAMAL_RECORDED_AT"), doc="KAMAL_RECORDED_AT")
    runtime = property(lambda self: self.env.get("KAMAL_RUNTIME"), doc="KAMAL_RUNTIME (post-deploy)")
    lock = property(lambda self: self.env.get("KAMAL_LOCK"), doc="KAMAL_LOCK")

    @property
    def hosts(self) -> List[str]:
        """KAMAL_HOSTS, split on commas."""
        return [h for h in self.env.get("KAMAL_HOSTS", "").split(",") if h]

    @property
    def roles(self) -> List[str]:
        """KAMAL_ROLES, split on commas."""
        return [r for r in self.env.get("KAMAL_ROLES", "").split(",") if r]


class HookFailed(Exception):
    """Raise it to fail the hook with this message (a `pre-*` hook then aborts the command)."""


class Hook:
    """A deploy hook: subclass it and define `run(self, ctx: Context)`. Return to succeed;
    raise `HookFailed("why")` to fail. Any other exception fails it too, with its type and
    message (and its traceback on stderr, which the host logs at warn)."""

    def run(self, ctx: Context) -> None:
        raise NotImplementedError


class SecretsAdapter:
    """A secrets adapter: subclass it and define `fetch(self, account, from_, names)`,
    returning a dict or `(name, value)` pairs. Raise `HookFailed("why")` to fail the fetch."""

    def fetch(self, account: Optional[str], from_: Optional[str], names: List[str]):
        raise NotImplementedError


def _guard(call):
    """Runs `call`, turning exceptions into the `err(message)` the WIT exports return."""
    try:
        return call()
    except Err:
        raise
    except HookFailed as e:
        message = str(e)
    except Exception as e:  # noqa: BLE001 - every failure becomes the plugin's error message
        traceback.print_exc(file=sys.stderr)
        message = f"{type(e).__name__}: {e}"
    raise Err(message)


def _world(module, world: str):
    """The `WitWorld` class componentize-py exports, wrapping the one `Hook` (or
    `SecretsAdapter`) subclass that `module` defines. Used by the build's generated entry."""
    if hasattr(module, "WitWorld"):
        return module.WitWorld
    base = {"hook": Hook, "secrets-adapter": SecretsAdapter}.get(world)
    if base is None:
        raise SystemExit(f"wharf_plugin: world {world!r} is not supported by the Python kit")
    found = [
        v for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, base) and v is not base
        and v.__module__ == module.__name__
    ]
    if len(found) != 1:
        names = ", ".join(c.__name__ for c in found) or "none"
        raise SystemExit(
            f"wharf_plugin: {module.__name__} must define exactly one subclass of "
            f"wharf_plugin.{base.__name__} (found: {names})"
        )
    impl = found[0]()
    if world == "hook":
        class WitWorld:
            def run(self, ctx):
                return _guard(lambda: impl.run(Context(ctx.name, dict(ctx.env))))
    else:
        class WitWorld:
            def fetch(self, account, from_, names):
                def call():
                    got = impl.fetch(account, from_, list(names))
                    pairs = got.items() if isinstance(got, Mapping) else got
                    return [(str(k), str(v)) for k, v in pairs]
                return _guard(call)
    return WitWorld
