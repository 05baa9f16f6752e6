"""The operations on videos (`/v1/videos`): create (with an `Idempotency-Key`), quote, get,
list page by page or all of them, cancel and delete. Waiting for a video is `events.py`,
downloading its files `downloads.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reelforge.client.files import FileCache
from reelforge.client.instructions import Call, Emit, Op
from reelforge.client.options import new_idempotency_key
from reelforge.client.types import Quote, Video, VideoList
from reelforge.client.uploads import request_body


def create_video(prompt: str, options: Mapping[str, Any], cache: FileCache) -> Op[Video]:
    key = options.get("idempotency_key") or new_idempotency_key()
    body = yield from request_body(prompt, options, cache)
    response = yield Call("POST", "/v1/videos", json=body, headers={"Idempotency-Key": key})
    return Video.from_json(response.json())


def quote(prompt: str, options: Mapping[str, Any], cache: FileCache) -> Op[Quote]:
    options = {k: v for k, v in options.items() if k != "idempotency_key"}
    body = yield from request_body(prompt, options, cache)
    response = yield Call("POST", "/v1/videos/quote", json=body)
    return Quote.from_json(response.json())


def get_video(video_id: str) -> Op[Video]:
    response = yield Call("GET", f"/v1/videos/{video_id}")
    return Video.from_json(response.json())


def list_videos(
    limit: int = 20, after: str | None = None, status: str | None = None, order: str = "desc"
) -> Op[VideoList]:
    params: dict[str, Any] = {"limit": limit, "order": order}
    if after:
        params["after"] = after
    if status:
        params["status"] = status
    response = yield Call("GET", "/v1/videos", params=params)
    return VideoList.from_json(response.json())


def iter_videos(status: str | None = None, order: str = "desc", page_size: int = 100) -> Op[None]:
    """Every video of the key, page after page (`Emit`s each)."""
    after: str | None = None
    while True:
        page = yield from list_videos(page_size, after, status, order)
        for video in page.data:
            yield Emit(video)
        if not page.has_more or not page.last_id:
            return
        after = page.last_id


def cancel_video(video_id: str) -> Op[Video]:
    response = yield Call("POST", f"/v1/videos/{video_id}/cancel")
    return Video.from_json(response.json())


def delete_video(video_id: str) -> Op[None]:
    yield Call("DELETE", f"/v1/videos/{video_id}")
