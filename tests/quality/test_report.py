"""The quality report on real renders and on deliberately broken clips: every check passes on a
good preview render, its camera verdict agrees with an independent (Farneback) flow
measurement, and each kind of fault (wrong move, flicker, stutter, an unplanned cut, a missing
reference, wrong size) fails its own check and no other."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from typer.testing import CliRunner

from reelforge.cli import app
from reelforge.media.encode import encode_mp4
from reelforge.planning.shots import plan_shots
from reelforge.quality import quality_report
from reelforge.spec import Codec
from tests.engines.test_preview_engine import render
from tests.media_helpers import (
    decode_frames,
    image_ref,
    make_request,
    mean_flow,
    textured_landscape,
    write_image,
)

W, H = 480, 270
N = 48


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pictures")
    return {
        "astronaut": write_image(d / "astronaut.png", skimage.data.astronaut()),
        "place": write_image(d / "place.png", textured_landscape(1024, 576, seed=7)),
        "coffee": write_image(d / "coffee.png", skimage.data.coffee()),
        "cat": write_image(d / "cat.png", skimage.data.chelsea()),
    }


@pytest.mark.parametrize("move", ["pan left", "tilt down", "zoom in", "static"])
def test_a_preview_render_passes_and_the_camera_agrees_with_farneback(
    tmp_path: Path, pictures: dict[str, Path], move: str
) -> None:
    refs = (image_ref(1, pictures["astronaut"]), image_ref(2, pictures["place"]))
    request = make_request(f"@Image1 stands in @Image2, {move}", refs, W, H, num_frames=N)
    out = tmp_path / "out.mp4"
    render(request, out)
    report = quality_report(
        out, request.plan, refs, width=W, height=H, codec="h264", generate_audio=True
    )
    assert report.passed, report.to_dict()
    assert report.check("presence.shot1.Image2").passed
    camera = report.measured["camera"][0]
    dx, dy, div = mean_flow(decode_frames(out))
    if move == "pan left":
        assert camera["observed"] == "pan_left" and dx > 0.2
    elif move == "tilt down":
        assert camera["observed"] == "tilt_down" and dy < -0.2
    elif move == "zoom in":
        assert camera["observed"] == "zoom_in" and div > 0.001
    else:
        assert camera["observed"] == "static" and abs(dx) < 0.05 and abs(dy) < 0.05
    loud = report.measured["loudness_lufs"]
    assert loud is not None and abs(loud + 16.0) < 1.0
    json.dumps(report.to_dict())  # JSON-able


def test_each_move_of_a_shot_is_judged_on_its_own_frames(
    tmp_path: Path, pictures: dict[str, Path]
) -> None:
    """'orbit around @Image1, dolly in' renders the orbit and then the dolly: the report judges
    each move on its half of the shot, and both pass."""
    refs = (image_ref(1, pictures["astronaut"]), image_ref(2, pictures["place"]))
    request = make_request(
        "@Image1 stands in @Image2, orbit around @Image1, dolly in", refs, W, H, num_frames=N
    )
    out = tmp_path / "out.mp4"
    render(request, out)
    report = quality_report(out, request.plan, refs, width=W, height=H)
    first, second = report.check("camera.shot1.move1"), report.check("camera.shot1.move2")
    assert first.passed and second.passed, report.to_dict()
    moves = report.measured["camera"][0]["moves"]
    assert [m["planned"] for m in moves] == ["orbit_right", "dolly_in"]
    assert moves[1]["observed"] == "zoom_in"


def _pan(
    picture: np.ndarray,
    direction: int,
    n: int = N,
    flicker: float = 0.0,
    stutter: bool = False,
    cut_at: int | None = None,
    other: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Windows sliding across a picture: content moves right for direction +1."""
    import cv2

    big = cv2.resize(picture, (W * 2, round(W * 2 * picture.shape[0] / picture.shape[1])))
    span = big.shape[1] - W
    y0 = (big.shape[0] - H) // 2
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n):
        k = i - i % 2 if stutter else i
        t = k / (n - 1)
        x = round(span * (0.6 - 0.3 * t * direction) if direction else span / 2)
        src = big if cut_at is None or i < cut_at or other is None else other
        f = src[y0 : y0 + H, x : x + W].astype(np.float32)
        if flicker:
            f *= 1.0 + flicker * rng.uniform(-1, 1)
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    return frames


def _encode(path: Path, frames: list[np.ndarray]) -> Path:
    encode_mp4(
        path, iter(frames), width=W, height=H, num_frames=len(frames), codec=Codec.H264, audio=None
    )
    return path


def _failed(path: Path, prompt: str, refs: tuple = (), **kw: object) -> list[str]:
    plan = plan_shots(prompt, N, 24, references=refs)
    report = quality_report(path, plan, refs, generate_audio=False, **kw)  # type: ignore[arg-type]
    return report.failed


def test_each_fault_fails_its_own_check(tmp_path: Path, pictures: dict[str, Path]) -> None:
    coffee = skimage.data.coffee()
    rocket = skimage.data.rocket()
    good = _encode(tmp_path / "good.mp4", _pan(coffee, +1))
    assert _failed(good, "pan left across the table") == []
    assert _failed(good, "pan right across the table") == ["camera.shot1"]
    assert _failed(good, "static shot of the table") == ["camera.shot1"]
    flicker = _encode(tmp_path / "flicker.mp4", _pan(coffee, +1, flicker=0.06))
    assert "flicker" in _failed(flicker, "pan left across the table")
    stutter = _encode(tmp_path / "stutter.mp4", _pan(coffee, +1, stutter=True))
    assert _failed(stutter, "pan left across the table") == ["smoothness"]
    import cv2

    other = cv2.resize(rocket, (W * 2, round(W * 2 * rocket.shape[0] / rocket.shape[1])))
    cut = _encode(tmp_path / "cut.mp4", _pan(coffee, +1, cut_at=20, other=other))
    assert "cuts" in _failed(cut, "pan left across the table")
    # Planned as two shots cut at frame 24: found there, nothing else fails.
    cut24 = _encode(tmp_path / "cut24.mp4", _pan(coffee, +1, cut_at=24, other=other))
    assert _failed(cut24, "Shot 1: pan left. Shot 2: pan left.") == []
    # The reference is there (coffee) or not (a cat); the wrong size is told.
    assert _failed(good, "@Image1, pan left", (image_ref(1, pictures["coffee"]),)) == []
    assert _failed(good, "@Image1, pan left", (image_ref(1, pictures["cat"]),)) == [
        "presence.shot1.Image1"
    ]
    assert _failed(good, "pan left", width=640, height=360) == ["container.size"]


def test_eval_command(tmp_path: Path, pictures: dict[str, Path]) -> None:
    good = _encode(tmp_path / "good.mp4", _pan(skimage.data.coffee(), +1))
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "prompt": "@Image1, pan left",
                "seconds": N / 24,
                "width": W,
                "height": H,
                "generate_audio": False,
                "references": [{"kind": "image", "index": 1, "path": str(pictures["coffee"])}],
            }
        )
    )
    result = CliRunner().invoke(app, ["eval", str(good), "--request", str(request)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["verdict"] == "pass"
    assert {c["name"] for c in body["checks"]} >= {
        "container.duration",
        "camera.shot1",
        "presence.shot1.Image1",
        "cuts",
        "flicker",
        "smoothness",
    }
    wrong = json.loads(request.read_text()) | {"prompt": "@Image1, pan right"}
    request.write_text(json.dumps(wrong))
    result = CliRunner().invoke(app, ["eval", str(good), "--request", str(request)])
    assert result.exit_code == 1
    assert json.loads(result.output)["failed"] == ["camera.shot1"]


@pytest.mark.parametrize(
    ("reference", "said"),
    [
        ({"kind": "image", "index": 1}, "needs kind"),
        ({"kind": "picture", "index": 1, "path": "x.png"}, "needs kind"),
        ({"kind": "image", "index": "first", "path": "x.png"}, "needs kind"),
        ({"kind": "image", "index": 1, "path": "missing.png"}, "no file"),
    ],
    ids=["no path", "unknown kind", "bad index", "missing file"],
)
def test_eval_refuses_a_bad_reference_naming_it(
    tmp_path: Path, reference: dict[str, object], said: str
) -> None:
    video = _encode(tmp_path / "v.mp4", _pan(skimage.data.coffee(), +1))
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"prompt": "@Image1", "references": [reference]}))
    result = CliRunner().invoke(app, ["eval", str(video), "--request", str(request)])
    assert result.exit_code == 2, result.output
    assert "references[0]" in result.output and said in result.output
