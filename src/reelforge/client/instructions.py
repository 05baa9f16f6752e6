"""The instructions of the SDK's operations: what `Client` and `AsyncClient` (`sync.py`,
`aio.py`) carry out. An operation is a generator (`Op`) that yields them (`Call` a request,
`OpenStream` and `NextChunk` to read a streamed answer, `Sleep`, `Emit` a value to the
caller, `Once` to run a sub-operation one at a time per key) and receives their results; it
does no I/O of its own, so each operation is written once for both drivers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

PathLike = str | os.PathLike[str]

T = TypeVar("T")


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
