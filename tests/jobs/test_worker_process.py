"""Scale mode on one machine: an API process that renders nothing, and `reelforge worker` beside
it on the same database, rendering the jobs the API accepted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ADMIN_KEY
from tests.live import free_port, start_service

BIN = Path(sys.executable).parent


def test_api_without_workers_and_a_worker_process(tmp_path: Path) -> None:
    port = free_port()
    api = start_service(tmp_path / "data", port, RUN_WORKERS="false", EXECUTOR_ID="api-1")
    env = {
        **os.environ,
        "REELFORGE_DATA_DIR": str(tmp_path / "data"),
        "REELFORGE_QUEUE_POLL_SECONDS": "0.1",
    }
    worker: subprocess.Popen[bytes] | None = None
    try:
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
        body = {"prompt": "slow pan left", "seconds": 1, "size": "854x480", "model": "preview"}
        vid = httpx.post(f"{base}/v1/videos", json=body, headers=auth).json()["id"]
        time.sleep(1.0)
        assert httpx.get(f"{base}/v1/videos/{vid}", headers=auth).json()["status"] == "queued"

        worker = subprocess.Popen([str(BIN / "reelforge"), "worker", "--engine", "preview"],
                                  env={**env, "REELFORGE_EXECUTOR_ID": "worker-1"})  # fmt: skip
        deadline = time.monotonic() + 90
        while True:
            job = httpx.get(f"{base}/v1/videos/{vid}", headers=auth).json()
            if job["status"] in ("completed", "failed"):
                break
            assert time.monotonic() < deadline, job
            assert worker.poll() is None, "worker exited"
            time.sleep(0.2)
        assert job["status"] == "completed", job
        assert httpx.get(f"{base}/v1/videos/{vid}/content", headers=auth).status_code == 200
    finally:
        for proc in (worker, api):
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
        for proc in (worker, api):
            if proc is not None:
                proc.wait(timeout=30)
