"""Shared fixtures: a fresh app per test on tmp_path, real SQLite, real storage, real DBOS."""

from __future__ import annotations

import os

# One thread per process for torch's OpenMP pool (and every process the tests start): the suite
# runs on as many workers as cores, and OpenMP threads spinning against each other on a busy
# machine made the tiny diffusion tests 25 % slower in all. Before anything imports torch.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from reelforge.jobs.service import JobService
from reelforge.settings import Settings
from reelforge.store.job_repository import JobRepository
from tests.fixtures.engines.basic import fixture_registry

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ADMIN_KEY = "rf_" + "t" * 40


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "bootstrap_key": ADMIN_KEY,
        "print_admin_key": False,
        "queue_poll_seconds": 0.05,
        "default_model": "ok",
        # Most test apps never render: starting an engine process for each would cost the suite
        # minutes of CPU (tests/jobs/test_engine_isolation.py covers prewarming).
        "prewarm_engines": False,
        # The same for the quality report after each job (tests/jobs/test_quality_report.py).
        "quality_reports": False,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
        yield c


def job_repository(client: TestClient) -> JobRepository:
    """The job store every service of a test app shares (to count or watch what reaches it)."""
    service: JobService = client.app.state.jobs  # type: ignore[attr-defined]
    store = service._store
    assert isinstance(store, JobRepository)
    return store


def wait_for(
    client: TestClient,
    video_id: str,
    until: Callable[[dict[str, object]], bool],
    timeout: float = 60,
    headers: dict[str, str] | None = None,
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, object] = client.get(f"/v1/videos/{video_id}", headers=headers).json()
        if until(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting on {video_id}: {body}")
        time.sleep(0.05)


def wait_terminal(
    client: TestClient,
    video_id: str,
    timeout: float = 60,
    headers: dict[str, str] | None = None,
) -> dict[str, object]:
    terminal = {"completed", "failed", "canceled", "expired"}
    return wait_for(client, video_id, lambda b: b["status"] in terminal, timeout, headers)
