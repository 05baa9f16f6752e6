"""Prometheus text exposition: job gauges read from the store at scrape time (so every API
replica reports the same numbers) plus this process's HTTP counters."""

from __future__ import annotations

import threading
from collections import Counter

import sqlalchemy as sa

from reelforge.store.tables import jobs
from reelforge.store.webhook_tables import webhook_attempts, webhook_deliveries


class HttpCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def observe(self, method: str, status: int) -> None:
        with self._lock:
            self._counts[(method, str(status))] += 1

    def lines(self) -> list[str]:
        with self._lock:
            items = sorted(self._counts.items())
        out = [
            "# HELP reelforge_http_requests_total HTTP requests answered by this process",
            "# TYPE reelforge_http_requests_total counter",
        ]
        out += [
            f'reelforge_http_requests_total{{method="{m}",status="{s}"}} {n}' for (m, s), n in items
        ]
        return out


def job_metrics(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        by_status = conn.execute(
            sa.select(jobs.c.status, jobs.c.engine, sa.func.count()).group_by(
                jobs.c.status, jobs.c.engine
            )
        ).all()
        done = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(jobs.c.completed_at - jobs.c.started_at), 0.0),
                sa.func.coalesce(sa.func.sum(jobs.c.output_seconds), 0.0),
            ).where(jobs.c.status == "succeeded", jobs.c.started_at.is_not(None))
        ).one()
    out = [
        "# HELP reelforge_jobs Jobs in the store by status and engine",
        "# TYPE reelforge_jobs gauge",
    ]
    queued = 0
    for status, eng, n in by_status:
        out.append(f'reelforge_jobs{{status="{status}",engine="{eng}"}} {n}')
        if status == "queued":
            queued += n
    count, run_seconds, output_seconds = done
    out += [
        "# HELP reelforge_queue_depth Jobs waiting for a worker",
        "# TYPE reelforge_queue_depth gauge",
        f"reelforge_queue_depth {queued}",
        "# HELP reelforge_job_duration_seconds Wall time from start to completion (succeeded)",
        "# TYPE reelforge_job_duration_seconds summary",
        f"reelforge_job_duration_seconds_sum {float(run_seconds):.3f}",
        f"reelforge_job_duration_seconds_count {count}",
        "# HELP reelforge_render_seconds_per_output_second Render wall time per output second",
        "# TYPE reelforge_render_seconds_per_output_second gauge",
        "reelforge_render_seconds_per_output_second "
        f"{(float(run_seconds) / float(output_seconds)) if output_seconds else 0.0:.4f}",
    ]
    return out


def webhook_metrics(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        by_status = conn.execute(
            sa.select(webhook_deliveries.c.status, sa.func.count()).group_by(
                webhook_deliveries.c.status
            )
        ).all()
        failed_attempts = conn.execute(
            sa.select(sa.func.count())
            .select_from(webhook_attempts)
            .where(webhook_attempts.c.succeeded.is_(False))
        ).scalar_one()
    out = [
        "# HELP reelforge_webhook_deliveries Webhook deliveries by status",
        "# TYPE reelforge_webhook_deliveries gauge",
    ]
    out += [f'reelforge_webhook_deliveries{{status="{st}"}} {n}' for st, n in by_status]
    out += [
        "# HELP reelforge_webhook_failed_attempts_total Webhook POSTs that did not get a 2xx",
        "# TYPE reelforge_webhook_failed_attempts_total counter",
        f"reelforge_webhook_failed_attempts_total {failed_attempts}",
    ]
    return out
