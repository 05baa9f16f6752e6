"""Colour grades for the plan's looks: a 3x3 colour matrix (cv2.transform) and a per-channel
tone curve (cv2.LUT), both OpenCV uint8 kernels.

Layers are graded once when the scene is prepared, so a grade costs nothing per frame; a shot
pinned to a given first or last frame is graded per frame instead, its grade easing in from
none at the pinned frame (`strength`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from reelforge.planning.model import Look

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class GradeOp:
    matrix: np.ndarray | None  # 3x3 float32 on RGB, applied first
    lut: np.ndarray | None  # (256, 1, 3) uint8 per-channel curve, applied second


def _saturation(s: float) -> np.ndarray:
    grey = np.tile(_LUMA, (3, 1))
    return np.asarray((1.0 - s) * grey + s * np.eye(3, dtype=np.float32), np.float32)


def _curve(
    gain: float = 1.0, contrast: float = 1.0, lift: float = 0.0, gamma: float = 1.0
) -> np.ndarray:
    """y = ((x - 0.5) * contrast + 0.5) ** gamma * gain * (1 - lift) + lift, x and y in 0..1."""
    x = np.arange(256, dtype=np.float32) / 255.0
    y = np.clip((x - 0.5) * contrast + 0.5, 0.0, 1.0) ** gamma
    y = y * gain * (1.0 - lift) + lift
    return np.clip(y * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _lut(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.stack([r, g, b], axis=1).reshape(256, 1, 3)


@cache
def grade_op(look: Look) -> GradeOp:
    if look is Look.NONE:
        return GradeOp(None, None)
    if look is Look.NOIR:  # black and white, hard contrast, deep blacks
        grey = np.tile(_LUMA, (3, 1)).astype(np.float32)
        c = _curve(contrast=1.3, gamma=1.1)
        return GradeOp(grey, _lut(c, c, c))
    if look is Look.VINTAGE:  # faded sepia: warm, lifted blacks, softer contrast
        sepia = np.array(
            [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32
        )
        m = 0.7 * sepia + 0.3 * np.eye(3, dtype=np.float32)
        return GradeOp(
            m.astype(np.float32),
            _lut(_curve(0.97, 0.85, 0.07), _curve(0.95, 0.85, 0.06), _curve(0.88, 0.85, 0.05)),
        )
    if look is Look.NEON:  # saturated, magenta highlights, blue-violet shadows
        return GradeOp(
            _saturation(1.5),
            _lut(_curve(1.06, 1.15), _curve(0.86, 1.15), _curve(1.0, 1.05, 0.12)),
        )
    if look is Look.NIGHT:  # darker, desaturated, blue
        return GradeOp(
            _saturation(0.7),
            _lut(_curve(0.52, 1.05), _curve(0.62, 1.05), _curve(0.85, 1.0, 0.03)),
        )
    gains = {
        Look.GOLDEN_HOUR: ((1.12, 1.0, 0.74), 1.08, 1.1),
        Look.WARM: ((1.08, 1.0, 0.86), 1.0, 1.0),
        Look.COOL: ((0.90, 1.0, 1.10), 1.0, 0.95),
    }
    (r, g, b), contrast, sat = gains[look]
    return GradeOp(
        _saturation(sat) if sat != 1.0 else None,
        _lut(_curve(r, contrast), _curve(g, contrast), _curve(b, contrast)),
    )


_IDENTITY = np.arange(256, dtype=np.float32).reshape(256, 1, 1)


def apply_grade(rgb: np.ndarray, look: Look, strength: float = 1.0) -> np.ndarray:
    """The graded copy of an RGB uint8 picture (the same array back for no grade). `strength`
    (0..1) blends from no grade to the full grade."""
    op = grade_op(look)
    s = min(1.0, max(0.0, strength))
    if (op.matrix is None and op.lut is None) or s <= 0.0:
        return rgb
    out = rgb
    if op.matrix is not None:
        m = op.matrix if s >= 1.0 else np.eye(3, dtype=np.float32) + s * (op.matrix - np.eye(3))
        out = cv2.transform(out, m.astype(np.float32))
    if op.lut is not None:
        lut = op.lut
        if s < 1.0:
            blended = _IDENTITY + s * (lut.astype(np.float32) - _IDENTITY)
            lut = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        out = cv2.LUT(out, lut)
    return out
