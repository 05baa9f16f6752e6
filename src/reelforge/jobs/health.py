"""What `/readyz` answers, on API processes and workers alike: whether the database and the
object store answer (each check bounded in time, so a hung store makes the probe say so rather
than hang), and, for a process in the fleet, whether it holds its executor lease and is not
draining. `/healthz` says only that the process answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import sqlalchemy as sa

from reelforge.storage.base import Storage

Check = Callable[[], None]


class HealthProbe:
    def __init__(self, database: sa.Engine, storage: Storage, *, timeout: float = 3.0) -> None:
        self._timeout = timeout
        self._checks: dict[str, Check] = {
            "database": lambda: _ping(database),
            "storage": lambda: storage.put_bytes("health/probe", b"ok"),
        }
        self._states: dict[str, Callable[[], str | None]] = {}
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="reelforge-probe")
        self._pending: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self.draining = False

    def add_state(self, name: str, problem: Callable[[], str | None]) -> None:
        """A cheap in-process condition: `problem()` is None when fine, else what is wrong."""
        self._states[name] = problem

    def ready(self) -> tuple[bool, dict[str, str]]:
        """(ready, {check: "ok" or what failed})."""
        futures: dict[str, Future[None]] = {}
        with self._lock:
            for name, check in self._checks.items():
                future = self._pending.get(name)
                if future is None or future.done():  # one probe of each kind in flight at most
                    future = self._pool.submit(check)
                    self._pending[name] = future
                futures[name] = future
        results: dict[str, str] = {}
        deadline = time.monotonic() + self._timeout
        for name, future in futures.items():
            try:
                future.result(timeout=max(0.0, deadline - time.monotonic()))
                results[name] = "ok"
            except FutureTimeout:
                results[name] = f"error: no answer within {self._timeout:g} s"
            except Exception as exc:
                results[name] = f"error: {str(exc).splitlines()[0][:300] if str(exc) else exc!r}"
        for name, problem in self._states.items():
            trouble = problem()
            results[name] = "ok" if trouble is None else f"error: {trouble}"
        if self.draining:
            results["draining"] = "error: the process is stopping"
        return all(v == "ok" for v in results.values()), results

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _ping(database: sa.Engine) -> None:
    with database.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
