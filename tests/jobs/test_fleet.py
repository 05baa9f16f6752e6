"""A worker that dies for good: a surviving worker recovers its job within a bounded time."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx

from tests.conftest import ADMIN_KEY
from tests.live import finished, free_port, poll_video, rendering_past, start_service


def _worker(data_dir: Path, port: int, executor: str) -> subprocess.Popen[bytes]:
    return start_service(
        data_dir, port, DEFAULT_MODEL="slow_with_progress", EXECUTOR_ID=executor,
        QUEUE_POLL_SECONDS="0.1", WORKER_HEARTBEAT_SECONDS="0.3", DEAD_WORKER_SECONDS="1.5",
    )  # fmt: skip


def test_survivor_recovers_the_job_of_a_dead_worker(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port_a, port_b = free_port(), free_port()
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    a = _worker(data_dir, port_a, "worker-a")
    b: subprocess.Popen[bytes] | None = None
    try:
        body = {"prompt": "x", "seconds": 5, "size": "854x480"}
        vid = httpx.post(f"http://127.0.0.1:{port_a}/v1/videos", json=body, headers=auth).json()[
            "id"
        ]
        poll_video(f"http://127.0.0.1:{port_a}", vid, rendering_past(20), timeout=30)
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=10)

        b = _worker(data_dir, port_b, "worker-b")  # another executor id: no self-recovery
        job = poll_video(f"http://127.0.0.1:{port_b}", vid, finished)
        assert job["status"] == "completed", job
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
