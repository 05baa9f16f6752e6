"""A process renders at most `worker_concurrency` jobs of an engine at once, even when creates
come back to back and its executor threads start late (a loaded machine)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dbos._core import ActiveWorkflowById
from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from tests.conftest import ADMIN_KEY, make_settings, wait_terminal
from tests.fixtures.engines.basic import fixture_registry

BODY = {"model": "slow_with_progress", "prompt": "a slow pan", "seconds": 1, "size": "854x480"}


@pytest.fixture
def late_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """A claimed workflow shows in DBOS's in-memory count of running workflows only 0.5 s after
    its claim, as when its executor thread waits for a CPU."""
    add = ActiveWorkflowById.add

    def late_add(self: ActiveWorkflowById, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return add(self, *args, **kwargs)

    monkeypatch.setattr(ActiveWorkflowById, "add", late_add)


@pytest.fixture
def client(tmp_path: Path, late_threads: None) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "data", worker_concurrency=1)
    app = create_app(settings, engines=fixture_registry(include_preview=False))
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
        yield c


def test_back_to_back_creates_render_one_at_a_time(client: TestClient) -> None:
    ids = [client.post("/v1/videos", json=BODY).json()["id"] for _ in range(3)]
    most_running = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = [client.get(f"/v1/videos/{i}").json()["status"] for i in ids]
        most_running = max(most_running, statuses.count("in_progress"))
        if all(s in ("completed", "failed", "canceled") for s in statuses):
            break
        time.sleep(0.02)
    assert most_running == 1
    assert [wait_terminal(client, i)["status"] for i in ids] == ["completed"] * 3
