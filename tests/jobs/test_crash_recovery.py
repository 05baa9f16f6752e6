"""A service process killed (SIGKILL) mid-job finishes that job once after a restart."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from tests.conftest import ADMIN_KEY
from tests.live import finished, free_port, poll_video, rendering_past, start_service


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    return start_service(data_dir, port, DEFAULT_MODEL="slow_with_progress")


def test_sigkill_mid_job_resumes_and_finishes_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
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
        poll_video(base, vid, rendering_past(20), timeout=30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

        proc = _start(data_dir, port)
        body = poll_video(base, vid, finished)
        assert body["status"] == "completed", body
        video = httpx.get(f"{base}/v1/videos/{vid}/content", headers=auth)
        assert video.status_code == 200 and len(video.content) > 1000
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)

    outputs = sorted(p.name for p in (data_dir / "storage" / "outputs").iterdir())
    assert outputs == [vid]
    files = sorted(p.name for p in (data_dir / "storage" / "outputs" / vid).iterdir())
    assert files == ["last_frame.png", "spritesheet.jpg", "thumbnail.jpg", "video.mp4"]
    engine = sa.create_engine(f"sqlite:///{data_dir / 'reelforge.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status FROM jobs")).all()
    assert [tuple(r) for r in rows] == [(vid, "succeeded")]
    assert not (data_dir / "work" / vid).exists()


def test_sigterm_mid_job_stops_fast_and_the_job_resumes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    proc = _start(data_dir, port)
    try:
        body = {"prompt": "x", "seconds": 5, "size": "854x480"}
        vid = httpx.post(f"{base}/v1/videos", json=body, headers=auth).json()["id"]
        poll_video(base, vid, rendering_past(20), timeout=30)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert time.monotonic() - t0 < 5.0  # the render is not waited for

        proc = _start(data_dir, port)
        job = poll_video(base, vid, finished)
        assert job["status"] == "completed", job
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
