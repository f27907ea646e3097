"""HTTP requests over wasi:http, for plugins built with `sdk/python/build.sh --http`.

The host sends a request only to a host the plugin's manifest lists in `hosts` and the user
grants (deploy.yml's `x-wharf.plugins.NAME.allow.hosts`); any other fails with
`HttpError("... HttpRequestDenied")`, and the host logs which plugin asked for which host.

    from wharf_plugin import http

    res = http.post("https://hooks.example.com/T0KEN", b'{"text": "deployed"}', "application/json")
    if res.status >= 300:
        raise HookFailed(f"the webhook answered {res.status}: {res.text()}")
"""

from dataclasses import dataclass
from typing import Iterable, Tuple

from componentize_py_types import Err

# Imported when this module is (at build time, as componentize-py snapshots the interpreter):
# a module first imported during a call would not be in the component.
try:
    from wit_world.imports import outgoing_handler as _outgoing_handler
    from wit_world.imports import streams as _streams
    from wit_world.imports import types as _types

    _MISSING = None
except ImportError as _e:  # built without --http
    _MISSING = str(_e)

__all__ = ["HttpError", "Response", "get", "post", "request"]


class HttpError(Exception):
    """The request could not be made or got no answer (a denied host, a refused connection...)."""


@dataclass
class Response:
    status: int
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _bindings():
    if _MISSING is not None:
        raise HttpError("this plugin was built without HTTP: build it with sdk/python/build.sh --http")
    return _outgoing_handler, _streams, _types


def _describe(value) -> str:
    """`ErrorCode_HttpRequestDenied()` -> `HttpRequestDenied`, with its fields if any."""
    name = type(value).__name__
    for prefix in ("ErrorCode_", "StreamError_"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    fields = getattr(value, "__dict__", {}) or {}
    shown = ", ".join(f"{k}={v!r}" for k, v in fields.items() if v is not None)
    return f"{name}({shown})" if shown else name


def get(url: str) -> Response:
    return request("GET", url)


def post(url: str, body: bytes, content_type: str = "application/octet-stream") -> Response:
    return request("POST", url, [("content-type", content_type)], body)


def request(method: str, url: str, headers: Iterable[Tuple[str, str]] = (), body: bytes = b"") -> Response:
    """Sends one request and reads the whole response."""
    outgoing_handler, streams, types = _bindings()
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https"):
        raise HttpError(f"{url}: only http:// and https:// URLs are supported")
    authority, slash, path = rest.partition("/")
    methods = {
        "GET": types.Method_Get, "HEAD": types.Method_Head, "POST": types.Method_Post,
        "PUT": types.Method_Put, "DELETE": types.Method_Delete, "PATCH": types.Method_Patch,
        "OPTIONS": types.Method_Options,
    }
    verb = methods[method.upper()]() if method.upper() in methods else types.Method_Other(method)
    pairs = [(k.lower(), v.encode()) for k, v in headers]
    if body and not any(k == "content-length" for k, _ in pairs):
        pairs.append(("content-length", str(len(body)).encode()))
    req = types.OutgoingRequest(types.Fields.from_list(pairs))
    req.set_method(verb)
    req.set_scheme(types.Scheme_Https() if scheme == "https" else types.Scheme_Http())
    req.set_authority(authority)
    req.set_path_with_query("/" + path)
    outgoing = req.body()
    try:
        future = outgoing_handler.handle(req, None)
    except Err as e:
        raise HttpError(f"{url}: {_describe(e.value)}")

    # Write the body; when the host refused the request the stream is closed, and the answer
    # below says why.
    body_failed = None
    stream = outgoing.write()
    try:
        for i in range(0, len(body), 4096):
            stream.blocking_write_and_flush(body[i:i + 4096])
    except Err as e:
        body_failed = _describe(e.value)
    stream.__exit__(None, None, None)
    if body_failed is None:
        types.OutgoingBody.finish(outgoing, None)

    pollable = future.subscribe()
    pollable.block()
    pollable.__exit__(None, None, None)
    got = future.get()
    if got is None or isinstance(got, Err):
        raise HttpError(f"{url}: no response")
    inner = got.value
    if isinstance(inner, Err):
        raise HttpError(f"{url}: {_describe(inner.value)}")
    if body_failed is not None:
        raise HttpError(f"{url}: sending the body: {body_failed}")
    response = inner.value
    status = response.status()
    incoming = response.consume()
    data = bytearray()
    reader = incoming.stream()
    while True:
        try:
            data += reader.blocking_read(65536)
        except Err as e:
            if isinstance(e.value, streams.StreamError_Closed):
                break
            raise HttpError(f"{url}: reading the response: {_describe(e.value)}")
    reader.__exit__(None, None, None)
    return Response(status, bytes(data))
