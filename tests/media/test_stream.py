"""Prefetching a frame producer in a helper thread: same items, errors, closing."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from reelforge.media.stream import prefetch


def test_same_items_in_order() -> None:
    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))


def test_errors_reach_the_consumer_at_their_item() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("boom")

    it = prefetch(source())
    assert next(it) == 1 and next(it) == 2
    with pytest.raises(RuntimeError, match="boom"):
        next(it)
    with pytest.raises(StopIteration):
        next(it)


def test_close_stops_the_producer_and_closes_the_source() -> None:
    closed = threading.Event()
    made: list[int] = []

    def source() -> Iterator[int]:
        try:
            for i in range(10_000):
                made.append(i)
                yield i
        finally:
            closed.set()

    it = prefetch(source(), depth=2)
    assert next(it) == 0
    it.close()
    assert closed.wait(2.0)
    assert len(made) < 10  # it stopped a few items ahead, not at the end
