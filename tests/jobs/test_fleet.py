"""A worker that dies for good: a surviving worker recovers its job within a bounded time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ADMIN_KEY
from tests.jobs.test_crash_recovery import ROOT, _free_port, _wait_ready


def _worker(data_dir: Path, port: int, executor: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "REELFORGE_DATA_DIR": str(data_dir),
        "REELFORGE_PORT": str(port),
        "REELFORGE_BOOTSTRAP_KEY": ADMIN_KEY,
        "REELFORGE_DEFAULT_MODEL": "slow_with_progress",
        "REELFORGE_EXECUTOR_ID": executor,
        "REELFORGE_PRINT_ADMIN_KEY": "false",
        "REELFORGE_QUEUE_POLL_SECONDS": "0.1",
        "REELFORGE_WORKER_HEARTBEAT_SECONDS": "0.3",
        "REELFORGE_DEAD_WORKER_SECONDS": "1.5",
    }
    proc = subprocess.Popen([sys.executable, "-m", "tests.fixtures.serve"], cwd=ROOT, env=env)
    _wait_ready(proc, port)
    return proc


def test_survivor_recovers_the_job_of_a_dead_worker(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port_a, port_b = _free_port(), _free_port()
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    a = _worker(data_dir, port_a, "worker-a")
    b: subprocess.Popen[bytes] | None = None
    try:
        body = {"prompt": "x", "seconds": 5, "size": "854x480"}
        vid = httpx.post(f"http://127.0.0.1:{port_a}/v1/videos", json=body, headers=auth).json()[
            "id"
        ]
        deadline = time.monotonic() + 30
        while httpx.get(f"http://127.0.0.1:{port_a}/v1/videos/{vid}",
                        headers=auth).json()["progress"] < 20:  # fmt: skip
            assert time.monotonic() < deadline
            time.sleep(0.05)
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=10)

        b = _worker(data_dir, port_b, "worker-b")  # another executor id: no self-recovery
        deadline = time.monotonic() + 60
        while True:
            job = httpx.get(f"http://127.0.0.1:{port_b}/v1/videos/{vid}", headers=auth).json()
            if job["status"] not in ("queued", "in_progress"):
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert job["status"] == "completed", job
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
