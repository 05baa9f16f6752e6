"""Subject-aware framing, watched as a viewer would: photos that ship with scikit-image, fixed
prompts, and a face detector run on the decoded frames. No detected face may be cut by the
frame's edge in any frame, and a person photo is shown whole unless a close-up is asked for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skimage.data

from reelforge.engines.preview.camera import View
from reelforge.engines.preview.compose import render_plate
from reelforge.engines.preview.faces import Face, detect_faces, face_margin_ok
from reelforge.engines.preview.framing import (
    common_window,
    find_subject,
    framed_plate,
    wants_close_up,
)
from tests.engines.test_preview_engine import render
from tests.media_helpers import decode_frames, image_ref, make_request, write_image

W, H = 640, 360


def portrait() -> np.ndarray:
    """The astronaut photo cut to a 5:8 portrait (head near the top, body off the bottom)."""
    return np.ascontiguousarray(skimage.data.astronaut()[:, 90:410])


def test_finds_the_one_face_of_the_astronaut_and_none_elsewhere() -> None:
    faces = detect_faces(skimage.data.astronaut())
    assert len(faces) == 1
    f = faces[0]
    # Eileen Collins' face: about x 170..275, y 60..165 in the 512 px photo.
    assert 150 < f.x < 195 and 40 < f.y < 85 and 85 < f.w < 125
    for name in ("coffee", "chelsea", "coins", "camera", "rocket"):
        assert detect_faces(getattr(skimage.data, name)()) == [], name


def test_close_up_words() -> None:
    assert wants_close_up("a close-up of @Image1")
    assert wants_close_up("Extreme closeup, slow push in")
    assert wants_close_up("headshot of @Image1")
    assert not wants_close_up("slow pan left across @Image1")
    assert not wants_close_up("@Image1 walks closer")


def _faces_inside(frame: np.ndarray) -> list[Face]:
    faces = detect_faces(frame, max_side=640, min_size=40)
    for f in faces:
        assert face_margin_ok(f, frame.shape[1], frame.shape[0], margin=0.05), f
    return faces


def test_readme_example_shows_the_whole_person(tmp_path: Path) -> None:
    """One portrait photo, 16:9, "slow pan left across @Image1": the face is found in every
    sampled frame, never touching an edge, and the person is shown whole (head and shoulders
    at most a third of the frame's height, the picture's full height on screen)."""
    path = write_image(tmp_path / "portrait.png", portrait())
    request = make_request(
        "slow pan left across @Image1", (image_ref(1, path),), width=W, height=H, num_frames=48
    )
    render(request, tmp_path / "out.mp4")
    frames = decode_frames(tmp_path / "out.mp4")
    xs = []
    for frame in (frames[0], frames[24], frames[-1]):
        faces = _faces_inside(frame)
        assert len(faces) == 1
        assert faces[0].h < 0.36 * H  # not a close-up: the body is in frame too
        xs.append(faces[0].x)
    assert xs[-1] > xs[0] + 4  # pan left: the content slides right
    # The photo's own background (light grey) reaches from near the top of the frame to the
    # bottom: the picture is shown at its full height, not cropped through the subject.
    middle = frames[24]
    centre_column = middle[:, W // 2 - 40 : W // 2 + 40].astype(np.float32)
    assert centre_column[-4:].mean() > 20  # the body (orange suit) at the bottom, not black


def test_close_up_keeps_the_head_in_frame(tmp_path: Path) -> None:
    path = write_image(tmp_path / "portrait.png", portrait())
    request = make_request(
        "close-up of @Image1, slow zoom in",
        (image_ref(1, path),),
        width=W,
        height=H,
        num_frames=36,
    )
    render(request, tmp_path / "out.mp4")
    frames = decode_frames(tmp_path / "out.mp4")
    for frame in (frames[0], frames[18], frames[-1]):
        faces = _faces_inside(frame)
        assert len(faces) == 1
        assert faces[0].h > 0.3 * H  # a close-up: the face is large


@pytest.mark.parametrize("aspect", [(640, 360), (360, 640)])
def test_framed_plate_keeps_the_person_in_every_view(aspect: tuple[int, int]) -> None:
    """Plate level, every aspect: the subject box maps inside each view of a pan + zoom."""
    w, h = aspect
    rgb = portrait()
    subject = find_subject(rgb, close_up=False)
    assert subject is not None
    views = [View(1.0 + 0.1 * t, 30.0 * (1 - 2 * t), 0.0) for t in (0.0, 0.5, 1.0)]
    window = common_window(views, w, h)
    extent = (
        max(abs(v.x) + w / (2 * v.zoom) for v in views),
        max(abs(v.y) + h / (2 * v.zoom) for v in views),
    )
    plate, _ = framed_plate(rgb, subject, window, extent, 1.2)
    for v in views:
        frame = render_plate(plate, v, w, h)
        faces = detect_faces(frame, max_side=640, min_size=40)
        assert len(faces) == 1, (aspect, v)
        assert face_margin_ok(faces[0], w, h, margin=0.05)
