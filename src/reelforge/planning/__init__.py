"""Planning: prompt text and reference metadata in, a `ShotPlan` out. Never pixels."""

from reelforge.planning.camera import parse_camera
from reelforge.planning.mentions import find_mentions
from reelforge.planning.model import (
    Action,
    ActionCue,
    CameraMove,
    DialogueLine,
    Look,
    Shot,
    ShotPlan,
    Transition,
)
from reelforge.planning.shots import choose_seconds, plan_shots

__all__ = [
    "Action",
    "ActionCue",
    "CameraMove",
    "DialogueLine",
    "Look",
    "Shot",
    "ShotPlan",
    "Transition",
    "choose_seconds",
    "find_mentions",
    "parse_camera",
    "plan_shots",
]
