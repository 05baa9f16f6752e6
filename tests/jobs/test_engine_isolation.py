"""Engines run in a child process: a cancel they ignore, or a crash, ends that job only."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tests.conftest import wait_for, wait_terminal

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
