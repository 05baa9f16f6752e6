"""Planned continuation: a clip longer than the hosted services' 15 s is continued shot by shot.

Past `MAX_SECONDS` a shot longer than `PART_SECONDS` is played as several parts of at most that
length, each continuing the one before it: the same subjects (`image_indices`), the same plate
(`background_image`, the reference video, the backdrop), the same look and shake, joined by
crossfades. The camera goes back and forth over the same plate (odd parts play the move
reversed, so it never runs off the plate however long the clip), subjects that walk turn
round with it; an entrance plays in the first part, an exit in the last, and the dialogue
stays where the prompt put it (the first part starts where the shot started). Only the plan
changes: an engine renders the parts as ordinary shots, so memory does not grow with the clip.
"""

from __future__ import annotations

import math
from dataclasses import replace

from reelforge.planning.model import (
    Action,
    ActionCue,
    CameraMove,
    Shot,
    ShotPlan,
    Transition,
)
from reelforge.spec import MAX_SECONDS

PART_SECONDS = 10.0  # the longest part of a continued shot

_PAIRS = (
    (CameraMove.ZOOM_IN, CameraMove.ZOOM_OUT),
    (CameraMove.DOLLY_IN, CameraMove.DOLLY_OUT),
    (CameraMove.PAN_LEFT, CameraMove.PAN_RIGHT),
    (CameraMove.TILT_UP, CameraMove.TILT_DOWN),
    (CameraMove.ORBIT_LEFT, CameraMove.ORBIT_RIGHT),
    (CameraMove.CRANE_UP, CameraMove.CRANE_DOWN),
)
_REVERSE_MOVE = {**dict(_PAIRS), **{b: a for a, b in _PAIRS}}
_REVERSE_WALK = {Action.WALK_RIGHT: Action.WALK_LEFT, Action.WALK_LEFT: Action.WALK_RIGHT}
_ENTRANCES = {Action.ENTER_LEFT, Action.ENTER_RIGHT}
_EXITS = {Action.EXIT_LEFT, Action.EXIT_RIGHT}


def continue_plan(plan: ShotPlan, part_seconds: float = PART_SECONDS) -> ShotPlan:
    """`plan` with each shot longer than `part_seconds` continued in parts, when the clip is
    longer than `MAX_SECONDS`; a clip within the hosted length is returned as it is."""
    if plan.seconds <= MAX_SECONDS:
        return plan
    limit = max(1, round(part_seconds * plan.fps))
    shots: list[Shot] = []
    start = 0
    for shot in plan.shots:
        parts = math.ceil(shot.num_frames / limit)
        for k, frames in enumerate(_split(shot.num_frames, parts)):
            part = shot if parts == 1 else _part(shot, k, parts, frames)
            shots.append(replace(part, index=len(shots), start_frame=start, num_frames=frames))
            start += frames
    return replace(plan, shots=tuple(shots))


def _split(frames: int, parts: int) -> list[int]:
    """`frames` in `parts` lengths that differ by one frame at most."""
    base, extra = divmod(frames, parts)
    return [base + (1 if k < extra else 0) for k in range(parts)]


def _part(shot: Shot, k: int, parts: int, frames: int) -> Shot:
    first, last = k == 0, k == parts - 1
    reverse = k % 2 == 1
    actions = tuple(
        _turned(cue, reverse)
        for cue in shot.actions
        if (first or cue.action not in _ENTRANCES) and (last or cue.action not in _EXITS)
    )
    camera = shot.camera
    if reverse and shot.motion_video is None:
        camera = _REVERSE_MOVE.get(camera, camera)
    return replace(
        shot,
        camera=camera,
        # the further moves ("then dolly in") play once, in the first part
        then=shot.then if first else (),
        actions=actions,
        transition=shot.transition if first else Transition.CROSSFADE,
        dialogue=shot.dialogue if first else (),
        num_frames=frames,
    )


def _turned(cue: ActionCue, reverse: bool) -> ActionCue:
    if not reverse:
        return cue
    return replace(cue, action=_REVERSE_WALK.get(cue.action, cue.action))
