"""Subject-aware framing of a picture used as the plate.

A plate used to be scaled to cover everything the camera sees and anchored by a contrast-energy
crop: a portrait photo of a person in a landscape frame lost the head or the legs. Now the
picture's subject is found first (frontal faces, `faces.py`; the person's body is estimated
from each face) and the plate is framed so that box stays inside every view of the shot's
camera path, with a margin:

- when the picture, scaled to cover the views, can hold the box inside the views' common
  window, it is a cover plate as before, anchored on the subject;
- otherwise the picture is scaled down until the box fits, and where the picture ends the plate
  is an extended copy of it (mirrored, heavily blurred and dimmed), with the sharp picture
  feathered into it: the whole person in frame, never a cover crop through them.

A prompt asking for a close-up ("close-up", "headshot", ...) keeps only the head(s) in frame.
Pictures with no face keep the energy crop (`reframe.py`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from reelforge.engines.preview.camera import View
from reelforge.engines.preview.compose import Plate
from reelforge.engines.preview.faces import Face, detect_faces, person_box

Box = tuple[float, float, float, float]  # x0, y0, x1, y1

MARGIN = 0.04  # the kept box stays this share of the common window clear of its edges
EXTENSION_BLUR = 0.035  # sigma of the extended plate's blur, share of its long side
EXTENSION_DIM = 0.72  # the extension is darker than the picture, so the picture reads as such
FEATHER = 0.02  # the sharp picture fades into the extension over this share of its size

_CLOSE_UP = re.compile(
    r"\b(?:extreme\s+)?close[\s-]?ups?\b|\bcloseups?\b|\bheadshots?\b|\bhead\s+shot\b"
    r"|\btight\s+(?:shot|framing)\b|\bface\s+fills\b",
    re.IGNORECASE,
)


def wants_close_up(prompt: str) -> bool:
    return _CLOSE_UP.search(prompt) is not None


@dataclass(frozen=True)
class Subject:
    """What must stay in frame of a picture: `box` in its pixels, and the faces found."""

    box: Box
    faces: tuple[Face, ...]


def find_subject(rgb: np.ndarray, close_up: bool) -> Subject | None:
    """The box to keep in frame: the heads for a close-up, else the people (each face's
    estimated body); None when no face is found."""
    h, w = rgb.shape[:2]
    faces = detect_faces(rgb)
    if not faces:
        return None
    boxes: list[Box] = []
    for f in faces:
        if close_up:
            boxes.append(
                (
                    max(0.0, f.x - 0.3 * f.w),
                    max(0.0, f.y - 0.4 * f.h),
                    min(float(w), f.x1 + 0.3 * f.w),
                    min(float(h), f.y1 + 0.45 * f.h),
                )
            )
        else:
            boxes.append(person_box(f, w, h))
    box = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    return Subject(box=box, faces=tuple(faces))


def common_window(views: Sequence[View], width: int, height: int) -> Box:
    """The world rectangle every view sees (x0, y0, x1, y1)."""
    x0 = max(v.x - width / (2.0 * v.zoom) for v in views)
    x1 = min(v.x + width / (2.0 * v.zoom) for v in views)
    y0 = max(v.y - height / (2.0 * v.zoom) for v in views)
    y1 = min(v.y + height / (2.0 * v.zoom) for v in views)
    if x1 <= x0 or y1 <= y0:  # a move so wide no point stays in view: the middle view
        v = views[len(views) // 2]
        x0, x1 = v.x - width / (2.0 * v.zoom), v.x + width / (2.0 * v.zoom)
        y0, y1 = v.y - height / (2.0 * v.zoom), v.y + height / (2.0 * v.zoom)
    return x0, y0, x1, y1


def framed_plate(
    rgb: np.ndarray,
    subject: Subject,
    window: Box,
    extent: tuple[float, float],
    oversample: float,
) -> tuple[Plate, bool]:
    """(plate, extended): a plate that covers `extent` (half width, half height about the
    world origin) and shows `subject.box` inside `window` (world units) with a margin; at most
    `oversample` plate pixels per world unit; `extended`: the picture had to be continued."""
    h, w = rgb.shape[:2]
    bx0, by0, bx1, by1 = subject.box
    wx0, wy0, wx1, wy1 = window
    ww, wh = (wx1 - wx0) * (1 - 2 * MARGIN), (wy1 - wy0) * (1 - 2 * MARGIN)
    centre_w = ((wx0 + wx1) / 2.0, (wy0 + wy1) / 2.0)
    k_cover = min(w / (2.0 * extent[0]), h / (2.0 * extent[1]))  # picture px per world unit
    cut_below = by1 >= h - 1.5  # the person runs off the picture's bottom edge
    if cut_below:  # no margin needed under a body that goes on below the frame
        wh = (wy1 - wy0) * (1 - MARGIN)
    k_fit = max((bx1 - bx0) / ww, (by1 - by0) / wh, 1e-6)
    bc = ((bx0 + bx1) / 2.0, (by0 + by1) / 2.0)
    if k_fit <= k_cover:
        return _cover(rgb, subject.box, window, extent, k_cover, oversample), False
    # Extended plate: the picture at k_fit (smaller than the views), its box centred in the
    # window, inside a blurred, mirrored continuation of itself.
    q = min(oversample, k_fit)  # canvas px per world unit: never finer than the picture
    s = q / k_fit  # picture -> canvas scale
    cw, ch = math.ceil(2 * extent[0] * q) + 4, math.ceil(2 * extent[1] * q) + 4
    anchor = ((cw - 1) / 2.0, (ch - 1) / 2.0)
    pic = rgb if abs(s - 1.0) < 1e-3 else _resize(rgb, s)
    ph, pw = pic.shape[:2]
    target_y = centre_w[1]
    if cut_below:
        # Sit the picture's bottom edge just past the window's bottom (and past the lowest view
        # when the box leaves room), the head as high as the top margin allows.
        half_box = (by1 - by0) / k_fit / 2.0
        lowest = extent[1] + 2.0 - half_box
        top_limit = wy0 + MARGIN * (wy1 - wy0) + half_box
        target_y = max(wy1 + 1.0 - half_box, min(lowest, top_limit))
    ox = round(anchor[0] + centre_w[0] * q - bc[0] * s)
    oy = round(anchor[1] + target_y * q - bc[1] * s)
    pads = (max(0, oy), max(0, ch - oy - ph), max(0, ox), max(0, cw - ox - pw))
    big = cv2.copyMakeBorder(pic, *pads, borderType=cv2.BORDER_REFLECT)
    cy0, cx0 = max(0, -oy), max(0, -ox)
    big = big[cy0 : cy0 + ch, cx0 : cx0 + cw]
    sigma = EXTENSION_BLUR * max(cw, ch)
    small = _resize(big, 0.25)  # blur a quarter-size copy: the same look, 16x cheaper
    small = cv2.GaussianBlur(small, (0, 0), sigma / 4.0)
    plate = cv2.resize(small, (cw, ch), interpolation=cv2.INTER_LINEAR)
    plate = cv2.convertScaleAbs(plate, alpha=EXTENSION_DIM)
    _paste_feathered(plate, pic, ox, oy, max(2, round(FEATHER * max(ph, pw))))
    return Plate(image=plate, px_per_unit=q, anchor=anchor), True


def _cover(
    rgb: np.ndarray, box: Box, window: Box, extent: tuple[float, float], k: float, over: float
) -> Plate:
    """The picture covering the extent, anchored so the box's centre sits at the window's
    centre as far as covering allows."""
    h, w = rgb.shape[:2]
    if k > over * 1.05:
        s = over / k
        rgb = _resize(rgb, s)
        box = (box[0] * s, box[1] * s, box[2] * s, box[3] * s)
        h, w = rgb.shape[:2]
        k = min(w / (2.0 * extent[0]), h / (2.0 * extent[1]))
    bc = ((box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0)
    cx = bc[0] - k * (window[0] + window[2]) / 2.0
    cy = bc[1] - k * (window[1] + window[3]) / 2.0
    half_w, half_h = extent[0] * k, extent[1] * k
    cx = min(max(cx, half_w - 0.5), w - half_w - 0.5) if w > 2 * half_w else (w - 1) / 2.0
    cy = min(max(cy, half_h - 0.5), h - half_h - 0.5) if h > 2 * half_h else (h - 1) / 2.0
    return Plate(image=rgb, px_per_unit=k, anchor=(cx, cy))


def _resize(rgb: np.ndarray, s: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    size = (max(1, round(w * s)), max(1, round(h * s)))
    interp = cv2.INTER_AREA if s < 1.0 else cv2.INTER_LINEAR
    return cv2.resize(rgb, size, interpolation=interp)


def _paste_feathered(dst: np.ndarray, src: np.ndarray, ox: int, oy: int, feather: int) -> None:
    """Lay `src` on `dst` at (ox, oy), its edges fading in over `feather` pixels."""
    dh, dw = dst.shape[:2]
    sh, sw = src.shape[:2]
    x0, y0 = max(0, ox), max(0, oy)
    x1, y1 = min(dw, ox + sw), min(dh, oy + sh)
    if x1 <= x0 or y1 <= y0:
        return
    ramp_x = np.minimum(np.arange(sw) + 1, np.arange(sw)[::-1] + 1) / feather
    ramp_y = np.minimum(np.arange(sh) + 1, np.arange(sh)[::-1] + 1) / feather
    alpha = np.clip(np.outer(np.clip(ramp_y, 0, 1), np.clip(ramp_x, 0, 1)), 0, 1)
    a = alpha[y0 - oy : y1 - oy, x0 - ox : x1 - ox, None].astype(np.float32)
    region = dst[y0:y1, x0:x1].astype(np.float32)
    patch = src[y0 - oy : y1 - oy, x0 - ox : x1 - ox].astype(np.float32)
    dst[y0:y1, x0:x1] = np.clip(region + (patch - region) * a + 0.5, 0, 255).astype(np.uint8)
