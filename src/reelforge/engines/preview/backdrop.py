"""Generated backdrops: for a prompt with no picture of the place, and behind a lone studio
subject. Built once per render (numpy is fine here, it is not per frame); a little seeded texture
(soft bokeh and grain) keeps camera moves readable on what would otherwise be a flat gradient."""

from __future__ import annotations

import colorsys
import re

import cv2
import numpy as np

RGB = tuple[int, int, int]

# (word, top colour, bottom colour): the first word of the prompt found here sets the palette.
_PALETTE: tuple[tuple[str, RGB, RGB], ...] = (
    (r"sunset|sunrise|dusk|golden[\s-]hour", (250, 170, 90), (120, 60, 70)),
    (r"night\w*|midnight|space|stars?|galaxy|cosmic", (20, 24, 60), (5, 8, 20)),
    (r"ocean\w*|sea|beach\w*|underwater|waves?|lake", (120, 190, 230), (20, 80, 130)),
    (r"forest\w*|jungle|woods?|garden\w*|meadow\w*|grass\w*", (150, 200, 140), (40, 80, 40)),
    (r"desert\w*|sand\w*|dunes?|canyon", (240, 210, 160), (180, 120, 70)),
    (r"snow\w*|winter|ice|icy|arctic|frozen", (230, 240, 250), (170, 190, 210)),
    (r"fire|flames?|lava|volcano\w*|inferno", (255, 150, 50), (90, 20, 10)),
    (r"neon|cyberpunk|club|rave", (230, 40, 200), (30, 10, 70)),
    (r"city|street\w*|urban|downtown|rain\w*|storm\w*", (110, 120, 140), (40, 44, 55)),
    (r"studio|product|white\s+background", (235, 235, 235), (190, 190, 195)),
    (r"sky|clouds?|heaven\w*", (150, 200, 250), (220, 235, 250)),
)
_PALETTE_RES = tuple(
    (re.compile(rf"\b(?:{w})\b", re.IGNORECASE), top, bottom) for w, top, bottom in _PALETTE
)


def prompt_colours(prompt: str, seed: int) -> tuple[RGB, RGB]:
    """(top, bottom) colours for a backdrop: from the first palette word in the prompt, else a
    calm seeded hue."""
    best: tuple[int, RGB, RGB] | None = None
    for pattern, top, bottom in _PALETTE_RES:
        m = pattern.search(prompt)
        if m is not None and (best is None or m.start() < best[0]):
            best = (m.start(), top, bottom)
    if best is not None:
        return best[1], best[2]
    hue = (np.random.default_rng(seed).random() + 0.0) % 1.0
    return _hsv(hue, 0.35, 0.85), _hsv((hue + 0.08) % 1.0, 0.55, 0.35)


def studio_colours(border_rgb: RGB) -> tuple[RGB, RGB]:
    """A sweep derived from a studio shot's own background colour: lighter above, darker below,
    a touch more saturated so the subject sits in a place rather than on paper."""
    r, g, b = (c / 255.0 for c in border_rgb)
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    return _hsv(h, min(1.0, s * 1.3 + 0.05), min(1.0, v * 1.15 + 0.05)), _hsv(
        h, min(1.0, s * 1.4 + 0.08), v * 0.55
    )


def gradient_backdrop(
    width: int, height: int, top: RGB, bottom: RGB, seed: int, accent: RGB | None = None
) -> np.ndarray:
    """A vertical gradient with a soft floor, vignette, seeded bokeh and fine grain."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    t = t**1.3  # more sky than floor
    column = (1.0 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    img: np.ndarray = np.repeat(column, width, axis=1)
    # Bokeh: soft discs in lighter or accent tones; they give the camera something to move.
    blobs = np.zeros((height, width, 3), np.float32)
    tint = np.array(accent if accent is not None else (255, 255, 255), np.float32)
    short = min(width, height)
    for _ in range(18):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, int(height * 0.75))))
        radius = int(rng.uniform(0.02, 0.09) * short)
        strength = float(rng.uniform(0.05, 0.16))
        cv2.circle(blobs, centre, max(1, radius), tuple(float(c) * strength for c in tint), -1)
    soft = cv2.GaussianBlur(blobs, (0, 0), max(1.0, 0.012 * short))
    img = np.asarray(img + soft, np.float32)
    # Vignette.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    d = ((xx / width - 0.5) ** 2 + (yy / height - 0.5) ** 2) * 2.0
    img *= (1.0 - 0.35 * d)[:, :, None]
    img += rng.normal(0.0, 2.0, (height, width, 1)).astype(np.float32)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return round(r * 255), round(g * 255), round(b * 255)
