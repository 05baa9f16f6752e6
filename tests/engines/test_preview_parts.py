"""Pieces of the preview engine on their own: smart crop, pinned views, shake, the motion a
reference video shows, and pose maths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelforge.engines.preview.actions import Stage, pose_at
from reelforge.engines.preview.camera import IDENTITY, View, pinned, shake_offsets
from reelforge.engines.preview.motion import estimate_motion
from reelforge.engines.preview.reframe import crop_centre
from reelforge.planning.model import Action, ActionCue
from tests.media_helpers import Flag, write_pan_video


@pytest.mark.parametrize("where", [0.15, 0.5, 0.85])
def test_crop_centre_follows_the_busy_part(where: float) -> None:
    img = np.full((360, 1280, 3), 128, np.uint8)
    x = int(where * 1280)
    rng = np.random.default_rng(1)
    img[100:260, x - 80 : x + 80] = rng.integers(0, 255, (160, 160, 3), dtype=np.uint8)
    cx, cy = crop_centre(img, 9 / 16)
    window = 360 * 9 / 16
    assert abs(cx - x) < window / 2 - 60  # the busy block is inside the crop
    assert cy == pytest.approx(179.5)


def test_crop_centre_of_a_flat_picture_is_its_centre() -> None:
    assert crop_centre(np.full((300, 900, 3), 90, np.uint8), 1.0) == (449.5, 149.5)
    assert crop_centre(np.full((900, 300, 3), 90, np.uint8), 1.0) == (149.5, 449.5)


def test_pinned_views_start_and_end_on_the_identity() -> None:
    views = [View(1.0 + 0.1 * i, 5.0 * i, -2.0 * i) for i in range(10)]
    start = pinned(views, True, False)
    assert start[0] == IDENTITY
    assert start[5].zoom == pytest.approx(1.5 / 1.0) and start[5].x == pytest.approx(25.0)
    end = pinned(views, False, True)
    assert end[-1] == IDENTITY and end[0].x == pytest.approx(-45.0)
    both = pinned(views, True, True)
    assert both[0] == IDENTITY and both[-1] == IDENTITY
    assert pinned(views, False, False) == views


def test_shake_is_seeded_and_wanders_about_zero() -> None:
    a = shake_offsets(240, 24, 1.0, 1280, seed=3)
    assert a == shake_offsets(240, 24, 1.0, 1280, seed=3)
    assert a != shake_offsets(240, 24, 1.0, 1280, seed=4)
    xs = np.array([x for x, _ in a])
    assert 2.0 < np.abs(xs).max() < 0.01 * 1280
    assert abs(xs.mean()) < 0.3 * np.abs(xs).max()
    assert shake_offsets(10, 24, 0.0, 1280, 1) == [(0.0, 0.0)] * 10


@pytest.mark.parametrize(("dx", "dy"), [(4, 0), (-3, 2)])
def test_motion_of_a_panning_video(tmp_path: Path, dx: int, dy: int) -> None:
    clip = write_pan_video(tmp_path / "pan.mp4", dx=dx, dy=dy, width=320, height=180, frames=24)
    path = estimate_motion(clip, 30, 24, 24.0, 640, 360, Flag())
    assert len(path.x) == 30
    steps = np.diff(path.x[:23]), np.diff(path.y[:23])
    # Content moves (dx, dy) source pixels a frame, 2x that at 640x360; the camera the other way.
    assert np.median(steps[0]) == pytest.approx(-2 * dx, abs=0.6)
    assert np.median(steps[1]) == pytest.approx(-2 * dy, abs=0.6)
    assert max(abs(z - 1.0) for z in path.zoom) < 0.02
    again = estimate_motion(clip, 30, 24, 24.0, 640, 360, Flag())
    assert again == path  # deterministic
    # Past the clip's end its motion repeats.
    assert path.x[29] - path.x[23] == pytest.approx(path.x[6] - path.x[0], abs=1.0)


def test_poses() -> None:
    stage = Stage((0.0, 50.0), 100.0, 200.0, 640, 360, 2.0, IDENTITY, IDENTITY)
    enter = [pose_at([ActionCue(Action.ENTER_LEFT)], t, stage) for t in (0.0, 0.3, 0.7, 1.0)]
    assert enter[0].dx < -320 - 50 and enter[-1].dx == 0.0 and enter[2].dx == 0.0
    grow = [pose_at([ActionCue(Action.GROW)], t, stage) for t in (0.0, 1.0)]
    assert grow[0].sx == pytest.approx(0.6) and grow[1].sx == pytest.approx(1.15)
    # Feet stay on the floor: centre + half height * scale is constant.
    feet = [p.dy + 100.0 * p.sy for p in grow]
    assert feet[0] == pytest.approx(feet[1])
    half_turn = pose_at([ActionCue(Action.ROTATE)], 0.5, stage)
    assert half_turn.sx == pytest.approx(-1.0)
    combined = pose_at([ActionCue(Action.WALK_RIGHT), ActionCue(Action.ROTATE)], 0.25, stage)
    assert combined.dx < 0 and abs(combined.sx) < 0.05
