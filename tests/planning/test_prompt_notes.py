"""What the planner leaves out of a prompt is said before anyone pays: a warning with the span of
the prompt it is about, or a 400 when the prompt asks for more shots than the planner makes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from reelforge.planning.model import CameraMove
from reelforge.planning.notes import count_shots, prompt_notes
from reelforge.planning.shots import plan_shots


def test_moves_of_one_shot_are_planned_in_order_and_those_beyond_three_are_named() -> None:
    (shot,) = plan_shots("orbit around the statue, dolly in", 120, 24).shots
    assert shot.camera is CameraMove.ORBIT_RIGHT
    assert [c.move for c in shot.then] == [CameraMove.DOLLY_IN]
    assert prompt_notes("orbit around the statue, dolly in") == []
    (shot,) = plan_shots("tilt up, then dolly out", 120, 24).shots
    assert (shot.camera, [c.move for c in shot.then]) == (
        CameraMove.TILT_UP,
        [CameraMove.DOLLY_OUT],
    )
    prompt = "Shot 1: pan left over the sea. Shot 2: tilt up, pan right, zoom in, then dolly out"
    (note,) = prompt_notes(prompt)
    assert note.code == "prompt.camera_moves_dropped"
    assert prompt[note.span[0] : note.span[1]] == "dolly out" and "shot 2" in note.message
    assert "tilt up, then pan right, then zoom in" in note.message
    assert prompt_notes("slow zoom in on the cup") == []
    assert prompt_notes("zoom in, zoom in more") == []  # the same move twice is one move
    (shot,) = plan_shots("zoom in, zoom in more", 120, 24).shots
    assert shot.then == ()


def test_shots_are_counted_as_the_planner_splits_them() -> None:
    seven = " ".join(f"Shot {i}: a red cube." for i in range(1, 8))
    assert count_shots(seven) == 7
    assert count_shots("a red cube") == 1


def test_quote_and_create_carry_the_warning_and_too_many_shots_is_refused(
    client: TestClient,
) -> None:
    body = {"model": "preview", "prompt": "orbit around a red cube, pan left, tilt up, dolly in",
            "seconds": 1, "size": "854x480"}  # fmt: skip
    quote = client.post("/v1/videos/quote", json=body)
    assert quote.status_code == 200, quote.text
    camera = [w for w in quote.json()["warnings"] if w["code"] == "prompt.camera_moves_dropped"]
    (warning,) = camera
    assert warning["param"] == "prompt"
    assert body["prompt"][slice(*warning["span"])] == "dolly in"
    created = client.post("/v1/videos", json=body)
    assert created.status_code in (200, 202), created.text
    assert [w["code"] for w in created.json()["warnings"]] == [
        "prompt.camera_moves_dropped",
        "prompt.no_visual_reference",  # no picture either: this preview renders a backdrop
    ]
    # An engine that reads the prompt itself gets no such warning (fixture engine `ok`).
    plain = client.post("/v1/videos/quote", json={**body, "model": "ok"})
    assert plain.json()["warnings"] == []
    seven = " ".join(f"Shot {i}: a red cube." for i in range(1, 8))
    refused = client.post("/v1/videos", json={**body, "prompt": seven})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_request.too_many_shots"
    assert refused.json()["error"]["param"] == "prompt"


def test_a_prompt_without_a_picture_is_told_what_the_preview_renders(client: TestClient) -> None:
    body = {"model": "preview", "prompt": "a lighthouse at dusk, waves", "seconds": 1}
    quote = client.post("/v1/videos/quote", json=body).json()
    assert [w["code"] for w in quote["warnings"]] == ["prompt.no_visual_reference"]
    assert quote["warnings"][0]["param"] == "references"
    # An engine that makes its own pictures from text gets no such warning.
    assert client.post("/v1/videos/quote", json={**body, "model": "ok"}).json()["warnings"] == []


def test_audio_on_a_silent_video_is_said_not_to_be_heard(client: TestClient) -> None:
    import io
    import wave

    import numpy as np
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (320, 320), (200, 40, 40)).save(picture, "PNG")
    sound = io.BytesIO()
    with wave.open(sound, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        tone = 3000 * np.sin(np.linspace(0, 2 * np.pi * 440, 16000 * 2))
        w.writeframes(tone.astype("<i2").tobytes())
    files = [
        ("image", ("a.png", picture.getvalue(), "image/png")),
        ("audio", ("v.wav", sound.getvalue(), "audio/wav")),
    ]
    prompt = "@Image1 on a stage, @Audio1 as the voice"
    form = {"model": "preview", "prompt": prompt, "seconds": "2", "generate_audio": "false"}
    quote = client.post("/v1/videos/quote", data=form, files=files)
    assert quote.status_code == 200, quote.text
    (warning,) = quote.json()["warnings"]
    assert warning["code"] == "references.audio_not_heard"
    assert prompt[slice(*warning["span"])] == "@Audio1" and warning["param"] == "prompt"
    heard = client.post("/v1/videos/quote", data={**form, "generate_audio": "true"}, files=files)
    assert heard.json()["warnings"] == []
    unnamed = client.post(
        "/v1/videos/quote", data={**form, "prompt": "@Image1 on a stage"}, files=files
    )
    (warning,) = unnamed.json()["warnings"]
    assert warning["param"] == "generate_audio" and "not heard" in warning["message"]
