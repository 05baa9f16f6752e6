"""LTX-2's two-stage preset at tiny size: stage 1 at half the canvas, the real latent upsampler
doubles the latents, stage 2 refines and decodes at the full (upsampled) canvas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelforge.engines.base import RenderRequest
from reelforge.engines.diffusion import options_from_settings
from reelforge.engines.diffusion.loading import EngineUnavailable
from reelforge.engines.diffusion.ltx2 import Ltx2Engine
from reelforge.planning.shots import plan_shots
from tests.conftest import make_settings
from tests.engines.diffusion.conftest import TINY_ENGINE_SETTINGS
from tests.engines.diffusion.tiny import build_ltx2_upsampler


class Never:
    def is_set(self) -> bool:
        return False


class RecordingLtx2(Ltx2Engine):
    """The real engine; remembers what each two-stage call decoded."""

    decoded: list[tuple[int, ...]]

    def _two_stage(self, pipe: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        video, audio = super()._two_stage(pipe, *args, **kwargs)
        self.decoded.append(tuple(np.asarray(video[0]).shape))
        return video, audio


def _engine(model: Path, tmp_path: Path, **overrides: object) -> RecordingLtx2:
    values = {**TINY_ENGINE_SETTINGS, "engine_steps": None, "engine_max_short_edge": 64,
              "engine_presets": {"ltx2:pro": "two_stage"}, **overrides}  # fmt: skip
    engine = RecordingLtx2(options_from_settings(make_settings(tmp_path, **values), str(model)))
    engine.decoded = []
    return engine


def test_two_stage_renders_at_the_upsampled_size(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    upsampler = build_ltx2_upsampler(tmp_path / "latent-upsampler")
    engine = _engine(tiny_models["ltx2"], tmp_path, engine_ltx2_upsampler_model=str(upsampler))
    logs: list[str] = []
    request = RenderRequest(
        prompt="a lighthouse at dusk", plan=plan_shots("x", 24, 24, 0), width=854, height=480,
        num_frames=24, preset="pro", log=logs.append,
    )  # fmt: skip
    reports: list[float] = []
    rendering = engine.render(request, reports.append, Never())
    frames = list(rendering.frames)
    assert len(frames) == 24 and frames[0].shape == (480, 854, 3)
    # 16:9 at a 64 px short edge on the 64 grid: 128x64; stage 1 ran at 64x32.
    assert engine.decoded == [(25, 64, 128, 3)]
    assert "stage 1 at 64x32" in logs[0]
    assert len(reports) == 8 + 3 + 1  # 8 distilled sigmas, 3 stage-2 sigmas, the end
    assert rendering.audio is not None and rendering.audio.seconds == pytest.approx(1.0)


def test_two_stage_without_an_upsampler_is_a_clear_error(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    engine = _engine(tiny_models["ltx2"], tmp_path)  # the tiny checkpoint has no upsampler
    request = RenderRequest(prompt="x", plan=plan_shots("x", 24, 24, 0), width=854, height=480,
                            num_frames=24, preset="pro")  # fmt: skip
    with pytest.raises(EngineUnavailable, match="latent upsampler"):
        engine.render(request, lambda _f: None, Never())
