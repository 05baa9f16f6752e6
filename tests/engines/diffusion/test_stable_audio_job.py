"""wan-vace's text-to-audio path end to end: a tiny real StableAudioPipeline loaded from disk
makes the soundtrack of a silent Wan VACE render, through the native API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np

from tests.conftest import wait_terminal
from tests.engines.diffusion.tiny import build_stable_audio


def test_wan_vace_job_with_a_text_to_audio_soundtrack(
    diffusion_app: Callable[..., Any], tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    audio_model = build_stable_audio(tmp_path / "stable-audio")
    with diffusion_app(
        default_model="wan-vace", engine_wan_vace_model=str(tiny_models["wan-vace"]),
        engine_audio_model=str(audio_model),
    ) as client:  # fmt: skip
        r = client.post(
            "/v1/videos",
            json={"model": "wan-vace", "prompt": "rain on a tin roof", "seconds": 1,
                  "size": "854x480"},
        )  # fmt: skip
        assert r.status_code == 202, r.text
        done = wait_terminal(client, r.json()["id"], timeout=120)
        assert done["status"] == "completed", done
        content = client.get(f"/v1/videos/{done['id']}/content")
        assert content.status_code == 200
    path = tmp_path / "wan.mp4"
    path.write_bytes(content.content)
    with av.open(str(path)) as c:
        assert len(c.streams.audio) == 1
        audio = c.streams.audio[0]
        assert audio.codec_context.channels == 2
        rate = audio.codec_context.sample_rate
        left = np.concatenate([f.to_ndarray()[0] for f in c.decode(audio=0)])
    assert abs(len(left) / rate - 1.0) < 0.1
    assert float(np.sqrt(np.mean(left**2))) > 1e-3  # a levelled soundtrack, not silence
    # The tiny model makes 8 kHz audio: nothing above 4 kHz survives in the 48 kHz AAC. The
    # procedural "rain" bed it would otherwise fall back to has most of its energy up there.
    power = np.abs(np.fft.rfft(left)) ** 2
    high = power[np.fft.rfftfreq(len(left), 1 / rate) > 4500].sum() / max(power.sum(), 1e-12)
    assert high < 0.05, high
