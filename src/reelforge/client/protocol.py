"""What the SDK does, written once for the sync and the async client (sans-I/O).

Each operation is a generator that yields instructions (`Call` a request, `OpenStream` and
`NextChunk` to read a streamed answer, `Sleep`, `Emit` a value to the caller, `Once` to run a
sub-operation one at a time per key) and receives their results; `Client` and `AsyncClient`
(`sync.py`, `aio.py`) only carry the instructions out, with httpx and `time.sleep` or with
httpx's async client and `asyncio.sleep`. Request building, answer parsing, upload
de-duplication, the event stream with its fallback to polling, resumable downloads and the
retry policy all live here or in `retry.py`, never twice.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import os
import uuid
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, TypeVar

import httpx

from reelforge.client.errors import (
    ReelforgeAPIError,
    ReelforgeConnectionError,
    WaitTimeout,
)
from reelforge.client.files import FileCache
from reelforge.client.retry import RetryPolicy
from reelforge.client.sse import SSEParser
from reelforge.client.types import (
    Batch,
    BatchItem,
    BatchList,
    FileObject,
    Model,
    Quote,
    Usage,
    Video,
    VideoEvent,
    VideoList,
)

PathLike = str | os.PathLike[str]
POLL_AFTER_HEADER = "openai-poll-after-ms"
URL_PREFIXES = ("http://", "https://", "data:", "asset://")

T = TypeVar("T")

# -- instructions --------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadPart:
    """A local file sent as the multipart field `field`; opened anew for every attempt."""

    path: Path
    field: str = "file"
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Call:
    """One HTTP request, retried under the client's `RetryPolicy`; answers the
    `httpx.Response` (read), or raises `ReelforgeAPIError` / `ReelforgeConnectionError`."""

    method: str
    path: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: Mapping[str, str] | None = None
    upload: UploadPart | None = None
    timeout: float | None = None
    retry: bool = True


@dataclass(frozen=True)
class OpenStream:
    """Send `call` and answer the `httpx.Response` with its body not read yet (the previous
    stream of the operation is closed first). Redirects are followed."""

    call: Call


@dataclass(frozen=True)
class NextChunk:
    """The next bytes of the open stream; `b""` at its end. A broken connection raises the
    httpx error into the operation, which decides whether to resume."""


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Emit:
    """A value for the caller of an iterating operation (an event, a listed video)."""

    value: Any


@dataclass(frozen=True)
class Once:
    """Run `op()` while holding the client's lock for `key`, so that concurrent callers do
    one upload of the same bytes: the second finds the first's result in the cache."""

    key: str
    op: Callable[[], Op[Any]]


Instruction = Call | OpenStream | NextChunk | Sleep | Emit | Once
Op = Generator[Instruction, Any, T]


# -- requests ------------------------------------------------------------------------------


class RequestOptions(TypedDict, total=False):
    """The fields of a create or quote besides `prompt` (docs/api/native.md). `images`,
    `videos` and `audios` are local paths or URLs (`https://`, `data:`, `asset://file_...`);
    local files are uploaded once (by content hash) and named by `file_id`. Their order, then
    `references`', defines `@Image1`, `@Video1`, `@Audio1`. A `references` item is
    `{"type": "image"|"video"|"audio", "url"|"file_id"|"path": ..., "role": ...}`. `None`
    means absent (the server's default)."""

    model: str | None
    seconds: int | str | None
    resolution: str | None
    aspect_ratio: str | None
    size: str | None
    images: Sequence[PathLike] | None
    videos: Sequence[PathLike] | None
    audios: Sequence[PathLike] | None
    references: Sequence[Mapping[str, Any]] | None
    generate_audio: bool | None
    seed: int | None
    codec: str | None
    alpha: bool | None
    return_last_frame: bool | None
    webhook_url: str | None
    webhook_progress: bool | None
    metadata: Mapping[str, str] | None
    end_user_id: str | None
    execution_expires_after: int | None


class CreateOptions(RequestOptions, total=False):
    """`RequestOptions` and the `Idempotency-Key` (one is made when none is given, so that a
    create retried after a lost answer never makes a second job)."""

    idempotency_key: str | None


_BODY_FIELDS = (
    "model", "seconds", "resolution", "aspect_ratio", "size", "generate_audio", "seed",
    "codec", "alpha", "return_last_frame", "webhook_url", "webhook_progress", "end_user_id",
    "execution_expires_after",
)  # fmt: skip


def new_idempotency_key() -> str:
    return "rf-" + uuid.uuid4().hex


def is_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(URL_PREFIXES)


def reference_list(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The references in order: `images`, `videos`, `audios` (paths or URLs), then
    `references` as given. Local paths stay as `{"path": ...}` until uploaded."""
    refs: list[dict[str, Any]] = []
    for kind, key in (("image", "images"), ("video", "videos"), ("audio", "audios")):
        for item in options.get(key) or ():
            source = "url" if is_url(item) else "path"
            refs.append({"type": kind, source: item if source == "url" else Path(item)})
    refs.extend(dict(r) for r in options.get("references") or ())
    return refs


def create_body(prompt: str, options: Mapping[str, Any], refs: list[dict[str, Any]]) -> dict:
    """The JSON body of a create or quote (nothing `None` is sent)."""
    unknown = set(options) - set(CreateOptions.__annotations__)
    if unknown:
        raise TypeError(f"unknown request option(s): {', '.join(sorted(unknown))}")
    body: dict[str, Any] = {"prompt": prompt}
    body.update({k: options[k] for k in _BODY_FIELDS if options.get(k) is not None})
    if refs:
        body["references"] = refs
    if options.get("metadata") is not None:
        body["metadata"] = dict(options["metadata"])
    return body


def _json(response: httpx.Response) -> Any:
    return response.json() if response.content else None


# -- files ---------------------------------------------------------------------------------


def upload_file(path: PathLike, cache: FileCache) -> Op[FileObject]:
    """`POST /v1/files` once per content: the same bytes (by SHA-256) give the file id
    already known, after checking once that the server still has it."""
    p = Path(path)
    digest = cache.digest(p)
    found: FileObject = yield Once(f"upload:{digest}", lambda: _upload_once(p, digest, cache))
    return found


def _upload_once(path: Path, digest: str, cache: FileCache) -> Op[FileObject]:
    file_id, verified = cache.lookup(digest)
    if file_id is not None:
        if verified:
            return FileObject(file_id, None, None, None, path.name, digest, {"id": file_id})
        try:
            response = yield Call("GET", f"/v1/files/{file_id}")
        except ReelforgeAPIError as exc:
            if exc.status_code != 404:
                raise
            cache.forget(digest)
        else:
            known = FileObject.from_json(response.json())
            if known.sha256 in (None, digest):
                cache.verified(digest)
                return known
            cache.forget(digest)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = yield Call("POST", "/v1/files", upload=UploadPart(path, "file", mime))
    uploaded = FileObject.from_json(response.json())
    cache.remember(digest, uploaded)
    return uploaded


def resolve_references(refs: list[dict[str, Any]], cache: FileCache) -> Op[list[dict]]:
    """Every `{"path": ...}` reference uploaded and named by `file_id` instead."""
    out = []
    for ref in refs:
        if "path" in ref:
            ref = dict(ref)
            uploaded = yield from upload_file(ref.pop("path"), cache)
            ref["file_id"] = uploaded.id
        out.append(ref)
    return out


def request_body(prompt: str, options: Mapping[str, Any], cache: FileCache) -> Op[dict]:
    refs = yield from resolve_references(reference_list(options), cache)
    return create_body(prompt, options, refs)


# -- videos --------------------------------------------------------------------------------


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


def _get_video_with_hint(video_id: str) -> Op[tuple[Video, float | None]]:
    response = yield Call("GET", f"/v1/videos/{video_id}")
    hint: float | None = None
    with contextlib.suppress(ValueError):
        hint = float(response.headers.get(POLL_AFTER_HEADER, "")) / 1000.0
    return Video.from_json(response.json()), hint


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


# -- waiting: server-sent events, else polling ---------------------------------------------


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


def video_events(
    video_id: str, opts: WaitOptions, clock: Callable[[], float], policy: RetryPolicy
) -> Op[Video]:
    """Emits a `VideoEvent` for each change of status, stage or progress, the first for the
    state now; returns the terminal Video. Raises `WaitTimeout` past `opts.timeout`."""
    track = _Tracker(clock, opts.timeout)
    video, hint = yield from _get_video_with_hint(video_id)
    event = track.see(video, "poll")
    if event is not None:
        yield Emit(event)
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
                    event = track.see(video, "stream")
                    if event is not None:
                        yield Emit(event)
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
        event = track.see(video, "poll")
        unchanged = 0 if event is not None else unchanged + 1
        if event is not None:
            yield Emit(event)
        if video.is_terminal:
            return video


def _clip(delay: float, track: _Tracker) -> float:
    left = track.remaining()
    return max(0.0, delay if left is None else min(delay, left))


# -- downloads -----------------------------------------------------------------------------


def part_path(target: Path, video_id: str, variant: str) -> Path:
    """Where a download grows until it is whole; named by video and variant, so it is only
    ever resumed with the same bytes (a finished video's files never change)."""
    return target.with_name(f".{target.name}.{video_id}.{variant}.part")


def download(video_id: str, path: PathLike, variant: str, policy: RetryPolicy) -> Op[Path]:
    """Stream `GET /v1/videos/{id}/content?variant=` into a `.part` file beside `path` and
    rename it into place, so `path` never holds a partial file. A broken connection resumes
    with `Range` where it stopped (also in a later call, from the `.part` left behind)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(target, video_id, variant)
    failures, reached = 0, -1
    while True:
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        call = Call("GET", f"/v1/videos/{video_id}/content", params={"variant": variant},
                    headers=headers)  # fmt: skip
        try:
            response = yield OpenStream(call)
        except ReelforgeAPIError as exc:
            if exc.status_code == 416 and offset:
                part.unlink(missing_ok=True)  # a stale or overlong part: start over
                continue
            raise
        expected = _expected_size(response, offset)
        if response.status_code != 206:
            offset = 0  # the server sent the whole file
        try:
            with part.open("r+b" if offset else "wb") as out:
                out.seek(offset)
                out.truncate()
                while True:
                    chunk = yield NextChunk()
                    if not chunk:
                        break
                    out.write(chunk)
            size = part.stat().st_size
            if expected is not None and size < expected:
                raise httpx.RemoteProtocolError(f"download ended at {size} of {expected} bytes")
        except httpx.TransportError as exc:
            size = part.stat().st_size if part.exists() else 0
            failures = 1 if size > reached else failures + 1  # count breaks without progress
            reached = max(reached, size)
            if failures > policy.max_retries:
                raise ReelforgeConnectionError(
                    f"download of {video_id} {variant} broke {failures} times: {exc}"
                ) from exc
            yield Sleep(policy.delay(failures, exc))
            continue
        part.replace(target)
        return target


def _expected_size(response: httpx.Response, offset: int) -> int | None:
    if response.status_code == 206:
        total = response.headers.get("content-range", "").rpartition("/")[2]
        if total.isdigit():
            return int(total)
        length = response.headers.get("content-length")
        return offset + int(length) if length and length.isdigit() else None
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() else None


# -- account -------------------------------------------------------------------------------


def usage(group_by: str = "day", start: float | None = None, end: float | None = None) -> Op[Usage]:
    params: dict[str, Any] = {"group_by": group_by}
    if start is not None:
        params["start"] = start
    if end is not None:
        params["end"] = end
    response = yield Call("GET", "/v1/usage", params=params)
    return Usage.from_json(response.json())


def models() -> Op[list[Model]]:
    response = yield Call("GET", "/v1/models")
    return [Model.from_json(m) for m in (response.json() or {}).get("data") or ()]


def json_call(method: str, path: str, body: Any = None) -> Op[Any]:
    response = yield Call(method, path, json=body)
    return _json(response)


# -- batches (server side, /v1/batches: docs/api/batches.md) ---------------------------------


class BatchRequest(RequestOptions, total=False):
    """One request of a server-side batch: `prompt`, the create options (local files are
    uploaded first, once each), and `custom_id` and `n` (takes, each with its own seed)."""

    custom_id: str | None
    prompt: str
    n: int | None


def create_batch(
    requests: Sequence[Mapping[str, Any]],
    cache: FileCache,
    *,
    max_cost: float | None = None,
    metadata: Mapping[str, str] | None = None,
    webhook_url: str | None = None,
    item_webhooks: bool | None = None,
    idempotency_key: str | None = None,
) -> Op[Batch]:
    items = []
    for req in requests:
        options = dict(req)
        prompt = options.pop("prompt")
        extra = {k: options.pop(k) for k in ("custom_id", "n") if k in options}
        body = yield from request_body(prompt, options, cache)
        items.append({**{k: v for k, v in extra.items() if v is not None}, **body})
    payload: dict[str, Any] = {"requests": items}
    for name, value in (
        ("max_cost", max_cost), ("webhook_url", webhook_url), ("item_webhooks", item_webhooks),
        ("metadata", dict(metadata) if metadata is not None else None),
    ):  # fmt: skip
        if value is not None:
            payload[name] = value
    key = idempotency_key or new_idempotency_key()
    response = yield Call("POST", "/v1/batches", json=payload, headers={"Idempotency-Key": key})
    return Batch.from_json(response.json())


def get_batch(batch_id: str) -> Op[Batch]:
    response = yield Call("GET", f"/v1/batches/{batch_id}")
    return Batch.from_json(response.json())


def list_batches(limit: int = 20, after: str | None = None) -> Op[BatchList]:
    params: dict[str, Any] = {"limit": limit, **({"after": after} if after else {})}
    response = yield Call("GET", "/v1/batches", params=params)
    return BatchList.from_json(response.json())


def cancel_batch(batch_id: str) -> Op[Batch]:
    response = yield Call("POST", f"/v1/batches/{batch_id}/cancel")
    return Batch.from_json(response.json())


def batch_results(batch_id: str) -> Op[list[BatchItem]]:
    """`GET /v1/batches/{id}/results`: one item object per line (JSON Lines)."""
    response = yield Call("GET", f"/v1/batches/{batch_id}/results", headers={"Accept": "*/*"})
    return [
        BatchItem.from_json(json.loads(line)) for line in response.text.splitlines() if line.strip()
    ]


def wait_batch(batch_id: str, opts: WaitOptions, clock: Callable[[], float]) -> Op[Batch]:
    """Poll the batch until it is `completed` or `canceled`, emitting it at each change of
    its counts; raises `WaitTimeout` past `opts.timeout`."""
    deadline = None if opts.timeout is None else clock() + opts.timeout
    unchanged, last = 0, None
    while True:
        batch = yield from get_batch(batch_id)
        state = (batch.status, tuple(sorted(batch.request_counts.items())))
        if state != last:
            unchanged, last = 0, state
            yield Emit(batch)
        else:
            unchanged += 1
        if batch.is_terminal:
            return batch
        delay = min(opts.max_poll_interval, opts.poll_interval * opts.backoff**unchanged)
        if deadline is not None:
            left = deadline - clock()
            if left <= 0:
                raise WaitTimeout(batch, opts.timeout or 0.0)
            delay = min(delay, left)
        yield Sleep(delay)
