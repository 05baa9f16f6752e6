"""The subjects: cutting them out and sizing their sprites, once per render.

Each subject image is cut out (a matte, GrabCut or a card) on a helper thread, described to the
layout by its shape (aspect, whether it stands on the frame's bottom edge, headroom for its
actions), given the actions addressed to it in each shot, and turned into one sprite per look it
appears in, no taller in pixels than the largest it is ever seen on screen. Where the subjects
stand in each shot is `staging.layout`'s; the scene ties the two together into placements.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from reelforge.engines.preview.actions import headroom, max_scale
from reelforge.engines.preview.camera import View
from reelforge.engines.preview.compose import Sprite
from reelforge.engines.preview.cutout import Cutout, cut_out
from reelforge.engines.preview.grade import apply_grade
from reelforge.engines.preview.staging import ShotStage, Spot, SubjectShape
from reelforge.media.types import CancelToken, EngineCanceled
from reelforge.planning.model import ActionCue, Look


def cut_out_checked(rgb: np.ndarray, studio: bool, cancel: CancelToken) -> Cutout:
    check_cancel(cancel)
    return cut_out(rgb, studio=studio, cancel=cancel)


def check_cancel(cancel: CancelToken) -> None:
    if cancel.is_set():
        raise EngineCanceled("canceled while preparing the scene")


def subject_shape(cutout: Cutout, cues: tuple[ActionCue, ...]) -> SubjectShape:
    h, w = cutout.alpha.shape
    return SubjectShape(
        aspect=w / h,
        touches_bottom=cutout.touches_bottom,
        is_card=cutout.method == "card",
        headroom=headroom(cues),
    )


def cues_by_subject(stage: ShotStage) -> dict[int, tuple[ActionCue, ...]]:
    """Each subject's actions in the shot: its own and those addressed to every subject."""
    out = {}
    for i in stage.subjects:
        out[i] = tuple(c for c in stage.shot.actions if c.image is None or c.image == i)
    return out


def sprites_for(
    stages: list[ShotStage],
    spots: dict[int, list[Spot]],
    cutouts: dict[int, Cutout],
    cues: dict[int, dict[int, tuple[ActionCue, ...]]],
    sub_views: list[View],
) -> dict[tuple[int, Look], Sprite]:
    """One sprite per subject and look, as tall (in pixels) as the largest it appears on
    screen; shots pinned to a given frame use the ungraded one (they grade per frame)."""
    max_zoom = max(v.zoom for v in sub_views)
    tallest: dict[int, float] = {}
    looks: dict[int, set[Look]] = {}
    for st in stages:
        pinned = st.pin_start is not None or st.pin_end is not None
        for i, spot in zip(st.subjects, spots[st.shot.index], strict=True):
            grow = max_scale(cues[st.shot.index][i])
            tallest[i] = max(tallest.get(i, 0.0), spot.world_height * grow)
            looks.setdefault(i, set()).add(Look.NONE if pinned else st.shot.look)
    sprites = {}
    for i, cut in cutouts.items():
        h, w = cut.alpha.shape
        target_h = min(h, max(8, math.ceil(tallest[i] * max_zoom)))
        rgb, alpha = cut.rgb, cut.alpha
        if target_h < h:
            size = (max(1, round(w * target_h / h)), target_h)
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        for look in sorted(looks.get(i, {Look.NONE})):
            sprites[(i, look)] = Sprite.from_cutout(apply_grade(rgb, look), alpha)
    return sprites
