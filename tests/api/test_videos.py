"""Native /v1/videos end to end with a fixture engine: create, poll, list, download, delete."""

from __future__ import annotations

import io
import time
from pathlib import Path

import av
import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import wait_for, wait_terminal


def png_bytes(w: int = 640, h: int = 480, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    img = Image.new("RGB", (w, h), color)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_create_json_returns_202_and_completes(client: TestClient) -> None:
    r = client.post("/v1/videos", json={"prompt": "a red square", "seconds": 2, "size": "854x480"})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["object"] == "video"
    assert body["status"] == "queued"
    assert body["engine"] == "ok"
    assert body["size"] == "854x480"
    assert r.headers["x-request-id"]
    done = wait_terminal(client, body["id"])
    assert done["status"] == "completed", done
    assert done["progress"] == 100
    assert done["usage"]["billed_seconds"] == 2.0
    assert done["urls"]["video"].startswith("http")


def test_multipart_create_like_openai_sdk(client: TestClient) -> None:
    files = [("input_reference", ("a.png", png_bytes(), "image/png"))]
    r = client.post(
        "/v1/videos",
        data={"prompt": "slow zoom in on @Image1", "seconds": "1", "size": "480x854"},
        files=files,
    )
    assert r.status_code == 202, r.text
    done = wait_terminal(client, r.json()["id"])
    assert done["status"] == "completed"
    assert done["aspect_ratio"] == "9:16"


def test_download_decodes_with_asked_shape(client: TestClient, tmp_path: Path) -> None:
    r = client.post(
        "/v1/videos",
        json={"prompt": "x", "seconds": 2, "resolution": "480p", "aspect_ratio": "1:1"},
    )
    vid = r.json()["id"]
    assert wait_terminal(client, vid)["status"] == "completed"
    content = client.get(f"/v1/videos/{vid}/content")
    assert content.status_code == 200
    assert content.headers["content-type"] == "video/mp4"
    path = tmp_path / "out.mp4"
    path.write_bytes(content.content)
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        assert (vs.codec_context.width, vs.codec_context.height) == (480, 480)
        assert vs.codec_context.name == "h264"
        assert len(c.streams.audio) == 1 and c.streams.audio[0].codec_context.name == "aac"
        frames = sum(1 for _ in c.decode(video=0))
    assert frames == 48
    for variant, ctype in (("thumbnail", "image/jpeg"), ("last_frame", "image/png")):
        res = client.get(f"/v1/videos/{vid}/content", params={"variant": variant})
        assert res.status_code == 200 and res.headers["content-type"] == ctype
        assert np.asarray(Image.open(io.BytesIO(res.content))).shape == (480, 480, 3)


def test_signed_url_works_without_auth_and_tampering_fails(client: TestClient) -> None:
    vid = client.post("/v1/videos", json={"prompt": "x", "seconds": 1, "size": "854x480"}).json()[
        "id"
    ]
    url = wait_terminal(client, vid)["urls"]["video"]
    path_and_query = url.split("127.0.0.1:8000", 1)[1]
    bare = TestClient(client.app)
    assert bare.get(path_and_query).status_code == 200
    assert bare.get(path_and_query.replace("variant=video", "variant=thumbnail")).status_code == 404
    assert bare.get(f"/v1/videos/{vid}/content").status_code == 401


def test_generate_audio_false_has_no_audio_stream(client: TestClient, tmp_path: Path) -> None:
    vid = client.post(
        "/v1/videos",
        json={"prompt": "x", "seconds": 1, "size": "854x480", "generate_audio": False},
    ).json()["id"]
    wait_terminal(client, vid)
    path = tmp_path / "silent.mp4"
    path.write_bytes(client.get(f"/v1/videos/{vid}/content").content)
    with av.open(str(path)) as c:
        assert len(c.streams.audio) == 0


def test_list_pages_with_cursor(client: TestClient) -> None:
    ids = [
        client.post("/v1/videos", json={"prompt": f"n{i}", "seconds": 1, "size": "854x480"}).json()[
            "id"
        ]
        for i in range(3)
    ]
    page = client.get("/v1/videos", params={"limit": 2}).json()
    assert page["object"] == "list" and page["has_more"] is True
    assert [v["id"] for v in page["data"]] == ids[::-1][:2]
    rest = client.get("/v1/videos", params={"limit": 2, "after": page["last_id"]}).json()
    assert [v["id"] for v in rest["data"]] == [ids[0]] and rest["has_more"] is False
    for vid in ids:
        wait_terminal(client, vid)


def test_failed_engine_reports_error_and_no_content(client: TestClient) -> None:
    vid = client.post(
        "/v1/videos", json={"prompt": "x", "seconds": 1, "size": "854x480", "model": "fails_in_run"}
    ).json()["id"]
    done = wait_terminal(client, vid)
    assert done["status"] == "failed"
    assert done["error"]["code"] == "generation_failed"
    assert done["error"]["stage"] == "generate"
    assert done["usage"]["billed_seconds"] == 0.0
    assert client.get(f"/v1/videos/{vid}/content").status_code == 404


def test_cancel_running_job_stops_it(client: TestClient) -> None:
    vid = client.post(
        "/v1/videos",
        json={"prompt": "x", "seconds": 5, "size": "854x480", "model": "slow_with_progress"},
    ).json()["id"]
    wait_for(client, vid, lambda b: b["status"] == "in_progress" and b["progress"] > 10)
    t0 = time.monotonic()
    assert client.post(f"/v1/videos/{vid}/cancel").status_code == 200
    done = wait_terminal(client, vid)
    assert time.monotonic() - t0 < 2.0
    assert done["status"] == "canceled"
    assert done["usage"]["billed_seconds"] == 0.0
    assert client.get(f"/v1/videos/{vid}/content").status_code == 404


def test_delete_terminal_job_removes_it(client: TestClient) -> None:
    vid = client.post("/v1/videos", json={"prompt": "x", "seconds": 1, "size": "854x480"}).json()[
        "id"
    ]
    wait_terminal(client, vid)
    r = client.delete(f"/v1/videos/{vid}")
    assert r.json() == {"id": vid, "object": "video.deleted", "deleted": True}
    assert client.get(f"/v1/videos/{vid}").status_code == 404


def test_events_stream_ends_with_terminal_event(client: TestClient) -> None:
    vid = client.post("/v1/videos", json={"prompt": "x", "seconds": 1, "size": "854x480"}).json()[
        "id"
    ]
    with client.stream("GET", f"/v1/videos/{vid}/events") as stream:
        text = "".join(stream.iter_text())
    events = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event:")]
    assert events[-1] == "video.completed"


def test_validation_errors_name_the_field(client: TestClient) -> None:
    cases = [
        ({"seconds": 5}, "prompt", "invalid_request.prompt"),
        ({"prompt": "x", "seconds": 20}, "seconds", "invalid_request.seconds"),
        ({"prompt": "x", "size": "1000x1000"}, "size", "invalid_request.size"),
        ({"prompt": "x", "resolution": "4k"}, "resolution", "invalid_request.resolution"),
        ({"prompt": "x", "model": "nope"}, "model", "invalid_request.unknown_model"),
    ]
    for body, param, code in cases:
        r = client.post("/v1/videos", json=body)
        assert r.status_code in (400, 404), (body, r.text)
        err = r.json()["error"]
        assert err["param"] == param and err["code"] == code, (body, err)
        assert r.headers["x-should-retry"] == "false"


def test_quote_prices_without_creating(client: TestClient) -> None:
    r = client.post(
        "/v1/videos/quote",
        data={"prompt": "@Image1 waves", "seconds": "4", "resolution": "720p"},
        files=[("image", ("a.png", png_bytes(), "image/png"))],
    )
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["billed_seconds"] == 4.0
    assert q["cost"] == round(0.3024 * 4, 4)
    assert q["size"] == "1280x720"
    assert q["references"][0]["width"] == 640
    assert client.get("/v1/videos").json()["data"] == []


def test_auto_duration_is_quoted_as_the_planner_will_render_it(client: TestClient) -> None:
    body = {"prompt": "[0-4s] a boat. [4-9s] the harbour at night", "seconds": "auto",
            "size": "854x480"}  # fmt: skip
    quote = client.post("/v1/videos/quote", json=body).json()
    assert quote["billed_seconds"] == 9.0
    vid = client.post("/v1/videos", json=body).json()["id"]
    done = wait_terminal(client, vid)
    assert done["status"] == "completed" and done["usage"]["billed_seconds"] == 9.0


def test_body_limit_holds_without_content_length(tmp_path: Path) -> None:
    from reelforge.api.app import create_app
    from tests.conftest import ADMIN_KEY, make_settings
    from tests.fixtures.engines.basic import fixture_registry

    settings = make_settings(tmp_path / "data", max_request_bytes=1000)
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
        big = b'{"prompt": "' + b"x" * 5000 + b'"}'

        def chunks():  # type: ignore[no-untyped-def]
            yield big[:2000]
            yield big[2000:]

        r = c.post("/v1/videos", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "invalid_request.too_large"
        assert c.get("/v1/videos").json()["data"] == []


def test_bad_inputs_are_4xx_not_500(client: TestClient) -> None:
    vid = client.post("/v1/videos", json={"prompt": "x", "seconds": 1, "size": "854x480"})
    bare = TestClient(client.app)
    r = bare.get(f"/v1/videos/{vid.json()['id']}/content?expires=9999999999&signature=%C3%A9")
    assert r.status_code == 404
    assert client.get("/v1/usage?start=inf").status_code == 400
    for body in (
        {"prompt": "x", "metadata": "{bad"},
        {"prompt": "x", "references": [{"url": 5}]},
        {"prompt": "x", "input_reference": {"image_url": 5}},
        {"prompt": "x", "end_user_id": {"a": 1}},
        {"prompt": "x", "end_user_id": "u" * 300},
        {"prompt": "x", "model": "preview:" + "p" * 300},
    ):
        r = client.post("/v1/videos", json=body)
        assert 400 <= r.status_code < 500, (body, r.text)
    r = client.post("/v1/videos", content=b'{"prompt": "x", "seed": Infinity}',
                    headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 400, r.text
    wait_terminal(client, vid.json()["id"])


def test_operator_model_aliases(tmp_path: Path) -> None:
    from reelforge.api.app import create_app
    from tests.conftest import ADMIN_KEY, make_settings
    from tests.fixtures.engines.basic import fixture_registry

    settings = make_settings(
        tmp_path / "data", model_aliases={"house-fast": "ok:fast", "broken": "nope"}
    )
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
        r = c.post("/v1/videos", json={"prompt": "x", "seconds": 1, "model": "house-fast"})
        assert r.status_code == 202 and r.json()["engine"] == "ok:fast"
        assert r.json()["model"] == "house-fast"
        bad = c.post("/v1/videos", json={"prompt": "x", "model": "broken"})
        assert bad.status_code == 404 and bad.json()["error"]["code"] == "engine.unavailable"
        wait_terminal(c, r.json()["id"])
