"""The native API driven by the official `openai` SDK (`client.videos.*`) against a real
server: multipart create with `input_reference`, poll, list, download, delete, errors."""

from __future__ import annotations

import io
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from fastapi import FastAPI
from PIL import Image

from reelforge.api.errors import install_error_handlers
from tests.conftest import ADMIN_KEY
from tests.dialects.loopback import assert_mp4
from tests.dialects.server import running_reelforge, serve_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # "Sora API shuts down"


def png(w: int = 1280, h: int = 720, color: tuple[int, int, int] = (30, 160, 60)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_reelforge(tmp_path_factory.mktemp("openai") / "data") as url:
        yield url


@pytest.fixture
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=ADMIN_KEY)


def test_create_poll_list_download_delete(client: openai.OpenAI, tmp_path: Path) -> None:
    ref = tmp_path / "ref.png"
    ref.write_bytes(png())
    with ref.open("rb") as f:
        created = client.videos.create(
            model="sora-2", prompt="@Image1 drifts across the frame", seconds="4",
            size="1280x720", input_reference=f,
        )  # fmt: skip
    assert created.status == "queued" and created.seconds == "4" and created.size == "1280x720"
    assert created.model == "sora-2"

    video = client.videos.poll(created.id, poll_interval_ms=100)
    assert video.status == "completed", video
    assert video.progress == 100 and video.completed_at is not None
    assert client.videos.retrieve(created.id).id == created.id

    listed = client.videos.list(limit=5, order="desc")
    assert created.id in [v.id for v in listed.data]

    content = client.videos.download_content(created.id, variant="video")
    assert_mp4(content.content, seconds=4, width=1280, height=720)
    thumbnail = client.videos.download_content(created.id, variant="thumbnail")
    assert Image.open(io.BytesIO(thumbnail.content)).size == (1280, 720)

    deleted = client.videos.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError) as gone:
        client.videos.retrieve(created.id)
    assert gone.value.code == "not_found.video"


def test_create_and_poll_with_extra_form_fields(client: openai.OpenAI) -> None:
    started = time.monotonic()
    video = client.videos.create_and_poll(
        prompt="a paper boat on a pond", seconds="4", size="720x1280",
        extra_body={"resolution": "480p", "generate_audio": "false"},
    )  # fmt: skip
    assert video.status == "completed", video
    assert video.size == "480x854"  # extra_body travels as form fields: resolution wins
    assert video.to_dict()["generate_audio"] is False
    assert time.monotonic() - started < 15
    raw = client.videos.with_raw_response.retrieve(video.id)
    assert "openai-poll-after-ms" not in raw.headers  # finished: nothing left to poll


def test_poll_after_header_while_running(client: openai.OpenAI) -> None:
    video = client.videos.create(
        prompt="a slow sunrise", model="slow_with_progress", seconds="4", size="720x1280",
        extra_body={"resolution": "480p"},
    )  # fmt: skip
    raw = client.videos.with_raw_response.retrieve(video.id)
    assert int(raw.headers["openai-poll-after-ms"]) > 0
    assert raw.parse().status in ("queued", "in_progress")
    canceled = client.post(f"/videos/{video.id}/cancel", cast_to=object)  # no SDK method
    assert isinstance(canceled, dict) and canceled["id"] == video.id
    final = client.videos.poll(video.id, poll_interval_ms=50)
    assert final.status == "canceled"  # poll returns on any status it does not know


def test_over_limit_raises_bad_request_with_shared_code(client: openai.OpenAI) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.monotonic()
        with pytest.raises(openai.BadRequestError) as raised:
            client.videos.create(prompt="too long", seconds="20")  # type: ignore[arg-type]
        assert time.monotonic() - started < 1.0  # x-should-retry: false, no retries
        err = raised.value
        assert err.code == "invalid_request.seconds" and err.param == "seconds"
        assert isinstance(err.body, dict) and err.body["code"] == "invalid_request.seconds"
        assert err.request_id and err.request_id.startswith("req_")

        with pytest.raises(openai.NotFoundError) as unknown:
            client.videos.create(prompt="x", model="no-such-model")
        assert unknown.value.code == "invalid_request.unknown_model"

        images = [("input_reference", (f"{i}.png", png(640, 480), "image/png")) for i in range(10)]
        with pytest.raises(openai.BadRequestError) as many:
            client.post(
                "/videos", cast_to=object, body={"prompt": "ten images", "seconds": "1"},
                files=images, options={"headers": {"Content-Type": "multipart/form-data"}},
            )  # fmt: skip
        assert many.value.code == "invalid_reference.too_many_images"


def test_a_server_fault_on_create_is_never_retried() -> None:
    """An unexpected exception answers JSON with `x-should-retry: false` on POST, so the SDK's
    retries (it retries 5xx, POST included) cannot create a second job; GETs are retried."""
    calls: list[str] = []

    def make(_base_url: str) -> FastAPI:
        app = FastAPI()
        install_error_handlers(app)

        @app.post("/v1/videos")
        def create() -> None:
            calls.append("POST")
            raise RuntimeError("a bug after the job was stored")

        @app.get("/v1/videos/{video_id}")
        def retrieve(video_id: str) -> None:
            calls.append("GET")
            raise RuntimeError("a bug while reading")

        return app

    with serve_app(make) as base_url:
        client = openai.OpenAI(base_url=f"{base_url}/v1", api_key=ADMIN_KEY, max_retries=2)
        with pytest.raises(openai.InternalServerError) as raised:
            client.videos.create(prompt="x")
        assert raised.value.code == "internal"
        assert calls == ["POST"]
        # a fresh client: uvicorn closes a connection whose request raised
        reader = openai.OpenAI(base_url=f"{base_url}/v1", api_key=ADMIN_KEY, max_retries=1)
        with pytest.raises(openai.InternalServerError):
            reader.videos.retrieve("video_x")
        assert calls == ["POST", "GET", "GET"]
