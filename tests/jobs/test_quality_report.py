"""Every delivered video is measured against its plan after it completes: `quality` on the
Video object, with a verdict per check (container, loudness, camera motion, references, cuts)."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from reelforge.engines.registry import EngineRegistry
from tests.conftest import ADMIN_KEY, make_settings, wait_terminal
from tests.media_helpers import studio_figure, write_image


def test_a_completed_video_gets_its_quality_report(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", default_model="preview", quality_reports=True)
    photo = write_image(tmp_path / "figure.png", studio_figure(640, 480))
    body = {
        "prompt": "@Image1 on a plain stage, slow dolly in",
        "seconds": 2,
        "size": "854x480",
        "references": [{"type": "image", "data": base64.b64encode(photo.read_bytes()).decode()}],
    }
    app = create_app(settings, engines=EngineRegistry(settings=settings))
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        created = client.post("/v1/videos", json=body)
        assert created.status_code == 202, created.text
        assert created.json()["quality"] is None
        vid = created.json()["id"]
        assert wait_terminal(client, vid, timeout=120)["status"] == "completed"
        deadline = time.monotonic() + 60
        while (quality := client.get(f"/v1/videos/{vid}").json()["quality"]) is None:
            assert time.monotonic() < deadline, "no quality report after 60 s"
            time.sleep(0.1)
    assert quality["verdict"] in ("pass", "fail")
    measured = quality["measured"]
    assert (measured["width"], measured["height"]) == (854, 480)
    assert abs(measured["duration"] - 2.0) < 0.1
    names = {c["name"] for c in quality["checks"]}
    assert {"container.size", "container.fps", "container.codec", "audio.present", "cuts"} <= names
    assert all(c["verdict"] in ("pass", "fail", "n/a") for c in quality["checks"])
