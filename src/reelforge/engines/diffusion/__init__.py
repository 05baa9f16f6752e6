"""Diffusion engines over diffusers pipelines (GPU; `pip install 'reelforge[diffusion]'`).

One readable file per model family, a few shared modules:

    wan_vace.py    `wan-vace`   Wan2.1/2.2 VACE: multi-reference images, control video; silent
    ltx2.py        `ltx2`       LTX-2.x: image/video conditions at frame indices; joint audio
    minimax_h3.py  `minimax-h3` MiniMax-H3 ref2va / fl2va / t2va: 9 images, 3 videos, 3 audio
    audio.py       soundtrack for engines without audio (reference audio, text-to-audio, ambience)
    fit.py         frame rules, 24 fps retiming, exact output size, chunk colour matching
    common.py      presets, progress/cancel per step, chunk plan, lazy kept-warm pipeline
    loading.py     lazy torch/diffusers import, weights checks, dtype/device/offload, levers
    presets.py     the presets of each engine and the levers, with a line of description each
    qwen_vision.py MiniMax-H3's Qwen3-VL processor without torchvision (PIL / NumPy)
    parallel.py    context parallelism of one job over its rank group (engine_ranks_per_job)

Nothing here imports torch or diffusers at import time; `engines.registry` builds these engines
from Settings with `options_from_settings`.
"""

from __future__ import annotations

from reelforge.engines.diffusion.loading import DiffusionOptions, EngineUnavailable
from reelforge.engines.diffusion.settings import DiffusionSettings

__all__ = ["DiffusionOptions", "DiffusionSettings", "EngineUnavailable", "options_from_settings"]


def options_from_settings(
    settings: DiffusionSettings, model: str, model_setting: str = ""
) -> DiffusionOptions:
    return DiffusionOptions(
        model=model,
        model_setting=model_setting,
        device=settings.engine_device,
        dtype=settings.engine_dtype,
        offload=settings.engine_offload,
        local_files_only=settings.engine_local_files_only,
        compile=settings.engine_compile,
        attention_backend=settings.engine_attention_backend,
        cache=settings.engine_cache,
        cache_threshold=settings.engine_cache_threshold,
        magcache_ratios=settings.engine_magcache_ratios,
        fp8_layerwise=settings.engine_fp8_layerwise,
        vae_tiling=settings.engine_vae_tiling,
        steps=settings.engine_steps,
        guidance_scale=settings.engine_guidance_scale,
        max_short_edge=settings.engine_max_short_edge,
        lora=settings.engine_lora,
        lora_weight_name=settings.engine_lora_weight_name,
        lora_scale=settings.engine_lora_scale,
        audio_model=settings.engine_audio_model,
        quantize=settings.engine_quantize,
        quantize_text_encoder=settings.engine_quantize_text_encoder,
        presets=tuple(sorted(settings.engine_presets.items())),
        ltx2_upsampler_model=settings.engine_ltx2_upsampler_model,
        context_parallel=settings.engine_context_parallel,
    )
