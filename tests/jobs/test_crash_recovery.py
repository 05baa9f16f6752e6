"""A service process killed (SIGKILL) mid-job finishes that job once after a restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.conftest import ADMIN_KEY

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "REELFORGE_DATA_DIR": str(data_dir),
        "REELFORGE_PORT": str(port),
        "REELFORGE_BOOTSTRAP_KEY": ADMIN_KEY,
        "REELFORGE_DEFAULT_MODEL": "slow_with_progress",
        "REELFORGE_QUEUE_POLL_SECONDS": "0.05",
        "REELFORGE_PRINT_ADMIN_KEY": "false",
    }
    proc = subprocess.Popen([sys.executable, "-m", "tests.fixtures.serve"], cwd=ROOT, env=env)
    _wait_ready(proc, port)
    return proc


def _wait_ready(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"service exited with {proc.returncode}")
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("service did not become ready")


def test_sigkill_mid_job_resumes_and_finishes_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    proc = _start(data_dir, port)
    try:
        r = httpx.post(
            f"{base}/v1/videos",
            json={"prompt": "x", "seconds": 5, "size": "854x480"},
            headers=auth,
        )
        assert r.status_code == 202, r.text
        vid = r.json()["id"]
        deadline = time.monotonic() + 30
        while True:
            body = httpx.get(f"{base}/v1/videos/{vid}", headers=auth).json()
            if body["status"] == "in_progress" and body["progress"] >= 20:
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

        proc = _start(data_dir, port)
        deadline = time.monotonic() + 60
        while True:
            body = httpx.get(f"{base}/v1/videos/{vid}", headers=auth).json()
            if body["status"] not in ("queued", "in_progress"):
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.1)
        assert body["status"] == "completed", body
        video = httpx.get(f"{base}/v1/videos/{vid}/content", headers=auth)
        assert video.status_code == 200 and len(video.content) > 1000
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)

    outputs = sorted(p.name for p in (data_dir / "storage" / "outputs").iterdir())
    assert outputs == [vid]
    files = sorted(p.name for p in (data_dir / "storage" / "outputs" / vid).iterdir())
    assert files == ["last_frame.png", "thumbnail.jpg", "video.mp4"]
    engine = sa.create_engine(f"sqlite:///{data_dir / 'reelforge.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status FROM jobs")).all()
    assert [tuple(r) for r in rows] == [(vid, "succeeded")]
    assert not (data_dir / "work" / vid).exists()


def test_sigterm_mid_job_stops_fast_and_the_job_resumes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    proc = _start(data_dir, port)
    try:
        body = {"prompt": "x", "seconds": 5, "size": "854x480"}
        vid = httpx.post(f"{base}/v1/videos", json=body, headers=auth).json()["id"]
        deadline = time.monotonic() + 30
        while httpx.get(f"{base}/v1/videos/{vid}", headers=auth).json()["progress"] < 20:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert time.monotonic() - t0 < 5.0  # the render is not waited for

        proc = _start(data_dir, port)
        deadline = time.monotonic() + 60
        while True:
            job = httpx.get(f"{base}/v1/videos/{vid}", headers=auth).json()
            if job["status"] not in ("queued", "in_progress"):
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert job["status"] == "completed", job
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
