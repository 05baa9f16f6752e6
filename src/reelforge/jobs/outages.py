"""Riding out a database or object-store outage inside a job's durable steps.

A step that meets a transient error (the connection refused or dropped, the server restarting,
S3 answering 5xx or not at all) waits and tries again, with a doubling back-off, for up to
`TRANSIENT_RETRY_SECONDS`; only then does the error reach the workflow and fail the job. Steps
are idempotent (guarded status updates, deterministic storage keys), so a retry after a
half-done attempt is safe. Anything else (a bad reference, an engine error) fails at once, as
before.

DBOS's own checkpoints already wait out a lost system database (its `db_retry`); this covers
reelforge's job store and storage calls made inside the steps.
"""

from __future__ import annotations

import errno
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy.exc as sa_exc

log = logging.getLogger("reelforge.outages")
T = TypeVar("T")

_TRANSIENT_ERRNOS = {
    errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT,
    errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTDOWN,
}  # fmt: skip
# S3 error codes that mean "try again" (the rest of 4xx are answers, not outages).
_S3_TRANSIENT_CODES = {
    "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "RequestTimeTooSkewed",
    "Throttling", "ThrottlingException", "RequestLimitExceeded", "503", "500", "502", "504",
}  # fmt: skip


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` (or what it was raised from) is an outage that waiting may fix."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _transient_here(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _transient_here(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return not _sqlite_answer(exc)
        return False
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True  # pool checkout timed out, or a connection found dead
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
        return True
    return _botocore_transient(exc)


def _sqlite_answer(exc: sa_exc.DBAPIError) -> bool:
    """SQLite reports real answers (a missing table, a full disk) as OperationalError too;
    only "database is locked" and its kin are worth waiting for."""
    module = type(exc.orig).__module__ if exc.orig is not None else ""
    if not module.startswith("sqlite3"):
        return False
    text = str(exc.orig).lower()
    return not ("locked" in text or "busy" in text)


def _botocore_transient(exc: BaseException) -> bool:
    try:
        from botocore import exceptions as bx
    except ImportError:  # the s3 extra is not installed: no S3 errors to meet
        return False
    if isinstance(exc, bx.ConnectionError | bx.HTTPClientError | bx.ReadTimeoutError):
        return True
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return str(error.get("Code")) in _S3_TRANSIENT_CODES or int(status) >= 500
    return False


class Abandoned(BaseException):
    """Raised out of a step when this process gives its jobs up (drain past its grace, or the
    fleet handed them to others). A BaseException on purpose: neither the workflow nor DBOS
    records it as the job's outcome, so the workflow stays pending and resumes elsewhere from
    its last checkpoint."""


@dataclass(frozen=True)
class RetryPolicy:
    """`total_seconds`: how long to keep trying (0: never retry); back-off from `initial` up
    to `maximum` seconds, with +-25 % jitter so a fleet does not retry in step."""

    total_seconds: float = 120.0
    initial: float = 0.5
    maximum: float = 5.0

    def run(
        self,
        what: str,
        action: Callable[[], T],
        *,
        stop: threading.Event | None = None,
        on_stop: Callable[[str], BaseException] | None = None,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> T:
        """`action()`, retried while it raises transient errors and time is left. A set `stop`
        ends the retries early: with `on_stop(what)` raised if given, else the last error."""
        deadline = clock() + self.total_seconds
        delay = self.initial
        attempt = 0
        while True:
            try:
                return action()
            except Exception as exc:
                attempt += 1
                left = deadline - clock()
                if stop is not None and stop.is_set() and on_stop is not None and is_transient(exc):
                    raise on_stop(f"{what}: abandoned during an outage") from exc
                if not is_transient(exc) or left <= 0 or (stop is not None and stop.is_set()):
                    if attempt > 1:
                        log.error("%s: giving up after %d attempts: %s", what, attempt, exc)
                    raise
                wait = min(delay * random.uniform(0.75, 1.25), left)
                if attempt == 1 or attempt % 10 == 0:
                    log.warning("%s: %s; retrying (attempt %d, next in %.1f s, %.0f s left)",
                                what, _short(exc), attempt, wait, left)  # fmt: skip
                if stop is not None and stop.wait(wait) and on_stop is not None:
                    raise on_stop(f"{what}: abandoned during an outage") from exc
                if stop is None:
                    sleep(wait)
                delay = min(delay * 2, self.maximum)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:200]}"
