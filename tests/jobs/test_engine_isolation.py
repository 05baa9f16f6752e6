"""Engines run in a child process: a cancel they ignore, or a crash, ends that job only."""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from reelforge.engines.base import RenderRequest
from reelforge.jobs.engine_host import EngineHosts, WorkerShuttingDown
from reelforge.planning.shots import plan_shots
from reelforge.spec import Codec
from tests.conftest import ADMIN_KEY, make_settings, wait_for, wait_terminal
from tests.fixtures.engines.basic import fixture_registry

BODY = {"prompt": "x", "seconds": 2, "size": "854x480"}


def test_engine_that_ignores_cancel_is_terminated(client: TestClient) -> None:
    vid = client.post("/v1/videos", json={**BODY, "model": "hangs"}).json()["id"]
    wait_for(client, vid, lambda b: b["status"] == "in_progress" and b["stage"] == "generate")
    time.sleep(0.3)
    t0 = time.monotonic()
    client.post(f"/v1/videos/{vid}/cancel")
    done = wait_terminal(client, vid)
    assert done["status"] == "canceled"
    assert time.monotonic() - t0 < 2.0
    after = client.post("/v1/videos", json={**BODY, "model": "hangs", "seconds": 1})
    # The next job of the same engine gets a fresh process.
    nxt = after.json()["id"]
    wait_for(client, nxt, lambda b: b["status"] == "in_progress" and b["stage"] == "generate")
    client.post(f"/v1/videos/{nxt}/cancel")
    assert wait_terminal(client, nxt)["status"] == "canceled"


def test_engine_crash_fails_the_job_not_the_service(client: TestClient) -> None:
    vid = client.post("/v1/videos", json={**BODY, "model": "crashes_process"}).json()["id"]
    done = wait_terminal(client, vid)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "engine.crashed"
    assert client.get("/healthz").status_code == 200
    ok = client.post("/v1/videos", json=BODY).json()["id"]
    assert wait_terminal(client, ok)["status"] == "completed"


def test_engine_process_is_started_before_the_first_job(tmp_path: Path) -> None:
    """With `prewarm_engines` (the default) the default engine's process starts with the
    service, and the first job renders in that same process."""
    settings = make_settings(tmp_path / "data", prewarm_engines=True)
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        deadline = time.monotonic() + 30
        while not _engine_processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        warm = _engine_processes()
        assert [p.name for p in warm] == ["reelforge-engine-ok"]
        vid = client.post("/v1/videos", json={"prompt": "x", "seconds": 1, "size": "854x480"})
        assert wait_terminal(client, vid.json()["id"])["status"] == "completed"
        assert [p.pid for p in _engine_processes()] == [warm[0].pid]


def test_closed_engine_hosts_start_no_process(tmp_path: Path) -> None:
    """Once the service closed its engine hosts, a late render (a workflow step still on its way
    in) is refused as a shutdown, so its job resumes later, and a late warm-up does nothing:
    neither starts an engine process that would outlive the service."""
    hosts = EngineHosts(fixture_registry())
    request = RenderRequest(
        prompt="x", plan=plan_shots("x", 6, 24, 0), width=64, height=48, num_frames=6, seed=1,
        generate_audio=False,
    )  # fmt: skip

    def render(out: Path) -> object:
        return hosts.render(
            "ok", request, out, codec=Codec.H264, progress=lambda _p: None,
            cancel=threading.Event(),
        )  # fmt: skip

    (tmp_path / "a").mkdir()
    try:
        render(tmp_path / "a")  # the engine's process starts and renders
        assert [p.name for p in _engine_processes()] == ["reelforge-engine-ok"]
    finally:
        hosts.close()
    assert _engine_processes() == []
    hosts.warm(["ok"])
    (tmp_path / "b").mkdir()
    with pytest.raises(WorkerShuttingDown):
        render(tmp_path / "b")
    time.sleep(0.2)  # a warm-up runs on a thread of its own: give it time to (not) start one
    assert _engine_processes() == []


def _engine_processes() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name.startswith("reelforge-engine")]
