"""Webhooks per Standard Webhooks: signed events on terminal job states, durable retries.

How it works:

- `WebhookDispatcher.store_event(...)` stores one event (id `evt_...`, the exact JSON body fixed
  once, built by `jobs.notifications` in the job's dialect) and its first delivery, due now, in
  the job store. Nothing is kept in memory, so a restart loses no delivery.
- A daemon thread owned by the dispatcher (started and stopped by the app's lifespan) looks for
  due deliveries every `poll_seconds`, claims each with a guarded update (so processes sharing a
  database never make the same attempt twice) and POSTs it through the SSRF-safe fetcher on a
  small thread pool. Each attempt is signed anew (`webhook-id` = the event id on every attempt,
  `webhook-timestamp` = now, `webhook-signature` = `v1,<HMAC-SHA256>` with the owning key's
  `whsec_` secret) and recorded in the attempt log.
- 2xx is success. Anything else (3xx included: redirects are not followed) is retried after
  `retry_schedule[n-1]` seconds (plus up to 10 % jitter) until `max_attempts`; then the delivery
  is `failed`. `410 Gone`, a refused address (private, loopback, cloud metadata) and an invalid
  URL fail at once: no retry can fix them.
- On start the loop runs the `sweep` it was given (`jobs.notifications` creates the events of
  jobs that ended without one: the process died between the status change and the insert).
- `redeliver(event)` schedules the same event again (same id, same body).
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from standardwebhooks import Webhook

from reelforge import __version__, codes
from reelforge.errors import NotFound, ReelforgeError
from reelforge.intake.fetch import (
    CODE_FETCH_FAILED,
    CODE_FORBIDDEN_ADDRESS,
    CODE_INVALID_URL,
    CODE_SCHEME,
    CODE_TIMEOUT,
    CODE_UNRESOLVABLE,
    FetchPolicy,
    SafeFetcher,
)
from reelforge.platform.metrics import observe_webhook
from reelforge.store.key_repository import KeyRepository
from reelforge.store.secret_box import SecretBox
from reelforge.store.webhook_repository import (
    DeliveryStatus,
    EventLog,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookRepository,
)

__all__ = [
    "DEFAULT_RETRY_SCHEDULE",
    "WebhookConfig",
    "WebhookDispatcher",
    "open_webhooks",
]

log = logging.getLogger("reelforge.webhooks")
# Standard Webhooks' schedule after the first (immediate) attempt: 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h, 14 h, 20 h, 24 h; with 10 attempts about 75 h in all.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (
    5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0,
)  # fmt: skip

# Fetch refusals no retry can fix, and the code each gets in the attempt log.
_PERMANENT = {
    CODE_FORBIDDEN_ADDRESS: "webhook.url_forbidden_address",
    CODE_SCHEME: "webhook.url_invalid",
    CODE_INVALID_URL: "webhook.url_invalid",
}
_TRANSIENT = {
    CODE_UNRESOLVABLE: "webhook.url_unresolvable",
    CODE_TIMEOUT: "webhook.timeout",
    CODE_FETCH_FAILED: "webhook.connection_failed",
}
# Seconds a claim is held beyond the request timeout before another process may take it over
# (the holder died mid-attempt).
_LEASE_MARGIN = 60.0
# An attempt's outcome as `reelforge_webhook_delivery_seconds` labels it.
_OUTCOMES = {
    DeliveryStatus.SUCCEEDED: "succeeded",
    DeliveryStatus.PENDING: "retry",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.DELIVERING: "retry",
}


@dataclass(frozen=True)
class WebhookConfig:
    timeout_seconds: float = 10.0
    max_attempts: int = 10
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    poll_seconds: float = 0.2
    concurrency: int = 4
    jitter: float = 0.1  # a retry waits up to this fraction longer, so retries do not bunch
    recovery_window_seconds: float = 24 * 3600.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if not self.retry_schedule or any(s < 0 for s in self.retry_schedule):
            raise ValueError(f"retry_schedule must be non-negative delays, got "
                             f"{self.retry_schedule}")  # fmt: skip
        if self.timeout_seconds <= 0 or self.poll_seconds <= 0 or self.concurrency < 1:
            raise ValueError("timeout_seconds and poll_seconds must be > 0, concurrency >= 1")

    def retry_delay(self, attempts_made: int) -> float:
        """Seconds to wait after the `attempts_made`-th failed attempt (before jitter)."""
        return self.retry_schedule[min(attempts_made, len(self.retry_schedule)) - 1]


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None
    error_code: str | None
    error_message: str | None
    succeeded: bool
    retry: bool  # False: give up now


class WebhookDispatcher:
    """Stores events when jobs end and delivers them from the database; thread-safe."""

    def __init__(
        self,
        repo: WebhookRepository,
        fetcher: SafeFetcher,
        *,
        secret_for: Callable[[str], str | None],
        config: WebhookConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repo = repo
        self._fetcher = fetcher
        self._secret_for = secret_for
        self._sweep: Callable[[], object] | None = None
        self.config = config or WebhookConfig()
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()

    # ---- events ------------------------------------------------------------------------

    def store_event(
        self, *, job_id: str, owner_key_id: str, url: str, key: str, event_id: str,
        body: dict[str, Any],
    ) -> str | None:  # fmt: skip
        """Store an event (`key`: its type, e.g. `video.completed` or `video.progress:25`,
        unique per job) and its first delivery; the event id, or None when the job already has
        this event."""
        event = WebhookEvent(
            id=event_id,
            job_id=job_id,
            owner_key_id=owner_key_id,
            type=key,
            url=url,
            payload=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
            created_at=self._clock(),
        )
        if not self._repo.insert_event(event, _delivery_id()):
            return None
        self._wake.set()
        return event_id

    def jobs_missing_events(self, since: float) -> list[str]:
        return self._repo.jobs_missing_events(since)

    def set_sweep(self, sweep: Callable[[], object]) -> None:
        """Run once when the delivery loop starts (creating events missed before a restart)."""
        self._sweep = sweep

    # ---- the delivery log --------------------------------------------------------------

    def log(self, job_id: str) -> list[EventLog]:
        return self._repo.log(job_id)

    def redeliver(self, job_id: str, event_id: str) -> WebhookDelivery:
        event = self._repo.event(job_id, event_id)
        if event is None:
            raise NotFound(
                f"video {job_id} has no webhook event {event_id!r}",
                code=codes.NOT_FOUND_WEBHOOK_EVENT, param="event_id",
            )  # fmt: skip
        delivery = self._repo.redeliver(event.id, _delivery_id(), self._clock())
        self._wake.set()
        return delivery

    # ---- the delivery loop -------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._pool = ThreadPoolExecutor(
            max_workers=self.config.concurrency, thread_name_prefix="reelforge-webhook"
        )
        self._thread = threading.Thread(target=self._run, name="reelforge-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop looking for work and wait for attempts in flight (each bounded by the timeout);
        what is still pending stays in the database for the next start."""
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _run(self) -> None:
        try:
            if self._sweep is not None:
                self._sweep()
        except Exception:
            log.exception("webhook recovery sweep failed")
        while not self._stop.is_set():
            try:
                self._dispatch_due()
            except Exception:
                log.exception("webhook delivery loop failed; retrying")
            self._wake.wait(self.config.poll_seconds)
            self._wake.clear()

    def _dispatch_due(self) -> None:
        with self._lock:
            free = self.config.concurrency - len(self._in_flight)
        if free <= 0 or self._pool is None:
            return
        for delivery_id in self._repo.due(self._clock(), free):
            with self._lock:
                if delivery_id in self._in_flight:
                    continue
            claimed = self._claim(delivery_id)
            if claimed is None:
                continue
            with self._lock:
                self._in_flight.add(delivery_id)
            self._pool.submit(self._attempt_and_release, *claimed)

    def _claim(self, delivery_id: str) -> tuple[WebhookEvent, WebhookDelivery, str] | None:
        token = secrets.token_hex(16)
        now = self._clock()
        lease = now + self.config.timeout_seconds + _LEASE_MARGIN
        got = self._repo.claim(delivery_id, token, now, lease)
        return None if got is None else (got[0], got[1], token)

    def _attempt_and_release(
        self, event: WebhookEvent, delivery: WebhookDelivery, token: str
    ) -> None:
        try:
            self._attempt(event, delivery, token)
        except Exception:
            log.exception("webhook delivery %s failed unexpectedly", delivery.id)
        finally:
            with self._lock:
                self._in_flight.discard(delivery.id)
            self._wake.set()

    def _attempt(self, event: WebhookEvent, delivery: WebhookDelivery, token: str) -> None:
        number = delivery.attempts + 1
        started = self._clock()
        t0 = time.monotonic()
        outcome = self._post(event)
        duration_ms = round((time.monotonic() - t0) * 1000)
        now = self._clock()
        if outcome.succeeded:
            status, next_at = DeliveryStatus.SUCCEEDED, None
        elif outcome.retry and number < self.config.max_attempts:
            delay = self.config.retry_delay(number)
            delay *= 1.0 + random.uniform(0.0, self.config.jitter)
            status, next_at = DeliveryStatus.PENDING, now + delay
        else:
            status, next_at = DeliveryStatus.FAILED, None
        observe_webhook(_OUTCOMES[status], time.monotonic() - t0)
        attempt = WebhookAttempt(
            delivery_id=delivery.id,
            attempt=number,
            started_at=started,
            duration_ms=duration_ms,
            status_code=outcome.status_code,
            error_code=outcome.error_code,
            error_message=outcome.error_message,
            succeeded=outcome.succeeded,
        )
        if not self._repo.finish(attempt, token, status, next_at, now):
            log.warning("webhook delivery %s: claim lost before recording attempt %d",
                        delivery.id, number)  # fmt: skip
            return
        level = logging.INFO if outcome.succeeded else logging.WARNING
        log.log(level, "webhook %s %s attempt %d -> %s", event.id, event.type, number,
                outcome.status_code or outcome.error_code)  # fmt: skip

    def _post(self, event: WebhookEvent) -> _Outcome:
        secret = self._secret_for(event.owner_key_id)
        if not secret:
            message = "the API key that owns this video no longer exists; not retried"
            return _failure(None, "webhook.no_secret", message, retry=False)
        timestamp = int(self._clock())
        signature = Webhook(secret).sign(
            event.id, datetime.fromtimestamp(timestamp, tz=UTC), event.payload
        )
        headers = {
            "webhook-id": event.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature,
        }
        try:
            code = self._fetcher.post_json(
                event.url, event.payload.encode(), headers, param="webhook_url"
            )
        except ReelforgeError as exc:
            if exc.code in _PERMANENT:
                message = f"{exc.message}; not retried"
                return _failure(None, _PERMANENT[exc.code], message, retry=False)
            error_code = _TRANSIENT.get(exc.code, "webhook.delivery_failed")
            return _failure(None, error_code, exc.message, retry=True)
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            return _failure(None, "webhook.delivery_failed", message, retry=True)
        if 200 <= code < 300:
            return _Outcome(code, None, None, succeeded=True, retry=False)
        if code == 410:
            message = "the receiver answered HTTP 410 Gone; not retried"
            return _failure(code, "webhook.gone", message, retry=False)
        return _failure(code, "webhook.http_status", f"the receiver answered HTTP {code}", True)


def _failure(status_code: int | None, error_code: str, message: str, retry: bool) -> _Outcome:
    return _Outcome(status_code, error_code, message, succeeded=False, retry=retry)


def open_webhooks(
    config: WebhookConfig,
    database: sa.Engine,
    *,
    allow_private_urls: bool,
    secret_box: SecretBox | None = None,
) -> WebhookDispatcher:
    """The dispatcher of one process (not started); `secret_box` opens the keys' sealed webhook
    secrets (the one the key ring seals them with)."""
    policy = FetchPolicy(
        allow_private=allow_private_urls,
        connect_timeout=min(5.0, config.timeout_seconds),
        total_timeout=config.timeout_seconds,
        max_redirects=0,
        user_agent=f"reelforge-webhooks/{__version__}",
    )
    keys = KeyRepository(database, secret_box)

    def secret_for(key_id: str) -> str | None:
        record = keys.by_id(key_id)
        return record.webhook_secret if record is not None else None

    return WebhookDispatcher(
        WebhookRepository(database), SafeFetcher(policy), secret_for=secret_for, config=config
    )


def _delivery_id() -> str:
    return "whd_" + secrets.token_hex(12)
