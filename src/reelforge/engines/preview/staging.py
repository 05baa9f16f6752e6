"""Staging: which picture is the place and which are the subjects, shot by shot, and where
each subject stands. Decisions only, from the plan and image statistics; no pixels are made."""

from __future__ import annotations

from dataclasses import dataclass

from reelforge.engines.preview.cutout import ImageStats
from reelforge.planning.model import Shot, ShotPlan

CLOSE_SCORES = 0.85  # background candidates within 15 % of the best count as "several"


@dataclass(frozen=True)
class ShotStage:
    shot: Shot
    background: int | None  # the @ImageN used as the plate; None = a video or a backdrop
    subjects: tuple[int, ...]  # the @ImageN cut out and laid over the plate, left to right
    pin_start: int | None = None  # the @ImageN this shot's first frame must show exactly
    pin_end: int | None = None  # the @ImageN this shot's last frame must show exactly


def choose_background(stats: dict[int, ImageStats]) -> int | None:
    """The image that looks most like a place: not a studio shot, the busiest border and the
    most detail; when several score alike, the last of them (prompts tend to name the subject
    first and the place after it)."""
    candidates = {i: s.background_score for i, s in stats.items() if not s.is_studio}
    if not candidates:
        return None
    best = max(candidates.values())
    close = [i for i, score in candidates.items() if score >= CLOSE_SCORES * best]
    return max(close)


def stage_shots(plan: ShotPlan, stats: dict[int, ImageStats]) -> list[ShotStage]:
    """Per shot: the plate and the subjects. A place named in the text ("walks in @Image2")
    wins over statistics; every image appears somewhere in the video.

    First/last frame images are never cut out: they are the plates of the shots they pin (the
    first shot starts on one, the last shot ends on the other), and the place of the other shots
    when no other picture is a place."""
    pinned = {i for i in (plan.first_frame, plan.last_frame) if i in stats}
    free = {i: s for i, s in stats.items() if i not in pinned}
    images = sorted(free)
    hinted = next((s.background_image for s in plan.shots if s.background_image in free), None)
    default_bg = hinted if hinted is not None else choose_background(free)
    if default_bg is None and pinned:
        default_bg = plan.first_frame if plan.first_frame in stats else plan.last_frame
    stages: list[ShotStage] = []
    last = len(plan.shots) - 1
    for k, shot in enumerate(plan.shots):
        listed = [i for i in shot.image_indices if i in free] or images
        bg = shot.background_image if shot.background_image in free else default_bg
        subjects = tuple(i for i in listed if i != bg)
        pin_start = plan.first_frame if k == 0 and plan.first_frame in stats else None
        pin_end = plan.last_frame if k == last and plan.last_frame in stats else None
        stages.append(ShotStage(shot, bg, subjects, pin_start, pin_end))
    shown = {i for st in stages for i in (*st.subjects, st.background) if i is not None}
    missing = tuple(i for i in images if i not in shown)
    if missing:
        stages = [
            ShotStage(st.shot, st.background, st.subjects + missing, st.pin_start, st.pin_end)
            for st in stages
        ]
    return stages


@dataclass(frozen=True)
class Spot:
    """Where one subject stands: centre and height in world units (output pixels, origin at
    the frame centre, y down)."""

    centre: tuple[float, float]
    world_height: float


@dataclass(frozen=True)
class SubjectShape:
    aspect: float  # width / height of the cut-out
    touches_bottom: bool  # a bust or a product on a table: keep the cut edge below the frame
    is_card: bool
    headroom: float = 0.0  # share of the height kept free for the subject's actions


def layout(shapes: list[SubjectShape], width: int, height: int, hide_below: float) -> list[Spot]:
    """Subjects side by side across the middle 86 % of the frame, standing on a floor line.

    `hide_below` is how far (world units) the camera may look below the frame's bottom edge;
    cut-outs that run off their picture's bottom are pushed at least that far down.
    """
    n = len(shapes)
    if n == 0:
        return []
    slot = 0.86 * width / n
    spots = []
    for i, shape in enumerate(shapes):
        if shape.is_card:
            max_h = 0.70 * height
        elif shape.touches_bottom:
            max_h = 0.88 * height
        else:
            max_h = 0.80 * height
        max_h *= 1.0 - shape.headroom
        world_h = min(max_h, 0.92 * slot / max(shape.aspect, 1e-3))
        cx = -0.43 * width + slot * (i + 0.5)
        if shape.is_card:
            cy = 0.02 * height
        elif shape.touches_bottom:
            bottom = 0.5 * height + hide_below + 0.02 * height
            cy = bottom - world_h / 2.0
        else:
            cy = 0.38 * height - world_h / 2.0  # feet on a floor line below the centre
        spots.append(Spot(centre=(cx, cy), world_height=world_h))
    return spots
