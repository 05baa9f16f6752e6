"""ShotPlan <-> JSON-able dict, for the job store and workflow checkpoints."""

from __future__ import annotations

import dataclasses
from typing import Any

from reelforge.planning.model import (
    Action,
    ActionCue,
    CameraCue,
    CameraMove,
    DialogueLine,
    Look,
    Shot,
    ShotPlan,
    Transition,
)


def plan_from_dict(d: dict[str, Any]) -> ShotPlan:
    """The plan `ShotPlan.to_dict` wrote; keys it does not know are ignored, missing ones take
    their defaults (plans stored by older versions load)."""
    known = {f.name for f in dataclasses.fields(Shot)}
    shots = []
    for s in d["shots"]:
        values = {k: v for k, v in s.items() if k in known}
        values["camera"] = CameraMove(values.get("camera", CameraMove.STATIC))
        values["transition"] = Transition(values.get("transition", Transition.CUT))
        values["look"] = Look(values.get("look", Look.NONE))
        values["actions"] = tuple(_cue(a) for a in values.get("actions", ()))
        values["dialogue"] = tuple(_line(x) for x in values.get("dialogue", ()))
        values["then"] = tuple(_camera_cue(c) for c in values.get("then", ()))
        for key, value in values.items():
            if isinstance(value, list):
                values[key] = tuple(value)
        shots.append(Shot(**values))
    letterbox = d.get("letterbox")
    return ShotPlan(
        shots=tuple(shots),
        fps=int(d["fps"]),
        num_frames=int(d["num_frames"]),
        mentions=tuple(d.get("mentions", ())),
        first_frame=d.get("first_frame"),
        last_frame=d.get("last_frame"),
        letterbox=float(letterbox) if letterbox is not None else None,
        fade_in=bool(d.get("fade_in", False)),
        fade_out=bool(d.get("fade_out", False)),
        soundtrack=d.get("soundtrack"),
        beats=tuple(float(b) for b in d.get("beats", ())),
    )


def _camera_cue(c: dict[str, Any] | CameraCue) -> CameraCue:
    if isinstance(c, CameraCue):
        return c
    return CameraCue(move=CameraMove(c["move"]), speed=float(c.get("speed", 1.0)))


def _cue(a: dict[str, Any] | ActionCue) -> ActionCue:
    if isinstance(a, ActionCue):
        return a
    return ActionCue(
        action=Action(a["action"]), image=a.get("image"), speed=float(a.get("speed", 1.0))
    )


def _line(x: dict[str, Any] | DialogueLine) -> DialogueLine:
    if isinstance(x, DialogueLine):
        return x
    return DialogueLine(text=x["text"], speaker=x.get("speaker"), manner=x.get("manner", "says"))
