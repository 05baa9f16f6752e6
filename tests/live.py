"""Real service processes for process-level tests: start one (the fixture engines included),
wait until it answers, poll a video while it renders."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ADMIN_KEY

ROOT = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_service(data_dir: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    """`python -m tests.fixtures.serve` with the admin key of the tests; `env` adds or overrides
    `REELFORGE_*` settings (names without the prefix, e.g. DEFAULT_MODEL="ok")."""
    settings = {
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "BOOTSTRAP_KEY": ADMIN_KEY,
        "PRINT_ADMIN_KEY": "false",
        "QUEUE_POLL_SECONDS": "0.05",
        **env,
    }
    full_env = {**os.environ, **{f"REELFORGE_{k}": v for k, v in settings.items()}}
    cmd = [sys.executable, "-m", "tests.fixtures.serve"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env)
    wait_ready(proc, port)
    return proc


def wait_ready(proc: subprocess.Popen[bytes], port: int) -> None:
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


def poll_video(
    base: str,
    video_id: str,
    until: Callable[[dict[str, Any]], bool],
    *,
    timeout: float = 60,
    headers: dict[str, str] = AUTH,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = httpx.get(f"{base}/v1/videos/{video_id}", headers=headers).json()
        if until(body):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def rendering_past(percent: float) -> Callable[[dict[str, Any]], bool]:
    return lambda b: b["status"] == "in_progress" and b["progress"] >= percent


def finished(body: dict[str, Any]) -> bool:
    return body["status"] not in ("queued", "in_progress")
