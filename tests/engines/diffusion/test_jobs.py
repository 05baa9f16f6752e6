"""End to end on the CPU: tiny real diffusers pipelines saved to disk, loaded by the engines
through the same loader as a real checkpoint, driven through the native API."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import pytest
from fastapi.testclient import TestClient

from tests.conftest import wait_for, wait_terminal
from tests.engines.diffusion.conftest import png_data_uri


def _download(client: TestClient, video_id: str, path: Path) -> tuple[int, int, int, int]:
    """(width, height, frames, audio streams) of a job's MP4."""
    content = client.get(f"/v1/videos/{video_id}/content")
    assert content.status_code == 200
    path.write_bytes(content.content)
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        size = (vs.codec_context.width, vs.codec_context.height)
        audio = len(c.streams.audio)
        frames = sum(1 for _ in c.decode(video=0))
    return size[0], size[1], frames, audio


def test_wan_vace_job_with_image_references(
    diffusion_app: Callable[..., Any], tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    with diffusion_app(
        default_model="wan-vace", engine_wan_vace_model=str(tiny_models["wan-vace"])
    ) as client:
        r = client.post(
            "/v1/videos",
            json={
                "model": "wan-vace",
                "prompt": "@Image1 walks past @Image2 on a beach",
                "seconds": 1,
                "size": "854x480",
                "references": [
                    {"type": "image", "url": png_data_uri(480, 320, (200, 40, 40))},
                    {"type": "image", "url": png_data_uri(320, 480, (40, 40, 200))},
                ],
            },
        )
        assert r.status_code == 202, r.text
        done = wait_terminal(client, r.json()["id"], timeout=120)
        assert done["status"] == "completed", done
        assert done["engine"] == "wan-vace"
        w, h, frames, audio = _download(client, str(done["id"]), tmp_path / "wan.mp4")
    assert (w, h, frames) == (854, 480, 24)
    assert audio == 1  # the procedural soundtrack (no text-to-audio model configured)


def test_ltx2_job_with_first_and_last_frames(
    diffusion_app: Callable[..., Any], tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    with diffusion_app(default_model="ltx2", engine_ltx2_model=str(tiny_models["ltx2"])) as client:
        r = client.post(
            "/v1/videos",
            json={
                "model": "ltx2",
                "prompt": "slow dolly in, the light turns yellow",
                "seconds": 1,
                "size": "854x480",
                "references": [
                    {
                        "type": "image",
                        "url": png_data_uri(480, 320, (30, 160, 30)),
                        "role": "first_frame",
                    },
                    {
                        "type": "image",
                        "url": png_data_uri(480, 320, (160, 160, 30)),
                        "role": "last_frame",
                    },
                ],
            },
        )
        assert r.status_code == 202, r.text
        done = wait_terminal(client, r.json()["id"], timeout=120)
        assert done["status"] == "completed", done
        assert done["engine"] == "ltx2"
        w, h, frames, audio = _download(client, str(done["id"]), tmp_path / "ltx2.mp4")
    assert (w, h, frames) == (854, 480, 24)
    assert audio == 1  # LTX-2's own joint audio


def test_cancel_during_denoising_through_the_api(
    diffusion_app: Callable[..., Any], tiny_models: dict[str, Path]
) -> None:
    # 2000 tiny steps would take minutes; the cancel must end the job within a step or two.
    with diffusion_app(
        default_model="wan-vace",
        engine_wan_vace_model=str(tiny_models["wan-vace"]),
        engine_steps=2000,
    ) as client:
        vid = client.post(
            "/v1/videos", json={"model": "wan-vace", "prompt": "x", "seconds": 1, "size": "854x480"}
        ).json()["id"]
        running = wait_for(client, vid, lambda b: float(b["progress"]) > 6, timeout=60)  # type: ignore[arg-type]
        assert running["status"] == "in_progress"
        t0 = time.monotonic()
        assert client.post(f"/v1/videos/{vid}/cancel").status_code in (200, 202)
        done = wait_terminal(client, vid, timeout=30)
        assert done["status"] == "canceled", done
        assert time.monotonic() - t0 < 10


def test_missing_weights_are_refused_at_create_and_logged_at_start(
    diffusion_app: Callable[..., Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Decided before the 202 (issue 11): no job is made for an engine that cannot render."""
    missing = tmp_path / "no-such-checkpoint"
    with (
        caplog.at_level(logging.ERROR, logger="reelforge"),
        diffusion_app(default_model="wan-vace", engine_wan_vace_model=str(missing)) as client,
    ):
        r = client.post(
            "/v1/videos", json={"model": "wan-vace", "prompt": "x", "seconds": 1, "size": "854x480"}
        )
        assert client.get("/v1/videos").json()["data"] == []
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "model_not_available"
    assert "engine_wan_vace_model" in r.json()["error"]["message"]
    assert any("wan-vace is unavailable" in rec.getMessage() for rec in caplog.records)
