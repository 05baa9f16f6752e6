"""The virtual camera: where it looks and how far it is zoomed, per layer, at each moment of a
shot; and the affine map that takes a layer's pixels to the output frame.

World units are output pixels at zoom 1, origin at the frame centre, y down. A camera at
(x, y) with zoom z shows world point p at output pixel z * (p - (x, y)) + ((W-1)/2, (H-1)/2),
pixel centres being integer coordinates (so a same-size layer at the identity view is copied
exactly). Depth: 1.0 is the background plate; larger is nearer, so it moves more (parallax).

Sign conventions (what the viewer sees): pan left = the camera turns left, content slides
RIGHT; tilt up / crane up = content slides DOWN (a crane with much more parallax); zoom/dolly
in = content grows; orbit left = the camera circles left around the subject, the background
slides left behind a nearly fixed subject. Handheld shake is a seeded sum of slow sines added
to any move. A shot pinned to a given first (last) frame has its views made relative to its
first (last) view, so that frame is the identity view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reelforge.planning.camera import camera_steps
from reelforge.planning.model import CameraMove, Shot

BACKGROUND_DEPTH = 1.0
SUBJECT_DEPTH = 1.6

ZOOM_RANGE = 0.22  # zoom in at speed 1 ends at 1.22x
DOLLY_RANGE = 0.12  # dolly: scaled by depth**2, so the subject grows ~2.5x more than the plate
PAN_RANGE = 0.06  # pan/tilt at speed 1 travels 2 x 6 % of the frame (background)
ORBIT_RANGE = 0.09
CRANE_RANGE = 0.05  # crane: x depth**2, so a strong vertical parallax
CRANE_ZOOM = 0.05  # the crane pulls back a little as it rises (pushes in as it comes down)
SHAKE_X = 0.0045  # handheld at amount 1: about 0.45 % of the width, 0.35 % vertically
SHAKE_Y = 0.0035
_SHAKE_HZ = ((0.7, 0.55), (1.9, 0.3), (4.3, 0.15))  # (frequency, weight) of the shake's sines


@dataclass(frozen=True)
class View:
    zoom: float
    x: float  # camera centre, world units
    y: float


IDENTITY = View(1.0, 0.0, 0.0)


@dataclass(frozen=True)
class CameraPath:
    """A camera path measured elsewhere (a reference video's motion) at background depth: one
    (zoom, x, y) per frame of the shot."""

    zoom: tuple[float, ...]
    x: tuple[float, ...]
    y: tuple[float, ...]

    def at(self, frame: int, depth: float) -> View:
        i = min(max(0, frame), len(self.zoom) - 1)
        z, x, y = self.zoom[i], self.x[i], self.y[i]
        return View(1.0 + (z - 1.0) * depth, x * depth, y * depth)


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
    if move in (CameraMove.STATIC, CameraMove.FROM_VIDEO):
        return IDENTITY
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
    if move in (CameraMove.CRANE_UP, CameraMove.CRANE_DOWN):
        up = move is CameraMove.CRANE_UP
        rise = (1.0 - 2.0 * e) * s * depth**2 * (1.0 if up else -1.0)
        closer = (1.0 - e) if up else e
        return View(1.0 + CRANE_ZOOM * s * depth * closer, 0.0, CRANE_RANGE * height * rise)
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


def shake_offsets(
    frames: int, fps: int, amount: float, width: int, seed: int
) -> list[tuple[float, float]]:
    """Handheld shake: (dx, dy) world units per frame, a seeded sum of slow sines (so it
    wanders like a hand, not a vibrating table); zero when `amount` is 0."""
    if amount <= 0 or frames <= 0:
        return [(0.0, 0.0)] * max(0, frames)
    rng = np.random.default_rng(seed & 0xFFFF_FFFF)
    phases = rng.uniform(0.0, 2.0 * math.pi, (2, len(_SHAKE_HZ)))
    t = np.arange(frames, dtype=np.float64) / fps
    out = []
    for axis, scale in enumerate((SHAKE_X * width, SHAKE_Y * width)):
        wave = sum(
            w * np.sin(2.0 * math.pi * hz * t + phases[axis, k])
            for k, (hz, w) in enumerate(_SHAKE_HZ)
        )
        out.append(np.asarray(wave) * scale * amount)
    return [(float(x), float(y)) for x, y in zip(out[0], out[1], strict=True)]


def shot_views(
    shot: Shot,
    width: int,
    height: int,
    fps: int,
    seed: int,
    path: CameraPath | None = None,
    pin_start: bool = False,
    pin_end: bool = False,
) -> tuple[list[View], list[View]]:
    """Every frame's view of a shot, at background depth and at subject depth."""
    n = shot.num_frames
    shake = shake_offsets(n, fps, shot.shake, width, seed * 7919 + shot.index)
    layers: list[list[View]] = []
    for depth in (BACKGROUND_DEPTH, SUBJECT_DEPTH):
        if shot.camera is CameraMove.FROM_VIDEO and path is not None:
            moved = [path.at(f, depth) for f in range(n)]
        else:
            moved = sequence_views(shot, depth, width, height)
        views = []
        for v, (dx, dy) in zip(moved, shake, strict=True):
            views.append(View(v.zoom, v.x + dx, v.y + dy) if dx or dy else v)
        layers.append(pinned(views, pin_start, pin_end))
    return layers[0], layers[1]


def sequence_views(shot: Shot, depth: float, width: int, height: int) -> list[View]:
    """Every frame's view of the shot's moves played one after another: each move starts where
    the one before it ended (its own motion added to that end state), and a path of several
    moves is centred on the frame so no move drifts off the picture."""
    steps = camera_steps(shot)
    views: list[View] = []
    for k, (move, speed, _first, frames) in enumerate(steps):
        if k == 0:
            views += [
                view_at(move, speed, progress_at(f, frames), depth, width, height)
                for f in range(frames)
            ]
            continue
        held = views[-1] if views else IDENTITY
        start = view_at(move, speed, 0.0, depth, width, height)
        for f in range(frames):
            # (f + 1): the first frame of a following move already moves (no repeated frame).
            v = view_at(move, speed, (f + 1) / frames, depth, width, height)
            zoom = held.zoom * v.zoom / start.zoom
            views.append(View(zoom, held.x + v.x - start.x, held.y + v.y - start.y))
    if len(steps) < 2 or not views:
        return views
    mid_x = (min(v.x for v in views) + max(v.x for v in views)) / 2.0
    mid_y = (min(v.y for v in views) + max(v.y for v in views)) / 2.0
    return [View(v.zoom, v.x - mid_x, v.y - mid_y) for v in views]


def pinned(views: Sequence[View], start: bool, end: bool) -> list[View]:
    """The views made relative to the first (start) and/or last (end) one, so the pinned frame
    is the identity view; pinned at both ends, the correction is blended across the shot."""
    if not views or not (start or end):
        return list(views)
    first, last = views[0], views[-1]
    n = len(views)
    out = []
    for f, v in enumerate(views):
        w = progress_at(f, n) if start and end else (0.0 if start else 1.0)
        ref_zoom = math.exp((1.0 - w) * math.log(first.zoom) + w * math.log(last.zoom))
        ref_x = (1.0 - w) * first.x + w * last.x
        ref_y = (1.0 - w) * first.y + w * last.y
        out.append(View(v.zoom / ref_zoom, v.x - ref_x, v.y - ref_y))
    # Exactly the identity at the pinned frames (no rounding residue).
    if start:
        out[0] = IDENTITY
    if end:
        out[-1] = IDENTITY
    return out


def layer_affine(
    view: View,
    px_per_unit: float,
    src_centre: tuple[float, float],
    world_centre: tuple[float, float],
    width: int,
    height: int,
    pose: np.ndarray | None = None,
) -> np.ndarray:
    """The 2x3 matrix for cv2.warpAffine from a layer's pixels to the output frame.

    The layer has `px_per_unit` pixels per world unit, and its pixel `src_centre` sits at world
    point `world_centre`; `pose` (2x2) scales, mirrors or turns the layer about that pixel.
    """
    z = view.zoom
    a = np.eye(2) if pose is None else np.asarray(pose, np.float64)
    lin = (z / px_per_unit) * a
    offset = np.array(
        [
            z * (world_centre[0] - view.x) + (width - 1) / 2.0,
            z * (world_centre[1] - view.y) + (height - 1) / 2.0,
        ]
    )
    t = offset - lin @ np.array(src_centre, np.float64)
    return np.array([[lin[0, 0], lin[0, 1], t[0]], [lin[1, 0], lin[1, 1], t[1]]], np.float64)


def view_extent(views: Sequence[View], width: int, height: int) -> tuple[float, float]:
    """Half width and half height (world units, about the origin) that every view sees."""
    ex = max(abs(v.x) + width / (2.0 * v.zoom) for v in views)
    ey = max(abs(v.y) + height / (2.0 * v.zoom) for v in views)
    return ex, ey
