"""Queue positions of a page of jobs, in one query, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelforge.core.job import JobStatus
from reelforge.store.database import open_database
from reelforge.store.job_repository import JobRepository
from tests.jobs.fakes import FakeClock, make_job
from tests.postgres import postgres_url  # noqa: F401  (fixture)


def _check(url: str) -> None:
    repo = JobRepository(open_database(url))
    clock = FakeClock()
    jobs = [make_job(clock, id=f"video_{i}", created_at=100.0 + i) for i in range(5)]
    for job in jobs:
        repo.insert(job)
    repo.transition("video_1", {JobStatus.QUEUED}, JobStatus.RUNNING)  # no longer waiting
    queued = [j for j in jobs if j.id != "video_1"]
    assert repo.queue_positions(queued) == {"video_0": 0, "video_2": 1, "video_3": 2, "video_4": 3}
    assert repo.queue_positions([]) == {}


def test_queue_positions_sqlite(tmp_path: Path) -> None:
    _check(f"sqlite:///{tmp_path / 'jobs.db'}")


@pytest.mark.postgres
def test_queue_positions_postgres(postgres_url: str) -> None:  # noqa: F811
    _check(postgres_url)
