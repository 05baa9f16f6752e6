"""ShotPlan <-> JSON-able dict, for the job store and workflow checkpoints."""

from __future__ import annotations

import dataclasses
from typing import Any

from reelforge.planning.shots import CameraMove, Shot, ShotPlan


def plan_from_dict(d: dict[str, Any]) -> ShotPlan:
    known = {f.name for f in dataclasses.fields(Shot)}
    shots = []
    for s in d["shots"]:
        values = {k: v for k, v in s.items() if k in known}
        values["camera"] = CameraMove(values.get("camera", CameraMove.STATIC))
        for key, value in values.items():
            if isinstance(value, list):
                values[key] = tuple(value)
        shots.append(Shot(**values))
    return ShotPlan(
        shots=tuple(shots),
        fps=int(d["fps"]),
        num_frames=int(d["num_frames"]),
        mentions=tuple(d.get("mentions", ())),
    )
