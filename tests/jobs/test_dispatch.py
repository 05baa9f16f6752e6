"""The wait between two looks at a queue: quiet when idle, at once when woken or when a slot of
this process frees."""

from __future__ import annotations

import threading
import time

from reelforge.jobs.dispatch import _Waker


class _Active:
    def __init__(self) -> None:
        self.count = 0

    def count_for_queue(self, _name: str) -> int:
        return self.count


def test_idle_it_waits_its_interval() -> None:
    waker = _Waker("q", 0.3, _Active())
    waker.wait()  # the first look is immediate
    started = time.monotonic()
    assert waker.wait() is False
    assert 0.25 <= time.monotonic() - started < 1.0


def test_a_wake_ends_the_wait_at_once() -> None:
    waker = _Waker("q", 30.0, _Active())
    waker.wait()
    threading.Timer(0.1, waker.wake).start()
    started = time.monotonic()
    assert waker.wait() is False
    assert time.monotonic() - started < 1.0


def test_a_freed_slot_ends_the_wait() -> None:
    active = _Active()
    active.count = 1
    waker = _Waker("q", 30.0, active)
    waker.wait()

    def finish() -> None:
        active.count = 0

    threading.Timer(0.1, finish).start()
    started = time.monotonic()
    assert waker.wait() is False
    assert time.monotonic() - started < 1.0


def test_stop_ends_the_loop() -> None:
    waker = _Waker("q", 30.0, _Active())
    threading.Timer(0.1, waker.set).start()
    waker.wait()
    assert waker.wait() is True
    assert waker.is_set()
