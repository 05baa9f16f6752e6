"""Whether an engine can render a job now, decided at create (before the 202).

An engine this process renders with is checked here (extra installed, weights present; the
check is cheap and cached for `ttl` seconds). For an engine it does not render with (an API
replica in scale mode) the live workers decide: they advertise only the engines that passed
their own check at start (`jobs.fleet`), and an engine none of them advertises is refused. With
no live worker at all (every worker restarting) the job is accepted and waits in the queue,
bounded by its `execution_expires_after`, as a hosted service queues during an outage.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

import sqlalchemy as sa

from reelforge.engines.registry import EngineRegistry
from reelforge.jobs.fleet import live_engines

Clock = Callable[[], float]


class EngineReadiness:
    def __init__(
        self,
        registry: EngineRegistry,
        *,
        local: Iterable[str] | None,
        live_engines: Callable[[], set[str]] | None = None,
        ttl: float = 30.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self._registry = registry
        self._local = set(registry.names() if local is None else local)
        self._live = live_engines
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._live_cache: tuple[float, set[str]] | None = None
        self._lock = threading.Lock()

    def render_locally(self, engines: Iterable[str]) -> None:
        """This process renders (only) `engines`: a worker process says so at start."""
        with self._lock:
            self._local = set(engines)
            self._cache.clear()

    def reason(self, engine: str) -> str | None:
        """None when `engine` can render a job now; else why not, with what to do."""
        if engine in self._local:
            return self._local_reason(engine)
        live = self._live_engines()
        if not live or engine in live:
            return None
        return (
            f"no live worker renders {engine} (they render {', '.join(sorted(live))}); start one "
            f"with `reelforge worker --engine {engine}`"
        )

    def _live_engines(self) -> set[str]:
        """The live workers' engines, read at most every 2 s (not on every create)."""
        if self._live is None:
            return set()
        now = self._clock()
        with self._lock:
            if self._live_cache is not None and now - self._live_cache[0] < 2.0:
                return self._live_cache[1]
        found = self._live()
        with self._lock:
            self._live_cache = (now, found)
        return found

    def _local_reason(self, engine: str) -> str | None:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(engine)
            if hit is not None and now - hit[0] < self._ttl:
                return hit[1]
        found = self._registry.check_ready([engine]).get(engine)
        with self._lock:
            self._cache[engine] = (now, found)
        return found


def fleet_engines(database: sa.Engine, dead_after_seconds: float) -> Callable[[], set[str]]:
    """The engines live workers advertise, read from the heartbeat table."""

    def read() -> set[str]:
        return live_engines(database, dead_after_seconds)

    return read
