"""Past the hosted limits (issue 16 item 6), through the native API as a client sees it: alpha
output (ProRes 4444 .mov and VP9 .webm with the subjects on a transparent background), 2160p
(exactly 3840x2160 at 16:9) and a 30 s clip by planned continuation, each created through
`POST /v1/videos` (JSON and multipart), rendered by the preview engine and downloaded from the
content route; and the 400s for what an engine or a dialect does not offer, at create and at
quote. One app for the module (one DBOS per process)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from reelforge import codes
from reelforge.api.app import create_app
from reelforge.media.alpha import read_alpha
from tests.conftest import ADMIN_KEY, make_settings, wait_terminal
from tests.fixtures.engines.basic import fixture_registry
from tests.media_helpers import click_track, red_mask, studio_figure, textured_landscape, write_wav


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


FIGURE = _png(studio_figure(480, 360))
PLATE = _png(textured_landscape(640, 360, avoid_red=True))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("limits") / "data", default_model="preview", max_active_jobs=100
    )
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
        yield c


def _files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("image", ("figure.png", FIGURE, "image/png")),
        ("image", ("plate.png", PLATE, "image/png")),
    ]


def _completed(client: TestClient, r: Any, timeout: float = 120) -> dict[str, Any]:
    assert r.status_code == 202, r.text
    done = wait_terminal(client, r.json()["id"], timeout=timeout)
    assert done["status"] == "completed", done
    return dict(done)


def _download(client: TestClient, video_id: str, variant: str, out: Path) -> tuple[Path, str]:
    r = client.get(f"/v1/videos/{video_id}/content", params={"variant": variant})
    assert r.status_code == 200, r.text
    out.write_bytes(r.content)
    return out, r.headers["content-type"]


# --- alpha ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "suffix", "media", "pix_fmt", "form"),
    [
        # Encoded from yuva444p10le; FFmpeg's ProRes decoder reports every 4444 stream as
        # yuva444p12le, so the profile (4444, tag ap4h) is checked as well.
        ("prores_4444", ".mov", "video/quicktime", ("yuva444p10le", "yuva444p12le"), "json"),
        ("vp9", ".webm", "video/webm", ("yuva420p",), "multipart"),
    ],
)
def test_alpha_video_has_the_subjects_on_a_transparent_background(
    client: TestClient,
    tmp_path: Path,
    codec: str,
    suffix: str,
    media: str,
    pix_fmt: tuple[str, ...],
    form: str,
) -> None:
    fields = {"prompt": "@Image1 bounces in @Image2, slow pan left", "seconds": "1",
              "size": "854x480", "alpha": "true", "codec": codec}  # fmt: skip
    if form == "json":
        refs = [{"type": "image", "url": _b64(FIGURE)}, {"type": "image", "url": _b64(PLATE)}]
        r = client.post("/v1/videos", json={**fields, "alpha": True, "references": refs})
    else:
        r = client.post("/v1/videos", data=fields, files=_files())
    done = _completed(client, r)
    assert (done["codec"], done["alpha"], done["container"]) == (codec, True, suffix[1:])
    assert done["size"] == "854x480"

    video, content_type = _download(client, done["id"], "video", tmp_path / f"v{suffix}")
    assert content_type == media
    cd = client.get(f"/v1/videos/{done['id']}/content").headers["content-disposition"]
    assert f"{done['id']}{suffix}" in cd
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (854, 480)
        assert _decoded_pix_fmt(container, stream) in pix_fmt
        assert container.streams.audio  # the soundtrack is there
        seconds = float(container.duration or 0) / av.time_base
    assert abs(seconds - 1.0) < 0.1
    frames = list(read_alpha(video))
    assert len(frames) == 24
    for frame in (frames[0], frames[12], frames[-1]):
        alpha = frame[:, :, 3]
        assert (red_mask(frame[:, :, :3]) & (alpha > 200)).sum() > 0.02 * 854 * 480  # subject
        ys, xs = np.nonzero(alpha > 16)
        box = np.zeros_like(alpha, bool)
        box[max(0, ys.min() - 2) : ys.max() + 3, max(0, xs.min() - 2) : xs.max() + 3] = True
        assert alpha[~box].max() <= 16  # no plate: transparent wherever no subject is
        assert (alpha <= 4).mean() > 0.5

    # The stills are still made; the last frame keeps its alpha.
    last, last_type = _download(client, done["id"], "last_frame", tmp_path / "last.png")
    assert last_type == "image/png"
    with Image.open(last) as img:
        assert img.mode == "RGBA" and img.size == (854, 480)
        rgba = np.asarray(img)
    assert (rgba[:, :, 3] == 0).mean() > 0.5 and (rgba[:, :, 3] == 255).any()
    for variant in ("thumbnail", "spritesheet"):
        path, kind = _download(client, done["id"], variant, tmp_path / f"{variant}.jpg")
        assert kind == "image/jpeg" and Image.open(path).size[0] > 0


def _decoded_pix_fmt(container: Any, stream: Any) -> str:
    """The pixel format the video decodes to, alpha plane included: VP9 through libvpx (FFmpeg's
    native VP9 decoder drops the alpha plane, which WebM carries beside the picture)."""
    ctx = stream.codec_context
    if ctx.name == "prores":
        assert (ctx.profile, stream.codec_tag) == ("4444", "ap4h")
        return str(ctx.pix_fmt)
    assert stream.metadata.get("alpha_mode") == "1"
    vpx = av.codec.CodecContext.create("libvpx-vp9", "r")
    for packet in container.demux(stream):
        for frame in vpx.decode(packet):
            return str(frame.format.name)
    raise AssertionError("no frame decoded")


def _b64(data: bytes) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(data).decode()


# --- 2160p ----------------------------------------------------------------------------------------


def test_2160p_is_exactly_3840x2160_and_priced(client: TestClient, tmp_path: Path) -> None:
    body = {"prompt": "@Image1 in @Image2, slow dolly in", "seconds": 1, "resolution": "2160p",
            "aspect_ratio": "16:9", "generate_audio": False,
            "references": [{"type": "image", "url": _b64(FIGURE)},
                           {"type": "image", "url": _b64(PLATE)}]}  # fmt: skip
    quote = client.post("/v1/videos/quote", json=body)
    assert quote.status_code == 200, quote.text
    per_second = client.get("/v1/models/preview").json()["pricing"]["per_second"]
    assert quote.json()["cost"] == pytest.approx(per_second["2160p"] * 1)
    done = _completed(client, client.post("/v1/videos", json=body))
    assert (done["size"], done["resolution"]) == ("3840x2160", "2160p")
    video, content_type = _download(client, done["id"], "video", tmp_path / "uhd.mp4")
    assert content_type == "video/mp4"
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (3840, 2160)
        count = sum(1 for p in container.demux(stream) if p.size)
    assert count == 24


# --- 30 s by planned continuation ---------------------------------------------------------------


def test_a_30_second_clip_is_continued_with_the_same_subject_plate_and_soundtrack(
    client: TestClient, tmp_path: Path
) -> None:
    song = write_wav(tmp_path / "song.wav", 0.5 * click_track(120, 8.0))  # 8 s: looped to 30
    files = [*_files(), ("audio", ("song.wav", song.read_bytes(), "audio/wav"))]
    data = {"prompt": "@Image1 enters from the left in @Image2, slow pan left, music @Audio1",
            "seconds": "30", "resolution": "480p", "aspect_ratio": "16:9"}  # fmt: skip
    done = _completed(client, client.post("/v1/videos", data=data, files=files), timeout=240)
    assert done["seconds"] == "30" and done["size"] == "854x480"
    shots = done["plan"]["shots"]
    assert len(shots) >= 3  # one 30 s shot continued in parts of at most 10 s
    assert all(s["num_frames"] <= 240 for s in shots)
    assert {tuple(s["image_indices"]) for s in shots} == {tuple(shots[0]["image_indices"])}
    assert {s["background_image"] for s in shots} == {2}  # the same plate throughout
    assert [s["transition"] for s in shots[1:]] == ["crossfade"] * (len(shots) - 1)

    video, _ = _download(client, done["id"], "video", tmp_path / "long.mp4")
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (854, 480)
        seen = []
        for i, frame in enumerate(container.decode(stream)):
            if i % 120 == 60:  # every 5 s: the subject is on screen in every part
                seen.append(red_mask(frame.to_ndarray(format="rgb24")).mean() / 255)
        count = i + 1
    assert count == 720
    assert min(seen) > 0.01, seen
    with av.open(str(video)) as container:
        audio = np.concatenate(
            [f.to_ndarray().mean(axis=0) for f in container.decode(container.streams.audio[0])]
        )
    rate = 48_000
    assert abs(audio.size / rate - 30.0) < 0.1
    rms = [float(np.sqrt(np.mean(audio[k * rate : (k + 5) * rate] ** 2))) for k in range(0, 30, 5)]
    assert min(rms) > 0.25 * max(rms), rms  # the music is looped to the end, not silent after 8 s


# --- refusals -----------------------------------------------------------------------------------

REFUSED = [
    ({"alpha": True}, codes.INVALID_REQUEST_ALPHA, "codec"),  # alpha without an alpha codec
    ({"alpha": True, "codec": "h265"}, codes.INVALID_REQUEST_ALPHA, "codec"),
    ({"codec": "prores_4444"}, codes.INVALID_REQUEST_ALPHA, "alpha"),  # alpha codec, no alpha
    ({"codec": "vp9", "alpha": False}, codes.INVALID_REQUEST_ALPHA, "alpha"),
    (
        {"model": "ok", "alpha": True, "codec": "vp9"},
        codes.INVALID_REQUEST_ALPHA_UNSUPPORTED,
        "alpha",
    ),
    ({"model": "ok", "resolution": "2160p"}, codes.INVALID_REQUEST_RESOLUTION, "resolution"),
    ({"model": "ok", "size": "3840x2160"}, codes.INVALID_REQUEST_RESOLUTION, "resolution"),
    ({"model": "ok", "seconds": 30}, codes.INVALID_REQUEST_SECONDS, "seconds"),
    ({"seconds": 61}, codes.INVALID_REQUEST_SECONDS, "seconds"),
    ({"resolution": "4320p"}, codes.INVALID_REQUEST_RESOLUTION, "resolution"),
]


@pytest.mark.parametrize(("extra", "code", "param"), REFUSED, ids=[str(r[0]) for r in REFUSED])
def test_what_an_engine_does_not_offer_is_a_400_at_create_and_quote(
    client: TestClient, extra: dict[str, Any], code: str, param: str
) -> None:
    before = len(client.get("/v1/videos", params={"limit": 100}).json()["data"])
    body = {"prompt": "a red kite over the sea", "seconds": 1, **extra}
    for path in ("/v1/videos", "/v1/videos/quote"):
        for form in ("json", "multipart"):
            if form == "json":
                r = client.post(path, json=body)
            else:
                r = client.post(path, data={k: _form(v) for k, v in body.items()})
            assert r.status_code == 400, (path, form, r.text)
            error = r.json()["error"]
            assert (error["code"], error["param"]) == (code, param), (path, form, error)
            assert param in error["message"] or param in ("resolution", "seconds")
    assert len(client.get("/v1/videos", params={"limit": 100}).json()["data"]) == before


def _form(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def test_the_vendor_dialects_keep_the_hosted_limits(client: TestClient) -> None:
    """Ark, each::labs, a seed dialect and the OpenAI-compatible base URL refuse 4K, more than
    15 s and alpha, each in its own error shape, naming the field."""
    ark = "/api/v3/contents/generations/tasks"
    text = [{"type": "text", "text": "a red kite over the sea"}]
    cases: list[tuple[str, dict[str, Any], str, str]] = [
        (ark, {"model": "preview", "content": text, "resolution": "2160p"},
         codes.INVALID_REQUEST_RESOLUTION, "resolution"),
        (ark, {"model": "preview", "content": text, "duration": 30},
         codes.INVALID_REQUEST_SECONDS, "duration"),
        (ark, {"model": "preview", "content": text, "alpha": True},
         codes.INVALID_REQUEST_UNKNOWN_PARAMETER, "alpha"),
        ("/v1/prediction", {"model": "preview", "input": {"prompt": "a kite", "duration": 30}},
         codes.INVALID_REQUEST_SECONDS, "duration"),
        ("/v1/prediction", {"model": "preview", "input": {"prompt": "a kite",
                                                          "resolution": "2160p"}},
         codes.INVALID_REQUEST_RESOLUTION, "resolution"),
        ("/seedance/v1/generate", {"prompt": "a kite", "duration": 20},
         codes.INVALID_REQUEST_SECONDS, "duration"),
        ("/openai/v1/videos", {"prompt": "a kite", "model": "preview", "alpha": True,
                               "codec": "vp9"},
         codes.INVALID_REQUEST_UNSUPPORTED_PARAMETER, "alpha"),
        ("/openai/v1/videos", {"prompt": "a kite", "model": "preview", "seconds": "30"},
         codes.INVALID_REQUEST_SECONDS, "seconds"),
        ("/openai/v1/videos", {"prompt": "a kite", "model": "preview", "size": "3840x2160"},
         codes.INVALID_REQUEST_SIZE, "size"),
    ]  # fmt: skip
    for path, body, code, param in cases:
        r = client.post(path, json=body)
        assert r.status_code == 400, (path, body, r.text)
        got = r.json()
        err = got["error"] if isinstance(got.get("error"), dict) else got
        assert (err.get("reelforge_code") or err.get("code"), err.get("param")) == (code, param), (
            path,
            got,
        )
