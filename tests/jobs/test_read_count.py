"""The POST /v1/videos path reads the job at most twice between the create and the job's
completion (issue 10, "How it is checked"), counted on the real app: real SQLite, real DBOS,
the `ok` fixture engine in its own process.

The test never asks the API about the job while it runs (a GET would read it): it waits on the
job's row with SQL and then on the DBOS workflow itself, so the workflow's last step (the
ending and its notifiers) is inside the window. Every `JobRepository.get` made meanwhile is
recorded with its thread and stack, so a failure names the call sites.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from dbos import DBOS
from fastapi.testclient import TestClient

from reelforge.core.job import Job
from reelforge.store.job_repository import JobRepository
from reelforge.store.tables import jobs
from tests.conftest import job_repository

MAX_READS = 2
TERMINAL = {"succeeded", "failed", "canceled", "expired"}


@dataclass(frozen=True)
class Read:
    job_id: str
    thread: str
    stack: str


class CountingGets:
    """Wraps `get` on one `JobRepository` instance (every service of the app shares it)."""

    def __init__(self, store: JobRepository) -> None:
        self._store = store
        self._real: Callable[[str], Job | None] = store.get
        self._lock = threading.Lock()
        self.reads: list[Read] = []

    def __enter__(self) -> CountingGets:
        def get(job_id: str) -> Job | None:
            stack = "".join(traceback.format_stack()[:-1])
            with self._lock:
                self.reads.append(Read(job_id, threading.current_thread().name, stack))
            return self._real(job_id)

        self._store.get = get  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self._store.get  # the class's method again

    def of(self, job_id: str) -> list[Read]:
        with self._lock:
            return [r for r in self.reads if r.job_id == job_id]


def _report(reads: list[Read]) -> str:
    parts = [f"{len(reads)} reads of the job:"]
    for n, r in enumerate(reads, 1):
        frames = [line for line in r.stack.splitlines() if "reelforge" in line or "tests/" in line]
        parts.append(f"--- read {n} in thread {r.thread!r}:\n" + "\n".join(frames[-16:]))
    return "\n".join(parts)


def _wait_done(database: sa.Engine, job_id: str, timeout: float = 90.0) -> dict[str, Any]:
    """The job's row is terminal and its workflow has returned (the ending is fully told)."""
    deadline = time.monotonic() + timeout
    row: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with database.connect() as conn:
            found = conn.execute(
                sa.select(jobs.c.status, jobs.c.error).where(jobs.c.id == job_id)
            ).first()
        row = dict(found._mapping) if found else {}
        if row.get("status") in TERMINAL:
            status = DBOS.get_workflow_status(job_id)
            if status is not None and status.status in ("SUCCESS", "ERROR", "CANCELLED"):
                return row
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting on {job_id}: {row}")


def _services(client: TestClient) -> tuple[JobRepository, sa.Engine]:
    store = job_repository(client)
    return store, store._engine  # the job store's own database


def _create_and_count(client: TestClient, body: dict[str, Any]) -> tuple[str, list[Read]]:
    store, database = _services(client)
    with CountingGets(store) as counting:
        created = client.post("/v1/videos", json=body)
        assert created.status_code in (200, 201, 202), created.text
        job_id = created.json()["id"]
        row = _wait_done(database, job_id)
    assert row["status"] == "succeeded", row
    reads = counting.of(job_id)
    print(f"\n{job_id}: {_report(reads)}")
    others = [r for r in counting.reads if r.job_id != job_id]
    assert others == [], _report(others)
    return job_id, reads


def test_a_create_reads_the_job_at_most_twice_until_it_completes(client: TestClient) -> None:
    job_id, reads = _create_and_count(
        client, {"prompt": "a red square", "seconds": 1, "size": "854x480"}
    )
    assert len(reads) <= MAX_READS, _report(reads)
    # none of them came from the request thread of the create itself
    assert all("create_video" not in r.stack for r in reads), _report(reads)
    # and the API still shows the finished job afterwards (outside the counted window)
    assert client.get(f"/v1/videos/{job_id}").json()["status"] == "completed"


def test_a_create_with_progress_reports_reads_no_more(client: TestClient) -> None:
    """A longer clip reports progress many times; reports carry the job, they add no read."""
    _, reads = _create_and_count(
        client, {"prompt": "a red square turning blue", "seconds": 4, "size": "854x480"}
    )
    assert len(reads) <= MAX_READS, _report(reads)
