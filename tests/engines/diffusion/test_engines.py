"""The diffusion engines driven directly: progress, cancel within one step, shots and chunks,
readiness errors, and the registry that builds them from settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelforge.engines.base import Rendering, RenderRequest
from reelforge.engines.diffusion import options_from_settings
from reelforge.engines.diffusion.common import Segment, plan_segments, shot_prompt
from reelforge.engines.diffusion.fit import split_frames
from reelforge.engines.diffusion.loading import EngineUnavailable, check_source
from reelforge.engines.diffusion.ltx2 import Ltx2Engine
from reelforge.engines.diffusion.wan_vace import WanVaceEngine
from reelforge.engines.registry import EngineRegistry
from reelforge.media.types import EngineCanceled
from reelforge.planning.shots import plan_shots
from tests.conftest import make_settings
from tests.engines.diffusion.conftest import TINY_ENGINE_SETTINGS


class CancelAfter:
    """Set once `steps` progress reports have been seen."""

    def __init__(self, reports: list[float], steps: int) -> None:
        self.reports, self.steps = reports, steps

    def is_set(self) -> bool:
        return len(self.reports) >= self.steps


class Never:
    def is_set(self) -> bool:
        return False


def _request(prompt: str, seconds: int, width: int = 854, height: int = 480) -> RenderRequest:
    n = seconds * 24
    return RenderRequest(
        prompt=prompt, plan=plan_shots(prompt, n, 24, 0), width=width, height=height, num_frames=n
    )


def _engine(cls: type, model: Path, tmp_path: Path, **overrides: object):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, **{**TINY_ENGINE_SETTINGS, **overrides})
    return cls(options_from_settings(settings, str(model)))


def _frames(rendering: Rendering) -> list[np.ndarray]:
    return list(rendering.frames)


@pytest.mark.parametrize("engine_cls", [WanVaceEngine, Ltx2Engine])
def test_cancel_stops_within_one_denoising_step(
    engine_cls: type, tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    name = "wan-vace" if engine_cls is WanVaceEngine else "ltx2"
    engine = _engine(engine_cls, tiny_models[name], tmp_path, engine_steps=50)
    reports: list[float] = []
    with pytest.raises(EngineCanceled):
        engine.render(_request("a lighthouse", 1), reports.append, CancelAfter(reports, 3))
    assert len(reports) == 3  # the step that saw the cancel was the last one to run
    assert reports == sorted(reports) and reports[-1] < 0.1


def test_progress_is_monotonic_and_ends_at_one(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path)
    reports: list[float] = []
    rendering = engine.render(_request("rain on a window", 1), reports.append, Never())
    assert reports == sorted(reports) and len(set(reports)) == len(reports)
    assert reports[-1] == 1.0
    frames = _frames(rendering)
    assert len(frames) == 24 and frames[0].shape == (480, 854, 3)
    assert rendering.audio is not None and rendering.audio.seconds == pytest.approx(1.0)


def test_wan_multi_shot_and_long_shots_are_chunked_to_the_exact_length(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path, engine_max_short_edge=16)
    two_shots = _request("Shot 1: a cat sleeps. Shot 2: a dog barks.", 2, 480, 480)
    frames = _frames(engine.render(two_shots, lambda _f: None, Never()))
    assert len(frames) == 48 and frames[-1].shape == (480, 480, 3)
    # 6 s: one 5 s call, then a continuation from its last frames, colour-matched.
    long = _request("waves roll in", 6, 480, 480)
    assert [s.num_frames for s in plan_segments(long, 120, 108, per_shot=True, split=split_frames)
            ] == [120, 24]  # fmt: skip
    frames = _frames(engine.render(long, lambda _f: None, Never()))
    assert len(frames) == 144


def test_segments_follow_the_shot_plan() -> None:
    req = _request("A rainy street at night. Shot 1: a car passes. Shot 2: cut to a neon sign.", 5)
    segs = plan_segments(req, 120, 108, per_shot=True, split=split_frames)
    assert [s.shot for s in segs] == [0, 1] and sum(s.num_frames for s in segs) == 120
    assert shot_prompt(req, 1).startswith("A rainy street at night.")
    assert "Shot 1" not in shot_prompt(req, 0)
    whole = plan_segments(req, 345, 345, per_shot=False, split=split_frames)
    assert whole == [Segment(0, req.prompt, 120, False, ())]


def test_missing_or_wrong_weights_raise_engine_unavailable(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="no such directory"):
        check_source(str(tmp_path / "nope"), ("model_index.json",), local_files_only=True,
                     setting="engine_wan_vace_model")  # fmt: skip
    (tmp_path / "empty").mkdir()
    with pytest.raises(EngineUnavailable, match="not a diffusers checkpoint"):
        check_source(str(tmp_path / "empty"), ("model_index.json",), local_files_only=True,
                     setting="engine_ltx2_model")  # fmt: skip
    with pytest.raises(EngineUnavailable, match="not in the Hugging Face cache"):
        check_source("Wan-AI/Wan2.1-VACE-1.3B-diffusers", ("model_index.json",),
                     local_files_only=True, setting="engine_wan_vace_model")  # fmt: skip
    with pytest.raises(EngineUnavailable, match="neither"):
        check_source("not a model", ("model_index.json",), local_files_only=True,
                     setting="engine_wan_vace_model")  # fmt: skip
    assert EngineUnavailable("x").code == "engine.unavailable"


def test_cuda_device_without_cuda_is_a_clear_error(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path, engine_device="cuda")
    with pytest.raises(EngineUnavailable, match="no CUDA device"):
        engine.render(_request("x", 1), lambda _f: None, Never())


def test_registry_builds_diffusion_engines_from_settings(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path,
        default_model="wan-vace:fast",
        engine_wan_vace_model=str(tiny_models["wan-vace"]),
        engine_ltx2_model=str(tmp_path / "missing-ltx2"),
    )
    registry = EngineRegistry(settings=settings)
    assert {"preview", "wan-vace", "ltx2", "minimax-h3"} <= set(registry.names())
    assert registry.in_use() == ["wan-vace", "ltx2"]
    problems = registry.check_ready()
    assert list(problems) == ["ltx2"] and "engine_ltx2_model" in problems["ltx2"]
    assert registry.get("wan-vace") is registry.get("wan-vace")  # kept warm
    assert "wan-vace" not in EngineRegistry()  # without settings: the built-ins only
