"""Each speed / memory lever that runs on the CPU changes the pipeline as claimed and the engine
still renders; presets from the table; the text-to-audio (StableAudio) path of wan-vace.

GPU-only levers (torch.compile, FA3/sage kernels, context parallelism across GPUs, sequential
offload, MiniMax-H3's ComponentsManager offload) are measured by `bench/diffusion_gpu.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reelforge.core.references import StoredReference
from reelforge.engines.base import RenderRequest
from reelforge.engines.diffusion import options_from_settings
from reelforge.engines.diffusion.common import pick_preset
from reelforge.engines.diffusion.loading import EngineUnavailable, quantized_linear_count
from reelforge.engines.diffusion.ltx2 import Ltx2Engine
from reelforge.engines.diffusion.minimax_h3 import MiniMaxH3Engine
from reelforge.engines.diffusion.presets import (
    ENGINE_PRESETS,
    LEVERS,
    WAN_VACE,
    describe,
    resolve_preset_name,
)
from reelforge.engines.diffusion.wan_vace import WanVaceEngine
from reelforge.planning.shots import plan_shots
from reelforge.spec import ReferenceKind, ReferenceRole
from tests.conftest import make_settings
from tests.engines.diffusion.conftest import TINY_ENGINE_SETTINGS
from tests.engines.diffusion.tiny import build_stable_audio
from tests.media_helpers import local_ref, studio_figure, write_image


class Never:
    def is_set(self) -> bool:
        return False


def _engine(cls: type, model: Path, tmp_path: Path, **overrides: object) -> Any:
    settings = make_settings(tmp_path, **{**TINY_ENGINE_SETTINGS, **overrides})
    return cls(options_from_settings(settings, str(model)))


def _request(preset: str = "default", *refs: StoredReference, prompt: str = "a red kite") -> Any:
    return RenderRequest(prompt=prompt, plan=plan_shots(prompt, 24, 24, len(refs)), width=854,
                         height=480, num_frames=24, references=refs, preset=preset)  # fmt: skip


def _renders(engine: Any, request: Any = None) -> list[float]:
    reports: list[float] = []
    rendering = engine.render(request or _request(), reports.append, Never())
    frames = list(rendering.frames)
    assert len(frames) == 24 and frames[0].shape == (480, 854, 3)
    return reports


def _linears(module: Any) -> int:
    import torch

    return sum(isinstance(m, torch.nn.Linear) for m in module.modules())


@pytest.mark.parametrize("scheme", ["int8", "fp8"])
def test_weight_quantization_replaces_every_transformer_linear(
    scheme: str, tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path, engine_quantize=scheme)
    _renders(engine)
    pipe = engine.pipeline()
    assert quantized_linear_count(pipe.transformer) == _linears(pipe.transformer) > 0
    weight = next(m.weight for m in pipe.transformer.modules() if hasattr(m, "weight") and
                  type(m.weight).__module__.startswith("torchao"))  # fmt: skip
    assert type(weight).__name__ == {"int8": "Int8Tensor", "fp8": "Float8Tensor"}[scheme]
    assert quantized_linear_count(pipe.text_encoder) == 0  # only when asked


def test_minimax_h3_quantized_with_its_conditioner(tiny_h3: Path, tmp_path: Path) -> None:
    engine = _engine(MiniMaxH3Engine, tiny_h3, tmp_path, engine_quantize="int8",
                     engine_quantize_text_encoder=True)  # fmt: skip
    image = write_image(tmp_path / "face.png", studio_figure(96, 64))
    ref = local_ref(ReferenceKind.IMAGE, ReferenceRole.REFERENCE, 1, image)
    _renders(engine, _request("default", ref, prompt="@Image1 waves"))
    pipe = engine.pipeline()
    assert quantized_linear_count(pipe.transformer_ref) == _linears(pipe.transformer_ref)
    assert quantized_linear_count(pipe.text_encoder) > 0


@pytest.fixture
def keep_active_attention_backend() -> Any:
    """diffusers' `set_attention_backend` also sets a process-wide active backend; put it back so
    later tests do not run on the slow `_native_math` path."""
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    backend, _ = _AttentionBackendRegistry.get_active_backend()
    yield
    _AttentionBackendRegistry.set_active_backend(backend)


@pytest.mark.usefixtures("keep_active_attention_backend")
def test_attention_backend_is_set_on_every_attention(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path,
                     engine_attention_backend="_native_math")  # fmt: skip
    _renders(engine)
    modules = engine.pipeline().transformer.modules()
    backends = {
        str(getattr(m.processor, "_attention_backend", None))
        for m in modules
        if hasattr(m, "processor")
    }
    assert backends == {"AttentionBackendName._NATIVE_MATH"}


@pytest.mark.usefixtures("keep_active_attention_backend")
def test_unknown_attention_backend_is_a_clear_error(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path,
                     engine_attention_backend="no_such_backend")  # fmt: skip
    with pytest.raises(EngineUnavailable, match="engine_attention_backend"):
        _renders(engine)


def test_first_block_cache_hooks_the_wan_transformer(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path,
                     engine_cache="first_block", engine_cache_threshold=0.2)  # fmt: skip
    _renders(engine)
    assert engine.pipeline().transformer.is_cache_enabled


def test_first_block_cache_is_refused_where_diffusers_lacks_it(
    tiny_h3: Path, tmp_path: Path
) -> None:
    # diffusers 0.42.1 registers no MiniMax-H3 (nor LTX-2) block for First-Block-Cache.
    engine = _engine(MiniMaxH3Engine, tiny_h3, tmp_path, engine_cache="first_block")
    with pytest.raises(EngineUnavailable, match="engine_cache='first_block'"):
        _renders(engine)


def _face(tmp_path: Path) -> StoredReference:
    image = write_image(tmp_path / "face.png", studio_figure(96, 64))
    return local_ref(ReferenceKind.IMAGE, ReferenceRole.REFERENCE, 1, image)


def test_taylorseer_cache_on_ltx2_and_minimax_h3(
    tiny_models: dict[str, Path], tiny_h3: Path, tmp_path: Path
) -> None:
    # 12 steps: TaylorSeer computes fully for 10, then extrapolates between full steps. H3's
    # modular loop calls its transformer outside a cache context; the engine opens one.
    ltx2 = _engine(Ltx2Engine, tiny_models["ltx2"], tmp_path, engine_cache="taylorseer",
                   engine_steps=12)  # fmt: skip
    assert len(_renders(ltx2)) == 12 + 1
    assert ltx2.pipeline().transformer.is_cache_enabled
    h3 = _engine(MiniMaxH3Engine, tiny_h3, tmp_path, engine_cache="taylorseer", engine_steps=13)
    assert len(_renders(h3, _request("default", _face(tmp_path), prompt="@Image1 waves"))) == 13
    assert h3.pipeline().transformer_ref.is_cache_enabled


@pytest.mark.parametrize("offload", ["model", "group"])
def test_cpu_offload_hooks_and_renders(
    offload: str, tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path, engine_offload=offload)
    _renders(engine)
    transformer = engine.pipeline().transformer
    if offload == "model":
        assert hasattr(transformer, "_hf_hook")  # accelerate moves it in and out per call
    else:
        assert "group_offloading" in transformer._diffusers_hook.hooks


def test_group_offload_of_minimax_h3(tiny_h3: Path, tmp_path: Path) -> None:
    engine = _engine(MiniMaxH3Engine, tiny_h3, tmp_path, engine_offload="group")
    _renders(engine, _request("default", _face(tmp_path), prompt="@Image1 waves"))
    assert "group_offloading" in engine.pipeline().transformer_ref._diffusers_hook.hooks


def test_vae_tiling(tiny_models: dict[str, Path], tmp_path: Path) -> None:
    engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path, engine_vae_tiling=True)
    _renders(engine)
    assert engine.pipeline().vae.use_tiling


def test_levers_that_cannot_combine_are_refused(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    for overrides in ({"engine_quantize": "int8", "engine_fp8_layerwise": True},
                      {"engine_quantize": "int8", "engine_offload": "group"}):  # fmt: skip
        engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path, **overrides)
        with pytest.raises(EngineUnavailable, match="engine_quantize"):
            _renders(engine)


def test_step_distilled_preset_through_engine_presets(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    # A request for "fast" runs the 4-step, no-CFG turbo preset when the operator maps it.
    turbo = {"wan-vace:fast": "turbo"}
    engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path, engine_steps=None,
                     engine_guidance_scale=None, engine_presets=turbo)  # fmt: skip
    reports = _renders(engine, _request("fast"))
    assert len(reports) == 4 + 1  # one report per denoising step, then the end
    unmapped = options_from_settings(make_settings(tmp_path), "x")
    assert pick_preset(WAN_VACE, "fast", unmapped, "wan-vace").steps == 20
    assert pick_preset(WAN_VACE, "fast", engine.options, "wan-vace").guidance_scale == 1.0


def test_preset_table_and_resolution() -> None:
    for engine, presets in ENGINE_PRESETS.items():
        assert {"fast", "pro"} <= set(presets)
        assert all(p.description for p in presets.values())
        listed = describe(engine)
        assert [p["name"] for p in listed["presets"]] == list(presets)
        assert len(listed["levers"]) == len(LEVERS)
    assert resolve_preset_name("ltx2", "default", {"ltx2:pro": "two_stage"}) == "two_stage"
    assert resolve_preset_name("ltx2", "fast", {"ltx2:pro": "two_stage"}) == "fast"
    assert resolve_preset_name("wan-vace", "fast", {"fast": "turbo"}) == "turbo"
    assert resolve_preset_name("ltx2", "fast", {"fast": "turbo"}) == "fast"  # ltx2 has none
    assert resolve_preset_name("minimax-h3", "two_stage", {}) == "pro"
    with pytest.raises(EngineUnavailable, match="engine_presets"):
        resolve_preset_name("ltx2", "pro", {"ltx2:pro": "turbo"})


def test_wan_vace_soundtrack_from_stable_audio(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    audio_model = build_stable_audio(tmp_path / "stable-audio")
    engine = _engine(WanVaceEngine, tiny_models["wan-vace"], tmp_path,
                     engine_audio_model=str(audio_model))  # fmt: skip
    engine.check_ready()
    reports: list[float] = []
    rendering = engine.render(_request(prompt="rain on a tin roof"), reports.append, Never())
    assert len(list(rendering.frames)) == 24
    audio = rendering.audio
    assert audio is not None
    assert audio.sample_rate == 8000  # the text-to-audio model's rate, not the ambience bed's
    assert audio.samples.shape[0] == 2 and audio.seconds == pytest.approx(1.0)
    assert len(reports) == 2 + 2 + 1  # video steps, then audio steps, then the end
    assert engine.text_to_audio.pipeline().__class__.__name__ == "StableAudioPipeline"
