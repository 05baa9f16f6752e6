"""Fit what a video model generates to what the request asked for: frame rules, 24 fps, exact size.

Every diffusion model has its own grid: Wan generates `4k+1` frames at 16 fps on a canvas that is
a multiple of 16, LTX-2 `8k+1` frames at 24 fps on multiples of 32, MiniMax-H3 `17n+5` frames at
24 fps on multiples of 32. The service always delivers exactly `num_frames` at 24 fps and exactly
`width x height`. The rules here, shared by the engines:

- **frames:** ask the model for the smallest count on its rule that covers the asked duration
  (`snap_frames`), then retime to 24 fps by nearest frame (`retime_indices`: 16 -> 24 fps repeats
  every other frame, no blending, so no ghosting) and trim to exactly `num_frames`.
- **size:** generate on a canvas of the output's aspect ratio whose short edge is the preset's cap
  (or the output's own short edge, if smaller), rounded to the model's multiple (`generation_size`);
  then scale each frame to cover the output and centre-crop the overshoot (`fit_frame`). The crop
  is at most half a grid cell per side.
- **chunks:** a clip longer than the model's window is generated in chunks; each later chunk is
  colour-matched to the first one (`match_colour`), since re-encoding a tail through a VAE drifts
  colour and contrast.

Pure numpy + OpenCV; no torch here, so the rules are tested without the diffusion extra.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

OUTPUT_FPS = 24


@dataclass(frozen=True)
class FrameRule:
    """Valid frame counts are `period * k + offset` with k >= 0, at least `minimum`, at most
    `maximum` (the model's window; None = no limit)."""

    period: int
    offset: int
    minimum: int = 1
    maximum: int | None = None

    def snap(self, n: int) -> int:
        """The smallest valid count >= n (and >= minimum). Raises past `maximum`."""
        if n < 1:
            raise ValueError(f"frame count must be >= 1, got {n}")
        n = max(n, self.minimum)
        k = max(0, math.ceil((n - self.offset) / self.period))
        snapped = self.period * k + self.offset
        if self.maximum is not None and snapped > self.maximum:
            raise ValueError(f"{n} frames exceed this model's window of {self.maximum}")
        return snapped

    @property
    def window(self) -> int:
        """The largest valid count (the longest single call)."""
        if self.maximum is None:
            raise ValueError("this rule has no window")
        return (self.maximum - self.offset) // self.period * self.period + self.offset


WAN_FRAMES = FrameRule(period=4, offset=1, minimum=5, maximum=81)  # 16 fps, 5.06 s
LTX2_FRAMES = FrameRule(period=8, offset=1, minimum=9, maximum=257)  # 24 fps, 10.7 s
# 124 frames (5.17 s) is the shortest MiniMax-H3 accepts; 345 (14.4 s) the longest that stays
# within its 15 s ceiling (362 would be 15.08 s, which the pipeline refuses).
MINIMAX_H3_FRAMES = FrameRule(period=17, offset=5, minimum=124, maximum=345)


def native_frames_for(num_frames: int, native_fps: float, rule: FrameRule) -> int:
    """How many frames to ask the model for so that retiming to 24 fps yields `num_frames`."""
    needed = math.floor((num_frames - 1) * native_fps / OUTPUT_FPS + 1e-9) + 1
    return rule.snap(needed)


def retime_indices(
    num_frames: int, native_fps: float, available: int, dst_fps: float = OUTPUT_FPS
) -> list[int]:
    """For each output frame at `dst_fps` (24), the index of the source frame (at `native_fps`)
    shown at that instant: the latest one not after it, clipped to what exists."""
    if available < 1:
        raise ValueError("no frames to retime")
    step = native_fps / dst_fps
    return [min(available - 1, math.floor(j * step + 1e-9)) for j in range(num_frames)]


def generation_size(
    width: int, height: int, *, multiple: int, max_short_edge: int, max_pixels: int | None = None
) -> tuple[int, int]:
    """The canvas (width, height) to generate on: the output's aspect ratio, short edge
    min(output short edge, cap), area at most `max_pixels`, both sides a multiple of `multiple`
    (at least one multiple)."""
    if width < 1 or height < 1:
        raise ValueError(f"size must be positive, got {width}x{height}")
    short = min(width, height, max_short_edge)
    scale = short / min(width, height)
    w, h = width * scale, height * scale
    if max_pixels is not None and w * h > max_pixels:
        shrink = math.sqrt(max_pixels / (w * h))
        w, h = w * shrink, h * shrink
    gw = max(multiple, round(w / multiple) * multiple)
    gh = max(multiple, round(h / multiple) * multiple)
    return gw, gh


def fit_frame(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale an RGB uint8 frame to cover `width x height`, then centre-crop to exactly that."""
    h, w = frame.shape[:2]
    if (w, h) == (width, height):
        return np.ascontiguousarray(frame)
    scale = max(width / w, height / h)
    sw, sh = max(width, math.ceil(w * scale - 1e-6)), max(height, math.ceil(h * scale - 1e-6))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(frame, (sw, sh), interpolation=interp)
    x0, y0 = (sw - width) // 2, (sh - height) // 2
    return np.ascontiguousarray(scaled[y0 : y0 + height, x0 : x0 + width])


def letterbox(frame: np.ndarray, width: int, height: int, fill: int = 127) -> np.ndarray:
    """Scale an RGB frame to fit inside `width x height` and pad the rest with `fill`."""
    h, w = frame.shape[:2]
    scale = min(width / w, height / h)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(frame, (sw, sh), interpolation=interp)
    out = np.full((height, width, 3), fill, np.uint8)
    x0, y0 = (width - sw) // 2, (height - sh) // 2
    out[y0 : y0 + sh, x0 : x0 + sw] = scaled
    return out


def to_uint8_frames(video: np.ndarray) -> np.ndarray:
    """A (frames, h, w, 3) float video in [0, 1] (diffusers' `output_type="np"`) as uint8."""
    arr = np.asarray(video)
    if arr.dtype == np.uint8:
        return arr
    return (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def match_colour(frames: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Shift each LAB channel of `frames` (n, h, w, 3 uint8) to the mean and spread of
    `reference` (m, h', w', 3 uint8): the chunk-to-chunk drift correction."""
    ref_lab = _lab_stats(reference)
    out_lab = _lab_stats(frames)
    gain = ref_lab[1] / np.maximum(out_lab[1], 1e-3)
    gain = np.clip(gain, 0.5, 2.0)
    lut = np.empty((3, 256), np.float32)
    for c in range(3):
        lut[c] = (np.arange(256, dtype=np.float32) - out_lab[0][c]) * gain[c] + ref_lab[0][c]
    lut_u8 = np.clip(lut + 0.5, 0, 255).astype(np.uint8)
    result = np.empty_like(frames)
    for i, frame in enumerate(frames):
        lab = cv2.cvtColor(frame, cv2.COLOR_RGB2LAB)
        for c in range(3):
            lab[..., c] = cv2.LUT(lab[..., c], lut_u8[c])
        result[i] = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    return result


def _lab_stats(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sample = frames[:: max(1, len(frames) // 8)]
    labs = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2LAB) for f in sample]).astype(np.float32)
    flat = labs.reshape(-1, 3)
    return flat.mean(axis=0), flat.std(axis=0)


def split_frames(total: int, first: int, following: int) -> list[int]:
    """Output frame counts of the chunks of a `total`-frame clip: the first chunk may be longer
    (it needs no context frames) than the following ones."""
    if total < 1 or first < 1 or following < 1:
        raise ValueError(f"bad chunking: total={total} first={first} following={following}")
    chunks = [min(total, first)]
    left = total - chunks[0]
    while left > 0:
        chunks.append(min(left, following))
        left -= chunks[-1]
    return chunks


def stack_frames(frames: Sequence[np.ndarray]) -> np.ndarray:
    return np.stack(list(frames)) if frames else np.zeros((0, 1, 1, 3), np.uint8)
