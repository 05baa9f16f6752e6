"""`AsyncClient`: the asyncio SDK. It carries out the operations of `protocol.py` with
`httpx.AsyncClient` and `asyncio.sleep`, as `Client` (`sync.py`) does synchronously."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, ExitStack, aclosing
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
        self._cm: AbstractAsyncContextManager[httpx.Response] | None = None
        self._chunks: AsyncIterator[bytes] | None = None

    async def open(
        self, cm: AbstractAsyncContextManager[httpx.Response], response: httpx.Response
    ) -> None:
        await self.close()
        self._cm, self._chunks = cm, response.aiter_bytes()

    async def next(self) -> bytes:
        if self._chunks is None:
            raise RuntimeError("NextChunk without an open stream")
        return await anext(self._chunks, b"")

    async def close(self) -> None:
        if self._cm is not None:
            cm, self._cm, self._chunks = self._cm, None, None
            await cm.__aexit__(None, None, None)


class AsyncClient(BaseClient):
    """Asyncio client of one reelforge server; an async context manager (or `await
    aclose()`). Many jobs at once:

        async with AsyncClient(api_key="rf_...") as rf:
            videos = await asyncio.gather(*(rf.create_video(p, seconds=5) for p in prompts))
            async for event in rf.events(videos[0].id):
                print(event.type, event.video.progress)
            done = await asyncio.gather(*(rf.wait(v.id) for v in videos))
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = 60.0,
        *,
        max_retries: int = 3,
        retry_policy: RetryPolicy | None = None,
        file_cache: FileCache | PathLike | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_connections: int = 100,
    ) -> None:
        super().__init__(
            base_url, api_key, timeout, max_retries=max_retries, retry_policy=retry_policy,
            file_cache=file_cache,
        )  # fmt: skip
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=self.headers, timeout=timeout, transport=transport,
            limits=httpx.Limits(max_connections=max_connections),
        )  # fmt: skip
        self._sleep = sleep
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the driver ---------------------------------------------------------------------------

    async def _drive(self, op: Op[Any]) -> AsyncGenerator[Step, None]:
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
                    send = await self._carry(instr, stream)
                except (ReelforgeClientError, httpx.HTTPError) as exc:
                    error = exc
        finally:
            await stream.close()
            op.close()

    async def _carry(self, instr: Any, stream: _Stream) -> Any:
        if isinstance(instr, Call):
            return await self._send(instr)
        if isinstance(instr, OpenStream):
            cm, response = await self._open(instr.call)
            await stream.open(cm, response)
            return response
        if isinstance(instr, NextChunk):
            return await stream.next()
        if isinstance(instr, Sleep):
            await self._sleep(instr.seconds)
            return None
        if isinstance(instr, Once):
            lock = self._locks.setdefault(instr.key, asyncio.Lock())
            async with lock:
                return await self._run(instr.op())
        raise TypeError(f"unknown instruction {instr!r}")

    async def _run(self, op: Op[T]) -> T:
        async with aclosing(self._drive(op)) as steps:
            async for step in steps:
                if isinstance(step, Done):
                    result: T = step.value
                    return result
        raise RuntimeError("operation ended without a result")  # pragma: no cover

    async def _iterate(self, op: Op[Any]) -> AsyncIterator[Any]:
        async with aclosing(self._drive(op)) as steps:
            async for step in steps:
                if isinstance(step, Emit):
                    yield step.value

    async def _send(self, call: Call) -> httpx.Response:
        try:
            async for attempt in self._policy_for(call).async_retrying(self._sleep):
                with attempt, ExitStack() as stack:
                    response = await self._http.request(
                        call.method, call.path, **self._request_args(call, stack)
                    )
                    self._raise_for(response)
                    return response
        except httpx.TransportError as exc:
            raise self._connection_error(call, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def _open(
        self, call: Call
    ) -> tuple[AbstractAsyncContextManager[httpx.Response], httpx.Response]:
        try:
            async for attempt in self._policy_for(call).async_retrying(self._sleep):
                with attempt, ExitStack() as stack:
                    cm = self._http.stream(
                        call.method, call.path, follow_redirects=True,
                        **self._request_args(call, stack),
                    )  # fmt: skip
                    response = await cm.__aenter__()
                    if response.is_error:
                        try:
                            await response.aread()
                        finally:
                            await cm.__aexit__(None, None, None)
                        self._raise_for(response)
                    return cm, response
        except httpx.TransportError as exc:
            raise self._connection_error(call, exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # -- files --------------------------------------------------------------------------------

    async def upload_file(self, path: PathLike) -> FileObject:
        """`POST /v1/files`, once per content (SHA-256) for this client's `file_cache`."""
        return await self._run(ops.upload_file(path, self.files))

    # -- videos -------------------------------------------------------------------------------

    async def create_video(self, prompt: str, **options: Unpack[CreateOptions]) -> Video:
        """`POST /v1/videos`; see `Client.create_video`."""
        return await self._run(ops.create_video(prompt, options, self.files))

    async def quote(self, prompt: str, **options: Unpack[RequestOptions]) -> Quote:
        return await self._run(ops.quote(prompt, options, self.files))

    async def get_video(self, video_id: str) -> Video:
        return await self._run(ops.get_video(video_id))

    async def list_videos(
        self, limit: int = 20, after: str | None = None, status: str | None = None,
        order: str = "desc",
    ) -> VideoList:  # fmt: skip
        return await self._run(ops.list_videos(limit, after, status, order))

    def iter_videos(
        self, status: str | None = None, order: str = "desc", page_size: int = 100
    ) -> AsyncIterator[Video]:
        """`async for video in rf.iter_videos()`: every video, page after page."""
        return self._iterate(ops.iter_videos(status, order, page_size))

    async def cancel_video(self, video_id: str) -> Video:
        return await self._run(ops.cancel_video(video_id))

    async def delete_video(self, video_id: str) -> None:
        await self._run(ops.delete_video(video_id))

    def events(
        self, video_id: str, *, stream: bool = True, poll_interval: float = 1.0,
        timeout: float | None = None,
    ) -> AsyncIterator[VideoEvent]:  # fmt: skip
        """`async for event in rf.events(id)`: a `VideoEvent` per change until terminal."""
        opts = self._wait_options(poll_interval, timeout, stream)
        return self._iterate(ops.video_events(video_id, opts, self._clock, self.policy))

    async def wait(
        self,
        video_id: str,
        poll_interval: float = 1.0,
        timeout: float | None = None,
        on_progress: Callable[[Video], Any] | None = None,
        *,
        stream: bool = True,
    ) -> Video:
        """See `Client.wait`; `on_progress` may be a plain function or a coroutine function."""
        opts = self._wait_options(poll_interval, timeout, stream)
        op = ops.video_events(video_id, opts, self._clock, self.policy)
        async with aclosing(self._drive(op)) as steps:
            async for step in steps:
                if isinstance(step, Emit) and on_progress is not None:
                    maybe = on_progress(step.value.video)
                    if asyncio.iscoroutine(maybe):
                        await maybe
                elif isinstance(step, Done):
                    video: Video = step.value
                    return video
        raise RuntimeError("wait ended without a video")  # pragma: no cover

    async def download(self, video_id: str, path: PathLike, variant: str = "video") -> Path:
        """See `Client.download` (resumable, never a partial file at `path`)."""
        return await self._run(ops.download(video_id, path, variant, self.policy))

    # -- account ------------------------------------------------------------------------------

    async def usage(
        self, group_by: str = "day", start: float | None = None, end: float | None = None
    ) -> Usage:
        return await self._run(ops.usage(group_by, start, end))

    async def models(self) -> list[Model]:
        return await self._run(ops.models())

    async def create_key(self, name: str, scopes: Sequence[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, **({"scopes": list(scopes)} if scopes else {})}
        created: dict[str, Any] = await self._run(ops.json_call("POST", "/v1/keys", body))
        return created

    async def list_keys(self) -> list[dict[str, Any]]:
        found = await self._run(ops.json_call("GET", "/v1/keys"))
        keys: list[dict[str, Any]] = found["data"]
        return keys

    async def revoke_key(self, key_id: str) -> None:
        await self._run(ops.json_call("DELETE", f"/v1/keys/{key_id}"))

    async def me(self) -> dict[str, Any]:
        found: dict[str, Any] = await self._run(ops.json_call("GET", "/v1/keys/me"))
        return found

    # -- batches ------------------------------------------------------------------------------

    async def create_batch(
        self,
        requests: Sequence[Mapping[str, Any]],
        *,
        max_cost: float | None = None,
        metadata: Mapping[str, str] | None = None,
        webhook_url: str | None = None,
        item_webhooks: bool | None = None,
        idempotency_key: str | None = None,
    ) -> Batch:
        """See `Client.create_batch`."""
        return await self._run(
            ops.create_batch(
                requests, self.files, max_cost=max_cost, metadata=metadata,
                webhook_url=webhook_url, item_webhooks=item_webhooks,
                idempotency_key=idempotency_key,
            )
        )  # fmt: skip

    async def get_batch(self, batch_id: str) -> Batch:
        return await self._run(ops.get_batch(batch_id))

    async def list_batches(self, limit: int = 20, after: str | None = None) -> BatchList:
        """One page of `GET /v1/batches`, newest first (Batch objects without items)."""
        return await self._run(ops.list_batches(limit, after))

    async def cancel_batch(self, batch_id: str) -> Batch:
        return await self._run(ops.cancel_batch(batch_id))

    async def batch_results(self, batch_id: str) -> list[BatchItem]:
        return await self._run(ops.batch_results(batch_id))

    async def wait_batch(
        self, batch_id: str, poll_interval: float = 1.0, timeout: float | None = None
    ) -> Batch:
        opts = self._wait_options(poll_interval, timeout, False)
        return await self._run(ops.wait_batch(batch_id, opts, self._clock))
