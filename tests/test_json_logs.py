"""`reelforge serve` with JSON logs (the default): every line it writes, on stdout and stderr, is
one JSON object, uvicorn's access lines included; the access line carries the request's id, and
each change of a job's status is one line with the job's id."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ADMIN_KEY
from tests.live import AUTH, free_port, poll_video, wait_ready

BIN = Path(sys.executable).parent


def _lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            raise AssertionError(f"{path.name} line {n} is not JSON: {line!r}") from None
        assert isinstance(entry, dict), line
        assert {"time", "level", "logger", "message"} <= entry.keys(), line
        out.append(entry)
    return out


def test_serve_logs_json_lines_with_request_and_job_ids(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REELFORGE_")},
        "REELFORGE_DATA_DIR": str(tmp_path / "data"),
        "REELFORGE_PORT": str(port),
        "REELFORGE_BOOTSTRAP_KEY": ADMIN_KEY,
        "REELFORGE_QUEUE_POLL_SECONDS": "0.1",
        "REELFORGE_QUALITY_REPORTS": "false",
    }
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [str(BIN / "reelforge"), "serve"], env=env, stdout=stdout, stderr=stderr
        )
        try:
            wait_ready(proc, port)
            base = f"http://127.0.0.1:{port}"
            created = httpx.post(
                f"{base}/v1/videos",
                headers={**AUTH, "x-request-id": "req-from-the-client-1"},
                json={"prompt": "a red ball rolls across a table", "seconds": 1,
                      "resolution": "480p"},
                timeout=30,
            )  # fmt: skip
            assert created.status_code == 202, created.text
            assert created.headers["x-request-id"] == "req-from-the-client-1"
            video_id = created.json()["id"]
            poll_video(base, video_id, lambda b: b["status"] == "completed", timeout=60)
            missing = httpx.get(f"{base}/v1/videos/video_none", headers=AUTH)
            generated = missing.headers["x-request-id"]
            assert generated.startswith("req_")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    time.sleep(0.1)
    lines = _lines(out) + _lines(err)

    access = [e for e in lines if e["logger"] == "uvicorn.access"]
    create_line = next(e for e in access if e.get("path") == "/v1/videos")
    assert create_line["request_id"] == "req-from-the-client-1", create_line
    assert create_line["http_method"] == "POST" and create_line["status_code"] == 202
    miss = next(e for e in access if e.get("path") == "/v1/videos/video_none")
    assert miss["request_id"] == generated and miss["status_code"] == 404

    moves = [(e["from"], e["to"]) for e in lines if e.get("job_id") == video_id and "to" in e]
    assert moves == [("none", "queued"), ("queued", "running"), ("running", "succeeded")], moves
    queued = next(e for e in lines if e.get("job_id") == video_id and e.get("to") == "queued")
    assert queued["request_id"] == "req-from-the-client-1"  # created inside the request
    assert any(e["logger"].startswith("uvicorn.error") for e in lines)  # the server's own lines
