"""The virtual camera: where it looks and how far it is zoomed, per layer, at each moment of a
shot; and the affine map that takes a layer's pixels to the output frame.

World units are output pixels at zoom 1, origin at the frame centre, y down. A camera at
(x, y) with zoom z shows world point p at output pixel z * (p - (x, y)) + (W/2, H/2).
Depth: 1.0 is the background plate; larger is nearer, so it moves more (parallax).

Sign conventions (what the viewer sees): pan left = the camera turns left, content slides
RIGHT; tilt up = content slides DOWN; zoom/dolly in = content grows; orbit left = the camera
circles left around the subject, the background slides left behind a nearly fixed subject.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelforge.planning.shots import CameraMove

BACKGROUND_DEPTH = 1.0
SUBJECT_DEPTH = 1.6

ZOOM_RANGE = 0.22  # zoom in at speed 1 ends at 1.22x
DOLLY_RANGE = 0.12  # dolly: scaled by depth**2, so the subject grows ~2.5x more than the plate
PAN_RANGE = 0.06  # pan/tilt at speed 1 travels 2 x 6 % of the frame (background)
ORBIT_RANGE = 0.09


@dataclass(frozen=True)
class View:
    zoom: float
    x: float  # camera centre, world units
    y: float


def progress_at(frame: int, frames: int) -> float:
    """0.0 at the shot's first frame, 1.0 at its last."""
    return 0.0 if frames <= 1 else frame / (frames - 1)


def _ease(t: float) -> float:
    # Half linear, half smoothstep: starts and stops gently but never freezes at the ends.
    t = min(1.0, max(0.0, t))
    return 0.5 * t + 0.5 * t * t * (3.0 - 2.0 * t)


def view_at(
    move: CameraMove, speed: float, t: float, depth: float, width: int, height: int
) -> View:
    """The camera as seen by a layer at `depth`, `t` (0..1) through the shot."""
    s = min(3.0, max(0.25, speed))
    e = _ease(t)
    if move is CameraMove.STATIC:
        return View(1.0, 0.0, 0.0)
    if move is CameraMove.ZOOM_IN:  # optical: every layer scales alike, no parallax
        return View(1.0 + ZOOM_RANGE * s * e, 0.0, 0.0)
    if move is CameraMove.ZOOM_OUT:
        return View(1.0 + ZOOM_RANGE * s * (1.0 - e), 0.0, 0.0)
    if move is CameraMove.DOLLY_IN:
        return View(1.0 + DOLLY_RANGE * s * depth**2 * e, 0.0, 0.0)
    if move is CameraMove.DOLLY_OUT:
        return View(1.0 + DOLLY_RANGE * s * depth**2 * (1.0 - e), 0.0, 0.0)
    travel = (1.0 - 2.0 * e) * s * depth  # +1 -> -1 (x depth): the camera moves left / up
    if move is CameraMove.PAN_LEFT:
        return View(1.0, PAN_RANGE * width * travel, 0.0)
    if move is CameraMove.PAN_RIGHT:
        return View(1.0, -PAN_RANGE * width * travel, 0.0)
    if move is CameraMove.TILT_UP:
        return View(1.0, 0.0, PAN_RANGE * height * travel)
    if move is CameraMove.TILT_DOWN:
        return View(1.0, 0.0, -PAN_RANGE * height * travel)
    if move in (CameraMove.ORBIT_LEFT, CameraMove.ORBIT_RIGHT):
        return _orbit(move, s, e, depth, width)
    raise ValueError(f"unknown camera move {move!r}")


def _orbit(move: CameraMove, s: float, e: float, depth: float, width: int) -> View:
    """The subject (at SUBJECT_DEPTH) is the pivot: layers behind it slide one way, the pivot
    barely moves and turns (a slight scale swell)."""
    sign = 1.0 if move is CameraMove.ORBIT_LEFT else -1.0
    behind = max(0.0, (SUBJECT_DEPTH - depth) / (SUBJECT_DEPTH - BACKGROUND_DEPTH))
    x = sign * (2.0 * e - 1.0) * ORBIT_RANGE * s * width * (behind - 0.15 * (1.0 - behind))
    swell = 0.04 * s * np.sin(np.pi * e) * (1.0 - behind) + 0.03 * s * e * behind
    return View(1.0 + float(swell), float(x), 0.0)


def layer_affine(
    view: View,
    px_per_unit: float,
    src_centre: tuple[float, float],
    world_centre: tuple[float, float],
    width: int,
    height: int,
) -> np.ndarray:
    """The 2x3 matrix for cv2.warpAffine from a layer's pixels to the output frame.

    The layer has `px_per_unit` pixels per world unit, and its pixel `src_centre` sits at
    world point `world_centre`.
    """
    z = view.zoom
    scale = z / px_per_unit
    tx = z * (world_centre[0] - view.x) - scale * src_centre[0] + width / 2.0
    ty = z * (world_centre[1] - view.y) - scale * src_centre[1] + height / 2.0
    return np.array([[scale, 0.0, tx], [0.0, scale, ty]], np.float64)


def view_extent(views: list[View], width: int, height: int) -> tuple[float, float]:
    """Half width and half height (world units, about the origin) that every view sees."""
    ex = max(abs(v.x) + width / (2.0 * v.zoom) for v in views)
    ey = max(abs(v.y) + height / (2.0 * v.zoom) for v in views)
    return ex, ey
