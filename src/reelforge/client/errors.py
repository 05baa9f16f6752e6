"""The SDK's exception tree. Every error the SDK raises itself is a `ReelforgeClientError`:

ReelforgeClientError
├── ReelforgeAPIError            the server answered with an error (status_code, code, ...)
│   ├── BadRequestError          400 (also 413, 415, 422: the request itself is wrong)
│   ├── AuthenticationError      401
│   ├── InsufficientCreditsError 402
│   ├── PermissionDeniedError    403
│   ├── NotFoundError            404
│   ├── ConflictError            409 (e.g. `conflict.idempotency_key`)
│   ├── RateLimitError           429 (`retry_after` seconds)
│   └── ServerError              5xx
├── ReelforgeConnectionError     the server could not be reached, or the connection broke,
│                                after every retry (`__cause__` is the httpx error)
└── WaitTimeout                  `wait` ran past its timeout (also a `TimeoutError`)
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from typing import Any

import httpx

from reelforge.client.types import Batch, Video


class ReelforgeClientError(Exception):
    """Base of every error the SDK raises itself."""


class ReelforgeAPIError(ReelforgeClientError):
    """The server answered with an HTTP error and `{"error": {code, message, param, type}}`.

    `should_retry` is the server's `x-should-retry` header (None when absent); `retry_after`
    its `Retry-After` in seconds."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        param: str | None = None,
        *,
        type: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message
        self.param = param
        self.type = type
        self.request_id = request_id
        self.retry_after = retry_after
        self.should_retry = should_retry
        self.body = body

    @classmethod
    def from_response(cls, response: httpx.Response) -> ReelforgeAPIError:
        """The error for a non-2xx answer, of the subclass its status names."""
        code, message, param, type_ = f"http_{response.status_code}", "", None, None
        try:
            body = response.json()
        except ValueError:
            body = None
        err = body.get("error", body) if isinstance(body, dict) else None
        if isinstance(err, dict):
            code = str(err.get("code") or code)
            message = str(err.get("message") or err.get("detail") or "")
            param = err.get("param")
            type_ = err.get("type")
        if not message:
            message = response.text.strip()[:500] or response.reason_phrase
        flag = response.headers.get("x-should-retry", "").strip().lower()
        return _class_for(response.status_code)(
            response.status_code,
            code,
            message,
            param if isinstance(param, str) else None,
            type=type_ if isinstance(type_, str) else None,
            request_id=response.headers.get("x-request-id"),
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            should_retry={"true": True, "false": False}.get(flag),
            body=body,
        )


class BadRequestError(ReelforgeAPIError):
    """400, 413, 415, 422: the request is wrong; sending it again gives the same answer."""


class AuthenticationError(ReelforgeAPIError):
    """401: no key, or a key that is invalid or revoked."""


class InsufficientCreditsError(ReelforgeAPIError):
    """402: the key's credits do not cover the job."""


class PermissionDeniedError(ReelforgeAPIError):
    """403: the key lacks the scope."""


class NotFoundError(ReelforgeAPIError):
    """404: no such object for this key."""


class ConflictError(ReelforgeAPIError):
    """409: e.g. an `Idempotency-Key` reused with another request, or deleting a running job."""


class RateLimitError(ReelforgeAPIError):
    """429: too many creates or active jobs; `retry_after` says when to try again."""


class ServerError(ReelforgeAPIError):
    """5xx."""


_BY_STATUS: dict[int, type[ReelforgeAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: BadRequestError,
    415: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
}


def _class_for(status: int) -> type[ReelforgeAPIError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ReelforgeAPIError)


class ReelforgeConnectionError(ReelforgeClientError):
    """The request never got an answer (connect error, dropped connection, timeout), after
    the retries; the httpx error is `__cause__`."""


class WaitTimeout(ReelforgeClientError, TimeoutError):
    """`wait` (or `wait_batch`) gave up; `video` (or `batch`) is the last state seen."""

    def __init__(self, last: Video | Batch, timeout: float) -> None:
        super().__init__(f"{last.id} still {last.status} after {timeout:g}s")
        self.video = last if isinstance(last, Video) else None
        self.batch = last if isinstance(last, Batch) else None


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date (RFC 9110); None if absent or bad."""
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
