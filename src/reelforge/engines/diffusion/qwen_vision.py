"""MiniMax-H3's Qwen3-VL processor without torchvision (slow PIL / NumPy image and video paths).

In transformers 5 the Qwen3-VL video processor is torchvision-only, and even building a
`Qwen3VLProcessor` by hand fails without torchvision (its class check looks the video processor's
base class up in a mapping that is a dummy then). On machines where torchvision cannot load (the
CPU test machines: the registries' torchvision wheels are CUDA builds that fail against the CPU
torch pinned here) the engine builds the processor from:

- `Qwen2VLImageProcessorPil`, transformers' own PIL backend of the Qwen2/3-VL image processor;
- `NumpyQwen3VLVideoProcessor` below, the Qwen3-VL video path (smart resize, rescale, normalize,
  temporal padding, patchify into `(grid_t*grid_h*grid_w, C*T*P*P)`) in NumPy and PIL;
- the pipeline's own tokenizer;

inside `SlowQwen3VLProcessor`, a `Qwen3VLProcessor` whose class check accepts the NumPy video
processor. Everything MiniMax-H3 reads off the processor (`image_processor(...)`,
`video_processor(...)`, `merge_size`, `temporal_patch_size`, `create_mm_token_type_ids`) is the
real behaviour. Resizing is PIL bicubic where torchvision's is antialiased bicubic on tensors:
pixel values differ slightly from the fast path, shapes and token counts do not. On GPU hosts with
a working torchvision the checkpoint's own processor is loaded instead.
"""

from __future__ import annotations

import importlib.util
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

IMAGE_CONFIG = "preprocessor_config.json"
VIDEO_CONFIG = "video_preprocessor_config.json"
PROCESSOR_CONFIG = "processor_config.json"
# Qwen3VLVideoProcessor's class defaults (transformers 5).
VIDEO_DEFAULTS: dict[str, Any] = {
    "patch_size": 16,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "size": {"shortest_edge": 128 * 32 * 32, "longest_edge": 32 * 32 * 768},
    "image_mean": [0.5, 0.5, 0.5],
    "image_std": [0.5, 0.5, 0.5],
    "rescale_factor": 1 / 255,
}


@lru_cache(maxsize=1)
def torchvision_usable() -> bool:
    """Whether torchvision imports and works with the installed torch (a CUDA build of it against
    a CPU torch imports but fails: `operator torchvision::nms does not exist`)."""
    if importlib.util.find_spec("torchvision") is None:
        return False
    try:
        import torchvision  # noqa: F401
    except Exception:
        return False
    return True


def smart_resize(
    num_frames: int,
    height: int,
    width: int,
    *,
    temporal_factor: int,
    factor: int,
    min_pixels: int,
    max_pixels: int,
) -> tuple[int, int]:
    """Qwen3-VL's video resize rule: both sides a multiple of `factor`, the clip's pixel count
    (frames x height x width) within [min_pixels, max_pixels], the aspect ratio kept."""
    if num_frames < temporal_factor:
        raise ValueError(f"a video needs at least {temporal_factor} frames, got {num_frames}")
    if height < factor or width < factor:
        scale = max(factor / height, factor / width)
        height, width = int(height * scale), int(width * scale)
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    t_bar = round(num_frames / temporal_factor) * temporal_factor
    if t_bar * h_bar * w_bar > max_pixels:
        beta = math.sqrt(num_frames * height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif t_bar * h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (num_frames * height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


class NumpyQwen3VLVideoProcessor:
    """The Qwen3-VL video processor's preprocessing in NumPy + PIL (frames already sampled)."""

    model_input_names = ["pixel_values_videos", "video_grid_thw"]
    _auto_class = None

    def __init__(
        self,
        patch_size: int = 16,
        temporal_patch_size: int = 2,
        merge_size: int = 2,
        size: dict[str, int] | None = None,
        image_mean: list[float] | tuple[float, ...] = (0.5, 0.5, 0.5),
        image_std: list[float] | tuple[float, ...] = (0.5, 0.5, 0.5),
        rescale_factor: float = 1 / 255,
        **_ignored: Any,
    ) -> None:
        self.patch_size = int(patch_size)
        self.temporal_patch_size = int(temporal_patch_size)
        self.merge_size = int(merge_size)
        self.size = dict(size or VIDEO_DEFAULTS["size"])
        self.image_mean = np.asarray(image_mean, np.float32)
        self.image_std = np.asarray(image_std, np.float32)
        self.rescale_factor = float(rescale_factor)

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> NumpyQwen3VLVideoProcessor:
        return cls(**{**VIDEO_DEFAULTS, **config})

    def to_dict(self) -> dict[str, Any]:
        """The config as Qwen3VLVideoProcessor writes it (so a checkpoint saved from here loads
        with the real class where torchvision works)."""
        return {
            "video_processor_type": "Qwen3VLVideoProcessor",
            "patch_size": self.patch_size,
            "temporal_patch_size": self.temporal_patch_size,
            "merge_size": self.merge_size,
            "size": dict(self.size),
            "image_mean": self.image_mean.tolist(),
            "image_std": self.image_std.tolist(),
            "rescale_factor": self.rescale_factor,
            "do_resize": True,
            "do_rescale": True,
            "do_normalize": True,
            "do_sample_frames": False,
        }

    def __call__(
        self, videos: Any, do_sample_frames: bool = False, return_tensors: str | None = "pt",
        **_kwargs: Any,
    ) -> Any:  # fmt: skip
        import torch
        from transformers.feature_extraction_utils import BatchFeature

        if do_sample_frames:
            raise ValueError("NumpyQwen3VLVideoProcessor takes frames already sampled")
        patches: list[np.ndarray] = []
        grids: list[list[int]] = []
        for video in videos:
            flat, grid = self.patchify(self.resize_normalize(np.asarray(video)))
            patches.append(flat)
            grids.append(grid)
        data = {
            "pixel_values_videos": torch.from_numpy(np.concatenate(patches)),
            "video_grid_thw": torch.tensor(grids, dtype=torch.long),
        }
        return BatchFeature(data=data)

    def resize_normalize(self, frames: np.ndarray) -> np.ndarray:
        """(T, H, W, 3) uint8 -> (T, 3, h, w) float32, resized by the smart rule and normalized."""
        from PIL import Image

        t, h, w = frames.shape[:3]
        rh, rw = smart_resize(
            t, h, w, temporal_factor=self.temporal_patch_size,
            factor=self.patch_size * self.merge_size,
            min_pixels=int(self.size["shortest_edge"]), max_pixels=int(self.size["longest_edge"]),
        )  # fmt: skip
        bicubic = Image.Resampling.BICUBIC
        images = [Image.fromarray(f).convert("RGB").resize((rw, rh), bicubic) for f in frames]
        resized = np.stack([np.asarray(im) for im in images]).astype(np.float32)
        normalized = (resized * self.rescale_factor - self.image_mean) / self.image_std
        return np.ascontiguousarray(normalized.transpose(0, 3, 1, 2))

    def patchify(self, video: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """(T, C, H, W) -> ((grid_t*grid_h*grid_w), C*tp*p*p) in Qwen-VL's merge-friendly order."""
        tp, p, m = self.temporal_patch_size, self.patch_size, self.merge_size
        if pad := -video.shape[0] % tp:
            video = np.concatenate([video, np.repeat(video[-1:], pad, axis=0)])
        t, c, h, w = video.shape
        gt, gh, gw = t // tp, h // p, w // p
        x = video.reshape(gt, tp, c, gh // m, m, p, gw // m, m, p)
        x = x.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
        return np.ascontiguousarray(x.reshape(gt * gh * gw, c * tp * p * p)), [gt, gh, gw]


def slow_processor_class() -> Any:
    from transformers import Qwen3VLProcessor

    class SlowQwen3VLProcessor(Qwen3VLProcessor):
        """Qwen3VLProcessor over the PIL image and NumPy video processors."""

        def check_argument_for_proper_class(self, argument_name: str, argument: Any) -> Any:
            if argument_name == "video_processor" and isinstance(
                argument, NumpyQwen3VLVideoProcessor
            ):
                return type(argument)
            return super().check_argument_for_proper_class(argument_name, argument)

    return SlowQwen3VLProcessor


def build_slow_processor(
    tokenizer: Any, image_config: dict[str, Any], video_config: dict[str, Any]
) -> Any:
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    image = {
        k: v for k, v in image_config.items() if not k.endswith("_type") and k != "processor_class"
    }
    image_processor = Qwen2VLImageProcessorPil(**image)
    video_processor = NumpyQwen3VLVideoProcessor.from_dict(video_config or image_config)
    return slow_processor_class()(
        image_processor=image_processor, tokenizer=tokenizer, video_processor=video_processor
    )


def processor_configs(
    source: str, subfolder: str | None, *, local_files_only: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(image config, video config) of a checkpoint's processor: the unified
    `processor_config.json` of transformers 5, else the per-processor files."""

    def read(name: str) -> dict[str, Any] | None:
        path = _resolve(source, subfolder, name, local_files_only=local_files_only)
        if path is None:
            return None
        data: dict[str, Any] = json.loads(Path(path).read_text())
        return data

    unified = read(PROCESSOR_CONFIG) or {}
    image = unified.get("image_processor") or read(IMAGE_CONFIG)
    if image is None:
        raise FileNotFoundError(
            f"no {PROCESSOR_CONFIG} or {IMAGE_CONFIG} under {source}/{subfolder or ''}"
        )
    video = unified.get("video_processor") or read(VIDEO_CONFIG) or {}
    return dict(image), dict(video)


def _resolve(
    source: str, subfolder: str | None, name: str, *, local_files_only: bool
) -> str | None:
    local = Path(source).expanduser() / (subfolder or "") / name
    if Path(source).expanduser().is_dir():
        return str(local) if local.is_file() else None
    from transformers.utils import cached_file

    found: str | None = cached_file(
        source, name, subfolder=subfolder or "", local_files_only=local_files_only,
        _raise_exceptions_for_missing_entries=False,
    )  # fmt: skip
    return found
