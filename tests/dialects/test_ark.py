"""The Ark tasks API driven by the real Ark SDKs (byteplus and volcengine) against a real
server: create with content[], poll, list with filters, delete, callbacks, errors; the MP4
behind `content.video_url` is downloaded without auth and decoded."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import byteplussdkarkruntime
import pytest
import requests
import volcenginesdkarkruntime
from fastapi import FastAPI
from PIL import Image

from reelforge.api.ark import ARK_PREFIX
from reelforge.api.ark.errors import ark_error_body
from reelforge.api.ark.flags import split_flags
from reelforge.api.ark.mapping import parse_create
from reelforge.api.errors import install_error_handlers, register_error_renderer
from reelforge.engines.models import resolve_model
from reelforge.errors import InvalidRequest, UnknownModel
from reelforge.spec import AspectRatio, ReferenceRole, Resolution
from tests.conftest import ADMIN_KEY
from tests.dialects.loopback import Peer, assert_mp4, running_peer
from tests.dialects.server import running_reelforge, serve_app

TERMINAL = {"succeeded", "failed", "cancelled", "expired"}
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
SDKS = {"byteplus": byteplussdkarkruntime.Ark, "volcengine": volcenginesdkarkruntime.Ark}
Task = Any  # the SDKs' ContentGenerationTask (lenient pydantic models)


def png(w: int = 640, h: int = 480, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, format="PNG")
    return buf.getvalue()


def data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def peer() -> Iterator[Peer]:
    with running_peer() as p:
        yield p


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("ark") / "data"
    with running_reelforge(data, allow_private_urls=True, janitor_interval_seconds=0.1) as url:
        yield url


def ark(base_url: str, sdk: str = "byteplus", key: str = ADMIN_KEY) -> Any:
    return SDKS[sdk](base_url=f"{base_url}/api/v3", api_key=key)


def wait_task(client: Any, task_id: str, timeout: float = 30) -> Task:
    deadline = time.monotonic() + timeout
    while True:
        task = client.content_generation.tasks.get(task_id=task_id)
        if task.status in TERMINAL:
            return task
        assert time.monotonic() < deadline, f"task {task_id} still {task.status}"
        time.sleep(0.05)


def wait_status(client: Any, task_id: str, status: str, timeout: float = 20) -> Task:
    deadline = time.monotonic() + timeout
    while True:
        task = client.content_generation.tasks.get(task_id=task_id)
        if task.status == status:
            return task
        assert time.monotonic() < deadline, f"task {task_id} is {task.status}, not {status}"
        time.sleep(0.02)


# ---- through the SDKs, against the real server ------------------------------------------


@pytest.mark.parametrize("sdk", ["byteplus", "volcengine"])
def test_create_poll_download_with_sdk(base_url: str, sdk: str, tmp_path: Path) -> None:
    client = ark(base_url, sdk)
    created = client.content_generation.tasks.create(
        model="dreamina-seedance-2-0-260128",
        content=[
            {"type": "text", "text": "[Image 1] turns slowly under warm light --wm false"},
            {"type": "image_url", "image_url": {"url": data_uri(png())}, "role": "reference_image"},
        ],
        resolution="480p", ratio="16:9", duration=2, seed=7, return_last_frame=True,
    )  # fmt: skip
    assert created.id
    task = wait_task(client, created.id)
    assert task.status == "succeeded", task
    assert task.error is None
    assert (task.model, task.resolution, task.ratio) == (
        "dreamina-seedance-2-0-260128",
        "480p",
        "16:9",
    )
    assert (task.duration, task.framespersecond, task.seed) == (2, 24, 7)
    assert task.generate_audio is True
    assert task.usage.total_tokens == task.usage.completion_tokens == 2 * 854 * 480 * 24 // 1024
    assert task.created_at <= task.updated_at

    video = requests.get(task.content.video_url, timeout=10)  # no auth header: a signed link
    assert video.status_code == 200
    assert_mp4(video.content, seconds=2, width=854, height=480)
    frame = requests.get(task.content.last_frame_url, timeout=10)
    assert frame.status_code == 200 and frame.content.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(frame.content)).size == (854, 480)

    # the same job in the native API of the same key, flags gone from the prompt
    native = requests.get(f"{base_url}/v1/videos/{created.id}", headers=AUTH, timeout=10).json()
    assert native["status"] == "completed" and native["size"] == "854x480"
    assert native["prompt"] == "[Image 1] turns slowly under warm light"


def test_asset_reference_adaptive_ratio_and_list_filters(base_url: str) -> None:
    upload = requests.post(
        f"{base_url}/v1/files", headers=AUTH, timeout=10,
        files={"file": ("portrait.png", png(480, 640, (30, 30, 200)), "image/png")},
    )  # fmt: skip
    assert upload.status_code == 200, upload.text
    file_id = upload.json()["id"]
    client = ark(base_url, "volcengine")
    asset = {"url": f"asset://{file_id}"}
    content = [
        {"type": "text", "text": "@Image1 waves at the camera"},
        {"type": "image_url", "image_url": asset, "role": "reference_image"},
    ]
    a = client.content_generation.tasks.create(
        model="doubao-seedance-2-0-fast-260128", content=content, ratio="adaptive", duration=1,
        resolution="480p", generate_audio=False,
    )  # fmt: skip
    b = client.content_generation.tasks.create(
        model="seedance-2.0", content=[{"type": "text", "text": "a quiet lake"}], duration=1,
        resolution="480p",
    )  # fmt: skip
    done_a, done_b = wait_task(client, a.id), wait_task(client, b.id)
    assert done_a.status == done_b.status == "succeeded"
    assert (done_a.ratio, done_a.generate_audio) == ("3:4", False)  # nearest the 480x640 image
    assert done_b.ratio == "16:9"  # adaptive without a picture

    tasks = client.content_generation.tasks
    both = tasks.list(task_ids=[a.id, b.id, "video_does_not_exist"], page_size=10)
    assert both.total == 2 and [t.id for t in both.items] == [b.id, a.id]  # newest first
    only_a = tasks.list(task_ids=[a.id, b.id], model="doubao-seedance-2-0-fast-260128")
    assert [t.id for t in only_a.items] == [a.id]
    second = tasks.list(task_ids=[a.id, b.id], page_num=2, page_size=1)
    assert second.total == 2 and [t.id for t in second.items] == [a.id]
    succeeded = tasks.list(status="succeeded", page_size=500)
    assert {a.id, b.id} <= {t.id for t in succeeded.items}
    assert succeeded.total == len(succeeded.items)
    assert tasks.list(status="cancelled", task_ids=[a.id]).total == 0
    assert tasks.list(service_tier="flex").total == 0


def test_delete_and_expiry_follow_ark(base_url: str) -> None:
    """DELETE cancels a queued task, refuses a running one, deletes a finished one; a task
    still queued after `execution_expires_after` ends `expired`."""
    client = ark(base_url)
    tasks = client.content_generation.tasks
    text = [{"type": "text", "text": "a slow pan over hills"}]
    slow = {"model": "slow_with_progress", "content": text, "duration": 3, "resolution": "480p"}
    running = tasks.create(**slow)
    queued = tasks.create(**slow)
    expiring = tasks.create(**slow, execution_expires_after=1)
    wait_status(client, running.id, "running")  # one worker: the others wait

    assert tasks.delete(queued.id) is not None  # {} parsed without error
    assert tasks.get(task_id=queued.id).status == "cancelled"

    started = time.monotonic()
    with pytest.raises(byteplussdkarkruntime._exceptions.ArkConflictError) as refused:
        tasks.delete(running.id)
    assert time.monotonic() - started < 0.4  # x-should-retry: false, so no retries
    assert refused.value.code == "OperationDenied"
    assert refused.value.body["reelforge_code"] == "conflict.running"

    expired = wait_status(client, expiring.id, "expired")
    assert expired.execution_expires_after == 1
    assert expired.error.code == "TaskExpired"
    assert expired.error.reelforge_code == "expired.execution"
    assert expired.content.video_url is None and expired.usage.total_tokens == 0

    assert wait_task(client, running.id).status == "succeeded"
    for task_id in (running.id, queued.id, expiring.id):  # finished or cancelled: deleted
        tasks.delete(task_id)
        with pytest.raises(byteplussdkarkruntime._exceptions.ArkNotFoundError) as gone:
            tasks.get(task_id=task_id)
        assert gone.value.code == "ResourceNotFound"
    raw = requests.delete(
        f"{base_url}/api/v3/contents/generations/tasks/{queued.id}", json={}, headers=AUTH
    )
    assert raw.status_code == 404 and raw.json()["error"]["type"] == "NotFound"


def test_tasks_are_the_keys_jobs(base_url: str) -> None:
    """A native job is a task of the same key; another key sees neither."""
    native = requests.post(
        f"{base_url}/v1/videos", headers=AUTH, timeout=10,
        json={"prompt": "a lighthouse", "seconds": 1, "size": "480x480"},
    )  # fmt: skip
    assert native.status_code == 202, native.text
    video_id = native.json()["id"]
    task = wait_task(ark(base_url), video_id)
    assert (task.status, task.ratio, task.duration) == ("succeeded", "1:1", 1)

    other = requests.post(f"{base_url}/v1/keys", headers=AUTH, json={"name": "other"}, timeout=10)
    assert other.status_code in (200, 201), other.text
    stranger = ark(base_url, "volcengine", key=other.json()["key"])
    with pytest.raises(volcenginesdkarkruntime._exceptions.ArkNotFoundError):
        stranger.content_generation.tasks.get(task_id=video_id)
    assert stranger.content_generation.tasks.list().total == 0


def test_over_limit_requests_raise_with_ark_shape_and_shared_code(base_url: str) -> None:
    tasks = ark(base_url).content_generation.tasks
    images = [
        {"type": "image_url", "image_url": {"url": data_uri(png())}, "role": "reference_image"}
        for _ in range(10)
    ]
    cases: list[tuple[dict[str, Any], type[Exception], str, str, str]] = [
        ({"content": [{"type": "text", "text": "ten images"}, *images]},
         byteplussdkarkruntime._exceptions.ArkBadRequestError,
         "InvalidParameter", "invalid_reference.too_many_images", "content"),
        ({"content": [{"type": "text", "text": "too long"}], "duration": 20},
         byteplussdkarkruntime._exceptions.ArkBadRequestError,
         "InvalidParameter", "invalid_request.seconds", "duration"),
        ({"content": [{"type": "text", "text": "@Image2 alone"}, images[0]]},
         byteplussdkarkruntime._exceptions.ArkBadRequestError,
         "InvalidParameter", "invalid_request.mention", "content"),  # the text item
        ({"content": [{"type": "text", "text": "x"}], "model": "no-such-model"},
         byteplussdkarkruntime._exceptions.ArkNotFoundError,
         "InvalidEndpointOrModel.NotFound", "invalid_request.unknown_model", "model"),
    ]  # fmt: skip
    for body, error_class, code, ours, param in cases:
        started = time.monotonic()
        with pytest.raises(error_class) as raised:
            tasks.create(**{"model": "seedance-2.0", **body})
        assert time.monotonic() - started < 1.0, "an SDK retry happened"
        err: Any = raised.value
        assert (err.code, err.body["reelforge_code"]) == (code, ours), err.body
        assert err.param.startswith(param), err.body
        assert f"({ours})" in err.body["message"] and "Request id: req_" in err.body["message"]

    mixed = [
        {"type": "text", "text": "two modes"},
        {"type": "image_url", "image_url": {"url": data_uri(png())}, "role": "first_frame"},
        {"type": "image_url", "image_url": {"url": data_uri(png())}, "role": "reference_image"},
    ]
    with pytest.raises(byteplussdkarkruntime._exceptions.ArkBadRequestError) as conflict:
        tasks.create(model="seedance-2.0", content=mixed)
    assert conflict.value.param == "content[2]"  # the content item, not our reference index
    assert conflict.value.body["reelforge_code"] == "invalid_reference.mode_conflict"

    with pytest.raises(byteplussdkarkruntime._exceptions.ArkAuthenticationError) as denied:
        ark(base_url, key="rf_" + "x" * 40).content_generation.tasks.get(task_id="video_x")
    assert (denied.value.code, denied.value.type) == ("AuthenticationError", "Unauthorized")

    raw = requests.post(
        f"{base_url}/api/v3/contents/generations/tasks", headers=AUTH, timeout=10,
        json={"model": "seedance-2.0", "content": [{"type": "text", "text": "x"}], "duration": 99},
    )  # fmt: skip
    assert raw.status_code == 400 and raw.headers["x-should-retry"] == "false"


def test_callback_url_receives_the_task_object(base_url: str, peer: Peer) -> None:
    client = ark(base_url)
    created = client.content_generation.tasks.create(
        model="seedance-2-0-260128", content=[{"type": "text", "text": "sunrise"}],
        duration=1, resolution="480p", ratio="1:1", callback_url=f"{peer.base_url}/ark-hook",
    )  # fmt: skip
    delivery = peer.wait("/ark-hook")
    body = json.loads(delivery.body)
    assert body["id"] == created.id and body["status"] == "succeeded"
    assert body["content"]["video_url"].startswith(base_url)
    assert (body["ratio"], body["duration"], body["resolution"]) == ("1:1", 1, "480p")
    assert set(body) >= {"model", "error", "created_at", "updated_at", "usage", "seed"}


def test_prompt_flags_fill_unset_fields_and_auto_duration(base_url: str) -> None:
    client = ark(base_url)
    created = client.content_generation.tasks.create(
        model="seedance-2.0",
        content=[{"type": "text", "text": "a red kite --rs 480p --rt 9:16 --dur 1 --seed 5"}],
    )
    task = wait_task(client, created.id)
    assert (task.resolution, task.ratio, task.duration, task.seed) == ("480p", "9:16", 1, 5)
    auto = client.content_generation.tasks.create(
        model="seedance-2.0", content=[{"type": "text", "text": "a blue kite"}],
        duration=-1, resolution="480p",
    )  # fmt: skip
    assert client.content_generation.tasks.get(task_id=auto.id).duration in (-1, 5)
    assert wait_task(client, auto.id).duration == 5  # the engine's choice, as delivered


def test_a_server_fault_on_create_is_never_retried() -> None:
    calls: list[str] = []

    def make(_base_url: str) -> FastAPI:
        app = FastAPI()
        install_error_handlers(app)
        register_error_renderer(app, ARK_PREFIX, ark_error_body)

        @app.post(f"{ARK_PREFIX}/contents/generations/tasks")
        def create() -> None:
            calls.append("POST")
            raise RuntimeError("a bug after the job was stored")

        return app

    with serve_app(make) as url:
        client = byteplussdkarkruntime.Ark(base_url=f"{url}/api/v3", api_key="k", max_retries=2)
        with pytest.raises(byteplussdkarkruntime._exceptions.ArkInternalServerError) as raised:
            client.content_generation.tasks.create(model="m", content=[])
    assert calls == ["POST"]
    assert (raised.value.code, raised.value.type) == ("InternalServiceError", "InternalServerError")


# ---- mapping, without a server ----------------------------------------------------------


def test_split_flags() -> None:
    assert split_flags("A cat walks --wm false") == ("A cat walks", {"watermark": "false"})
    text, flags = split_flags("[Image 1] --rs 720p --dur -1 --cf true --rt 21:9 --keep me")
    assert text == "[Image 1] --keep me"
    assert flags == {"resolution": "720p", "duration": "-1", "camera_fixed": "true",
                     "ratio": "21:9"}  # fmt: skip


def test_parse_create_roles_nulls_and_body_over_flags() -> None:
    body: dict[str, Any] = {
        "model": "seedance-2.0", "resolution": "1080p", "ratio": None, "duration": None,
        "seed": None, "watermark": None, "tools": None, "safety_identifier": "user-1",
        "camera_fixed": True, "callback_url": None, "execution_expires_after": 3600,
        "content": [
            {"type": "text", "text": "[Image 1] --rs 480p --rt 4:3"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ],
    }  # fmt: skip
    parsed = parse_create(body, default_model="ok")
    spec = parsed.spec
    assert spec.resolution is Resolution.P1080  # the body wins over --rs
    assert spec.aspect_ratio is AspectRatio.R4_3  # the flag fills the null ratio
    assert spec.references[0].role is ReferenceRole.FIRST_FRAME  # a lone image, no role
    assert spec.prompt == "[Image 1] Fixed camera."
    assert (spec.dialect, spec.end_user_id, spec.execution_expires_after) == ("ark", "user-1", 3600)
    assert parsed.content_index == (1,)

    body["content"].append(
        {"type": "audio_url", "audio_url": {"url": "https://example.com/a.mp3"}, "role": None}
    )
    two = parse_create(body, default_model="ok")
    assert [r.role for r in two.spec.references] == [ReferenceRole.REFERENCE] * 2
    for bad, param in (
        ({"frames": 121}, "frames"),
        ({"service_tier": "flex"}, "service_tier"),
        ({"draft": True}, "draft"),
        ({"content": [{"type": "image_url", "image_url": {"url": "asset://asset-1"}}]}, "content"),
        ({"content": [{"type": "video_url", "video_url": {"url": "https://e/v.mp4"},
                       "role": "first_frame"}]}, "content[0].role"),
        ({"content": [{"type": "draft_task", "draft_task": {"id": "cgt-1"}}]}, "content[0]"),
        ({"content": [{"type": "text", "text": "x"}], "model": None}, "model"),
    ):  # fmt: skip
        with pytest.raises(InvalidRequest) as raised:
            parse_create({**body, **bad}, default_model="ok")
        assert (raised.value.param or "").startswith(param), raised.value


# the model ids of the seeds, the Ark docs, the resellers and the openai SDK
DOCUMENTED_MODELS = {
    "seedance-2.0": "pro", "seedance-2-0-fast": "fast", "Seedance-2.0-Pro": "pro",
    "dreamina-seedance-2-0-260128": "pro", "dreamina-seedance-2-0-fast-260128": "fast",
    "doubao-seedance-2-0-260128": "pro", "doubao-seedance-2-0-fast-260128": "fast",
    "seedance-2-0-260128": "pro", "seedance-1-5-pro-251215": "pro",
    "dreamina-seedance-2-5-260628": "pro", "bytedance-seedance-2-0-reference-to-video": "pro",
    "bytedance/seedance-2.0/reference-to-video": "pro",
    "bytedance/seedance-2.0/fast/reference-to-video": "fast",
    "sora-2": "fast", "sora-2-pro": "pro",
}  # fmt: skip


@pytest.mark.parametrize(("model", "preset"), sorted(DOCUMENTED_MODELS.items()))
def test_documented_model_ids_resolve(model: str, preset: str) -> None:
    engines = ["preview", "minimax-h3"]
    assert resolve_model(model, default_model="minimax-h3", engines=engines).label == (
        f"minimax-h3:{preset}"
    )
    assert resolve_model(model, default_model="preview", engines=engines).label == "preview"


def test_unknown_model_is_refused_naming_the_choices() -> None:
    with pytest.raises(UnknownModel) as raised:
        resolve_model("seedance-9", default_model="preview", engines=["preview"])
    assert raised.value.http_status == 404 and raised.value.param == "model"
    assert "preview" in raised.value.message
