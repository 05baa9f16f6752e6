"""Planning: prompt text and reference metadata in, a `ShotPlan` out. Never pixels."""

from reelforge.planning.camera import parse_camera
from reelforge.planning.mentions import find_mentions
from reelforge.planning.shots import CameraMove, Shot, ShotPlan, plan_shots

__all__ = ["CameraMove", "Shot", "ShotPlan", "find_mentions", "parse_camera", "plan_shots"]
