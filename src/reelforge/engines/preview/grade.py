"""Colour grade from the prompt's words (time of day, look), applied once to every layer's
pixels at preparation time, so it costs nothing per frame."""

from __future__ import annotations

import re
from enum import StrEnum

import cv2
import numpy as np


class Grade(StrEnum):
    NONE = "none"
    WARM = "warm"  # sunset, golden hour
    NIGHT = "night"  # night, moonlight: darker and blue
    COOL = "cool"  # winter, overcast, morning mist
    MONO = "mono"  # black and white, noir
    SEPIA = "sepia"  # vintage, old film


_WORDS: tuple[tuple[Grade, str], ...] = (
    (Grade.MONO, r"black[\s-]and[\s-]white|monochrome|b&w|noir|greyscale|grayscale"),
    (Grade.SEPIA, r"sepia|vintage|old[\s-]film|retro|1920s|archival"),
    (Grade.NIGHT, r"night\w*|midnight|moonlit|moonlight|nocturnal|after\s+dark"),
    (Grade.WARM, r"sunset|sunrise|golden[\s-]hour|dusk|warm|candle\w*|firelight|autumn"),
    (Grade.COOL, r"winter|icy|frozen|overcast|misty|foggy|cold|dawn"),
)
_RES = tuple((g, re.compile(rf"\b(?:{w})\b", re.IGNORECASE)) for g, w in _WORDS)


def grade_for(prompt: str) -> Grade:
    """The look whose word appears first in the prompt."""
    best: tuple[int, Grade] | None = None
    for grade, pattern in _RES:
        m = pattern.search(prompt)
        if m is not None and (best is None or m.start() < best[0]):
            best = (m.start(), grade)
    return best[1] if best else Grade.NONE


def apply_grade(rgb: np.ndarray, grade: Grade) -> np.ndarray:
    """The graded copy of an RGB uint8 picture (the same array back for NONE)."""
    if grade is Grade.NONE:
        return rgb
    if grade is Grade.MONO:
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return cv2.cvtColor(cv2.LUT(grey, _curve(1.0, 1.12)), cv2.COLOR_GRAY2RGB)
    if grade is Grade.SEPIA:
        matrix = np.array(
            [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]], np.float32
        )
        return cv2.transform(rgb, matrix)
    gains = {
        Grade.WARM: (1.10, 1.0, 0.82, 1.0),
        Grade.NIGHT: (0.70, 0.80, 1.05, 0.75),
        Grade.COOL: (0.92, 1.0, 1.10, 1.0),
    }[grade]
    r, g, b, exposure = gains
    lut = np.stack(
        [_curve(r * exposure, 1.0), _curve(g * exposure, 1.0), _curve(b * exposure, 1.0)], axis=1
    ).reshape(256, 1, 3)
    return cv2.LUT(rgb, lut)


def _curve(gain: float, contrast: float) -> np.ndarray:
    x = np.arange(256, dtype=np.float32) / 255.0
    y = np.clip((x - 0.5) * contrast + 0.5, 0.0, 1.0) * gain
    return np.clip(y * 255.0 + 0.5, 0, 255).astype(np.uint8)
