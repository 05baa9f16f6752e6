"""The OpenAI Videos API as OpenAI publishes it (`/openai/v1`), driven by the official `openai`
SDK against a real server: every `client.videos` method of the Videos API (create with each
size, retrieve, list, remix, download_content with each variant, delete), each answer
validated against the SDK's own pydantic types, the outputs decoded at their exact sizes; and
the native `/v1` route beside it (202, its own defaults, remix, spritesheet)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import httpx
import numpy as np
import openai
import pytest
from openai.types import Video, VideoDeleteResponse, VideoSize
from PIL import Image

from reelforge.media.spritesheet import COLUMNS, ROWS, spaced_indices, tile_size
from tests.conftest import ADMIN_KEY
from tests.dialects.loopback import assert_mp4
from tests.dialects.server import running_reelforge

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # "Sora API shuts down"

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
SIZES: tuple[str, ...] = get_args(VideoSize)  # the SDK's own list


def png(w: int, h: int, color: tuple[int, int, int] = (30, 160, 60)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, format="PNG")
    return buf.getvalue()


def video_of(response: Any) -> Video:
    """The answer validated (not merely constructed) as the SDK's `Video`."""
    return Video.model_validate(response.http_response.json())


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_reelforge(tmp_path_factory.mktemp("openai-api") / "data") as url:
        yield url


@pytest.fixture
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/openai/v1", api_key=ADMIN_KEY)


def create(client: openai.OpenAI, **params: Any) -> Video:
    raw = client.videos.with_raw_response.create(**params)
    assert raw.status_code == 200  # OpenAI documents 200 for create
    return video_of(raw)


def finish(client: openai.OpenAI, video_id: str) -> Video:
    video = client.videos.poll(video_id, poll_interval_ms=50)
    assert video.status == "completed", video
    return video_of(client.videos.with_raw_response.retrieve(video_id))


def test_the_sdk_list_of_sizes_is_the_one_tested() -> None:
    assert set(SIZES) == {"720x1280", "1280x720", "1024x1792", "1792x1024"}


@pytest.mark.parametrize("size", SIZES)
def test_create_each_size_renders_exactly_that_size(client: openai.OpenAI, size: str) -> None:
    created = create(client, prompt="a paper boat on a pond", seconds="4", size=size)
    assert (created.status, created.size, created.seconds) == ("queued", size, "4")
    done = finish(client, created.id)
    assert done.size == size and done.progress == 100 and done.completed_at
    width, height = (int(x) for x in size.split("x"))
    assert_mp4(client.videos.download_content(done.id).content, seconds=4, width=width,
               height=height)  # fmt: skip


def test_openai_defaults_on_the_openai_route_native_defaults_on_the_native_one(
    client: openai.OpenAI, base_url: str
) -> None:
    created = create(client, prompt="a kite over a beach")
    assert (created.model, created.seconds, created.size) == ("sora-2", "4", "720x1280")
    assert created.to_dict()["engine"] == "ok:fast"  # sora-2: the default engine, fast preset

    native = httpx.post(f"{base_url}/v1/videos", headers=AUTH, json={"prompt": "a kite"})
    assert native.status_code == 202, native.text  # the native API keeps its 202 (native.md)
    body = native.json()
    assert (body["model"], body["seconds"], body["size"]) == ("ok", "5", "1280x720")
    finish(client, created.id)


def test_remix_download_variants_list_delete(
    client: openai.OpenAI, base_url: str, tmp_path: Path
) -> None:
    ref = tmp_path / "ref.png"
    ref.write_bytes(png(1792, 1024))
    with ref.open("rb") as f:
        source = create(client, prompt="@Image1 drifts", seconds="4", size="1792x1024",
                        input_reference=f)  # fmt: skip
    source = finish(client, source.id)

    # remix: a new video with the source's references and settings (its exact size included)
    raw = client.videos.with_raw_response.remix(source.id, prompt="@Image1 drifts the other way")
    assert raw.status_code == 200
    remix = video_of(raw)
    assert remix.remixed_from_video_id == source.id and remix.id != source.id
    assert (remix.size, remix.seconds) == ("1792x1024", "4")
    assert remix.prompt == "@Image1 drifts the other way"
    remix = finish(client, remix.id)
    assert remix.remixed_from_video_id == source.id
    assert_mp4(client.videos.download_content(remix.id, variant="video").content, seconds=4,
               width=1792, height=1024)  # fmt: skip

    # every variant the SDK names, and last_frame
    thumb = Image.open(io.BytesIO(client.videos.download_content(remix.id, variant="thumbnail")
                                  .content))  # fmt: skip
    assert (thumb.format, thumb.size) == ("JPEG", (1792, 1024))
    sheet = Image.open(io.BytesIO(client.videos.download_content(remix.id, variant="spritesheet")
                                  .content))  # fmt: skip
    tile_w, tile_h = tile_size(1792, 1024)
    assert (sheet.format, sheet.size) == ("JPEG", (COLUMNS * tile_w, ROWS * tile_h))
    last = client.videos.download_content(remix.id, variant="last_frame")  # type: ignore[arg-type]
    assert Image.open(io.BytesIO(last.content)).size == (1792, 1024)

    # the fixture engine's green rises frame by frame: the tiles are the frames in order
    pixels = np.asarray(sheet.convert("RGB"), dtype=np.float32)
    greens = [
        pixels[r * tile_h : (r + 1) * tile_h, c * tile_w : (c + 1) * tile_w, 1].mean()
        for r in range(ROWS) for c in range(COLUMNS)
    ]  # fmt: skip
    assert greens[0] < 10 and greens[-1] > 240 and all(np.diff(greens) > 0), greens

    # a remix of a video that is not completed is refused
    queued = create(client, prompt="still rendering", seconds="4", size="720x1280",
                    model="slow_with_progress")  # fmt: skip
    with pytest.raises(openai.BadRequestError) as refused:
        client.videos.remix(queued.id, prompt="again")
    assert refused.value.code == "invalid_request.remix_source"
    # OpenAI has no cancel; the native route cancels the same video
    assert httpx.post(f"{base_url}/v1/videos/{queued.id}/cancel", headers=AUTH).status_code == 200

    # list: every item a valid Video; the SDK's pagination sees all of them
    page = client.videos.with_raw_response.list(limit=2, order="desc")
    items = page.http_response.json()["data"]
    assert len(items) == 2 and all(Video.model_validate(v) for v in items)
    seen = [v.id for v in client.videos.list(limit=2)]  # auto-pagination
    assert {source.id, remix.id, queued.id} <= set(seen)

    # the canceled one is `failed` here (OpenAI's four words), `canceled` on the native route
    gone = client.videos.poll(queued.id, poll_interval_ms=50)
    assert gone.status == "failed" and gone.error and gone.error.code == "canceled"
    assert video_of(client.videos.with_raw_response.retrieve(queued.id)).status == "failed"

    deleted = client.videos.with_raw_response.delete(remix.id)
    result = VideoDeleteResponse.model_validate(deleted.http_response.json())
    assert (result.id, result.object, result.deleted) == (remix.id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(remix.id)


def test_native_remix_answers_202_and_keeps_settings(base_url: str) -> None:
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as http:
        created = http.post(
            "/v1/videos",
            json={"prompt": "a lantern", "seconds": 2, "resolution": "480p", "aspect_ratio": "1:1"},
        )
        assert created.status_code == 202, created.text
        source = created.json()["id"]
        native = openai.OpenAI(base_url=f"{base_url}/v1", api_key=ADMIN_KEY)
        assert native.videos.poll(source, poll_interval_ms=50).status == "completed"

        remixed = http.post(f"/v1/videos/{source}/remix", json={"prompt": "a lantern, dimmer"},
                            headers={"Idempotency-Key": "remix-1"})  # fmt: skip
        assert remixed.status_code == 202, remixed.text
        body = remixed.json()
        assert body["remixed_from_video_id"] == source and body["size"] == "480x480"
        assert body["seconds"] == "2" and body["prompt"] == "a lantern, dimmer"
        again = http.post(f"/v1/videos/{source}/remix", json={"prompt": "a lantern, dimmer"},
                          headers={"Idempotency-Key": "remix-1"})  # fmt: skip
        assert again.json()["id"] == body["id"]  # idempotent

        for bad, param in (({"prompt": ""}, "prompt"), ({"prompt": "x", "seconds": 4}, "seconds")):
            refused = http.post(f"/v1/videos/{source}/remix", json=bad)
            assert refused.status_code == 400 and refused.json()["error"]["param"] == param
        missing = http.post("/v1/videos/video_nope/remix", json={"prompt": "x"})
        assert missing.status_code == 404

        done = native.videos.poll(body["id"], poll_interval_ms=50)
        assert done.status == "completed"
        assert set(done.to_dict()["urls"]) == {"video", "thumbnail", "last_frame", "spritesheet"}
        sheet = http.get(f"/v1/videos/{body['id']}/content", params={"variant": "spritesheet"})
        assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/jpeg"
        tile = tile_size(480, 480)
        assert Image.open(io.BytesIO(sheet.content)).size == (COLUMNS * tile[0], ROWS * tile[1])


def test_spaced_indices_cover_first_and_last() -> None:
    assert spaced_indices(96, 16)[0] == 0 and spaced_indices(96, 16)[-1] == 95
    assert spaced_indices(5, 16) == [0, 1, 2, 3, 4]
    assert len(set(spaced_indices(24, 16))) == 16


def test_the_preview_engine_renders_openai_portrait_size_exactly(client: openai.OpenAI) -> None:
    """Not only the fixture engine: the `preview` compositor takes any even size."""
    video = create(
        client, prompt="@Image1 slowly turns, dolly in", model="preview", size="1024x1792",
        seconds="1", input_reference=("ref.png", png(1024, 1792, (200, 60, 40)), "image/png"),
    )  # fmt: skip
    done = finish(client, video.id)
    assert done.to_dict()["engine"] == "preview"
    data = client.videos.download_content(done.id).content
    assert_mp4(data, seconds=1, width=1024, height=1792)
