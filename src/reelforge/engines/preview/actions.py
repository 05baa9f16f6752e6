"""Subject motion: the pose of a cut-out at each moment of a shot for the plan's actions.

A pose is an offset from the subject's spot (world units), a scale per axis (a negative x scale
mirrors it: the far side of a turn), and an in-plane angle. Several actions on one subject add
up (offsets add, scales multiply, angles add). Scale changes keep the feet on the floor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reelforge.engines.preview.camera import View
from reelforge.planning.model import Action, ActionCue

ENTER_SHARE = 0.6  # an entrance takes this share of the shot, then the subject stays put
EXIT_SHARE = 0.6
STEPS_PER_SECOND = 2.2  # walking bob
GROW_FROM, GROW_TO = 0.6, 1.15
SHRINK_TO = 0.5
BOUNCE_HEIGHT = 0.16  # of the frame height
BOUNCE_SQUASH = 0.12
FLOAT_RISE = 0.08  # of the frame height
MIN_TURN_SCALE = 0.03  # a cut-out seen edge-on keeps a sliver


@dataclass(frozen=True)
class Pose:
    dx: float = 0.0
    dy: float = 0.0
    sx: float = 1.0
    sy: float = 1.0
    angle: float = 0.0  # degrees, clockwise on screen

    def matrix(self) -> np.ndarray:
        """The 2x2 linear part: rotate(angle) @ scale(sx, sy)."""
        a = math.radians(self.angle)
        c, s = math.cos(a), math.sin(a)
        return np.array([[c * self.sx, -s * self.sy], [s * self.sx, c * self.sy]], np.float64)

    def key(self) -> tuple[float, ...]:
        return (self.dx, self.dy, self.sx, self.sy, self.angle)


REST = Pose()


@dataclass(frozen=True)
class Stage:
    """What a pose needs to know of the subject and the shot."""

    centre: tuple[float, float]  # the subject's spot, world units
    world_width: float
    world_height: float
    frame_width: int
    frame_height: int
    seconds: float  # the shot's length
    first_view: View  # the camera at subject depth at the shot's first and last frames
    last_view: View


def max_scale(cues: Sequence[ActionCue]) -> float:
    """The largest the actions ever make the subject (for sizing its sprite)."""
    scale = 1.0
    for cue in cues:
        if cue.action is Action.GROW:
            scale *= GROW_TO + (GROW_TO - 1.0) * max(0.0, min(1.5, cue.speed) - 1.0)
        elif cue.action is Action.BOUNCE:
            scale *= 1.0 + BOUNCE_SQUASH
    return scale


def headroom(cues: Sequence[ActionCue]) -> float:
    """The share of the frame height a subject gives up so its actions stay in frame (a bounce
    or a float rises, a tumble turns a tall subject sideways, a grow ends larger)."""
    room = 0.0
    for cue in cues:
        if cue.action is Action.BOUNCE:
            room += BOUNCE_HEIGHT
        elif cue.action is Action.FLOAT:
            room += FLOAT_RISE * min(1.5, cue.speed) + 0.03
        elif cue.action is Action.TUMBLE:
            room += 0.15
        elif cue.action is Action.GROW:
            room += 0.2
    return min(0.5, room)


def pose_at(cues: Sequence[ActionCue], t: float, stage: Stage) -> Pose:
    """The subject's pose `t` (0..1) through the shot."""
    if not cues:
        return REST
    dx = dy = angle = 0.0
    sx = sy = 1.0
    for cue in cues:
        p = _pose(cue, t, stage)
        dx, dy = dx + p.dx, dy + p.dy
        sx, sy = sx * p.sx, sy * p.sy
        angle += p.angle
    return Pose(dx, dy, sx, sy, angle)


def _ease_out(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return 1.0 - (1.0 - t) ** 2


def _ease_in(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return t * t


def _smooth(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return t * t * (3.0 - 2.0 * t)


def _bob(t: float, stage: Stage, moving: bool) -> float:
    if not moving:
        return 0.0
    steps = STEPS_PER_SECOND * stage.seconds * t
    return -0.025 * stage.world_height * abs(math.sin(math.pi * steps))


def _outside_left(view: View, stage: Stage) -> float:
    """World x of the subject's centre just out of frame on the left, for `view`."""
    return view.x - stage.frame_width / (2.0 * view.zoom) - 0.55 * stage.world_width - 4.0


def _outside_right(view: View, stage: Stage) -> float:
    return view.x + stage.frame_width / (2.0 * view.zoom) + 0.55 * stage.world_width + 4.0


def _pose(cue: ActionCue, t: float, st: Stage) -> Pose:
    speed = min(3.0, max(0.25, cue.speed))
    cx = st.centre[0]
    a = cue.action
    if a in (Action.ENTER_LEFT, Action.ENTER_RIGHT):
        share = min(1.0, ENTER_SHARE / speed)
        p = _ease_out(t / share)
        left = a is Action.ENTER_LEFT
        start = _outside_left(st.first_view, st) if left else _outside_right(st.first_view, st)
        return Pose(dx=(start - cx) * (1.0 - p), dy=_bob(t, st, p < 1.0))
    if a in (Action.EXIT_LEFT, Action.EXIT_RIGHT):
        share = min(1.0, EXIT_SHARE / speed)
        p = _ease_in((t - (1.0 - share)) / share)
        left = a is Action.EXIT_LEFT
        end = _outside_left(st.last_view, st) if left else _outside_right(st.last_view, st)
        return Pose(dx=(end - cx) * p, dy=_bob(t, st, p > 0.0))
    if a in (Action.WALK_RIGHT, Action.WALK_LEFT):
        reach = 0.5 * st.frame_width - 0.5 * st.world_width - 0.04 * st.frame_width - abs(cx)
        reach = max(0.08 * st.frame_width, reach) * min(1.0, 0.6 + 0.4 * speed)
        sign = 1.0 if a is Action.WALK_RIGHT else -1.0
        return Pose(dx=sign * reach * (2.0 * t - 1.0), dy=_bob(t, st, True))
    if a is Action.ROTATE:
        theta = 2.0 * math.pi * speed * t
        c = math.cos(theta)
        if abs(c) < MIN_TURN_SCALE:
            c = math.copysign(MIN_TURN_SCALE, c if c != 0 else 1.0)
        return Pose(sx=c)
    if a is Action.TUMBLE:
        lift = -0.15 * st.world_height * math.sin(math.pi * t)
        return Pose(dy=lift, angle=360.0 * speed * t)
    if a is Action.FLOAT:
        secs = t * st.seconds
        rise = -FLOAT_RISE * st.frame_height * _smooth(t) * min(1.5, speed)
        sway = 0.02 * st.frame_height * math.sin(2.0 * math.pi * 0.45 * secs)
        return Pose(dy=rise + sway, angle=2.5 * math.sin(2.0 * math.pi * 0.3 * secs))
    if a is Action.BOUNCE:
        hops = max(1, round(1.6 * st.seconds * speed))
        h = abs(math.sin(math.pi * hops * t))
        q = max(0.0, (0.15 - h) / 0.15) * BOUNCE_SQUASH  # squash at each landing
        sx, sy = 1.0 + q, 1.0 - q
        lift = -BOUNCE_HEIGHT * st.frame_height * h
        return Pose(dy=lift + (1.0 - sy) * st.world_height / 2.0, sx=sx, sy=sy)
    if a in (Action.GROW, Action.SHRINK):
        amount = min(1.5, speed)
        if a is Action.GROW:
            g = GROW_FROM + (GROW_TO - GROW_FROM) * amount * _smooth(t)
            g = min(g, max_scale([cue]))
        else:
            g = 1.0 - (1.0 - SHRINK_TO) * min(1.0, amount) * _smooth(t)
        return Pose(dy=(1.0 - g) * st.world_height / 2.0, sx=g, sy=g)
    raise ValueError(f"unknown action {a!r}")
