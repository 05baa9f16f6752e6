from __future__ import annotations

import pytest

from reelforge.planning.camera import find_camera, parse_camera
from reelforge.planning.model import CameraMove


@pytest.mark.parametrize(
    ("text", "move", "speed"),
    [
        ("static shot of a vase", CameraMove.STATIC, 1.0),
        ("locked-off camera, a dancer spins", CameraMove.STATIC, 1.0),
        ("slow zoom in on her face", CameraMove.ZOOM_IN, 0.5),
        ("the camera zooms out quickly", CameraMove.ZOOM_OUT, 2.0),
        ("Zooming into the city", CameraMove.ZOOM_IN, 1.0),
        ("dolly in towards the door", CameraMove.DOLLY_IN, 1.0),
        ("Push in on the hero", CameraMove.DOLLY_IN, 1.0),
        ("a slow push-in", CameraMove.DOLLY_IN, 0.5),
        ("the camera dollies out", CameraMove.DOLLY_OUT, 1.0),
        ("pull back to reveal the valley", CameraMove.DOLLY_OUT, 1.0),
        ("camera gently moves closer", CameraMove.DOLLY_IN, 0.5),
        ("pan left across the skyline", CameraMove.PAN_LEFT, 1.0),
        ("the camera pans to the right rapidly", CameraMove.PAN_RIGHT, 2.0),
        ("tilt up to the sky", CameraMove.TILT_UP, 1.0),
        ("camera tilts downward slowly", CameraMove.TILT_DOWN, 0.5),
        ("orbit left around the statue", CameraMove.ORBIT_LEFT, 1.0),
        ("the camera orbits around her to the right, fast", CameraMove.ORBIT_RIGHT, 1.0),
        ("a fast orbit right", CameraMove.ORBIT_RIGHT, 2.0),
        ("QUICK PAN LEFT", CameraMove.PAN_LEFT, 2.0),
    ],
)
def test_parse_camera(text: str, move: CameraMove, speed: float) -> None:
    assert parse_camera(text) == (move, speed)


def test_no_move_is_static_at_normal_speed() -> None:
    assert parse_camera("a cat sleeping on a sofa") == (CameraMove.STATIC, 1.0)
    assert find_camera("a cat sleeping on a sofa") is None


def test_speed_words_only_count_in_the_clause_of_the_move() -> None:
    # "fast" describes the car, not the camera.
    assert parse_camera("a fast car races by, the camera pans left") == (CameraMove.PAN_LEFT, 1.0)
    assert parse_camera("a fast car, the camera slowly pushes in") == (CameraMove.DOLLY_IN, 0.5)


def test_first_named_move_wins() -> None:
    assert parse_camera("pan right, then zoom in")[0] is CameraMove.PAN_RIGHT
    assert parse_camera("zoom in, then pan right")[0] is CameraMove.ZOOM_IN


def test_subject_moving_in_is_not_a_dolly() -> None:
    assert parse_camera("the knight moves into the castle") == (CameraMove.STATIC, 1.0)
