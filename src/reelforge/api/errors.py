"""The one place that maps the error tree to HTTP. Dialects render the same errors in their
own shapes by registering a renderer for their path prefix (`register_error_renderer`): the
HTTP status and the headers stay the same everywhere, only the body changes.

Retries: the hosted-API SDKs retry POST on 408/409/429/5xx without an idempotency key, so every
4xx but 429 and every 5xx answer to a POST carries `x-should-retry: false` (a create that failed
after storing its job must not be sent again). A 429 is refused before anything is stored, so
its retry is safe and wanted (`Retry-After` says when).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from reelforge import codes
from reelforge.errors import InvalidRequest, RateLimited, ReelforgeError

log = logging.getLogger("reelforge.api")

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_credits",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def native_error_body(err: ReelforgeError) -> dict[str, Any]:
    return {
        "error": {
            "code": err.code,
            "message": err.message,
            "param": err.param,
            "type": _TYPES.get(err.http_status, "server_error"),
            "reference_index": err.reference_index,
        }
    }


ErrorRenderer = Callable[[ReelforgeError], dict[str, Any]]
"""A dialect's error body for an error of the tree."""


def register_error_renderer(app: FastAPI, prefix: str, render: ErrorRenderer) -> None:
    """Errors of requests whose path is `prefix` or below it (e.g. "/api/v3") get `render`'s
    body; the longest matching prefix wins; everything else gets the native body."""
    app.state.error_renderers[prefix.rstrip("/")] = render


def _renderer_for(request: Request) -> ErrorRenderer:
    renderers: dict[str, ErrorRenderer] = getattr(request.app.state, "error_renderers", {})
    path = request.url.path
    matches = [p for p in renderers if path == p or path.startswith(p + "/")]
    return renderers[max(matches, key=len)] if matches else native_error_body


def error_response(
    err: ReelforgeError, body: dict[str, Any] | None = None, *, method: str | None = None
) -> JSONResponse:
    headers = {}
    if isinstance(err, RateLimited):
        headers["Retry-After"] = str(err.retry_after)
    if err.http_status in (409, 400, 402, 404, 413, 415, 422) or (
        method == "POST" and err.http_status >= 500
    ):
        # Clients that retry POST on 409/4xx/5xx must not create a second job.
        headers["x-should-retry"] = "false"
    content = native_error_body(err) if body is None else body
    return JSONResponse(content, status_code=err.http_status, headers=headers)


def render_error(request: Request, err: ReelforgeError) -> JSONResponse:
    """`err` as the response the dialect that owns `request`'s path gives (also for answers
    made outside the routes, such as `api.body_guard`)."""
    return error_response(err, _renderer_for(request)(err), method=request.method)


_render = render_error


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at `request`'s path (for a 405's `Allow`); asked of the
    router per method, so included routers count too."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]


def validation_error(exc: RequestValidationError) -> InvalidRequest:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "form")]
    param = ".".join(loc) or None
    msg = first.get("msg", "invalid request")
    return InvalidRequest(f"{param}: {msg}" if param else msg, param=param)


def install_error_handlers(app: FastAPI) -> None:
    app.state.error_renderers = {}

    @app.exception_handler(ReelforgeError)
    async def _reelforge(request: Request, exc: ReelforgeError) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("internal error: %s", exc.message)
        return _render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _render(request, validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        err = ReelforgeError(str(exc.detail), code=codes.http_status(exc.status_code))
        err.http_status = exc.status_code
        response = _render(request, err)
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            response.headers["Allow"] = ", ".join(allowed) or (exc.headers or {}).get("Allow", "")
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not a client error: answered as JSON in the dialect's shape (never a bare text
        # 500 that SDKs would retry into a second job); Starlette re-raises it afterwards, so
        # the server logs its traceback.
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        response = _render(request, ReelforgeError("internal error; see the server log"))
        # The server drops the connection after an unhandled error: say so, so that a client
        # does not send its next request on it.
        response.headers["connection"] = "close"
        return response
