"""What the flat and seed dialect tests need around the real server: a loopback peer that
serves reference files and records webhook deliveries (a real uvicorn server, started with
`tests.dialects.server.serve_app`), and the checks made on a downloaded MP4 with PyAV."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import av
from av.container import InputContainer
from fastapi import FastAPI, Request, Response

from tests.dialects.server import serve_app


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Peer:
    """Files to serve under `/files/<name>`; POSTs to any other path are recorded."""

    base_url: str = ""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, name: str) -> str:
        return f"{self.base_url}/files/{name}"

    def serve(self, name: str, data: bytes, media_type: str) -> str:
        self.files[name] = (data, media_type)
        return self.url(name)

    def wait(self, path: str, timeout: float = 15.0) -> Delivery:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [d for d in self.deliveries if d.path == path]
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"nothing was delivered to {path}"
            time.sleep(0.02)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/files/{name}")
        def get_file(name: str) -> Response:
            if name not in self.files:
                return Response(status_code=404)
            data, media_type = self.files[name]
            return Response(data, media_type=media_type)

        @app.post("/{path:path}")
        async def record(path: str, request: Request) -> Response:
            delivery = Delivery("/" + path, dict(request.headers), await request.body())
            with self._lock:
                self.deliveries.append(delivery)
            return Response(b"ok")

        return app


@contextmanager
def running_peer() -> Iterator[Peer]:
    peer = Peer()

    def make(base_url: str) -> FastAPI:
        peer.base_url = base_url
        return peer.app()

    with serve_app(make):
        yield peer


@dataclass(frozen=True)
class Mp4Facts:
    width: int
    height: int
    frames: int
    fps: float
    seconds: float  # frames / fps
    audio_codec: str | None
    audio_seconds: float


def mp4_facts(data: bytes) -> Mp4Facts:
    """Decode every video frame and audio frame of an MP4 with PyAV."""
    assert data[4:8] == b"ftyp", f"not an MP4 (starts {data[:12]!r})"
    container: InputContainer
    with av.open(io.BytesIO(data), "r") as container:
        video = container.streams.video[0]
        fps = float(video.average_rate or 0)
        width, height = video.codec_context.width, video.codec_context.height
        frames = len(list(container.decode(video=0)))
    audio_codec, audio_seconds = None, 0.0
    with av.open(io.BytesIO(data), "r") as container:
        if container.streams.audio:
            stream = container.streams.audio[0]
            audio_codec = stream.codec_context.name
            samples = [f.samples for f in container.decode(audio=0)]
            audio_seconds = sum(samples) / float(stream.codec_context.sample_rate)
    return Mp4Facts(width, height, frames, fps, frames / fps, audio_codec, audio_seconds)


def assert_mp4(data: bytes, *, seconds: float, width: int, height: int) -> Mp4Facts:
    """The clip has the asked size and duration at 24 fps, and an AAC track as long."""
    facts = mp4_facts(data)
    assert (facts.width, facts.height) == (width, height), facts
    assert facts.fps == 24.0, facts
    assert abs(facts.seconds - seconds) < 0.05, facts
    assert facts.audio_codec == "aac", facts
    assert abs(facts.audio_seconds - seconds) < 0.15, facts
    return facts
