"""The one place that maps the error tree to HTTP. Dialects render the same errors in their
own shapes by registering a renderer for their path prefix."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reelforge.errors import InvalidRequest, RateLimited, ReelforgeError

log = logging.getLogger("reelforge.api")

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_credits",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
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


def error_response(err: ReelforgeError) -> JSONResponse:
    headers = {}
    if isinstance(err, RateLimited):
        headers["Retry-After"] = str(err.retry_after)
    if err.http_status in (409, 400, 402, 404, 413, 422):
        # Clients that retry POST on 409/4xx must not create a second job.
        headers["x-should-retry"] = "false"
    return JSONResponse(native_error_body(err), status_code=err.http_status, headers=headers)


def validation_error(exc: RequestValidationError) -> InvalidRequest:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "form")]
    param = ".".join(loc) or None
    msg = first.get("msg", "invalid request")
    return InvalidRequest(f"{param}: {msg}" if param else msg, param=param)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ReelforgeError)
    async def _reelforge(_request: Request, exc: ReelforgeError) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("internal error: %s", exc.message)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        err = ReelforgeError(str(exc.detail), code=f"http_{exc.status_code}")
        err.http_status = exc.status_code
        return error_response(err)
