"""Retries against a real HTTP server on loopback that misbehaves the way networks and busy
services do: it drops the connection after storing a job (the answer is lost), answers 429
with `Retry-After`, and 503. The SDK retries, waits as told, and never makes a second job."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from reelforge import AsyncClient, Client, RateLimitError


def _error(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": code.replace("_", " ")}}


class FlakyService:
    """Each create key sees: the job stored then the connection dropped, then a 429 with
    Retry-After: 1, then the stored job (found by its Idempotency-Key). Each GET of a video
    sees a dropped connection, a 503, then the completed video."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}  # by idempotency key
        self.attempts: dict[str, list[tuple[float, str]]] = {}
        self.lock = threading.Lock()
        self.always_429 = False

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        if h.command == "POST" and h.path == "/v1/videos":
            key = h.headers["idempotency-key"]
            with self.lock:
                tries = self.attempts.setdefault(key, [])
                tries.append((time.monotonic(), "create"))
                n = len(tries)
                if self.always_429:
                    return self._send(
                        h, 429, _error("rate_limited.concurrency"), {"Retry-After": "0"}
                    )
                if n == 1:
                    self.jobs[key] = {"id": f"video_{len(self.jobs)}", "status": "queued",
                                      "prompt": json.loads(body)["prompt"]}  # fmt: skip
                    h.close_connection = True
                    return None  # stored, but the answer never leaves: the client sees a drop
                if n == 2:
                    return self._send(
                        h, 429, _error("rate_limited.creates_per_minute"), {"Retry-After": "1"}
                    )
                return self._send(h, 202, self.jobs[key])
        if h.command == "GET" and h.path.startswith("/v1/videos/") and h.path.count("/") == 3:
            video_id = h.path.rsplit("/", 1)[1]
            with self.lock:
                tries = self.attempts.setdefault(video_id, [])
                tries.append((time.monotonic(), "get"))
                n = len(tries)
            if n == 1:
                h.close_connection = True
                return None
            if n == 2:
                return self._send(h, 503, _error("unavailable"), {"Retry-After": "0"})
            return self._send(h, 200, {"id": video_id, "status": "completed", "progress": 100})
        return self._send(h, 404, _error("not_found"))

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None
              = None) -> None:  # fmt: skip
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("content-type", "application/json")
        h.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)


@pytest.fixture
def flaky() -> Iterator[tuple[str, FlakyService]]:
    service = FlakyService()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            service.handle(self)

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", service
    server.shutdown()
    server.server_close()


def test_a_lost_answer_and_a_429_give_one_job_after_the_wait_asked(
    flaky: tuple[str, FlakyService],
) -> None:
    url, service = flaky
    with Client(url, api_key="rf_x") as rf:
        video = rf.create_video("a paper boat", seconds=1)
        done = rf.wait(video.id, stream=True)  # no event stream there: polling, after retries
    assert done.status == "completed"
    assert len(service.jobs) == 1 and video.id == "video_0"
    ((_key, tries),) = [(k, t) for k, t in service.attempts.items() if k.startswith("rf-")]
    assert [kind for _, kind in tries] == ["create"] * 3  # dropped, 429, then the stored job
    assert tries[2][0] - tries[1][0] >= 1.0  # Retry-After: 1 honoured
    assert len(service.attempts[video.id]) == 3  # drop, 503, answer


def test_async_clients_retry_concurrently_without_duplicates(
    flaky: tuple[str, FlakyService],
) -> None:
    url, service = flaky

    async def main() -> list[str]:
        async with AsyncClient(url, api_key="rf_x") as rf:
            videos = await asyncio.gather(
                *(rf.create_video(f"take {i}", idempotency_key=f"take-{i}") for i in range(8))
            )
            return [v.id for v in videos]

    started = time.monotonic()
    ids = asyncio.run(main())
    assert sorted(ids) == sorted(j["id"] for j in service.jobs.values())
    assert len(set(ids)) == len(service.jobs) == 8
    assert all(len(service.attempts[f"take-{i}"]) == 3 for i in range(8))
    assert time.monotonic() - started < 5  # the waits overlap


def test_retries_end(flaky: tuple[str, FlakyService]) -> None:
    url, service = flaky
    service.always_429 = True
    with Client(url, api_key="rf_x", max_retries=2) as rf, pytest.raises(RateLimitError):
        rf.create_video("x", idempotency_key="k")
    assert len(service.attempts["k"]) == 3 and not service.jobs
