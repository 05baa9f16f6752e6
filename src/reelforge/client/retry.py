"""When and how long the SDK waits before sending a request again: one policy for the sync and
the async client, carried out by tenacity (`Retrying` / `AsyncRetrying`) for whole requests and
by the streaming operations (downloads, event streams) for resumptions.

Retried: connection errors, timeouts and dropped connections; 408, 429 and 5xx answers, unless
the server said `x-should-retry: false`. A 429's (or 503's) `Retry-After` is honoured (capped at
`max_retry_after`); otherwise the wait is exponential with jitter. Creates are always sent with
an `Idempotency-Key`, so a create retried after its answer was lost finds the same job.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import tenacity

from reelforge.client.errors import ReelforgeAPIError

log = logging.getLogger("reelforge.client")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """`max_retries` more attempts after the first; waits `initial * 2**n` seconds (capped at
    `max_backoff`) less up to `jitter` of it, or the server's `Retry-After`."""

    max_retries: int = 3
    initial: float = 0.5
    max_backoff: float = 8.0
    jitter: float = 0.5
    max_retry_after: float = 60.0

    def should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, ReelforgeAPIError):
            if exc.should_retry is not None:
                return exc.should_retry
            return exc.status_code in RETRY_STATUSES
        return isinstance(exc, httpx.TransportError)

    def delay(self, attempt: int, exc: BaseException | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
        if isinstance(exc, ReelforgeAPIError) and exc.retry_after is not None:
            # What the server asked for, and a little more so that clients told the same
            # second do not all come back at once.
            wait = min(exc.retry_after, self.max_retry_after)
            return wait + random.uniform(0, 0.1 * max(wait, 0.1))
        base = min(self.max_backoff, self.initial * 2 ** max(0, attempt - 1))
        return base * (1 - self.jitter * random.random())

    # -- tenacity ---------------------------------------------------------------------------

    def _kwargs(self) -> dict[str, Any]:
        policy = self

        class _Wait(tenacity.wait.wait_base):
            def __call__(self, retry_state: tenacity.RetryCallState) -> float:
                outcome = retry_state.outcome
                exc = outcome.exception() if outcome is not None else None
                return policy.delay(retry_state.attempt_number, exc)

        def before_sleep(retry_state: tenacity.RetryCallState) -> None:
            outcome = retry_state.outcome
            log.info(
                "retrying after attempt %d: %r",
                retry_state.attempt_number,
                outcome.exception() if outcome is not None else None,
            )

        return {
            "stop": tenacity.stop_after_attempt(self.max_retries + 1),
            "wait": _Wait(),
            "retry": tenacity.retry_if_exception(self.should_retry),
            "before_sleep": before_sleep,
            "reraise": True,
        }

    def retrying(self, sleep: Callable[[float], None]) -> tenacity.Retrying:
        return tenacity.Retrying(sleep=sleep, **self._kwargs())

    def async_retrying(self, sleep: Callable[[float], Awaitable[None]]) -> tenacity.AsyncRetrying:
        return tenacity.AsyncRetrying(sleep=sleep, **self._kwargs())
