"""Prometheus metrics (prometheus_client), one registry per process.

Two kinds:

- **Events of this process**, counted where they happen: HTTP requests, creates, the queue wait
  and render time of the jobs this process starts and finishes, webhook attempts. Each API
  replica and each worker exposes its own (`/metrics` on the API, `/metrics` on a worker's
  health port); Prometheus sums them (`sum by (engine) (rate(..._count[5m]))`).
- **The store's state**, read at scrape time by `StoreGauges`: jobs queued and running per
  engine, webhook deliveries waiting. One grouped COUNT over the non-terminal rows found through
  the `ix_jobs_status*` indexes (never a scan of the whole jobs table), cached for a few
  seconds, so a scrape costs at most one small query. Every process reports the same numbers:
  aggregate with `max`, not `sum`.

`render_metrics(...)` gives the exposition bytes and content type to whatever serves them.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ParamSpec, Protocol, TypeVar

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from reelforge.store.tables import jobs
from reelforge.store.webhook_tables import webhook_deliveries

disable_created_metrics()  # no `_created` series: Prometheus has the start time already

# Seconds: from a few milliseconds (a create, a webhook POST) to hours (a long diffusion render).
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SLOW = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
         7200.0)  # fmt: skip

HTTP_REQUESTS = Counter(
    "reelforge_http_requests_total",
    "HTTP requests answered by this process",
    ["method", "status"],
)
HTTP_SECONDS = Histogram(
    "reelforge_http_request_duration_seconds",
    "Time to answer an HTTP request (to the end of its headers), by route template",
    ["method", "route"],
    buckets=_FAST,
)
CREATE_SECONDS = Histogram(
    "reelforge_create_seconds",
    "Time to accept a job (validation, reference intake, admission, insert, enqueue), by engine",
    ["engine"],
    buckets=_FAST,
)
QUEUE_WAIT_SECONDS = Histogram(
    "reelforge_queue_wait_seconds",
    "Time a job waited queued before a worker started it, by engine",
    ["engine"],
    buckets=_SLOW,
)
RENDER_SECONDS = Histogram(
    "reelforge_render_seconds",
    "Time from a job's start to its success (intake, plan, render, encode, publish), by engine "
    "and resolution",
    ["engine", "resolution"],
    buckets=_SLOW,
)
OUTPUT_SECONDS = Counter(
    "reelforge_output_seconds_total",
    "Seconds of video delivered by the jobs this process finished, by engine",
    ["engine"],
)
JOBS_FINISHED = Counter(
    "reelforge_jobs_finished_total",
    "Jobs that reached a terminal status in this process, by engine and status",
    ["engine", "status"],
)
WEBHOOK_SECONDS = Histogram(
    "reelforge_webhook_delivery_seconds",
    "Time of one webhook POST, by outcome (succeeded, retry: will be tried again, failed: "
    "given up)",
    ["outcome"],
    buckets=_FAST,
)

P = ParamSpec("P")


class _HasEngine(Protocol):
    @property
    def engine(self) -> str: ...


J = TypeVar("J", bound=_HasEngine)


def timed_create(fn: Callable[P, J]) -> Callable[P, J]:
    """Observe `reelforge_create_seconds` for each job a create call returns."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> J:
        started = time.perf_counter()
        job = fn(*args, **kwargs)
        CREATE_SECONDS.labels(engine=job.engine).observe(time.perf_counter() - started)
        return job

    return wrapper


def observe_http(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method=method, status=str(status)).inc()
    HTTP_SECONDS.labels(method=method, route=route).observe(seconds)


def observe_started(engine: str, waited_seconds: float) -> None:
    QUEUE_WAIT_SECONDS.labels(engine=engine).observe(max(0.0, waited_seconds))


def observe_finished(
    engine: str,
    status: str,
    *,
    resolution: str | None = None,
    run_seconds: float | None = None,
    output_seconds: float | None = None,
) -> None:
    JOBS_FINISHED.labels(engine=engine, status=status).inc()
    if status == "succeeded" and run_seconds is not None:
        RENDER_SECONDS.labels(engine=engine, resolution=resolution or "unknown").observe(
            max(0.0, run_seconds)
        )
    if status == "succeeded" and output_seconds:
        OUTPUT_SECONDS.labels(engine=engine).inc(output_seconds)


def observe_webhook(outcome: str, seconds: float) -> None:
    WEBHOOK_SECONDS.labels(outcome=outcome).observe(seconds)


# ---- the store's state ------------------------------------------------------------------

# The statuses a job is not finished in; the only rows the gauges read.
ACTIVE_STATUSES = ("queued", "running")
PENDING_DELIVERIES = ("pending", "delivering")


def active_jobs_query() -> sa.Select[Any]:
    """Jobs per engine and non-terminal status: found through the status index (`status IN`
    on `ix_jobs_status` / `ix_jobs_status_created`), never by reading the finished jobs."""
    return (
        sa.select(jobs.c.engine, jobs.c.status, sa.func.count())
        .where(jobs.c.status.in_(ACTIVE_STATUSES))
        .group_by(jobs.c.engine, jobs.c.status)
    )


def pending_deliveries_query() -> sa.Select[Any]:
    """Webhook deliveries not yet done, through `ix_webhook_deliveries_due`."""
    return (
        sa.select(sa.func.count())
        .select_from(webhook_deliveries)
        .where(webhook_deliveries.c.status.in_(PENDING_DELIVERIES))
    )


class StoreGauges(Collector):
    """`reelforge_queue_depth{engine}`, `reelforge_jobs_running{engine}` and
    `reelforge_webhook_deliveries_pending`, read from the store at most once per
    `cache_seconds` (a scrape in between gets the last reading). Engines with no job report 0,
    so that an autoscaler sees the queue empty rather than the metric gone."""

    def __init__(
        self,
        database: sa.Engine,
        engines: Callable[[], Iterable[str]] | Sequence[str] = (),
        *,
        cache_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self._engines = engines
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._counts: dict[tuple[str, str], int] = {}
        self._pending = 0
        self._up = 0
        self.queries = 0  # store reads so far (the tests count them)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def _engine_names(self) -> list[str]:
        names = self._engines() if callable(self._engines) else self._engines
        return list(names)

    def _refresh(self) -> None:
        now = self._clock()
        if self._read_at is not None and now - self._read_at < self._cache_seconds:
            return
        self._read_at = now
        try:
            with self._database.connect() as conn:
                rows = conn.execute(active_jobs_query()).all()
                pending = conn.execute(pending_deliveries_query()).scalar_one()
        except Exception:  # the store is down: say so, keep the last reading
            self._up = 0
            return
        finally:
            self.queries += 1
        self._counts = {(engine, status): int(n) for engine, status, n in rows}
        self._pending = int(pending)
        self._up = 1

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            self._refresh()
            counts, pending, up = dict(self._counts), self._pending, self._up
        engines = sorted({*self._engine_names(), *(e for e, _ in counts)})
        queued = GaugeMetricFamily(
            "reelforge_queue_depth", "Jobs queued (waiting for a worker), by engine",
            labels=["engine"],
        )  # fmt: skip
        running = GaugeMetricFamily(
            "reelforge_jobs_running", "Jobs running, by engine", labels=["engine"]
        )
        for engine in engines:
            queued.add_metric([engine], counts.get((engine, "queued"), 0))
            running.add_metric([engine], counts.get((engine, "running"), 0))
        yield queued
        yield running
        yield GaugeMetricFamily(
            "reelforge_webhook_deliveries_pending",
            "Webhook deliveries waiting for their next attempt or in flight",
            value=pending,
        )
        yield GaugeMetricFamily(
            "reelforge_store_up",
            "1 when the last reading of the store's gauges succeeded",
            value=up,
        )


def render_metrics(gauges: StoreGauges | None = None) -> tuple[bytes, str]:
    """The Prometheus exposition of this process (and the store's gauges, when given): the
    body and its content type. For the API's `/metrics` and a worker's health port."""
    body = generate_latest(REGISTRY)
    if gauges is not None:
        body += generate_latest(gauges.registry)
    return body, CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus reads
