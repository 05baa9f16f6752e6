"""The presets of each diffusion engine and the speed / memory levers, each with one line saying
what it does: one table, for the engines and for listing (e.g. in `GET /v1/models`).

A **preset** is how hard an engine works for one job: denoising steps or a distilled sigma
schedule, guidance, the canvas cap, and for LTX-2 whether it runs two stages. A request names
`fast` or `pro` (through the model alias) or a bare engine (`default` = `pro`); the operator maps
those onto any preset of the table with `engine_presets` (e.g. `{"ltx2:pro": "two_stage"}`), and
`engine_steps` / `engine_guidance_scale` / `engine_max_short_edge` override every preset.

A **lever** is a setting that changes how the model runs, not what it is asked for
(quantization, attention backend, cache, offload, VAE tiling, compile, context parallelism).
`LEVERS` lists them with their values; `describe()` gives both tables as plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reelforge.errors import EngineUnavailable


@dataclass(frozen=True)
class Preset:
    """`steps`/`guidance_scale` are the denoising schedule; `max_short_edge` caps the generation
    canvas (the output is then scaled to the asked size); `sigmas` replaces `steps` with a
    distilled schedule where the model has one; `two_stage` (LTX-2) generates at half the canvas,
    upsamples the latents 2x and refines them with `stage2_sigmas`."""

    name: str
    steps: int
    guidance_scale: float
    max_short_edge: int
    sigmas: tuple[float, ...] | None = None
    description: str = ""
    two_stage: bool = False
    stage2_sigmas: tuple[float, ...] | None = None


# DISTILLED_SIGMA_VALUES / STAGE_2_DISTILLED_SIGMA_VALUES of diffusers.pipelines.ltx2.utils.
LTX2_DISTILLED_SIGMAS = (1.0, 0.99375, 0.9875, 0.98125, 0.975, 0.909375, 0.725, 0.421875)
LTX2_STAGE2_SIGMAS = (0.909375, 0.725, 0.421875)

WAN_VACE = {
    "fast": Preset("fast", 20, 5.0, 480, description="20 steps with CFG 5 at up to 480p"),
    "pro": Preset("pro", 40, 5.0, 720, description="40 steps with CFG 5 at up to 720p"),
    "turbo": Preset(
        "turbo", 4, 1.0, 480,
        description="4 steps, no CFG, at up to 480p: for a step-distillation LoRA "
        "(lightx2v / CausVid / Lightning) loaded with engine_lora",
    ),
}  # fmt: skip

LTX2 = {
    "fast": Preset(
        "fast", 8, 1.0, 512, LTX2_DISTILLED_SIGMAS,
        description="8 distilled sigmas, no guidance, at up to 512p (distilled transformer)",
    ),
    "pro": Preset(
        "pro", 8, 1.0, 768, LTX2_DISTILLED_SIGMAS,
        description="8 distilled sigmas, no guidance, at up to 768p (distilled transformer)",
    ),
    "two_stage": Preset(
        "two_stage", 8, 1.0, 768, LTX2_DISTILLED_SIGMAS, two_stage=True,
        stage2_sigmas=LTX2_STAGE2_SIGMAS,
        description="8 distilled sigmas at half the canvas, 2x latent upsampler, 3 refining "
        "sigmas at up to 768p (needs the latent upsampler)",
    ),
    "full": Preset(
        "full", 40, 3.0, 768,
        description="40 steps with guidance 3 at up to 768p: for a full (not distilled) "
        "transformer",
    ),
}  # fmt: skip

MINIMAX_H3 = {
    "fast": Preset("fast", 24, 1.0, 544, description="24 steps at up to 544p (960x544 canvas)"),
    "pro": Preset("pro", 50, 1.0, 768, description="50 steps at up to 768p (1344x768 canvas)"),
    "turbo": Preset(
        "turbo",
        8,
        1.0,
        544,
        description="8 steps at up to 544p: for a step-distillation LoRA (MiniMax-H3 Turbo) "
        "loaded with engine_lora",
    ),
}

ENGINE_PRESETS: dict[str, dict[str, Preset]] = {
    "wan-vace": WAN_VACE,
    "ltx2": LTX2,
    "minimax-h3": MINIMAX_H3,
}


@dataclass(frozen=True)
class Lever:
    setting: str
    values: tuple[str, ...]
    description: str
    on_cpu: bool  # runs (and is tested) on the CPU; otherwise measured by bench/diffusion_gpu.py


LEVERS: tuple[Lever, ...] = (
    Lever("engine_quantize", ("none", "int8", "fp8"),
          "weight-only quantization of the transformer(s) with torchao (about 1/2 of the bf16 "
          "weight memory)", on_cpu=True),
    Lever("engine_quantize_text_encoder", ("false", "true"),
          "quantize the text encoder with the same scheme", on_cpu=True),
    Lever("engine_attention_backend", ("native", "_native_math", "flash", "_flash_3_hub", "sage",
                                       "_native_cudnn", "flex"),
          "diffusers attention backend of the transformer(s)", on_cpu=True),
    Lever("engine_cache", ("none", "first_block", "taylorseer", "magcache"),
          "skip or extrapolate transformer blocks between steps (First-Block-Cache, TaylorSeer, "
          "MagCache)", on_cpu=True),
    Lever("engine_offload", ("none", "model", "group", "sequential"),
          "keep weights in host memory and move them to the GPU when used", on_cpu=True),
    Lever("engine_vae_tiling", ("false", "true"), "decode the video in tiles", on_cpu=True),
    Lever("engine_fp8_layerwise", ("false", "true"),
          "store transformer weights in FP8, compute in engine_dtype", on_cpu=True),
    Lever("engine_compile", ("none", "regional", "full"),
          "torch.compile of the transformer (regional: one repeated block)", on_cpu=False),
    Lever("engine_context_parallel", ("none", "ulysses", "ring"),
          "split one video's sequence across the GPUs of the job's rank group "
          "(engine_ranks_per_job)", on_cpu=False),
    Lever("engine_ranks_per_job", ("1", "2", "4", "8"),
          "processes, one GPU each, that render one job together (with engine_context_parallel; "
          "the group mechanism is CPU-tested, the parallel run is GPU only)", on_cpu=False),
)  # fmt: skip


def resolve_preset_name(
    engine: str, requested: str, mapping: tuple[tuple[str, str], ...] | dict[str, str]
) -> str:
    """The engine preset a request's preset runs: `engine_presets["engine:preset"]`, else
    `engine_presets["preset"]` when that engine has it, else the request's own name (`default`
    = `pro`)."""
    table = ENGINE_PRESETS.get(engine, {})
    mapped = dict(mapping)
    for key, target in mapped.items():
        if key.startswith(f"{engine}:") and target not in table:
            raise EngineUnavailable(
                f"engine_presets[{key!r}]={target!r}: {engine} has the presets {', '.join(table)}"
            )
    name = "pro" if requested in ("", "default") else requested
    for key in (f"{engine}:{requested}", f"{engine}:{name}", requested, name):
        found = mapped.get(key)
        if found is not None and found in table:
            return found
    return name if name in table else "pro"


def describe(engine: str) -> dict[str, Any]:
    """An engine's presets and the levers as plain data (for `GET /v1/models`)."""
    return {
        "presets": [
            {"name": p.name, "description": p.description}
            for p in ENGINE_PRESETS.get(engine, {}).values()
        ],
        "levers": [
            {"setting": lv.setting, "values": list(lv.values), "description": lv.description}
            for lv in LEVERS
        ],
    }
