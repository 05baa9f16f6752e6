"""The SDK's own behaviour, the server faked at the network edge (`httpx.MockTransport`) and
the clock faked: error parsing, retries and their waits, idempotency keys, upload
de-duplication, the event stream and its fallback to polling, resumable downloads, paging, and
the public surface. The same operations run through `Client` and `AsyncClient`.

End-to-end runs against a real service: tests/client/.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import reelforge
import reelforge.client
from reelforge.client import (
    AsyncClient,
    Client,
    ConflictError,
    FileCache,
    NotFoundError,
    RateLimitError,
    ReelforgeAPIError,
    ReelforgeClientError,
    ReelforgeConnectionError,
    ServerError,
    Video,
    WaitTimeout,
)

Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, sleeps: list[float] | None = None, **kwargs: Any) -> Client:
    clock = [0.0]

    def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        clock[0] += seconds

    return Client(
        api_key="rf_test",
        transport=httpx.MockTransport(handler),
        sleep=sleep,
        clock=lambda: clock[0],
        **kwargs,
    )


def make_async_client(handler: Handler, sleeps: list[float] | None = None) -> AsyncClient:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    return AsyncClient(api_key="rf_test", transport=httpx.MockTransport(handler), sleep=sleep)


def video_json(status: str, progress: int = 0, **extra: object) -> dict[str, object]:
    return {"id": "video_1", "object": "video", "status": status, "progress": progress, **extra}


def api_error(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "message": code.replace("_", " ")}}
    return httpx.Response(status, json=body, headers=headers)


# -- errors ----------------------------------------------------------------------------------


def test_error_body_is_parsed_into_api_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer rf_test"
        body = {
            "error": {
                "code": "invalid_request.seconds",
                "message": "seconds must be 1..15",
                "param": "seconds",
                "type": "invalid_request_error",
            }
        }
        return httpx.Response(400, json=body, headers={"x-request-id": "req_1"})

    with make_client(handler) as client, pytest.raises(ReelforgeAPIError) as info:
        client.get_video("video_1")
    err = info.value
    assert (err.status_code, err.code, err.param) == (400, "invalid_request.seconds", "seconds")
    assert err.message == "seconds must be 1..15"
    assert err.type == "invalid_request_error"
    assert err.request_id == "req_1"
    assert type(err).__name__ == "BadRequestError"


def test_non_json_error_after_retries_and_retry_after() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/v1/videos":
            return api_error(429, "rate_limited", **{"retry-after": "3"})
        return httpx.Response(502, text="bad gateway")

    sleeps: list[float] = []
    with make_client(handler, sleeps, max_retries=2) as client:
        with pytest.raises(ServerError) as info:
            client.get_video("video_1")
        assert (info.value.status_code, info.value.code) == (502, "http_502")
        assert info.value.message == "bad gateway"
        assert len(calls) == 3  # the first try and two retries
        assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # backoff with jitter
        sleeps.clear()
        with pytest.raises(RateLimitError) as limited:
            client.list_videos()
        assert limited.value.retry_after == 3.0
        assert all(3.0 <= s <= 3.3 for s in sleeps) and len(sleeps) == 2  # as the server said


def test_should_retry_false_and_client_errors_are_not_retried() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.method == "POST":
            return api_error(500, "internal", **{"x-should-retry": "false"})
        return api_error(404, "not_found.video")

    with make_client(handler) as client:
        with pytest.raises(ServerError):
            client.create_video("a cat")
        with pytest.raises(NotFoundError):
            client.get_video("video_x")
    assert calls == ["POST", "GET"]


def test_connection_errors_are_retried_then_wrapped() -> None:
    attempts = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        raise httpx.ConnectError("refused", request=request)

    sleeps: list[float] = []
    with make_client(handler, sleeps) as client, pytest.raises(ReelforgeConnectionError) as info:
        client.get_video("video_1")
    assert len(attempts) == 4 and len(sleeps) == 3
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert isinstance(info.value, ReelforgeClientError)


# -- create: idempotency, uploads --------------------------------------------------------------


def test_create_always_sends_one_idempotency_key_across_retries() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["idempotency-key"])
        if len(seen) in (1, 3):
            raise httpx.ReadError("connection reset", request=request)  # answer lost
        return httpx.Response(202, json=video_json("queued"))

    with make_client(handler) as client:
        assert client.create_video("a cat", seconds=1).status == "queued"
        assert client.create_video("a dog", idempotency_key="mine").id == "video_1"
    assert seen[0] == seen[1] and seen[0].startswith("rf-")
    assert seen[2:] == ["mine", "mine"]


def test_create_body_leaves_out_nones_and_rejects_unknown_options() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(202, json=video_json("queued"))

    with make_client(handler) as client:
        client.create_video(
            "@Image1 walks", seconds=2, model=None, images=["https://x.test/a.png"],
            metadata={"sku": "1"},
        )  # fmt: skip
        with pytest.raises(TypeError, match="resolutoin"):
            client.create_video("x", resolutoin="480p")  # type: ignore[call-arg]
    assert bodies == [
        {
            "prompt": "@Image1 walks",
            "seconds": 2,
            "references": [{"type": "image", "url": "https://x.test/a.png"}],
            "metadata": {"sku": "1"},
        }
    ]


def _files_server(uploads: list[bytes], known: set[str]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/files":
            uploads.append(request.content)
            file_id = f"file_{len(uploads)}"
            known.add(file_id)
            return httpx.Response(200, json={"id": file_id, "object": "file"})
        if request.method == "GET" and request.url.path.startswith("/v1/files/"):
            file_id = request.url.path.rsplit("/", 1)[1]
            if file_id not in known:
                return api_error(404, "not_found.file")
            return httpx.Response(200, json={"id": file_id, "object": "file"})
        if request.url.path in ("/v1/videos", "/v1/videos/quote"):
            refs = json.loads(request.content)["references"]
            return httpx.Response(202, json=video_json("queued", metadata={"refs": refs}))
        raise AssertionError(request.url)

    return handler


def test_local_files_are_uploaded_once_by_content(tmp_path: Path) -> None:
    a, b, copy_of_a = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "a-copy.png"
    a.write_bytes(b"\x89PNG aaaa")
    b.write_bytes(b"\x89PNG bbbb")
    copy_of_a.write_bytes(a.read_bytes())
    uploads: list[bytes] = []
    handler = _files_server(uploads, set())
    with make_client(handler) as client:
        first = client.create_video("@Image1 @Image2", images=[a, b])
        second = client.create_video("@Image1", images=[copy_of_a], references=[
            {"type": "image", "path": b, "role": "last_frame"}])  # fmt: skip
    assert len(uploads) == 2  # a and b; the copy of a and b again are not sent
    assert first.raw["metadata"]["refs"] == [
        {"type": "image", "file_id": "file_1"},
        {"type": "image", "file_id": "file_2"},
    ]
    assert second.raw["metadata"]["refs"] == [
        {"type": "image", "file_id": "file_1"},
        {"type": "image", "file_id": "file_2", "role": "last_frame"},
    ]


def test_a_kept_file_cache_is_checked_once_and_heals(tmp_path: Path) -> None:
    img = tmp_path / "a.png"
    img.write_bytes(b"\x89PNG aaaa")
    cache_path = tmp_path / "files.json"
    uploads: list[bytes] = []
    known: set[str] = set()
    with make_client(_files_server(uploads, known), file_cache=cache_path) as client:
        client.upload_file(img)
    assert json.loads(cache_path.read_text()) == {FileCache().digest(img): "file_1"}

    requests: list[str] = []
    inner = _files_server(uploads, known)

    def counting(request: httpx.Request) -> httpx.Response:
        requests.append(f"{request.method} {request.url.path}")
        return inner(request)

    with make_client(counting, file_cache=cache_path) as client:  # a later process
        assert client.upload_file(img).id == "file_1"
        assert client.upload_file(img).id == "file_1"
    assert requests == ["GET /v1/files/file_1"]  # checked once, not uploaded again

    known.clear()  # the server forgot it
    with make_client(counting, file_cache=cache_path) as client:
        assert client.upload_file(img).id == "file_2"
    assert len(uploads) == 2


def test_concurrent_creates_with_one_file_upload_it_once(tmp_path: Path) -> None:
    img = tmp_path / "a.png"
    img.write_bytes(b"\x89PNG aaaa")
    uploads: list[bytes] = []
    client = make_async_client(_files_server(uploads, set()))

    async def main() -> list[Video]:
        async with client:
            return await asyncio.gather(*(client.create_video("x", images=[img]) for _ in range(8)))

    videos = asyncio.run(main())
    assert len(videos) == 8 and len(uploads) == 1


# -- waiting ---------------------------------------------------------------------------------


def test_wait_polls_with_the_servers_hint_and_backoff() -> None:
    states = iter(
        [
            ("queued", 0, "500"),
            ("in_progress", 40, "250"),
            ("in_progress", 80, None),
            ("in_progress", 80, None),
            ("in_progress", 80, None),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/videos/video_1"
        try:
            status, progress, poll_after = next(states)
        except StopIteration:
            return httpx.Response(200, json=video_json("completed", 100, engine="preview"))
        headers = {"openai-poll-after-ms": poll_after} if poll_after else {}
        return httpx.Response(200, json=video_json(status, progress), headers=headers)

    sleeps: list[float] = []
    seen: list[Video] = []
    with make_client(handler, sleeps) as client:
        video = client.wait("video_1", poll_interval=2.0, on_progress=seen.append, stream=False)
    assert video.status == "completed" and video.engine == "preview" and video.is_terminal
    # The header when sent, else poll_interval growing while nothing changes.
    assert sleeps == [0.5, 0.25, 2.0, 3.0, 4.5]
    assert [v.progress for v in seen] == [0, 40, 80, 100]  # each change once


def test_wait_times_out() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json=video_json("queued"), headers={"openai-poll-after-ms": "400"}
        )

    sleeps: list[float] = []
    with make_client(handler, sleeps) as client, pytest.raises(WaitTimeout) as info:
        client.wait("video_1", timeout=1.0, stream=False)
    assert info.value.video is not None and info.value.video.status == "queued"
    assert isinstance(info.value, TimeoutError)
    assert sum(sleeps) == pytest.approx(1.0)  # never sleeps past the deadline


def _sse(*events: dict[str, Any]) -> bytes:
    return b"".join(
        f": keep-alive\nevent: video.{e['status']}\ndata: {json.dumps(e)}\n\n".encode()
        for e in events
    )


class _Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body sent in pieces (split mid-line), optionally breaking after them."""

    def __init__(self, body: bytes, size: int = 7, then: Exception | None = None) -> None:
        self.parts = [body[i : i + size] for i in range(0, len(body), size)]
        self.then = then

    def __iter__(self) -> Iterator[bytes]:
        yield from self.parts
        if self.then is not None:
            raise self.then

    async def __aiter__(self) -> Any:
        for part in self.parts:
            yield part
        if self.then is not None:
            raise self.then


def test_events_follow_the_stream_and_reconnect_after_a_break() -> None:
    streams = iter(
        [
            _Chunks(
                _sse(video_json("queued"), video_json("in_progress", 30)),
                then=httpx.ReadError("dropped"),
            ),
            _Chunks(_sse(video_json("in_progress", 30), video_json("completed", 100))),
        ]
    )
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path.endswith("/events"):
            assert request.headers["accept"] == "text/event-stream"
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, stream=next(streams)
            )
        return httpx.Response(200, json=video_json("queued"))

    with make_client(handler) as client:
        events = list(client.events("video_1"))
    assert [(e.type, e.video.progress, e.source) for e in events] == [
        ("video.queued", 0, "poll"),
        ("video.in_progress", 30, "stream"),
        ("video.completed", 100, "stream"),
    ]
    assert paths == ["/v1/videos/video_1"] + ["/v1/videos/video_1/events"] * 2

    async def async_events() -> list[str]:
        nonlocal streams
        streams = iter([_Chunks(_sse(video_json("completed", 100)))])
        async with make_async_client(handler) as aclient:
            return [e.type async for e in aclient.events("video_1")]

    assert asyncio.run(async_events()) == ["video.queued", "video.completed"]


def test_events_fall_back_to_polling_without_a_stream() -> None:
    polls = iter([video_json("queued"), video_json("in_progress", 50), video_json("completed")])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/events"):
            return api_error(404, "not_found")  # e.g. a proxy that does not pass streams
        return httpx.Response(200, json=next(polls))

    with make_client(handler) as client:
        events = list(client.events("video_1"))
    assert [(e.type, e.source) for e in events] == [
        ("video.queued", "poll"),
        ("video.in_progress", "poll"),
        ("video.completed", "poll"),
    ]


# -- downloads -------------------------------------------------------------------------------

PAYLOAD = bytes(range(256)) * 40


def _content_server(ranges: list[str | None], break_first_at: int | None) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/videos/video_1/content"
        asked = request.headers.get("range")
        ranges.append(asked)
        start = int(asked.removeprefix("bytes=").rstrip("-")) if asked else 0
        body = PAYLOAD[start:]
        headers = {"content-length": str(len(body))}
        if asked:
            headers["content-range"] = f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"
        broken = break_first_at is not None and len(ranges) == 1
        stream = _Chunks(
            body[:break_first_at] if broken else body,
            size=1000,
            then=httpx.ReadError("connection lost") if broken else None,
        )
        return httpx.Response(206 if asked else 200, headers=headers, stream=stream)

    return handler


def test_download_resumes_with_range_after_a_break(tmp_path: Path) -> None:
    ranges: list[str | None] = []
    target = tmp_path / "out" / "clip.mp4"
    with make_client(_content_server(ranges, break_first_at=3000)) as client:
        assert client.download("video_1", target) == target
    assert target.read_bytes() == PAYLOAD
    assert ranges == [None, "bytes=3000-"]
    assert [p.name for p in target.parent.iterdir()] == ["clip.mp4"]


def test_failed_download_leaves_the_target_alone_and_a_later_call_resumes(
    tmp_path: Path,
) -> None:
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"old")

    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.params["variant"] == "last_frame":
            return api_error(404, "not_found.content")
        return httpx.Response(200, stream=_Chunks(PAYLOAD[:2000], then=httpx.ReadError("lost")))

    with make_client(broken, max_retries=1) as client:
        with pytest.raises(ReelforgeConnectionError):
            client.download("video_1", target)
        with pytest.raises(NotFoundError):
            client.download("video_1", target, variant="last_frame")
    assert target.read_bytes() == b"old"  # untouched
    (part,) = (p for p in tmp_path.iterdir() if p.name.endswith(".part"))
    assert part.read_bytes() == PAYLOAD[:2000]

    ranges: list[str | None] = []
    client2 = make_async_client(_content_server(ranges, break_first_at=None))

    async def resume() -> Path:
        async with client2:
            return await client2.download("video_1", target)

    assert asyncio.run(resume()) == target
    assert ranges == ["bytes=2000-"] and target.read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


# -- lists, account, batches -----------------------------------------------------------------


def test_iter_videos_follows_the_pages() -> None:
    pages = {
        None: ({"data": [video_json("completed") | {"id": "v3"}], "has_more": True,
                "last_id": "v3"}),
        "v3": {"data": [video_json("failed") | {"id": "v1"}], "has_more": False, "last_id": "v1"},
    }  # fmt: skip
    asked: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        asked.append(after)
        assert request.url.params["limit"] == "2"
        return httpx.Response(200, json={"object": "list", **pages[after]})

    with make_client(handler) as client:
        assert [v.id for v in client.iter_videos(page_size=2)] == ["v3", "v1"]
    assert asked == [None, "v3"]


def test_batches_speak_the_documented_shape(tmp_path: Path) -> None:
    img = tmp_path / "a.png"
    img.write_bytes(b"\x89PNG aaaa")
    sent: list[tuple[dict[str, Any], str]] = []
    item = {"object": "batch.item", "index": 0, "custom_id": "ad", "take": 1, "seed": 7,
            "status": "completed", "video_id": "video_1", "quote": 0.28, "cost": 0.28,
            "error": None, "urls": {"video": "http://x/v"}}  # fmt: skip
    batch = {"id": "batch_1", "object": "batch", "status": "completed",
             "request_counts": {"total": 1, "completed": 1},
             "usage": {"cost": 0.28, "committed": 0.28, "max_cost": 1.0, "currency": "USD"},
             "items": [item]}  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/files":
            return httpx.Response(200, json={"id": "file_9", "object": "file"})
        if request.url.path == "/v1/batches":
            sent.append((json.loads(request.content), request.headers["idempotency-key"]))
            return httpx.Response(202, json=batch | {"status": "in_progress"})
        if request.url.path == "/v1/batches/batch_1/results":
            return httpx.Response(200, text=json.dumps(item) + "\n")
        return httpx.Response(200, json=batch)

    with make_client(handler) as client:
        created = client.create_batch(
            [{"custom_id": "ad", "prompt": "@Image1 spins", "images": [img], "n": 4, "seed": 7}],
            max_cost=1.0,
            metadata={"campaign": "spring"},
        )
        done = client.wait_batch(created.id)
        results = client.batch_results(created.id)
    body, key = sent[0]
    assert body == {
        "requests": [{"custom_id": "ad", "n": 4, "prompt": "@Image1 spins", "seed": 7,
                      "references": [{"type": "image", "file_id": "file_9"}]}],
        "max_cost": 1.0,
        "metadata": {"campaign": "spring"},
    }  # fmt: skip
    assert key.startswith("rf-")
    assert created.status == "in_progress" and done.is_terminal
    assert (done.cost, done.max_cost, done.request_counts["completed"]) == (0.28, 1.0, 1)
    (got,) = results
    assert (got.custom_id, got.take, got.seed, got.video_id, got.cost) == (
        "ad",
        1,
        7,
        "video_1",
        0.28,
    )
    assert got.urls == {"video": "http://x/v"}


def test_conflict_is_its_own_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return api_error(409, "conflict.idempotency_key", **{"x-should-retry": "false"})

    with make_client(handler) as client, pytest.raises(ConflictError) as info:
        client.create_video("x", idempotency_key="k")
    assert info.value.should_retry is False


# -- the public surface ----------------------------------------------------------------------

PUBLIC = {
    "AsyncClient", "AuthenticationError", "BadRequestError", "Batch", "BatchItem", "BatchList",
    "BatchRequest", "Client", "ConflictError", "CreateOptions", "DEFAULT_BASE_URL", "FileCache",
    "FileObject", "InsufficientCreditsError", "Model", "NotFoundError", "PermissionDeniedError",
    "Quote", "RateLimitError", "ReelforgeAPIError", "ReelforgeClientError",
    "ReelforgeConnectionError", "RequestOptions", "RetryPolicy", "ServerError",
    "TERMINAL_STATUSES", "Usage", "Video", "VideoEvent", "VideoList", "WaitTimeout",
}  # fmt: skip


def test_all_lists_exactly_the_public_names_and_each_imports() -> None:
    assert set(reelforge.client.__all__) == PUBLIC
    assert set(reelforge.__all__) == PUBLIC | {"__version__"}
    assert len(reelforge.__all__) == len(set(reelforge.__all__))
    # Nothing public in the package that `__all__` leaves out (submodules aside).
    defined = {
        name for name, value in vars(reelforge.client).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }  # fmt: skip
    assert defined == PUBLIC
    fresh = importlib.import_module("reelforge")
    for name in reelforge.__all__:
        namespace: dict[str, Any] = {}
        exec(f"from reelforge import {name}", namespace)
        assert namespace[name] is getattr(fresh, name)
        if name != "__version__":
            assert namespace[name] is getattr(reelforge.client, name)
    with pytest.raises(AttributeError):
        _ = reelforge.NoSuchThing  # type: ignore[attr-defined]
    # The exception tree hangs from one root.
    for name in PUBLIC:
        value = getattr(reelforge, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, reelforge.ReelforgeClientError)


def test_importing_reelforge_or_its_submodules_does_not_load_the_sdk() -> None:
    """The server's modules import `reelforge.codes` and the like; only a public SDK name
    (capitalised) or `__all__` loads `reelforge.client` and httpx."""
    code = (
        "import sys, reelforge\n"
        "from reelforge import codes, errors, spec\n"
        "assert reelforge.__version__\n"
        "print(sorted({'reelforge.client', 'httpx'} & set(sys.modules)))\n"
        "reelforge.Client\n"
        "print(sorted({'reelforge.client', 'httpx'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["[]", "['httpx', 'reelforge.client']"]


def test_sync_and_async_clients_offer_the_same_methods() -> None:
    def public(cls: type) -> set[str]:
        return {n for n, v in vars(cls).items() if not n.startswith("_") and callable(v)}

    assert public(Client) - {"close"} == public(AsyncClient) - {"aclose"}
    for name in public(AsyncClient) - {"aclose", "events", "iter_videos"}:
        assert inspect.iscoroutinefunction(getattr(AsyncClient, name)), name
