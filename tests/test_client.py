"""The SDK's own behaviour: error parsing, polling and atomic downloads.

The server is faked at the network edge with `httpx.MockTransport`; end-to-end tests against
the real app live elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from reelforge.client import Client, ReelforgeAPIError, Video, WaitTimeout

Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, sleeps: list[float] | None = None) -> Client:
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
    )


def video_json(status: str, progress: int = 0, **extra: object) -> dict[str, object]:
    return {"id": "video_1", "object": "video", "status": status, "progress": progress, **extra}


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


def test_non_json_error_and_retry_after() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/videos":
            return httpx.Response(
                429,
                json={"error": {"code": "rate_limited", "message": "slow"}},
                headers={"retry-after": "3"},
            )
        return httpx.Response(502, text="bad gateway")

    with make_client(handler) as client:
        with pytest.raises(ReelforgeAPIError) as info:
            client.get_video("video_1")
        assert (info.value.status_code, info.value.code) == (502, "http_502")
        assert info.value.message == "bad gateway"
        with pytest.raises(ReelforgeAPIError) as info:
            client.list_videos()
        assert info.value.retry_after == 3.0


def test_wait_honours_poll_after_header_and_reports_progress() -> None:
    states = iter([("queued", 0, "500"), ("in_progress", 40, "250"), ("in_progress", 80, None)])

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
        video = client.wait("video_1", poll_interval=2.0, on_progress=seen.append)
    assert video.status == "completed" and video.engine == "preview" and video.is_terminal
    assert sleeps == [0.5, 0.25, 2.0]  # header when sent, else poll_interval
    assert [v.progress for v in seen] == [0, 40, 80, 100]


def test_wait_times_out() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json=video_json("queued"), headers={"openai-poll-after-ms": "400"}
        )

    sleeps: list[float] = []
    with make_client(handler, sleeps) as client, pytest.raises(WaitTimeout) as info:
        client.wait("video_1", timeout=1.0)
    assert info.value.video.status == "queued"
    assert isinstance(info.value, TimeoutError)
    assert sum(sleeps) == pytest.approx(1.0)  # never sleeps past the deadline


class _BrokenStream(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b"partial"
        raise httpx.ReadError("connection lost")


def test_download_streams_into_place(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/videos/video_1/content"
        assert request.url.params["variant"] == "thumbnail"
        return httpx.Response(200, content=b"\x89PNG-bytes")

    target = tmp_path / "out" / "thumb.png"
    with make_client(handler) as client:
        assert client.download("video_1", target, variant="thumbnail") == target
    assert target.read_bytes() == b"\x89PNG-bytes"
    assert [p.name for p in target.parent.iterdir()] == ["thumb.png"]


def test_failed_download_leaves_no_partial_file(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["variant"] == "video":
            return httpx.Response(200, stream=_BrokenStream())
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no such"}})

    target = tmp_path / "clip.mp4"
    target.write_bytes(b"old")
    with make_client(handler) as client:
        with pytest.raises(httpx.ReadError):
            client.download("video_1", target)
        with pytest.raises(ReelforgeAPIError) as info:
            client.download("video_1", target, variant="last_frame")
    assert info.value.code == "not_found"
    assert target.read_bytes() == b"old"  # untouched
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no .part left behind
