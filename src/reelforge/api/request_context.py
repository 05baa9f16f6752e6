"""The request's id and its metrics, as a plain ASGI middleware (the outermost of the app's own).

The id (the client's `x-request-id` when it is a sane token, else a new `req_<hex>`) is set in
`reelforge.logs.request_id_var` for the whole request, the sending of the response included, so
every log line of the request carries it, the server's access line too (uvicorn writes that
line while the response's headers are sent, inside this middleware's call). The response
carries it back in `x-request-id`. Each request is counted in `reelforge_http_requests_total`
and timed in `reelforge_http_request_duration_seconds` by its route template (never the raw
path: one series per route, whatever ids clients send).
"""

from __future__ import annotations

import re
import secrets
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelforge.logs import request_id_var
from reelforge.platform.metrics import observe_http

_CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _CLIENT_ID.match(text):
                return text
            break
    return "req_" + secrets.token_hex(8)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _request_id(scope)
        token = request_id_var.set(rid)
        started = time.perf_counter()
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                MutableHeaders(scope=message)["x-request-id"] = rid
                observe_http(
                    scope["method"], _route(scope), message["status"],
                    time.perf_counter() - started,
                )  # fmt: skip
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            if not answered:  # the server's error handler answers 500 outside this middleware
                observe_http(scope["method"], _route(scope), 500, time.perf_counter() - started)
            raise
        finally:
            request_id_var.reset(token)
