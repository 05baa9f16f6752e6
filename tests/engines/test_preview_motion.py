"""Camera moves, measured on the rendered frames with Farneback optical flow and on the
subject's position: the sign conventions a viewer expects, and parallax between layers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelforge.core.references import StoredReference
from reelforge.engines.preview import PreviewEngine
from reelforge.engines.preview.camera import BACKGROUND_DEPTH, SUBJECT_DEPTH, view_at
from reelforge.planning.model import CameraMove
from tests.media_helpers import (
    Flag,
    image_ref,
    make_request,
    mean_flow,
    red_mask,
    studio_figure,
    textured_landscape,
    write_image,
)

WIDTH, HEIGHT, FRAMES = 640, 360, 16


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("motion")
    figure = write_image(folder / "figure.png", studio_figure(480, 360))
    land = write_image(folder / "land.png", textured_landscape(960, 540, avoid_red=True))
    return figure, land


def frames_for(
    camera_words: str, refs: tuple[Path, Path], subject: bool = True
) -> list[np.ndarray]:
    figure, land = refs
    references: tuple[StoredReference, ...]
    if subject:
        prompt = f"@Image1 stands in @Image2, {camera_words}"
        references = (image_ref(1, figure), image_ref(2, land))
    else:
        prompt = f"a view of @Image1, {camera_words}"
        references = (image_ref(1, land),)
    request = make_request(
        prompt, references, width=WIDTH, height=HEIGHT, num_frames=FRAMES, generate_audio=False
    )
    assert request.plan.shots[0].camera is not CameraMove.STATIC or "static" in camera_words
    return list(PreviewEngine().render(request, lambda _f: None, Flag()).frames)


def centroid(frame: np.ndarray) -> tuple[float, float, float]:
    """(x, y, area) of the red figure."""
    ys, xs = np.nonzero(red_mask(frame))
    return float(xs.mean()), float(ys.mean()), float(xs.size)


def test_static_camera_does_not_move_at_all(refs: tuple[Path, Path]) -> None:
    frames = frames_for("static shot", refs)
    assert all(np.array_equal(frames[0], f) for f in frames[1:])
    dx, dy, div = mean_flow(frames)
    assert abs(dx) < 0.01 and abs(dy) < 0.01 and abs(div) < 1e-4


def test_zoom_in_expands_and_zoom_out_contracts(refs: tuple[Path, Path]) -> None:
    _, _, div_in = mean_flow(frames_for("zoom in", refs, subject=False))
    _, _, div_out = mean_flow(frames_for("zoom out", refs, subject=False))
    assert div_in > 0.004
    assert div_out < -0.004


def test_pan_left_moves_content_right_and_pan_right_left(refs: tuple[Path, Path]) -> None:
    dx_left, dy_left, _ = mean_flow(frames_for("pan left", refs, subject=False))
    dx_right, _, _ = mean_flow(frames_for("pan right", refs, subject=False))
    assert dx_left > 0.5 and abs(dy_left) < 0.1 * dx_left
    assert dx_right < -0.5


def test_tilt_up_moves_content_down(refs: tuple[Path, Path]) -> None:
    dx, dy_up, _ = mean_flow(frames_for("tilt up", refs, subject=False))
    _, dy_down, _ = mean_flow(frames_for("tilt down", refs, subject=False))
    assert dy_up > 0.2 and abs(dx) < 0.1 * dy_up
    assert dy_down < -0.2


def test_pan_moves_the_subject_more_than_the_background(refs: tuple[Path, Path]) -> None:
    frames = frames_for("pan left", refs)
    x0, _, _ = centroid(frames[0])
    x1, _, _ = centroid(frames[-1])
    # Background shift over the shot, measured on the top strip (sky, no subject there).
    top = [f[: HEIGHT // 5] for f in frames]
    dx_bg, _, _ = mean_flow(top, size=(320, 36))
    bg_shift = dx_bg * (FRAMES - 1) * WIDTH / 320
    assert x1 - x0 > 1.3 * bg_shift > 0


def test_dolly_has_parallax_zoom_does_not(refs: tuple[Path, Path]) -> None:
    def growth(frames: list[np.ndarray]) -> float:
        return centroid(frames[-1])[2] / centroid(frames[0])[2]

    zoom, dolly = frames_for("zoom in", refs), frames_for("dolly in", refs)
    z_bg = view_at(CameraMove.ZOOM_IN, 1.0, 1.0, BACKGROUND_DEPTH, WIDTH, HEIGHT).zoom
    d_bg = view_at(CameraMove.DOLLY_IN, 1.0, 1.0, BACKGROUND_DEPTH, WIDTH, HEIGHT).zoom
    d_sub = view_at(CameraMove.DOLLY_IN, 1.0, 1.0, SUBJECT_DEPTH, WIDTH, HEIGHT).zoom
    # Zoom: the subject grows exactly as much as everything else (area ~ zoom squared).
    assert growth(zoom) == pytest.approx(z_bg**2, rel=0.08)
    # Dolly: the subject grows more than the plate behind it.
    assert d_sub > d_bg
    assert growth(dolly) == pytest.approx(d_sub**2, rel=0.08)
    assert growth(dolly) > 1.15 * d_bg**2


def test_orbit_slides_the_background_behind_a_steady_subject(refs: tuple[Path, Path]) -> None:
    frames = frames_for("orbit left", refs)
    top = [f[: HEIGHT // 5] for f in frames]
    dx_bg, _, _ = mean_flow(top, size=(320, 36))
    assert dx_bg < -0.3  # orbiting left: the far background slides left
    x0, _, _ = centroid(frames[0])
    x1, _, _ = centroid(frames[-1])
    bg_shift = abs(dx_bg) * (FRAMES - 1) * WIDTH / 320
    assert abs(x1 - x0) < 0.5 * bg_shift  # the subject, the pivot, barely moves
    right = frames_for("orbit right", refs)
    dx_right, _, _ = mean_flow([f[: HEIGHT // 5] for f in right], size=(320, 36))
    assert dx_right > 0.3


def test_multi_shot_cuts_change_the_move(refs: tuple[Path, Path]) -> None:
    figure, land = refs
    request = make_request(
        "@Image1 in @Image2. Shot 1: pan left. Shot 2: pan right",
        (image_ref(1, figure), image_ref(2, land)),
        width=WIDTH,
        height=HEIGHT,
        num_frames=2 * FRAMES,
        generate_audio=False,
    )
    frames = list(PreviewEngine().render(request, lambda _f: None, Flag()).frames)
    first, second = frames[:FRAMES], frames[FRAMES:]
    assert mean_flow(first)[0] > 0.3
    assert mean_flow(second)[0] < -0.3


def test_two_moves_in_one_shot_play_in_the_order_written(refs: tuple[Path, Path]) -> None:
    """'pan left, then tilt up': the first half of the shot pans (content slides right), the
    second half tilts (content slides down); written the other way round, the halves swap."""
    frames = frames_for("pan left, then tilt up", refs, subject=False)
    half = len(frames) // 2
    (dx1, dy1, _), (dx2, dy2, _) = mean_flow(frames[:half]), mean_flow(frames[half:])
    assert dx1 > 0.3 and abs(dy1) < 0.5 * dx1, (dx1, dy1)
    assert dy2 > 0.3 and abs(dx2) < 0.5 * dy2, (dx2, dy2)
    frames = frames_for("tilt up, then pan left", refs, subject=False)
    (dx1, dy1, _), (dx2, dy2, _) = mean_flow(frames[:half]), mean_flow(frames[half:])
    assert dy1 > 0.3 and abs(dx1) < 0.5 * dy1, (dx1, dy1)
    assert dx2 > 0.3 and abs(dy2) < 0.5 * dx2, (dx2, dy2)
