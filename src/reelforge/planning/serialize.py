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
    extra = {
        f.name: tuple(d[f.name]) if isinstance(d.get(f.name), list) else d[f.name]
        for f in dataclasses.fields(ShotPlan)
        if f.name not in ("shots",) and f.name in d
    }
    return ShotPlan(shots=tuple(shots), **extra)
