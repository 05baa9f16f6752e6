"""Streaming helpers: run a frame producer a few frames ahead of its consumer.

`prefetch(frames, depth)` drains an iterator in a helper thread into a small bounded queue.
OpenCV's kernels and the x264 encoder both release the GIL, so drawing frame i + 1 overlaps
encoding frame i on a second core; memory stays bounded by `depth` frames. The items and their
order are exactly the source's, so output bytes do not change.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_DONE = object()
_POLL_SECONDS = 0.05


class Prefetch(Generic[T]):
    """An iterator drained `depth` items ahead by a helper thread.

    Errors raised by the source are raised to the consumer at the item where they happened.
    `close()` (or dropping the iterator) stops the helper, which then closes the source in its
    own thread (a generator must be closed by the thread that runs it).
    """

    def __init__(self, source: Iterator[T], depth: int = 2) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._finished = False
        # The thread holds the queue, the event and the source, never `self`: an abandoned
        # Prefetch is collected, and its __del__ stops the thread.
        self._thread = threading.Thread(
            target=_drain,
            args=(source, self._queue, self._stop),
            name="reelforge-prefetch",
            daemon=True,
        )
        self._thread.start()

    def __iter__(self) -> Prefetch[T]:
        return self

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        item = self._queue.get()
        if item is _DONE:
            self._finished = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        return item  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the helper thread and wait for it (it closes the source)."""
        self._finished = True
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __del__(self) -> None:
        self._stop.set()


def prefetch(source: Iterator[T], depth: int = 2) -> Prefetch[T]:
    return Prefetch(source, depth)


def _drain(source: Iterator[T], out: queue.Queue[object], stop: threading.Event) -> None:
    try:
        for item in source:
            if not _put(out, item, stop):
                return
        _put(out, _DONE, stop)
    except BaseException as exc:  # raised to the consumer
        _put(out, exc, stop)
    finally:
        close = getattr(source, "close", None)
        if callable(close):
            close()


def _put(out: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            out.put(item, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False
