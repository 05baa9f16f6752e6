"""Issue 2's acceptance path: `reelforge serve` from scratch, the printed key, a 5 s 720p 9:16
video from two uploaded images, and `reelforge generate` without a server."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import httpx
from PIL import Image, ImageDraw

from tests.live import free_port

BIN = Path(sys.executable).parent


def _png(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (800, 600)) -> bytes:
    img = Image.new("RGB", size, (200, 200, 205))
    draw = ImageDraw.Draw(img)
    draw.ellipse((250, 120, 550, 520), fill=color)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def _check_mp4(path: Path, width: int, height: int, seconds: float) -> None:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == (width, height)
        assert video.average_rate == 24
        assert [s.codec_context.name for s in container.streams.audio] == ["aac"]
        frames = sum(1 for _ in container.demux(video) if _.size)
    assert frames == round(seconds * 24)


def test_serve_prints_key_and_renders_two_image_video(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "REELFORGE_DATA_DIR": str(tmp_path / "data"),
           "REELFORGE_PORT": str(port)}  # fmt: skip
    env.pop("REELFORGE_BOOTSTRAP_KEY", None)
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([str(BIN / "reelforge"), "serve"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        output = log_path.read_text()
        assert base in output
        printed = re.search(r"\b(rf_[A-Za-z0-9_-]{32,})\b", output)
        assert printed, output
        key = printed.group(1)
        assert (tmp_path / "data" / "admin_key").read_text().strip() == key
        auth = {"Authorization": f"Bearer {key}"}

        files = [
            ("image", ("subject.png", _png(tmp_path / "a.png", (200, 40, 40)), "image/png")),
            ("image", ("scene.png", _png(tmp_path / "b.png", (40, 90, 200)), "image/png")),
        ]
        form = {"prompt": "slow zoom in on @Image1 standing in @Image2", "seconds": "5",
                "resolution": "720p", "aspect_ratio": "9:16"}  # fmt: skip
        with httpx.Client(base_url=base, headers=auth) as client:
            client.get("/healthz")  # warm the connection, as a real client would
            t0 = time.perf_counter()
            r = client.post("/v1/videos", data=form, files=files)
            elapsed = time.perf_counter() - t0
            assert r.status_code == 202, r.text
            assert elapsed < 0.2, f"create took {elapsed * 1000:.0f} ms"
            video = r.json()
            assert video["engine"] == "preview"
            deadline = time.monotonic() + 120
            while video["status"] not in ("completed", "failed", "canceled"):
                assert time.monotonic() < deadline, video
                time.sleep(0.2)
                video = client.get(f"/v1/videos/{video['id']}").json()
            assert video["status"] == "completed", video
            out = tmp_path / "out.mp4"
            out.write_bytes(client.get(f"/v1/videos/{video['id']}/content").content)
        _check_mp4(out, 720, 1280, 5.0)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_generate_writes_mp4_without_server(tmp_path: Path) -> None:
    _png(tmp_path / "a.png", (30, 160, 60))
    out = tmp_path / "out.mp4"
    result = subprocess.run(
        [str(BIN / "reelforge"), "generate", "--prompt", "slow zoom in on @Image1",
         "--image", str(tmp_path / "a.png"), "--seconds", "2", "--resolution", "480p",
         "-o", str(out)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "REELFORGE_DATA_DIR": str(tmp_path / "data")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    _check_mp4(out, 854, 480, 2.0)
