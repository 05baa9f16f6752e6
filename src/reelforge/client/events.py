"""Waiting for a video: follow its server-sent event stream (`GET /v1/videos/{id}/events`),
reconnecting with backoff, and fall back to polling (the server's `openai-poll-after-ms`
hint, else a growing interval) when it does not stream or the stream keeps breaking; each
change of status, stage or progress is emitted once, and `WaitOptions` bound it all.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from reelforge.client.errors import ReelforgeAPIError, ReelforgeConnectionError, WaitTimeout
from reelforge.client.instructions import Call, Emit, NextChunk, Op, OpenStream, Sleep
from reelforge.client.retry import RetryPolicy
from reelforge.client.sse import SSEParser
from reelforge.client.types import Video, VideoEvent

POLL_AFTER_HEADER = "openai-poll-after-ms"


@dataclass
class WaitOptions:
    """`stream`: follow `GET /v1/videos/{id}/events` (server-sent events) and fall back to
    polling when the server does not stream or the stream keeps breaking. Polling sleeps for
    the server's `openai-poll-after-ms` hint, else `poll_interval`, growing by `backoff` while
    nothing changes up to `max_poll_interval`."""

    poll_interval: float = 1.0
    max_poll_interval: float = 10.0
    backoff: float = 1.5
    timeout: float | None = None
    stream: bool = True
    stream_read_timeout: float = 30.0


@dataclass
class _Tracker:
    """The last state seen; turns fresh states into events and checks the deadline."""

    clock: Callable[[], float]
    timeout: float | None
    last: Video | None = None
    deadline: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.deadline = None if self.timeout is None else self.clock() + self.timeout

    def see(self, video: Video, source: str) -> VideoEvent | None:
        prev = self.last
        self.last = video
        state = (video.status, video.stage, int(video.progress))
        if prev is not None and (prev.status, prev.stage, int(prev.progress)) == state:
            return None
        return VideoEvent(f"video.{video.status}", video, source)

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def check(self) -> None:
        left = self.remaining()
        if left is not None and left <= 0 and self.last is not None:
            raise WaitTimeout(self.last, self.timeout or 0.0)


def _get_video_with_hint(video_id: str) -> Op[tuple[Video, float | None]]:
    response = yield Call("GET", f"/v1/videos/{video_id}")
    hint: float | None = None
    with contextlib.suppress(ValueError):
        hint = float(response.headers.get(POLL_AFTER_HEADER, "")) / 1000.0
    return Video.from_json(response.json()), hint


def video_events(
    video_id: str, opts: WaitOptions, clock: Callable[[], float], policy: RetryPolicy
) -> Op[Video]:
    """Emits a `VideoEvent` for each change of status, stage or progress, the first for the
    state now; returns the terminal Video. Raises `WaitTimeout` past `opts.timeout`."""
    track = _Tracker(clock, opts.timeout)
    video, hint = yield from _get_video_with_hint(video_id)
    yield from _observe(track, video, "poll")
    if video.is_terminal:
        return video
    if opts.stream:
        done = yield from _follow_stream(video_id, opts, track, policy)
        if done is not None:
            return done
        hint = None
    return (yield from _poll(video_id, opts, track, hint))


def _follow_stream(
    video_id: str, opts: WaitOptions, track: _Tracker, policy: RetryPolicy
) -> Op[Video | None]:
    """Follow the event stream, reconnecting after a broken connection with backoff; None
    when the server does not stream or the stream failed `policy.max_retries` + 1 times in a
    row (the caller then polls)."""
    failures = 0
    while failures <= policy.max_retries:
        track.check()
        left = track.remaining()
        read_timeout = (
            opts.stream_read_timeout if left is None else min(left, opts.stream_read_timeout)
        )
        call = Call(
            "GET", f"/v1/videos/{video_id}/events", headers={"Accept": "text/event-stream"},
            timeout=max(read_timeout, 0.05), retry=False,
        )  # fmt: skip
        try:
            response = yield OpenStream(call)
        except (ReelforgeAPIError, ReelforgeConnectionError):
            return None  # no stream here (or not now): poll
        if "text/event-stream" not in response.headers.get("content-type", ""):
            return None
        parser = SSEParser()
        try:
            while True:
                chunk = yield NextChunk()
                if not chunk:
                    break  # the server closed the stream before a terminal state
                for sse in parser.feed(chunk):
                    if not sse.data:
                        continue
                    try:
                        video = Video.from_json(json.loads(sse.data))
                    except (ValueError, KeyError, TypeError):
                        continue
                    failures = 0
                    yield from _observe(track, video, "stream")
                    if video.is_terminal:
                        return video
        except httpx.ReadTimeout:
            continue  # quiet stream (a long queue): reconnect, the deadline checked first
        except httpx.TransportError:
            pass
        failures += 1
        yield Sleep(_clip(policy.delay(failures), track))
    return None


def _poll(video_id: str, opts: WaitOptions, track: _Tracker, hint: float | None) -> Op[Video]:
    unchanged = 0
    while True:
        delay = (
            hint
            if hint is not None
            else min(opts.max_poll_interval, opts.poll_interval * opts.backoff**unchanged)
        )
        track.check()
        yield Sleep(_clip(delay, track))
        video, hint = yield from _get_video_with_hint(video_id)
        event = yield from _observe(track, video, "poll")
        unchanged = 0 if event is not None else unchanged + 1
        if video.is_terminal:
            return video


def _observe(track: _Tracker, video: Video, source: str) -> Op[VideoEvent | None]:
    """Note `video` as seen from `source`; emit the event when something changed (and return
    it, else None)."""
    event = track.see(video, source)
    if event is not None:
        yield Emit(event)
    return event


def _clip(delay: float, track: _Tracker) -> float:
    left = track.remaining()
    return max(0.0, delay if left is None else min(delay, left))
