"""Ark tasks with images and no text item (a first frame alone, reference images alone), as
Ark's docs allow, driven by both Ark SDKs against a real server; and the task object checked
against every field the SDKs' `ContentGenerationTask` types declare."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import requests
from byteplussdkarkruntime.types.content_generation.content_generation_task import (
    ContentGenerationTask as BytePlusTask,
)
from PIL import Image
from pydantic import BaseModel, TypeAdapter
from volcenginesdkarkruntime.types.content_generation.content_generation_task import (
    ContentGenerationTask as VolcTask,
)

from tests.conftest import ADMIN_KEY
from tests.dialects.loopback import assert_mp4, mp4_facts
from tests.dialects.server import running_reelforge
from tests.dialects.test_ark import ark, data_uri, png, wait_task

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
TASK_TYPES: dict[str, type[BaseModel]] = {"byteplus": BytePlusTask, "volcengine": VolcTask}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_reelforge(tmp_path_factory.mktemp("ark-images") / "data") as url:
        yield url


def check_declared_fields(model: type[BaseModel], body: dict[str, Any], where: str) -> None:
    """Every field the SDK type declares without a default is in `body`; every value that is
    not null validates as the declared type (nested models field by field). Ark itself sends
    `error: null` on a task that did not fail, so null stands for "does not apply"."""
    for name, field in model.model_fields.items():
        if field.is_required():
            assert name in body, f"{where}.{name} is missing"
        value = body.get(name)
        if value is None:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            check_declared_fields(annotation, value, f"{where}.{name}")
        else:
            TypeAdapter(annotation).validate_python(value, strict=True)


def raw_task(base_url: str, task_id: str) -> dict[str, Any]:
    r = requests.get(f"{base_url}/api/v3/contents/generations/tasks/{task_id}", headers=AUTH)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.parametrize("sdk", ["byteplus", "volcengine"])
def test_a_first_frame_alone(base_url: str, sdk: str) -> None:
    client = ark(base_url, sdk)
    image = {"type": "image_url", "image_url": {"url": data_uri(png(1280, 720))}}
    created = client.content_generation.tasks.create(
        model="dreamina-seedance-2-0-260128", content=[image], duration=2
    )
    task = wait_task(client, created.id)
    assert task.status == "succeeded", task
    body = raw_task(base_url, created.id)
    check_declared_fields(TASK_TYPES[sdk], body, "task")
    assert body["revised_prompt"] == "Animate @Image1."
    assert body["priority"] == 0 and body["ratio"] == "16:9" and body["resolution"] == "720p"
    assert [w["code"] for w in body["warnings"]] == ["prompt.supplied"]  # also on the task
    video = requests.get(task.content.video_url, timeout=10)
    assert_mp4(video.content, seconds=2, width=1280, height=720)
    native = requests.get(f"{base_url}/v1/videos/{created.id}", headers=AUTH).json()
    assert native["prompt"] == "Animate @Image1."
    assert [(w["code"], w["param"]) for w in native["warnings"]] == [("prompt.supplied", "content")]
    assert "Animate @Image1." in native["warnings"][0]["message"]


@pytest.mark.parametrize("sdk", ["byteplus", "volcengine"])
def test_reference_images_alone(base_url: str, sdk: str) -> None:
    client = ark(base_url, sdk)
    content = [
        {"type": "image_url", "image_url": {"url": data_uri(png(640, 480, color))},
         "role": "reference_image"}
        for color in ((200, 30, 30), (30, 30, 200))
    ]  # fmt: skip
    created = client.content_generation.tasks.create(
        model="dreamina-seedance-2-0-260128", content=content, resolution="480p", duration=2
    )
    task = wait_task(client, created.id)
    assert task.status == "succeeded", task
    body = raw_task(base_url, created.id)
    check_declared_fields(TASK_TYPES[sdk], body, "task")
    assert body["revised_prompt"] == "Animate @Image1 and @Image2."
    assert body["ratio"] == "4:3"  # adaptive: the first image's shape
    video = requests.get(task.content.video_url, timeout=10)
    assert_mp4(video.content, seconds=2, width=640, height=480)

    listed = client.content_generation.tasks.list(page_size=50)
    assert created.id in [t.id for t in listed.items]
    listed_raw = requests.get(
        f"{base_url}/api/v3/contents/generations/tasks", headers=AUTH, params={"page_size": 50}
    ).json()
    for item in listed_raw["items"]:
        check_declared_fields(TASK_TYPES[sdk], item, "items[]")


def test_no_text_and_no_image_is_still_refused(base_url: str) -> None:
    r = requests.post(
        f"{base_url}/api/v3/contents/generations/tasks", headers=AUTH, timeout=10,
        json={"model": "dreamina-seedance-2-0-260128", "content": [
            {"type": "video_url", "video_url": {"url": "https://example.com/a.mp4"},
             "role": "reference_video"}]},
    )  # fmt: skip
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "MissingParameter" and error["param"] == "content"


def test_the_preview_engine_animates_a_first_frame_alone(base_url: str) -> None:
    """The neutral prompt works with the real compositor: the first frame is the image."""
    picture = np.zeros((480, 640, 3), np.uint8)
    picture[:, :320] = (220, 40, 40)
    picture[:, 320:] = (40, 40, 220)
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, format="PNG")
    client = ark(base_url)
    created = client.content_generation.tasks.create(
        model="preview", duration=1, resolution="480p",
        content=[{"type": "image_url", "image_url": {"url": data_uri(buf.getvalue())},
                  "role": "first_frame"}],
    )  # fmt: skip
    task = wait_task(client, created.id, timeout=60)
    assert task.status == "succeeded", task
    data = requests.get(task.content.video_url, timeout=10).content
    facts = mp4_facts(data)
    assert (facts.width, facts.height) == (640, 480)
    import av

    with av.open(io.BytesIO(data)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(np.float32)
    assert np.abs(first - picture).mean() < 12  # the given first frame, shown as given
