"""The engine's side of an engine host's pipe (`jobs/engine_host.py`): the loop that takes one
render at a time from the parent, renders it to files and answers.

Messages from the parent: `("render", request, out_dir, codec)` and `("stop", None, None, None)`.
Answers: `("progress", fraction)` any number of times, then one of `("done", files)`,
`("canceled", None)` or `("error", JobError)`. The single engine process and rank 0 of a rank
group (`jobs/rank_group.py`) both run `serve`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

from reelforge import codes
from reelforge.core.job import JobError
from reelforge.engines.base import Engine
from reelforge.engines.registry import EngineFactory
from reelforge.errors import ReelforgeError
from reelforge.jobs.render import render_video
from reelforge.logs import inherit_logging
from reelforge.media.types import CancelToken, EngineCanceled
from reelforge.spec import Codec

Message = tuple[str, Any, Any, Any]
STOP: Message = ("stop", None, None, None)


class ChildCancel:
    """Set when the parent asks, or when the parent is gone (an orphan must not keep writing)."""

    def __init__(self, event: MpEvent, parent_pid: int) -> None:
        self._event = event
        self._parent_pid = parent_pid

    def is_set(self) -> bool:
        return self._event.is_set() or os.getppid() != self._parent_pid


class ProgressPipe:
    """Sends progress to the parent every half percent (not every frame)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._last = -1.0

    def __call__(self, fraction: float) -> None:
        if fraction - self._last >= 0.005 or fraction >= 1.0:
            self._last = fraction
            self._conn.send(("progress", fraction))


def receive(conn: Connection) -> Message:
    """The parent's next message; a closed pipe reads as "stop"."""
    try:
        message: Message = conn.recv()
    except (EOFError, OSError):
        return STOP
    return message


def serve(
    conn: Connection,
    engine: Engine,
    cancel: CancelToken,
    next_message: Callable[[], Message] | None = None,
) -> None:
    """Render each job the parent sends until it says stop (or its pipe closes)."""
    while True:
        kind, request, out_dir, codec = (next_message or (lambda: receive(conn)))()
        if kind != "render":
            return
        progress = ProgressPipe(conn)
        try:
            files = render_video(
                engine, request, Path(out_dir), codec=Codec(codec), progress=progress,
                cancel=cancel,
            )  # fmt: skip
            conn.send(("done", {
                "video": files.video, "thumbnail": files.thumbnail,
                "last_frame": files.last_frame, "seconds": files.seconds, "frames": files.frames,
                "spritesheet": files.spritesheet,
            }))  # fmt: skip
        except EngineCanceled:
            conn.send(("canceled", None))
        except ReelforgeError as exc:
            conn.send(("error", JobError.from_dict(exc.to_dict())))
        except Exception as exc:
            conn.send(("error", JobError(
                code=codes.GENERATION_FAILED, message=f"{type(exc).__name__}: {exc}",
                stage="generate", retryable=True,
            )))  # fmt: skip


def child_main(conn: Connection, cancel: MpEvent, factory: EngineFactory, parent_pid: int) -> None:
    """The single engine process."""
    inherit_logging()  # JSON lines like the parent's (a spawned process starts unconfigured)
    serve(conn, factory(), ChildCancel(cancel, parent_pid))
