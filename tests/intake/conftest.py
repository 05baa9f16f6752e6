"""Intake fixtures: one corpus of generated media per session, one app per module."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from tests.conftest import ADMIN_KEY, make_settings
from tests.fixtures.engines.basic import fixture_registry
from tests.intake import media


def _other_container(fmt: str, codec: str) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=24)
        stream.width, stream.height, stream.pix_fmt = 640, 640, "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((640, 640, 3), np.uint8), format="rgb24")
        for _ in range(72):
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def _mov(seconds: float) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mov") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 640, 640, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "45"}
        frame = av.VideoFrame.from_ndarray(np.zeros((640, 640, 3), np.uint8), format="rgb24")
        for _ in range(round(seconds * 24)):
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


@pytest.fixture(scope="session")
def corpus() -> dict[str, bytes]:
    """Every file the intake tests send, made once (about a second on two cores)."""
    png = media.image_bytes(640, 480, "PNG")
    jpeg = media.image_bytes(640, 480, "JPEG", seed=1)
    mp4_3s = media.mp4_bytes(3)
    mp3 = media.audio_bytes(3, "mp3")
    wav = media.audio_bytes(3, "wav")
    return {
        "png": png,
        "jpeg": jpeg,
        "webp": media.image_bytes(400, 400, "WEBP", seed=2),
        "bmp": media.image_bytes(400, 400, "BMP", seed=3),
        "tiff": media.image_bytes(400, 400, "TIFF", seed=4),
        "gif": media.image_bytes(400, 400, "GIF", seed=5),
        "png_200": media.image_bytes(200, 200, "PNG"),
        "png_panorama": media.image_bytes(2400, 300, "PNG"),
        "png_bomb": media.png_header_only(30000, 30000),
        "png_cut": media.cut(png),
        "jpeg_cut": media.cut(jpeg),
        "mp4_3s": mp4_3s,
        "mp4_3s_audio": media.mp4_bytes(3, with_audio=True),
        "mov_3s": _mov(3),
        "mp4_10s": media.mp4_bytes(10),
        "mp4_8s": media.mp4_bytes(8),
        "mp4_1s": media.mp4_bytes(1),
        "mp4_320": media.mp4_bytes(3, 320, 240),
        "mp4_12fps": media.mp4_bytes(3, fps=12),
        "mp4_2h": media.claim_duration(mp4_3s, 7200),
        "mp4_cut": media.cut(mp4_3s),
        "mp4_lying_mdat": media.cut_with_honest_mdat(media.mp4_bytes(3, faststart=True)),
        "mp4_mpeg2": _other_container("mp4", "mpeg2video"),
        "mkv": _other_container("matroska", "libx264"),
        "mp3": mp3,
        "wav": wav,
        "mp3_cut": media.cut(mp3),
        "wav_cut": media.cut(wav),
        "mp3_20s": media.audio_bytes(20, "mp3"),
        "text": b"<!DOCTYPE html><html><body>not found</body></html>",
    }


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for a whole module of requests that create nothing (or little)."""
    data_dir: Path = tmp_path_factory.mktemp("intake-api") / "data"
    settings = make_settings(data_dir, creates_per_minute=100_000, max_active_jobs=1000)
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        yield client
