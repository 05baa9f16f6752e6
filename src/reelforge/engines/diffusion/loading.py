"""Loading a diffusers pipeline: lazy imports, weights checks, dtype, device, offload, levers.

The same path serves a real checkpoint and the tiny ones the tests build: `from_pretrained(source,
dtype=..., local_files_only=...)` on a hub id or a local directory, then placement and the speed
and memory levers of `docs/gpu.md`, in an order that works for all of them:

    load on CPU -> LoRA (fused when quantizing) -> weight quantization (torchao int8 / fp8
    weight-only) or FP8 layerwise casting -> cache hook -> placement (device / model, sequential
    or group offload) -> attention backend -> VAE tiling -> torch.compile

torch and diffusers are imported here, inside functions, so `import reelforge` never needs the
diffusion extra; a missing extra or missing weights raise `EngineUnavailable` (code
`engine.unavailable`) with the install or download hint.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reelforge.errors import EngineUnavailable

INSTALL_HINT = "pip install 'reelforge[diffusion]'"
MIN_DIFFUSERS = (0, 42)
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")

Offload = Literal["none", "model", "sequential", "group"]
Compile = Literal["none", "regional", "full"]
Cache = Literal["none", "first_block", "taylorseer", "magcache"]
Quantize = Literal["none", "int8", "fp8"]
DENOISERS = ("transformer", "transformer_2", "transformer_ref")


@dataclass(frozen=True)
class DiffusionOptions:
    """Everything an engine needs to load and run its model, read from Settings by the registry."""

    model: str
    model_setting: str = ""  # the setting that named `model`, for errors ("": the engine's own)
    device: str = "cuda"
    dtype: str = "bfloat16"
    offload: Offload = "none"
    local_files_only: bool = False
    compile: Compile = "none"
    attention_backend: str | None = None
    cache: Cache = "none"
    cache_threshold: float | None = None
    magcache_ratios: tuple[float, ...] | None = None
    fp8_layerwise: bool = False
    vae_tiling: bool = False
    steps: int | None = None
    guidance_scale: float | None = None
    max_short_edge: int | None = None
    lora: str | None = None
    lora_weight_name: str | None = None
    lora_scale: float = 1.0
    audio_model: str | None = None  # text-to-audio for engines without native audio
    quantize: Quantize = "none"  # weight-only quantization of the transformer(s) (torchao)
    quantize_text_encoder: bool = False  # the text encoder too (same scheme)
    presets: tuple[tuple[str, str], ...] = ()  # ("ltx2:pro", "two_stage"), ("fast", "turbo")
    ltx2_upsampler_model: str | None = None  # LTX-2 latent upsampler (two-stage preset)
    context_parallel: Literal["none", "ulysses", "ring"] = "none"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


# --- imports ------------------------------------------------------------------------------------


def diffusion_extra_missing() -> str | None:
    """Why the diffusion extra cannot be used, without importing it (cheap; for start-up checks)."""
    missing = [
        m for m in ("torch", "diffusers", "transformers") if importlib.util.find_spec(m) is None
    ]
    if missing:
        return f"{', '.join(missing)} not installed; install the extra: {INSTALL_HINT}"
    return None


def import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise EngineUnavailable(
            f"the diffusion engines need torch: {INSTALL_HINT} ({exc})"
        ) from exc
    return torch


def import_diffusers() -> Any:
    import_torch()
    try:
        import diffusers
    except ImportError as exc:
        raise EngineUnavailable(
            f"the diffusion engines need diffusers>=0.42: {INSTALL_HINT} ({exc})"
        ) from exc
    version = tuple(int(p) for p in re.findall(r"\d+", diffusers.__version__)[:2])
    if version < MIN_DIFFUSERS:
        raise EngineUnavailable(
            f"diffusers {diffusers.__version__} is too old; need >= 0.42: {INSTALL_HINT}"
        )
    return diffusers


def torch_dtype(name: str) -> Any:
    torch = import_torch()
    dtypes = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}
    try:
        return dtypes[name]
    except KeyError:
        raise EngineUnavailable(
            f"engine_dtype must be one of {', '.join(dtypes)}, got {name!r}"
        ) from None


# --- where the weights are ----------------------------------------------------------------------


def is_local(model: str) -> bool:
    return model.startswith(("/", "./", "../", "~")) or Path(model).expanduser().exists()


def check_source(
    model: str, index_files: tuple[str, ...], *, local_files_only: bool, setting: str
) -> str:
    """The string to hand to `from_pretrained`, after checking that the weights are there.

    A local directory must exist and hold one of `index_files` (e.g. `model_index.json`). A hub id
    must look like `owner/name`; when downloads are off (`local_files_only` or `HF_HUB_OFFLINE`)
    it must already be in the Hugging Face cache. Raises EngineUnavailable naming the setting.
    """
    if not model:
        raise EngineUnavailable(f"{setting} is empty; set it to a hub id or a local directory")
    if is_local(model):
        path = Path(model).expanduser()
        if not path.is_dir():
            raise EngineUnavailable(
                f"{setting}={model!r}: no such directory; pre-fetch the weights "
                "(docs/gpu.md) or point the setting at the checkpoint directory"
            )
        if not any((path / f).is_file() for f in index_files):
            raise EngineUnavailable(
                f"{setting}={model!r}: the directory holds no {' or '.join(index_files)}; "
                "it is not a diffusers checkpoint"
            )
        return str(path)
    if not _HUB_ID.match(model):
        raise EngineUnavailable(
            f"{setting}={model!r} is neither an existing directory nor a hub id like owner/name"
        )
    if (local_files_only or _hub_offline()) and not _in_hub_cache(model, index_files):
        raise EngineUnavailable(
            f"{setting}={model!r} is not in the Hugging Face cache and downloads are off; "
            f"pre-fetch it with `huggingface-cli download {model}` (docs/gpu.md)"
        )
    return model


def _hub_offline() -> bool:
    try:
        from huggingface_hub import constants
    except ImportError:
        return False
    return bool(constants.HF_HUB_OFFLINE)


def _in_hub_cache(repo_id: str, index_files: tuple[str, ...]) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    return any(isinstance(try_to_load_from_cache(repo_id, f), str) for f in index_files)


# --- placement and levers -----------------------------------------------------------------------


def load_pipeline(
    cls: Any, options: DiffusionOptions, source: str, setting: str, **components: Any
) -> Any:
    """`cls.from_pretrained(source, ...)`, placed and with the levers applied."""
    dtype = torch_dtype(options.dtype)
    _check_device(options.device)
    try:
        pipe = cls.from_pretrained(
            source, dtype=dtype, local_files_only=options.local_files_only or None, **components
        )
    except (OSError, ValueError, KeyError) as exc:
        raise EngineUnavailable(f"cannot load {setting}={options.model!r}: {exc}") from exc
    prepare(pipe, options)
    return pipe


def load_component(
    cls: Any, options: DiffusionOptions, source: str, setting: str, subfolder: str, dtype: str
) -> Any:
    try:
        return cls.from_pretrained(
            source,
            subfolder=subfolder,
            dtype=torch_dtype(dtype),
            local_files_only=options.local_files_only or None,
        )
    except (OSError, ValueError, KeyError) as exc:
        raise EngineUnavailable(f"cannot load {subfolder}/ of {setting}={source!r}: {exc}") from exc


def denoisers(pipe: Any) -> Iterator[Any]:
    """The transformer(s) of a pipeline: the modules the levers act on."""
    for name in DENOISERS:
        module = getattr(pipe, name, None)
        if module is not None:
            yield module


def prepare(pipe: Any, options: DiffusionOptions) -> None:
    """Apply LoRA, the levers and placement to a loaded pipeline, in a safe order."""
    check_lever_combination(options)
    if options.lora:
        _load_lora(pipe, options)
    for module in denoisers(pipe):
        before_placement(module, options)
    if options.quantize_text_encoder and options.quantize != "none":
        encoder = getattr(pipe, "text_encoder", None)
        if encoder is not None:
            quantize_weights(encoder, options.quantize)
    place(pipe, options)
    for module in denoisers(pipe):
        after_placement(module, options)
    if options.vae_tiling:
        vae = getattr(pipe, "vae", None)
        if vae is not None and hasattr(vae, "enable_tiling"):
            vae.enable_tiling()
    if hasattr(pipe, "set_progress_bar_config"):
        pipe.set_progress_bar_config(disable=True)


def check_lever_combination(options: DiffusionOptions) -> None:
    """Refuse lever combinations that cannot work together, naming the settings."""
    if options.quantize != "none" and options.fp8_layerwise:
        raise EngineUnavailable(
            "engine_quantize and engine_fp8_layerwise both change how the transformer's weights "
            "are stored; set one of them"
        )
    if options.quantize != "none" and options.offload in ("group", "sequential"):
        raise EngineUnavailable(
            f"engine_quantize={options.quantize!r} with engine_offload={options.offload!r}: "
            "torchao's quantized tensors do not stream through offload hooks; use "
            "engine_offload=model or none with quantization"
        )


def before_placement(module: Any, options: DiffusionOptions) -> None:
    """The levers that change a denoiser's weights or add hooks, applied on the CPU."""
    if options.quantize != "none":
        quantize_weights(module, options.quantize)
    if options.fp8_layerwise:
        torch = import_torch()
        module.enable_layerwise_casting(
            storage_dtype=torch.float8_e4m3fn, compute_dtype=torch_dtype(options.dtype)
        )
    if options.cache != "none":
        try:
            module.enable_cache(cache_config(options))
        except (ValueError, NotImplementedError) as exc:
            raise EngineUnavailable(
                f"engine_cache={options.cache!r} does not apply to {type(module).__name__} in "
                f"this diffusers version: {exc}"
            ) from exc


def after_placement(module: Any, options: DiffusionOptions) -> None:
    """The levers applied once a denoiser sits where it runs: attention backend, context
    parallelism, compile."""
    if options.attention_backend:
        try:
            module.set_attention_backend(options.attention_backend)
        except (ValueError, RuntimeError, ImportError) as exc:
            raise EngineUnavailable(
                f"engine_attention_backend={options.attention_backend!r}: {exc}"
            ) from exc
    if options.context_parallel != "none":
        from reelforge.engines.diffusion.parallel import enable_context_parallel

        enable_context_parallel(module, options.context_parallel)
    if options.compile == "regional":
        module.compile_repeated_blocks(fullgraph=True)
    elif options.compile == "full":
        module.compile(fullgraph=True)


def quantize_weights(module: Any, scheme: str) -> None:
    """Weight-only quantization of every `nn.Linear` of `module` with torchao: int8 (any device;
    about half the bf16 weight memory) or fp8 e4m3 (Ada/Hopper or newer for fast kernels; runs,
    slowly, elsewhere). Activations stay in the compute dtype."""
    try:
        from torchao.quantization import (
            Float8WeightOnlyConfig,
            Int8WeightOnlyConfig,
            quantize_,
        )
    except ImportError as exc:
        raise EngineUnavailable(
            f"engine_quantize={scheme!r} needs torchao: {INSTALL_HINT} ({exc})"
        ) from exc
    configs = {"int8": Int8WeightOnlyConfig, "fp8": Float8WeightOnlyConfig}
    if scheme not in configs:
        raise EngineUnavailable(f"engine_quantize must be none, int8 or fp8; got {scheme!r}")
    quantize_(module, configs[scheme]())


def quantized_linear_count(module: Any) -> int:
    """How many `nn.Linear` layers of `module` hold torchao-quantized weights."""
    torch = import_torch()
    count = 0
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear) and type(layer.weight).__module__.startswith(
            "torchao"
        ):
            count += 1
    return count


def place(pipe: Any, options: DiffusionOptions) -> None:
    if options.offload == "none":
        pipe.to(options.device)
    elif options.offload == "model":
        pipe.enable_model_cpu_offload(device=options.device)
    elif options.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=options.device)
    elif options.offload == "group":
        group_offload(pipe, options.device)
    else:  # pragma: no cover - Literal guards this
        raise EngineUnavailable(f"unknown engine_offload {options.offload!r}")


def group_offload(pipe: Any, device: str) -> None:
    """Block-level group offloading with CUDA streams for the transformers (the big weights stream
    in block by block); the text encoder leaf-level; the small rest on the device."""
    torch = import_torch()
    from diffusers.hooks import apply_group_offloading

    onload = torch.device(device)
    cuda = onload.type == "cuda"
    handled: set[str] = set()
    for name in DENOISERS:
        module = getattr(pipe, name, None)
        if module is not None:
            module.enable_group_offload(
                onload_device=onload, offload_device=torch.device("cpu"),
                offload_type="block_level", num_blocks_per_group=1, use_stream=cuda,
            )  # fmt: skip
            handled.add(name)
    encoder = getattr(pipe, "text_encoder", None)
    if encoder is not None:
        apply_group_offloading(
            encoder, onload_device=onload, offload_device=torch.device("cpu"),
            offload_type="leaf_level", use_stream=cuda,
        )  # fmt: skip
        handled.add("text_encoder")
    for name, module in _modules(pipe):
        if name not in handled:
            module.to(onload)


def _modules(pipe: Any) -> Iterator[tuple[str, Any]]:
    torch = import_torch()
    for name, value in getattr(pipe, "components", {}).items():
        if isinstance(value, torch.nn.Module):
            yield name, value


def cache_config(options: DiffusionOptions) -> Any:
    from diffusers import FirstBlockCacheConfig, MagCacheConfig, TaylorSeerCacheConfig

    if options.cache == "first_block":
        return FirstBlockCacheConfig(threshold=options.cache_threshold or 0.05)
    if options.cache == "taylorseer":
        return TaylorSeerCacheConfig(cache_interval=5, max_order=1, disable_cache_before_step=10)
    if options.cache == "magcache":
        if not options.magcache_ratios:
            raise EngineUnavailable(
                "engine_cache='magcache' needs engine_magcache_ratios (calibrate them once per "
                "model with MagCacheConfig(calibrate=True); docs/gpu.md)"
            )
        return MagCacheConfig(
            threshold=options.cache_threshold or 0.06,
            mag_ratios=list(options.magcache_ratios),
            num_inference_steps=len(options.magcache_ratios),
        )
    raise EngineUnavailable(f"unknown engine_cache {options.cache!r}")


def _load_lora(pipe: Any, options: DiffusionOptions) -> None:
    kwargs: dict[str, Any] = {"adapter_name": "reelforge"}
    if options.lora_weight_name:
        kwargs["weight_name"] = options.lora_weight_name
    try:
        pipe.load_lora_weights(options.lora, **kwargs)
        pipe.set_adapters(["reelforge"], adapter_weights=[options.lora_scale])
        if options.quantize != "none":  # quantize the merged weights, not the adapter layers
            pipe.fuse_lora(adapter_names=["reelforge"], lora_scale=1.0)
            pipe.unload_lora_weights()
    except (OSError, ValueError, KeyError) as exc:
        raise EngineUnavailable(f"cannot load engine_lora={options.lora!r}: {exc}") from exc


def _check_device(device: str) -> None:
    torch = import_torch()
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise EngineUnavailable(
            f"engine_device={device!r} but torch sees no CUDA device "
            f"(torch {torch.__version__}); REELFORGE_ENGINE_DEVICE=cpu is for tiny test models"
        )
