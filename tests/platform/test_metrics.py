"""Prometheus metrics: the store's gauges (per-engine queue depth read through the status index,
never a scan of the jobs table, cached between scrapes) and the events a process counts
(create latency, queue wait, render time, webhook attempts) in prometheus_client's exposition."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from reelforge.core.job import JobStatus
from reelforge.platform.metrics import (
    StoreGauges,
    active_jobs_query,
    observe_finished,
    observe_started,
    observe_webhook,
    pending_deliveries_query,
    render_metrics,
)
from reelforge.store.database import open_database
from reelforge.store.job_repository import JobRepository
from tests.jobs.fakes import FakeClock, make_job
from tests.postgres import postgres_url  # noqa: F401  (fixture)


def _samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _fill(url: str) -> sa.Engine:
    database = open_database(url)
    repo = JobRepository(database)
    clock = FakeClock()
    for engine, n_queued, n_running, n_done in (("preview", 3, 1, 4), ("wan-vace", 1, 0, 2)):
        for i in range(n_queued + n_running + n_done):
            job = make_job(clock, engine=engine)
            repo.insert(job)
            if i >= n_queued:
                repo.transition(job.id, {JobStatus.QUEUED}, JobStatus.RUNNING)
            if i >= n_queued + n_running:
                repo.transition(job.id, {JobStatus.RUNNING}, JobStatus.SUCCEEDED)
    return database


def test_queue_depth_per_engine_is_read_once_per_cache_period(tmp_path: Path) -> None:
    database = _fill(f"sqlite:///{tmp_path / 'jobs.db'}")
    now = [0.0]
    gauges = StoreGauges(
        database, ["ltx2", "preview", "wan-vace"], cache_seconds=5.0, clock=lambda: now[0]
    )
    values = _samples(render_metrics(gauges)[0])
    assert values[("reelforge_queue_depth", (("engine", "preview"),))] == 3
    assert values[("reelforge_queue_depth", (("engine", "wan-vace"),))] == 1
    assert values[("reelforge_queue_depth", (("engine", "ltx2"),))] == 0  # present, not absent
    assert values[("reelforge_jobs_running", (("engine", "preview"),))] == 1
    assert values[("reelforge_webhook_deliveries_pending", ())] == 0
    assert values[("reelforge_store_up", ())] == 1
    assert gauges.queries == 1

    JobRepository(database).insert(make_job(FakeClock(), engine="ltx2"))
    now[0] = 4.9  # a scrape within the period: the last reading, no query
    values = _samples(render_metrics(gauges)[0])
    assert values[("reelforge_queue_depth", (("engine", "ltx2"),))] == 0
    assert gauges.queries == 1
    now[0] = 5.1
    values = _samples(render_metrics(gauges)[0])
    assert values[("reelforge_queue_depth", (("engine", "ltx2"),))] == 1
    assert gauges.queries == 2


def test_store_down_is_said_and_the_last_reading_kept(tmp_path: Path) -> None:
    database = _fill(f"sqlite:///{tmp_path / 'jobs.db'}")
    now = [0.0]
    gauges = StoreGauges(database, ["preview"], cache_seconds=1.0, clock=lambda: now[0])
    render_metrics(gauges)
    with database.begin() as conn:
        conn.execute(sa.text("ALTER TABLE jobs RENAME TO jobs_gone"))
    now[0] = 2.0
    values = _samples(render_metrics(gauges)[0])
    assert values[("reelforge_store_up", ())] == 0
    assert values[("reelforge_queue_depth", (("engine", "preview"),))] == 3


def test_sqlite_reads_only_active_rows_through_the_status_index(tmp_path: Path) -> None:
    database = _fill(f"sqlite:///{tmp_path / 'jobs.db'}")
    with database.connect() as conn:
        for query in (active_jobs_query(), pending_deliveries_query()):
            compiled = query.compile(database, compile_kwargs={"literal_binds": True})
            plan = " | ".join(
                str(row[-1]) for row in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
            assert "USING INDEX ix_" in plan or "USING COVERING INDEX ix_" in plan, plan
            assert "SCAN jobs" not in plan and "SCAN webhook_deliveries" not in plan, plan


@pytest.mark.postgres
def test_postgres_plans_an_index_scan_over_a_large_finished_history(
    postgres_url: str,  # noqa: F811
) -> None:
    """20,000 finished jobs and 5 active ones: the planner reads the active ones by index."""
    database = _fill(postgres_url)
    with database.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO jobs (id, owner_key_id, status, stage, progress, model, engine, spec,"
                " created_at, updated_at, cancel_requested, deleted, hold_amount, cost)"
                " SELECT 'video_old_' || g, 'key_a', 'succeeded', 'done', 100, 'preview',"
                " 'preview', '{}', g, g, false, false, 0, 0 FROM generate_series(1, 20000) g"
            )
        )
        conn.execute(sa.text("ANALYZE jobs"))
        compiled = active_jobs_query().compile(database, compile_kwargs={"literal_binds": True})
        plan = "\n".join(r[0] for r in conn.execute(sa.text(f"EXPLAIN {compiled}")))
    assert "Seq Scan on jobs" not in plan, plan
    assert "ix_jobs_status" in plan, plan


def test_job_and_webhook_events_are_histograms() -> None:
    observe_started("metrics-test", 2.0)
    observe_finished(
        "metrics-test", "succeeded", resolution="720p", run_seconds=12.0, output_seconds=5.0
    )
    observe_finished("metrics-test", "failed")
    observe_webhook("retry", 0.2)
    values = _samples(render_metrics()[0])
    assert values[("reelforge_queue_wait_seconds_count", (("engine", "metrics-test"),))] >= 1
    key = ("reelforge_render_seconds_count", (("engine", "metrics-test"), ("resolution", "720p")))
    assert values[key] >= 1
    assert values[("reelforge_output_seconds_total", (("engine", "metrics-test"),))] >= 5
    failed = (("engine", "metrics-test"), ("status", "failed"))
    assert values[("reelforge_jobs_finished_total", failed)] >= 1
    assert values[("reelforge_webhook_delivery_seconds_count", (("outcome", "retry"),))] >= 1
    assert not any(name.endswith("_created") for name, _ in values)
