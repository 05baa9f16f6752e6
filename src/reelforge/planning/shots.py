"""The shot plan: the typed result of reading a prompt, shared by every engine.

`plan_shots` turns prompt text and reference metadata into a `ShotPlan` without touching pixels.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from reelforge.planning.mentions import find_mentions, iter_mentions, mention_label
from reelforge.spec import ReferenceKind


class CameraMove(StrEnum):
    STATIC = "static"
    ZOOM_IN = "zoom_in"
    ZOOM_OUT = "zoom_out"
    DOLLY_IN = "dolly_in"
    DOLLY_OUT = "dolly_out"
    PAN_LEFT = "pan_left"
    PAN_RIGHT = "pan_right"
    TILT_UP = "tilt_up"
    TILT_DOWN = "tilt_down"
    ORBIT_LEFT = "orbit_left"
    ORBIT_RIGHT = "orbit_right"


@dataclass(frozen=True)
class Shot:
    """One shot: frames [start_frame, start_frame + num_frames) of the output."""

    index: int
    start_frame: int
    num_frames: int
    prompt: str
    camera: CameraMove = CameraMove.STATIC
    speed: float = 1.0  # 0.5 = slow, 2.0 = fast
    image_indices: tuple[int, ...] = ()  # 1-based @ImageN that appear in this shot
    background_image: int | None = None  # the @ImageN the text names as the place, if any


@dataclass(frozen=True)
class ShotPlan:
    shots: tuple[Shot, ...]
    fps: int
    num_frames: int
    mentions: tuple[str, ...] = field(default=())  # e.g. ("Image1", "Audio1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- prompt -> plan ---------------------------------------------------------------------------

MAX_SHOTS = 6
# A prompt that names no camera move gets a slow push-in, the gentle motion viewers expect
# of a video; "static" (or "locked-off") asks for a still camera.
UNNAMED_CAMERA = (CameraMove.ZOOM_IN, 0.5)

# "Shot 2:", "[Shot 2]", "shot 2 -"; and "cut to", "hard cut to:".
_SHOT_MARK = re.compile(r"\[?\bshot\s*#?\s*\d+\s*(?:[:.)\]\-\u2013\u2014]|$)\]?", re.IGNORECASE)
_CUT_TO = re.compile(r"\b(?:hard\s+|smash\s+)?cut(?:s|ting)?\s+to\b\s*[:,\-]?", re.IGNORECASE)

# Words that make a mentioned image the place where things happen rather than a subject.
_PLACE_BEFORE = re.compile(
    r"\b(?:in|inside|into|through|at|across|within|amid|amidst|background(?:\s+is)?|setting"
    r"(?:\s+is)?|backdrop(?:\s+is)?|location(?:\s+is)?|environment(?:\s+is)?|scene\s+of)"
    r"\s*[:=]?\s*(?:the\s+|a\s+|an\s+)?(?:\w+\s+(?:of|from)\s+)?$",
    re.IGNORECASE,
)
_PLACE_AFTER = re.compile(
    r"^\s*(?:as|is|for)\s+(?:the\s+|a\s+)?(?:background|setting|backdrop|location|environment"
    r"|scene|place)\b",
    re.IGNORECASE,
)


def plan_shots(prompt: str, num_frames: int, fps: int, image_count: int) -> ShotPlan:
    """Read a prompt into shots: split on `Shot N:` markers and "cut to" (at most 6 shots, frames
    shared evenly, the remainder to the last shot), each with its own camera move and the images
    it mentions. Images that no shot mentions appear in every shot. Pure text, no pixels.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if fps < 1:
        raise ValueError(f"fps must be >= 1, got {fps}")
    if image_count < 0:
        raise ValueError(f"image_count must be >= 0, got {image_count}")

    # camera.py needs CameraMove from this module, so it is imported here, not at the top.
    from reelforge.planning.camera import find_camera

    preamble, segments = _split_shots(prompt)
    if len(segments) > MAX_SHOTS:
        segments = [*segments[: MAX_SHOTS - 1], " ".join(segments[MAX_SHOTS - 1 :])]
    if not segments:
        segments = [prompt.strip()]
    # Never more shots than frames; the shots past the last frame are dropped.
    segments = segments[:num_frames]

    in_range = range(1, image_count + 1)
    everywhere = [i for i in _image_mentions(preamble) if i in in_range]
    mentioned = {i for seg in segments for i in _image_mentions(seg)} | set(everywhere)
    unmentioned = [i for i in in_range if i not in mentioned]
    default_camera = find_camera(preamble)
    default_background = _background_mention(preamble, in_range)

    count = len(segments)
    base = num_frames // count
    shots: list[Shot] = []
    for i, text in enumerate(segments):
        length = base if i < count - 1 else num_frames - base * (count - 1)
        camera, speed = find_camera(text) or default_camera or UNNAMED_CAMERA
        own = [idx for idx in _image_mentions(text) if idx in in_range]
        indices = _unique([*own, *everywhere, *unmentioned])
        background = _background_mention(text, in_range) or default_background
        shots.append(
            Shot(
                index=i,
                start_frame=i * base,
                num_frames=length,
                prompt=text,
                camera=camera,
                speed=speed,
                image_indices=tuple(indices),
                background_image=background if background in indices else None,
            )
        )
    labels = tuple(mention_label(kind, idx) for kind, idx in find_mentions(prompt))
    return ShotPlan(shots=tuple(shots), fps=fps, num_frames=num_frames, mentions=labels)


def _split_shots(prompt: str) -> tuple[str, list[str]]:
    """(context before the first `Shot N:` marker, the shot texts)."""
    marks = sorted(
        [(m.start(), m.end(), True) for m in _SHOT_MARK.finditer(prompt)]
        + [(m.start(), m.end(), False) for m in _CUT_TO.finditer(prompt)]
    )
    if not marks:
        return "", [prompt.strip()] if prompt.strip() else []
    pieces: list[str] = []
    preamble = ""
    first_start, _, first_is_shot = marks[0]
    head = prompt[:first_start].strip()
    if first_is_shot:
        preamble = head
    elif head:
        pieces.append(head)
    for n, (_, end, _) in enumerate(marks):
        stop = marks[n + 1][0] if n + 1 < len(marks) else len(prompt)
        pieces.append(prompt[end:stop].strip())
    return preamble, [p for p in pieces if p]


def _image_mentions(text: str) -> list[int]:
    return [idx for kind, idx in find_mentions(text) if kind is ReferenceKind.IMAGE]


def _background_mention(text: str, valid: range) -> int | None:
    """The image a text names as the place ("walks in @Image2", "@Image3 as the background")."""
    for m in iter_mentions(text):
        if m.kind is not ReferenceKind.IMAGE or m.index not in valid:
            continue
        if _PLACE_BEFORE.search(text[max(0, m.start - 40) : m.start]) or _PLACE_AFTER.search(
            text[m.end : m.end + 40]
        ):
            return m.index
    return None


def _unique(items: list[int]) -> list[int]:
    return list(dict.fromkeys(items))
