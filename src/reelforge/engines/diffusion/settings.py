"""The settings section of the diffusion engines (`REELFORGE_ENGINE_*`; docs/gpu.md).

`reelforge.settings.Settings` inherits this section, so the variables keep their flat names;
the engines read only this section, never the whole Settings.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

# The first engines' own variables, kept: `REELFORGE_ENGINE_LTX2_MODEL=...` is
# `REELFORGE_ENGINE_WEIGHTS='{"ltx2": ...}'`. Later engines need no field: `engine_weights` only.
NAMED_WEIGHTS = {
    "minimax-h3": "engine_minimax_h3_model",
    "ltx2": "engine_ltx2_model",
    "wan-vace": "engine_wan_vace_model",
}


class DiffusionSettings(BaseModel):
    engine_weights: dict[str, str] = Field(
        default_factory=dict,
        description='weights per engine: {"<engine>": "<hub id or local directory>"}; an engine '
        "not named loads its default (`engines/catalog.py`, docs/engines.md)",
    )
    engine_minimax_h3_model: str | None = Field(
        default=None,
        description="minimax-h3 weights: hub id or local directory; None = its default",
    )
    engine_ltx2_model: str | None = Field(
        default=None,
        description="ltx2 weights: hub id or local directory; None = its default",
    )
    engine_wan_vace_model: str | None = Field(
        default=None,
        description="wan-vace weights: hub id or local directory; None = its default",
    )
    engine_audio_model: str | None = Field(
        default=None,
        description="text-to-audio weights (StableAudioPipeline) for engines without native audio; "
        "None = reference audio or procedural ambience",
    )
    engine_device: str = Field(default="cuda", description="torch device, e.g. cuda, cuda:1")
    engine_dtype: Literal["bfloat16", "float16", "float32"] = "bfloat16"
    engine_offload: Literal["none", "model", "sequential", "group"] = Field(
        default="none",
        description="CPU offload: none (fastest), model, group, sequential (least VRAM)",
    )
    engine_local_files_only: bool = Field(
        default=False, description="never download weights (offline clusters)"
    )
    engine_compile: Literal["none", "regional", "full"] = Field(
        default="none", description="torch.compile of the transformer (regional: repeated blocks)"
    )
    engine_attention_backend: str | None = Field(
        default=None, description="diffusers attention backend, e.g. flash, _flash_3_hub, sage"
    )
    engine_cache: Literal["none", "first_block", "taylorseer", "magcache"] = "none"
    engine_cache_threshold: float | None = Field(default=None, gt=0)
    engine_magcache_ratios: tuple[float, ...] | None = None
    engine_fp8_layerwise: bool = Field(
        default=False, description="store transformer weights in FP8, compute in engine_dtype"
    )
    engine_vae_tiling: bool = False
    engine_steps: int | None = Field(
        default=None,
        ge=1,
        description="denoising steps for every preset (e.g. 4 with a distill LoRA)",
    )
    engine_guidance_scale: float | None = Field(default=None, ge=0)
    engine_max_short_edge: int | None = Field(
        default=None, ge=16, description="cap of the generation canvas' short edge, every preset"
    )
    engine_lora: str | None = Field(default=None, description="LoRA file, directory or hub id")
    engine_lora_weight_name: str | None = None
    engine_lora_scale: float = 1.0
    engine_quantize: Literal["none", "int8", "fp8"] = Field(
        default="none",
        description="weight-only quantization of the transformer(s) with torchao: int8 or fp8",
    )
    engine_quantize_text_encoder: bool = Field(
        default=False, description="quantize the text encoder too (same scheme)"
    )
    engine_presets: dict[str, str] = Field(
        default_factory=dict,
        description="which engine preset a request's preset runs, e.g. "
        '{"ltx2:pro": "two_stage", "fast": "turbo"} (engine:preset or preset keys; '
        "engines/diffusion/presets.py lists them)",
    )
    engine_ltx2_upsampler_model: str | None = Field(
        default=None,
        description="LTX-2 latent upsampler for the two_stage preset: a directory or hub id; "
        "None = the latent_upsampler/ folder of engine_ltx2_model",
    )
    engine_context_parallel: Literal["none", "ulysses", "ring"] = Field(
        default="none",
        description="split one video's sequence across the ranks of the job's rank group "
        "(engine_ranks_per_job; ltx2, minimax-h3; docs/gpu.md)",
    )
    engine_ranks_per_job: int = Field(
        default=1,
        ge=1,
        description="processes (one GPU each) that render one job together: N > 1 starts, per "
        "engine, a group of N warm processes (torch.distributed; rank 0 talks to the worker, "
        "the others join every pipeline call) and needs engine_context_parallel=ulysses or "
        "ring; engines that cannot split a job (wan-vace) are refused, the preview compositor "
        "keeps one process (docs/gpu.md)",
    )
    engine_gpus: str | None = Field(
        default=None,
        description="the GPUs of a rank group, one per rank, as CUDA_VISIBLE_DEVICES takes them "
        '(e.g. "0,1"); None = the first engine_ranks_per_job GPUs this process sees',
    )

    @field_validator("engine_weights")
    @classmethod
    def _known_engines(cls, weights: dict[str, str]) -> dict[str, str]:
        from reelforge.engines.catalog import ENGINES  # the table imports this module's type

        loading = sorted(n for n, e in ENGINES.items() if e.loads_weights)
        unknown = sorted(set(weights) - set(loading))
        if unknown:  # a misspelt name would otherwise leave the engine on its default weights
            raise ValueError(
                f"engine_weights names {', '.join(unknown)}: not an engine that loads weights "
                f"(those are {', '.join(loading)})"
            )
        return weights

    def named_weights(self, engine: str) -> str | None:
        """The weights the operator named for `engine` (its own variable first), or None."""
        own = NAMED_WEIGHTS.get(engine)
        named = getattr(self, own) if own else None
        return named if named is not None else self.engine_weights.get(engine)

    def weights_setting(self, engine: str) -> str:
        """The setting that names `engine`'s weights, as errors and logs should call it."""
        own = NAMED_WEIGHTS.get(engine)
        if own and (getattr(self, own) is not None or engine not in self.engine_weights):
            return own
        return f'engine_weights["{engine}"]'
