"""Joins between shots and the clip's own fades, as operations on finished frames.

A join into shot k occupies the frames [b - h, b + h) around the cut b (the start of shot k):
- crossfade: the outgoing shot (held on its last frame past the cut) dissolves into the incoming
  one (held on its first frame before the cut), linearly across the window;
- fade to black: the outgoing shot fades down to black at frame b - 1, the incoming one fades up
  from black at frame b;
- whip pan: both shots side by side on a strip sliding left across the frame (the camera whips
  right), smeared by a horizontal motion blur that peaks mid-whip.
A cut has no window. Windows never reach the first or last frame of the clip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from reelforge.planning.model import ShotPlan, Transition

HALF_FRAMES = {Transition.CROSSFADE: 6, Transition.FADE_BLACK: 8, Transition.WHIP_PAN: 4}
EDGE_FADE_FRAMES = 12  # fade in from / out to black at the clip's start / end
WHIP_BLUR = 0.3  # the motion blur's length at mid-whip, as a share of the frame width


@dataclass(frozen=True)
class Join:
    kind: Transition
    at: int  # the cut: first frame of the incoming shot
    half: int  # frames on each side of the cut
    shot: int  # the incoming shot's index


def plan_joins(plan: ShotPlan) -> list[Join]:
    """The joins that need frames (every join but a plain cut), each window within both shots."""
    joins = []
    for k in range(1, len(plan.shots)):
        shot, prev = plan.shots[k], plan.shots[k - 1]
        half = HALF_FRAMES.get(shot.transition, 0)
        half = min(half, prev.num_frames // 2, shot.num_frames // 2)
        if half > 0:
            joins.append(Join(shot.transition, shot.start_frame, half, k))
    return joins


def window_map(joins: list[Join]) -> dict[int, Join]:
    """Output frame -> the join it is part of."""
    out = {}
    for join in joins:
        for i in range(join.at - join.half, join.at + join.half):
            out[i] = join
    return out


def progress(join: Join, i: int) -> float:
    """0..1 through the join's window, at frame centres (never exactly 0 or 1)."""
    return (i - (join.at - join.half) + 0.5) / (2.0 * join.half)


def crossfade(outgoing: np.ndarray, incoming: np.ndarray, p: float) -> np.ndarray:
    return cv2.addWeighted(outgoing, 1.0 - p, incoming, p, 0.0)


def fade_gain(join: Join, i: int) -> float:
    """Brightness of frame i in a fade-to-black join: 0 on both sides of the cut."""
    if i < join.at:
        return (join.at - 1 - i) / join.half
    return (i - join.at) / join.half


def whip(outgoing: np.ndarray, incoming: np.ndarray, p: float) -> np.ndarray:
    _h, w = outgoing.shape[:2]
    e = p * p * (3.0 - 2.0 * p)
    off = min(w, max(0, round(e * w)))
    out = np.empty_like(outgoing)
    out[:, : w - off] = outgoing[:, off:]
    out[:, w - off :] = incoming[:, :off]
    blur = max(1, round(WHIP_BLUR * w * math.sin(math.pi * p)))
    return cv2.blur(out, (blur, 1)) if blur > 1 else out


def scaled(frame: np.ndarray, gain: float) -> np.ndarray:
    """The frame at `gain` brightness (0 = black)."""
    if gain >= 1.0:
        return frame
    if gain <= 0.0:
        return np.zeros_like(frame)
    return cv2.convertScaleAbs(frame, alpha=gain)


def edge_gain(plan: ShotPlan, i: int) -> float:
    """The clip's own fade in / fade out at frame i."""
    n = plan.num_frames
    frames = min(EDGE_FADE_FRAMES, max(1, n // 4))
    gain = 1.0
    if plan.fade_in and i < frames:
        gain = min(gain, i / frames)
    if plan.fade_out and i >= n - frames:
        gain = min(gain, (n - 1 - i) / frames)
    return gain


def letterbox(frame: np.ndarray, aspect: float | None) -> np.ndarray:
    """Black bars above and below so the picture has `aspect` (width / height); a frame already
    that wide (or wider) is unchanged."""
    if aspect is None:
        return frame
    h, w = frame.shape[:2]
    picture = round(w / aspect)
    bar = (h - picture) // 2
    if bar <= 0:
        return frame
    out = frame if frame.flags.writeable else frame.copy()
    out[:bar] = 0
    out[h - bar :] = 0
    return out
