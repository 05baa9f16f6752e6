"""MiniMax-H3 end to end on the CPU: the real modular pipeline (`MiniMaxH3Blocks`) with every
component at tiny size, loaded from a checkpoint on disk by the engine, driven through the native
API and the Ark API.

The model takes 9 images, 3 videos and 3 audio clips but at most 12 references in all, as the
service's default limits do (`limits.max_references=12`). The native test raises that limit to 15
and sends 9 + 3 + 3: the engine keeps the 12 the prompt needs most and logs the rest as left out.
The Ark test sends 6 + 3 + 3 = 12 under the default limits.

No torchvision here: the engine builds the Qwen3-VL processor from the PIL image processor and
the NumPy video processor of `engines/diffusion/qwen_vision.py`.
"""

from __future__ import annotations

import base64
import fractions
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import av
import numpy as np
import pytest

from tests.conftest import wait_terminal
from tests.engines.diffusion.conftest import png_data_uri
from tests.media_helpers import textured_landscape, write_tone_wav


def _write_clip(path: Path, seconds: float, seed: int, with_sound: bool) -> Path:
    """A 854x480 24 fps H.264 clip (the smallest the default limits take), with an AAC tone."""
    width, height, fps = 854, 480, 24
    base = textured_landscape(width + 64, height + 64, seed=seed)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=48_000, layout="stereo") if with_sound else None
        for i in range(round(seconds * fps)):
            rgb = np.ascontiguousarray(base[i : i + height, i : i + width])
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, fractions.Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            n = round(seconds * 48_000)
            tone = (0.3 * np.sin(2 * np.pi * 330 * np.arange(n) / 48_000)).astype(np.float32)
            stereo = np.stack([tone, tone])
            frame = av.AudioFrame.from_ndarray(stereo, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 48_000, 0
            out.mux(audio.encode(frame))
            out.mux(audio.encode(None))
    return path


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


@pytest.fixture(scope="module")
def full_references(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """9 image, 3 video (the first with sound) and 3 audio data URIs."""
    root = tmp_path_factory.mktemp("h3-refs")
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40), (200, 40, 200),
               (40, 200, 200), (120, 60, 30), (30, 60, 120), (90, 90, 90)]  # fmt: skip
    images = [png_data_uri(480, 320, c) for c in colours]
    videos = [
        _data_uri(_write_clip(root / f"v{i}.mp4", 2.0, seed=i, with_sound=i == 1), "video/mp4")
        for i in (1, 2, 3)
    ]
    audio = [
        _data_uri(write_tone_wav(root / f"a{i}.wav", seconds=2.0, hz=220.0 * i), "audio/wav")
        for i in (1, 2, 3)
    ]
    return {"image": images, "video": videos, "audio": audio}


def _probe(data: bytes, path: Path) -> tuple[int, int, int, int, int]:
    """(width, height, frames, audio streams, audio channels) of an MP4."""
    path.write_bytes(data)
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        size = (vs.codec_context.width, vs.codec_context.height)
        audio = list(c.streams.audio)
        channels = audio[0].codec_context.channels if audio else 0
        frames = sum(1 for _ in c.decode(video=0))
    return size[0], size[1], frames, len(audio), channels


PROMPT = "@Image1 dances in front of @Image2 to @Audio2, moving like @Video1"


def test_native_api_renders_a_full_seedance_request(
    diffusion_app: Callable[..., Any], tiny_h3: Path, full_references: dict[str, list[str]],
    tmp_path: Path,
) -> None:  # fmt: skip
    references = [{"type": kind, "url": url} for kind in ("image", "video", "audio")
                  for url in full_references[kind]]  # fmt: skip
    assert len(references) == 15
    with diffusion_app(
        default_model="minimax-h3", engine_minimax_h3_model=str(tiny_h3),
        limits={"max_references": 15},
    ) as client:  # fmt: skip
        r = client.post(
            "/v1/videos",
            json={"model": "minimax-h3", "prompt": PROMPT, "seconds": 1, "size": "854x480",
                  "references": references},
        )  # fmt: skip
        assert r.status_code == 202, r.text
        # The model sees 12 of the 15: accepted, and said on the job before anyone pays.
        warned = [w for w in r.json()["warnings"] if w["code"] == "engine.references_left_out"]
        assert len(warned) == 1 and "3 of the 15" in warned[0]["message"], r.json()["warnings"]
        done = wait_terminal(client, r.json()["id"], timeout=180)
        assert done["status"] == "completed", done
        assert done["engine"] == "minimax-h3"
        content = client.get(f"/v1/videos/{done['id']}/content")
        assert content.status_code == 200
    w, h, frames, audio, channels = _probe(content.content, tmp_path / "h3.mp4")
    assert (w, h, frames) == (854, 480, 24)
    assert audio == 1 and channels == 2  # the model's joint stereo soundtrack


def test_ark_api_renders_a_full_seedance_request(
    diffusion_app: Callable[..., Any], tiny_h3: Path, full_references: dict[str, list[str]],
    tmp_path: Path,
) -> None:  # fmt: skip
    content: list[dict[str, Any]] = [{"type": "text", "text": PROMPT}]
    content += [{"type": "image_url", "image_url": {"url": u}, "role": "reference_image"}
                for u in full_references["image"][:6]]  # fmt: skip
    content += [{"type": "video_url", "video_url": {"url": u}, "role": "reference_video"}
                for u in full_references["video"]]  # fmt: skip
    content += [{"type": "audio_url", "audio_url": {"url": u}, "role": "reference_audio"}
                for u in full_references["audio"]]  # fmt: skip
    with diffusion_app(default_model="minimax-h3", engine_minimax_h3_model=str(tiny_h3)) as client:
        r = client.post(
            "/api/v3/contents/generations/tasks",
            json={"model": "minimax-h3", "content": content, "duration": 1, "resolution": "480p",
                  "ratio": "16:9", "generate_audio": True},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        task_id = r.json()["id"]
        wait_terminal(client, task_id, timeout=180)
        task = client.get(f"/api/v3/contents/generations/tasks/{task_id}").json()
        assert task["status"] == "succeeded", task
        url = urlsplit(task["content"]["video_url"])
        video = client.get(f"{url.path}?{url.query}", headers={"Authorization": ""})
        assert video.status_code == 200
    w, h, frames, audio, channels = _probe(video.content, tmp_path / "ark.mp4")
    assert (w, h, frames) == (854, 480, 24)
    assert audio == 1 and channels == 2


def test_tiny_checkpoint_loads_without_torchvision(tiny_h3: Path) -> None:
    from reelforge.engines.diffusion.loading import DiffusionOptions
    from reelforge.engines.diffusion.minimax_h3 import MiniMaxH3Engine
    from reelforge.engines.diffusion.qwen_vision import (
        NumpyQwen3VLVideoProcessor,
        torchvision_usable,
    )

    engine = MiniMaxH3Engine(DiffusionOptions(model=str(tiny_h3), device="cpu", dtype="float32"))
    pipe = engine.pipeline()
    if not torchvision_usable():
        assert isinstance(pipe.processor.video_processor, NumpyQwen3VLVideoProcessor)
        assert type(pipe.processor.image_processor).__name__ == "Qwen2VLImageProcessorPil"
    assert type(pipe.processor).__mro__[1].__name__ in ("Qwen3VLProcessor", "ProcessorMixin")
