"""GPU benchmark of the diffusion engines at their real size, with random weights (no download).

Each model is built from its published configuration, typed in below, with random weights in
bf16 directly on the GPU; the speed and memory levers are applied through the engines' own code
(`reelforge.engines.diffusion.loading.prepare`), and the pipelines are called with the same
arguments the engines use. Random weights make the pictures noise but the cost real: token
counts, attention and VAE work are those of the real checkpoints.

Measured per engine x size (480p, 720p; 5 s at 24 fps) x lever set: seconds per denoising step
(median after the first), end-to-end seconds of one call (text encoding, denoising, decoding),
peak VRAM. Results are appended to docs/benchmarks.md with the card's name.

    python bench/diffusion_gpu.py                        # every engine, 480p+720p, none+levers
    python bench/diffusion_gpu.py --engine wan-vace-1.3b --sizes 480p --levers none,compile
    python bench/diffusion_gpu.py --meta                 # CPU: build on the meta device and
                                                         # print parameter counts (config check)
    torchrun --nproc-per-node 4 bench/diffusion_gpu.py --engine ltx2 --cp ulysses

Needs: pip install 'reelforge[diffusion]' on a CUDA machine; 80 GB for Wan 14B and LTX-2
(with `model` offload for LTX-2's text encoder), MiniMax-H3 needs `group` offload on 80 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from reelforge.engines.diffusion.fit import (  # noqa: E402
    LTX2_FRAMES,
    MINIMAX_H3_FRAMES,
    WAN_FRAMES,
    generation_size,
    native_frames_for,
)
from reelforge.engines.diffusion.loading import (  # noqa: E402
    DiffusionOptions,
    EngineUnavailable,
    before_placement,
    prepare,
)

SIZES = {"480p": (854, 480), "720p": (1280, 720)}
SECONDS = 5
LEVER_SETS: dict[str, dict[str, Any]] = {
    "none": {},
    "compile": {"compile": "regional"},
    "fbcache": {"cache": "first_block", "cache_threshold": 0.05},
    "fp8": {"fp8_layerwise": True},
    "compile+fbcache": {"compile": "regional", "cache": "first_block", "cache_threshold": 0.05},
    "group-offload": {"offload": "group"},
    "flash3": {"attention_backend": "_flash_3_hub"},
    "int8": {"quantize": "int8"},
    "fp8-weights": {"quantize": "fp8"},
    "int8+compile": {"quantize": "int8", "compile": "regional"},
    "vae-tiling": {"vae_tiling": True},
    "model-offload": {"offload": "model"},
}
DEFAULT_LEVERS = "none,compile,fbcache,fp8,int8,compile+fbcache"

# --- published configurations (typed in; no download) -------------------------------------------

WAN_VACE_1_3B: dict[str, Any] = dict(
    patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16,
    out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30,
    cross_attn_norm=True, qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024,
    vace_layers=list(range(0, 30, 2)), vace_in_channels=96,
)  # fmt: skip
WAN_VACE_14B: dict[str, Any] = {
    **WAN_VACE_1_3B, "num_attention_heads": 40, "ffn_dim": 13824, "num_layers": 40,
    "vace_layers": list(range(0, 40, 5)),
}  # fmt: skip
UMT5_XXL: dict[str, Any] = dict(
    vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
    relative_attention_num_buckets=32, feed_forward_proj="gated-gelu",
)  # fmt: skip
GEMMA3_12B_TEXT: dict[str, Any] = dict(
    vocab_size=262208, hidden_size=3840, intermediate_size=15360, num_hidden_layers=48,
    num_attention_heads=16, num_key_value_heads=8, head_dim=256, sliding_window=1024,
)  # fmt: skip
# LTX-2 (19B), its connectors, VAEs and vocoder: diffusers' class defaults are the LTX-2 config.
# MiniMax-H3 transformer (33B): diffusers' class defaults are the released config.


@dataclass(frozen=True)
class Case:
    engine: str
    size: str
    levers: str


@dataclass
class Result:
    case: Case
    canvas: str
    frames: int
    steps: int
    step_s: float
    total_s: float
    peak_gb: float
    note: str = ""


# --- builders -----------------------------------------------------------------------------------


@contextmanager
def on_device(device: str, dtype: Any) -> Any:
    """Build modules directly on the device in dtype (a 33B model never exists in fp32)."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            yield
    finally:
        torch.set_default_dtype(old)


def build_wan(size: str, device: str) -> Any:
    import torch
    from diffusers import (
        AutoencoderKLWan,
        UniPCMultistepScheduler,
        WanVACEPipeline,
        WanVACETransformer3DModel,
    )
    from transformers import UMT5Config, UMT5EncoderModel

    config = WAN_VACE_14B if size == "14b" else WAN_VACE_1_3B
    with on_device(device, torch.bfloat16):
        transformer = WanVACETransformer3DModel(**config)
        text_encoder = UMT5EncoderModel(UMT5Config(**UMT5_XXL)).eval()
    with on_device(device, torch.float32):
        vae = AutoencoderKLWan()
    tokenizer = _byte_tokenizer()
    return WanVACEPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae,
        scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True,
                                          flow_shift=3.0),
        transformer=transformer,
    )  # fmt: skip


def build_ltx2(device: str) -> Any:
    import torch
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2ConditionPipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import (
        Gemma3Config,
        Gemma3ForConditionalGeneration,
        Gemma3TextConfig,
        SiglipVisionConfig,
    )

    with on_device(device, torch.bfloat16):
        transformer = LTX2VideoTransformer3DModel()
        connectors = LTX2TextConnectors()
        vae = AutoencoderKLLTX2Video()
        audio_vae = AutoencoderKLLTX2Audio()
        vocoder = LTX2Vocoder()
        text_encoder = Gemma3ForConditionalGeneration(
            Gemma3Config(text_config=Gemma3TextConfig(**GEMMA3_12B_TEXT),
                         vision_config=SiglipVisionConfig())
        ).eval()  # fmt: skip
    return LTX2ConditionPipeline(
        transformer=transformer, vae=vae, audio_vae=audio_vae,
        scheduler=FlowMatchEulerDiscreteScheduler(), text_encoder=text_encoder,
        tokenizer=_byte_tokenizer(), connectors=connectors, vocoder=vocoder,
    )  # fmt: skip


def build_h3_transformer(device: str) -> Any:
    import torch
    from diffusers import MiniMaxH3Transformer3DModel

    with on_device(device, torch.bfloat16):
        return MiniMaxH3Transformer3DModel()


def _byte_tokenizer() -> Any:
    from transformers import ByT5Tokenizer

    return ByT5Tokenizer()  # random weights: any tokenizer does; the text length is what counts


# --- runs ---------------------------------------------------------------------------------------


def run_case(case: Case, device: str) -> Result:
    import torch

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    width, height = SIZES[case.size]
    options = replace(DiffusionOptions(model="random", device=device),
                      **LEVER_SETS[case.levers])  # fmt: skip
    if case.engine.startswith("wan-vace"):
        return _run_wan(case, options, width, height)
    if case.engine == "ltx2":
        return _run_ltx2(case, options, width, height)
    return _run_h3(case, options, width, height)


def _timed_call(pipe_call: Callable[[Callable[..., Any]], Any]) -> tuple[list[float], float]:
    import torch

    stamps: list[float] = []

    def on_step(*_args: Any) -> dict[str, Any]:
        torch.cuda.synchronize()
        stamps.append(time.perf_counter())
        return {}

    torch.cuda.synchronize()
    t0 = time.perf_counter()
    pipe_call(on_step)
    torch.cuda.synchronize()
    total = time.perf_counter() - t0
    steps = [b - a for a, b in itertools.pairwise(stamps)]
    return steps, total


def _run_wan(case: Case, options: DiffusionOptions, width: int, height: int) -> Result:
    import torch

    pipe = build_wan("14b" if case.engine.endswith("14b") else "1.3b", "cpu"
                     if options.offload != "none" else options.device)  # fmt: skip
    prepare(pipe, options)
    _maybe_context_parallel(pipe)
    gw, gh = generation_size(width, height, multiple=16, max_short_edge=SIZES[case.size][1])
    frames = native_frames_for(SECONDS * 24, 16, WAN_FRAMES)
    steps = 20

    def call(cb: Callable[..., Any]) -> Any:
        return pipe(prompt="a red fox runs through snow", negative_prompt="blurry", height=gh,
                    width=gw, num_frames=frames, num_inference_steps=steps, guidance_scale=5.0,
                    generator=torch.Generator("cpu").manual_seed(0), output_type="np",
                    callback_on_step_end=cb)  # fmt: skip

    call(lambda *_a: {})  # warm-up (compile, autotune)
    per_step, total = _timed_call(call)
    return _result(case, gw, gh, frames, steps, per_step, total, "CFG on: 2 passes per step")


def _run_ltx2(case: Case, options: DiffusionOptions, width: int, height: int) -> Result:
    import torch

    from reelforge.engines.diffusion.ltx2 import DISTILLED_SIGMAS

    pipe = build_ltx2("cpu" if options.offload != "none" else options.device)
    prepare(pipe, options)
    _maybe_context_parallel(pipe)
    gw, gh = generation_size(width, height, multiple=32, max_short_edge=SIZES[case.size][1])
    frames = LTX2_FRAMES.snap(SECONDS * 24)

    def call(cb: Callable[..., Any]) -> Any:
        return pipe(prompt="a red fox runs through snow", height=gh, width=gw, num_frames=frames,
                    frame_rate=24.0, sigmas=list(DISTILLED_SIGMAS),
                    num_inference_steps=len(DISTILLED_SIGMAS), guidance_scale=1.0, stg_scale=0.0,
                    audio_stg_scale=0.0, modality_scale=1.0, audio_modality_scale=1.0,
                    audio_guidance_scale=1.0, spatio_temporal_guidance_blocks=None,
                    generator=torch.Generator("cpu").manual_seed(0), output_type="np",
                    return_dict=False, callback_on_step_end=cb)  # fmt: skip

    call(lambda *_a: {})
    per_step, total = _timed_call(call)
    return _result(case, gw, gh, frames, len(DISTILLED_SIGMAS), per_step, total,
                   "distilled 8 sigmas, joint audio")  # fmt: skip


def _run_h3(case: Case, options: DiffusionOptions, width: int, height: int) -> Result:
    """MiniMax-H3: the 33B transformer is built at its real size and placed with the levers, so
    the weights' VRAM is real; timing a step needs the ref2va blocks and the 32B Qwen3-VL
    conditioner (and torchvision for its processor), which this version does not build."""
    import torch

    quantized = options.quantize != "none"
    model = build_h3_transformer("cpu" if options.offload != "none" or quantized
                                 else options.device)  # fmt: skip
    before_placement(model, options)  # quantization / FP8 casting / cache, as the engine does
    if quantized and options.offload == "none":
        model.to(options.device)
    gw, gh = generation_size(width, height, multiple=32, max_short_edge=SIZES[case.size][1],
                             max_pixels=768 * 1344)  # fmt: skip
    frames = MINIMAX_H3_FRAMES.snap(SECONDS * 24)
    peak = torch.cuda.max_memory_allocated() / 2**30
    del model
    return Result(case, f"{gw}x{gh}", frames, 0, float("nan"), float("nan"), peak,
                  "weights only; s/step not measured (see docstring)")  # fmt: skip


def _result(case: Case, gw: int, gh: int, frames: int, steps: int, per_step: list[float],
            total: float, note: str) -> Result:  # fmt: skip
    import torch

    step_s = statistics.median(per_step) if per_step else float("nan")
    return Result(case, f"{gw}x{gh}", frames, steps, step_s, total,
                  torch.cuda.max_memory_allocated() / 2**30, note)  # fmt: skip


# --- meta mode (CPU): check the configurations ---------------------------------------------------


def meta_counts() -> None:
    from accelerate import init_empty_weights
    from diffusers import (
        LTX2VideoTransformer3DModel,
        MiniMaxH3Transformer3DModel,
        WanVACETransformer3DModel,
    )

    models: dict[str, Any]
    with init_empty_weights():
        models = {
            "wan-vace-1.3b transformer": WanVACETransformer3DModel(**WAN_VACE_1_3B),
            "wan-vace-14b transformer": WanVACETransformer3DModel(**WAN_VACE_14B),
            "ltx2 transformer": LTX2VideoTransformer3DModel(),
            "minimax-h3 transformer": MiniMaxH3Transformer3DModel(),
        }
    import torch

    for name, model in models.items():
        params = sum(p.numel() for p in model.parameters())
        # int8 / fp8 weight-only (engine_quantize) stores nn.Linear weights in one byte each.
        linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
        quant = (params - linear) * 2 + linear
        print(f"{name:28s} {params / 1e9:6.2f} B parameters, {params * 2 / 2**30:6.1f} GiB bf16, "
              f"{quant / 2**30:6.1f} GiB int8/fp8 weight-only")  # fmt: skip


# --- output -------------------------------------------------------------------------------------


def write_markdown(results: list[Result], card: str, path: Path) -> None:
    lines = [
        f"\n## {card} — {dt.date.today().isoformat()} (bench/diffusion_gpu.py, random weights)\n",
        "| engine | size | levers | canvas | frames | steps | s/step | end-to-end s | "
        "peak VRAM GiB | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.case.engine} | {r.case.size} | {r.case.levers} | {r.canvas} | {r.frames} | "
            f"{r.steps} | {r.step_s:.2f} | {r.total_s:.1f} | {r.peak_gb:.1f} | {r.note} |"
        )
    with path.open("a") as f:
        f.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--engine", default="wan-vace-1.3b,wan-vace-14b,ltx2,minimax-h3")
    parser.add_argument("--sizes", default="480p,720p")
    parser.add_argument("--levers", default=DEFAULT_LEVERS)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--meta", action="store_true", help="CPU: count parameters only")
    parser.add_argument("--cp", choices=["ulysses", "ring"], help="context parallel (torchrun)")
    args = parser.parse_args()
    if args.meta:
        meta_counts()
        return
    import torch

    if not torch.cuda.is_available():
        sys.exit("no CUDA device: this benchmark needs a GPU (use --meta on a CPU)")
    if args.cp:
        _init_context_parallel(args.cp)
    card = torch.cuda.get_device_name(0)
    results: list[Result] = []
    for engine in args.engine.split(","):
        for size in args.sizes.split(","):
            for levers in args.levers.split(","):
                case = Case(engine, size, levers)
                try:
                    result = run_case(case, args.device)
                except torch.cuda.OutOfMemoryError:
                    peak = torch.cuda.max_memory_allocated() / 2**30
                    nan = float("nan")
                    result = Result(case, "-", 0, 0, nan, nan, peak, "out of memory")
                except EngineUnavailable as exc:  # a lever this model does not take
                    nan = float("nan")
                    result = Result(case, "-", 0, 0, nan, nan, nan, f"refused: {exc.message}")
                print(result, flush=True)
                results.append(result)
                gc.collect()
                torch.cuda.empty_cache()
    if int(os.environ.get("RANK", "0")) == 0:
        write_markdown(results, card, Path(args.out))


def _init_context_parallel(kind: str) -> None:
    """Under torchrun: one process per GPU; the transformers are split with diffusers'
    `ContextParallelConfig` (LTX-2 and MiniMax-H3 have a `_cp_plan`; Wan VACE does not)."""
    import torch
    import torch.distributed as dist

    dist.init_process_group("nccl")
    torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    _CP["kind"] = kind


_CP: dict[str, str] = {}


def _maybe_context_parallel(pipe: Any) -> None:
    if not _CP:
        return
    import torch.distributed as dist
    from diffusers import ContextParallelConfig

    world = dist.get_world_size()
    transformer = pipe.transformer
    if getattr(transformer, "_cp_plan", None) is None:
        raise SystemExit(f"{type(transformer).__name__} has no _cp_plan: no context parallelism")
    config = (ContextParallelConfig(ulysses_degree=world, ulysses_anything=True)
              if _CP["kind"] == "ulysses"
              else ContextParallelConfig(ring_degree=world, ring_anything=True))  # fmt: skip
    transformer.enable_parallelism(config=config)


if __name__ == "__main__":
    main()
