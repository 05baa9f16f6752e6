"""`Client`: the synchronous SDK. It only carries out the operations of `protocol.py` with
`httpx.Client` and `time.sleep`; `AsyncClient` (`aio.py`) does the same with asyncio."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, closing
from pathlib import Path
from typing import Any, TypeVar, Unpack

import httpx

from reelforge.client import protocol as ops
from reelforge.client.base import BaseClient, Done, Step
from reelforge.client.errors import ReelforgeClientError
from reelforge.client.files import FileCache
from reelforge.client.instructions import (
    Call,
    Emit,
    NextChunk,
    Once,
    Op,
    OpenStream,
    PathLike,
    Sleep,
)
from reelforge.client.options import CreateOptions, RequestOptions
from reelforge.client.retry import RetryPolicy
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

T = TypeVar("T")


class _Stream:
    """The open streamed answer of one driven operation."""

    def __init__(self) -> None:
        self._cm: AbstractContextManager[httpx.Response] | None = None
        self._chunks: Iterator[bytes] | None = None

    def open(self, cm: AbstractContextManager[httpx.Response], response: httpx.Response) -> None:
        self.close()
        self._cm, self._chunks = cm, response.iter_bytes()

    def next(self) -> bytes:
        if self._chunks is None:
            raise RuntimeError("NextChunk without an open stream")
        return next(self._chunks, b"")

    def close(self) -> None:
        if self._cm is not None:
            cm, self._cm, self._chunks = self._cm, None, None
            cm.__exit__(None, None, None)


class Client(BaseClient):
    """Synchronous client of one reelforge server; a context manager (or call `close()`).
    Safe to share between threads.

        with Client("http://127.0.0.1:8000", api_key="rf_...") as rf:
            video = rf.create_video("slow orbit around @Image1", images=["mug.png"],
                                    seconds=5, resolution="720p")
            video = rf.wait(video.id, on_progress=lambda v: print(v.status, v.progress))
            rf.download(video.id, "mug.mp4")

    `transport`, `sleep` and `clock` are seams for tests (an `httpx.MockTransport`, a fake
    clock)."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = 60.0,
        *,
        max_retries: int = 3,
        retry_policy: RetryPolicy | None = None,
        file_cache: FileCache | PathLike | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            base_url, api_key, timeout, max_retries=max_retries, retry_policy=retry_policy,
            file_cache=file_cache,
        )  # fmt: skip
        self._http = httpx.Client(
            base_url=self.base_url, headers=self.headers, timeout=timeout, transport=transport
        )
        self._sleep = sleep
        self._clock = clock
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the driver ---------------------------------------------------------------------------

    def _drive(self, op: Op[Any]) -> Generator[Step, None, None]:
        stream = _Stream()
        try:
            send: Any = None
            error: BaseException | None = None
            while True:
                try:
                    instr = op.throw(error) if error is not None else op.send(send)
                except StopIteration as stop:
                    yield Done(stop.value)
                    return
                send, error = None, None
                if isinstance(instr, Emit):
                    yield instr
                    continue
                try:
                    send = self._carry(instr, stream)
                except (ReelforgeClientError, httpx.HTTPError) as exc:
                    error = exc
        finally:
            stream.close()
            op.close()

    def _carry(self, instr: Any, stream: _Stream) -> Any:
        if isinstance(instr, Call):
            return self._send(instr)
        if isinstance(instr, OpenStream):
            cm, response = self._open(instr.call)
            stream.open(cm, response)
            return response
        if isinstance(instr, NextChunk):
            return stream.next()
        if isinstance(instr, Sleep):
            self._sleep(instr.seconds)
            return None
        if isinstance(instr, Once):
            with self._locks_lock:
                lock = self._locks.setdefault(instr.key, threading.Lock())
            with lock:
                return self._run(instr.op())
        raise TypeError(f"unknown instruction {instr!r}")

    def _run(self, op: Op[T]) -> T:
        with closing(self._drive(op)) as steps:
            for step in steps:
                if isinstance(step, Done):
                    result: T = step.value
                    return result
        raise RuntimeError("operation ended without a result")  # pragma: no cover

    def _iterate(self, op: Op[Any]) -> Iterator[Any]:
        with closing(self._drive(op)) as steps:
            for step in steps:
                if isinstance(step, Emit):
                    yield step.value

    def _send(self, call: Call) -> httpx.Response:
        try:
            for attempt in self._policy_for(call).retrying(self._sleep):
                with attempt, ExitStack() as stack:
                    response = self._http.request(
                        call.method, call.path, **self._request_args(call, stack)
                    )
                    self._raise_for(response)
                    return response
        except httpx.TransportError as exc:
            raise self._connection_error(call, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _open(self, call: Call) -> tuple[AbstractContextManager[httpx.Response], httpx.Response]:
        try:
            for attempt in self._policy_for(call).retrying(self._sleep):
                with attempt, ExitStack() as stack:
                    cm = self._http.stream(
                        call.method, call.path, follow_redirects=True,
                        **self._request_args(call, stack),
                    )  # fmt: skip
                    response = cm.__enter__()
                    if response.is_error:
                        try:
                            response.read()
                        finally:
                            cm.__exit__(None, None, None)
                        self._raise_for(response)
                    return cm, response
        except httpx.TransportError as exc:
            raise self._connection_error(call, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # -- files --------------------------------------------------------------------------------

    def upload_file(self, path: PathLike) -> FileObject:
        """`POST /v1/files`, once per content (SHA-256) for this client's `file_cache`."""
        return self._run(ops.upload_file(path, self.files))

    # -- videos -------------------------------------------------------------------------------

    def create_video(self, prompt: str, **options: Unpack[CreateOptions]) -> Video:
        """`POST /v1/videos` (docs/api/native.md); options: `options.CreateOptions`. Local
        reference files are uploaded first (once each); an `Idempotency-Key` is always sent."""
        return self._run(ops.create_video(prompt, options, self.files))

    def quote(self, prompt: str, **options: Unpack[RequestOptions]) -> Quote:
        """`POST /v1/videos/quote`: every check of create, and the price, without a job."""
        return self._run(ops.quote(prompt, options, self.files))

    def get_video(self, video_id: str) -> Video:
        return self._run(ops.get_video(video_id))

    def list_videos(
        self, limit: int = 20, after: str | None = None, status: str | None = None,
        order: str = "desc",
    ) -> VideoList:  # fmt: skip
        """One page of `GET /v1/videos`; `iter_videos` follows the pages."""
        return self._run(ops.list_videos(limit, after, status, order))

    def iter_videos(
        self, status: str | None = None, order: str = "desc", page_size: int = 100
    ) -> Iterator[Video]:
        """Every video of the key, fetching page after page as the iteration goes."""
        return self._iterate(ops.iter_videos(status, order, page_size))

    def cancel_video(self, video_id: str) -> Video:
        return self._run(ops.cancel_video(video_id))

    def delete_video(self, video_id: str) -> None:
        self._run(ops.delete_video(video_id))

    def events(
        self, video_id: str, *, stream: bool = True, poll_interval: float = 1.0,
        timeout: float | None = None,
    ) -> Iterator[VideoEvent]:  # fmt: skip
        """A `VideoEvent` per change of status, stage or progress until the video is
        terminal: server-sent events, or polling where the server does not stream."""
        opts = self._wait_options(poll_interval, timeout, stream)
        return self._iterate(ops.video_events(video_id, opts, self._clock, self.policy))

    def wait(
        self,
        video_id: str,
        poll_interval: float = 1.0,
        timeout: float | None = None,
        on_progress: Callable[[Video], None] | None = None,
        *,
        stream: bool = True,
    ) -> Video:
        """Follow the video until it is terminal and return it (whatever its status: check
        `video.status`). `on_progress` gets the video at each change. Raises `WaitTimeout`
        after `timeout` seconds."""
        opts = self._wait_options(poll_interval, timeout, stream)
        op = ops.video_events(video_id, opts, self._clock, self.policy)
        with closing(self._drive(op)) as steps:
            for step in steps:
                if isinstance(step, Emit) and on_progress is not None:
                    on_progress(step.value.video)
                elif isinstance(step, Done):
                    video: Video = step.value
                    return video
        raise RuntimeError("wait ended without a video")  # pragma: no cover

    def download(self, video_id: str, path: PathLike, variant: str = "video") -> Path:
        """Stream the video (or `thumbnail`, `last_frame`, `spritesheet`) to `path`;
        resumes with `Range` after a broken connection, and `path` never holds a partial
        file."""
        return self._run(ops.download(video_id, path, variant, self.policy))

    # -- account ------------------------------------------------------------------------------

    def usage(
        self, group_by: str = "day", start: float | None = None, end: float | None = None
    ) -> Usage:
        """`GET /v1/usage`: jobs and spend of the calling key."""
        return self._run(ops.usage(group_by, start, end))

    def models(self) -> list[Model]:
        """`GET /v1/models`: every engine and model name, ready or not and why, limits and
        price per second."""
        return self._run(ops.models())

    def create_key(self, name: str, scopes: Sequence[str] | None = None) -> dict[str, Any]:
        """`POST /v1/keys` (admin): `{id, key, name, scopes, webhook_secret}`."""
        body: dict[str, Any] = {"name": name, **({"scopes": list(scopes)} if scopes else {})}
        created: dict[str, Any] = self._run(ops.json_call("POST", "/v1/keys", body))
        return created

    def list_keys(self) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = self._run(ops.json_call("GET", "/v1/keys"))["data"]
        return keys

    def revoke_key(self, key_id: str) -> None:
        self._run(ops.json_call("DELETE", f"/v1/keys/{key_id}"))

    def me(self) -> dict[str, Any]:
        """`GET /v1/keys/me`: the calling key's id, name, scopes, limits, webhook secret."""
        found: dict[str, Any] = self._run(ops.json_call("GET", "/v1/keys/me"))
        return found

    # -- batches ------------------------------------------------------------------------------

    def create_batch(
        self,
        requests: Sequence[Mapping[str, Any]],
        *,
        max_cost: float | None = None,
        metadata: Mapping[str, str] | None = None,
        webhook_url: str | None = None,
        item_webhooks: bool | None = None,
        idempotency_key: str | None = None,
    ) -> Batch:
        """`POST /v1/batches`: each request is `{custom_id, prompt, ...create options}`
        (`batches.BatchRequest`; local files are uploaded first, once each)."""
        return self._run(
            ops.create_batch(
                requests, self.files, max_cost=max_cost, metadata=metadata,
                webhook_url=webhook_url, item_webhooks=item_webhooks,
                idempotency_key=idempotency_key,
            )
        )  # fmt: skip

    def get_batch(self, batch_id: str) -> Batch:
        return self._run(ops.get_batch(batch_id))

    def list_batches(self, limit: int = 20, after: str | None = None) -> BatchList:
        """One page of `GET /v1/batches`, newest first (Batch objects without items)."""
        return self._run(ops.list_batches(limit, after))

    def cancel_batch(self, batch_id: str) -> Batch:
        return self._run(ops.cancel_batch(batch_id))

    def batch_results(self, batch_id: str) -> list[BatchItem]:
        return self._run(ops.batch_results(batch_id))

    def wait_batch(
        self, batch_id: str, poll_interval: float = 1.0, timeout: float | None = None,
        on_progress: Callable[[Batch], None] | None = None,
    ) -> Batch:  # fmt: skip
        opts = self._wait_options(poll_interval, timeout, False)
        with closing(self._drive(ops.wait_batch(batch_id, opts, self._clock))) as steps:
            for step in steps:
                if isinstance(step, Emit) and on_progress is not None:
                    on_progress(step.value)
                elif isinstance(step, Done):
                    batch: Batch = step.value
                    return batch
        raise RuntimeError("wait ended without a batch")  # pragma: no cover
