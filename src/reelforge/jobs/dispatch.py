"""Taking jobs off the engine queues: only those this process hosts, with its own concurrency,
woken at once when there is work and quiet when there is none.

DBOS keeps a queue's settings (worker concurrency, polling interval) in one row of its system
database that every process reads on each poll, so the last process to register a queue set
them for all (an API replica restarting could stop every worker). Here each process runs DBOS's
own dequeue loop (`dbos._queue.queue_worker_thread`, the code behind `DBOS.listen_queues`) on a
private copy of each hosted queue, with this process's settings, and DBOS's queue manager
listens to none of the engine queues (`DBOS.listen_queues`): an API replica with workers off
dequeues nothing, and no other process can change what this one takes.

The loop waits on a `_Waker` instead of DBOS's stop event:

- while a job of the queue runs here it ticks every 10 ms, costing no database work (a full
  worker does not query), and polls as soon as a slot frees;
- when idle it sleeps `idle_seconds` (QUEUE_POLL_SECONDS), unless woken: by a create in this
  process, by a PostgreSQL NOTIFY from another (`jobs.fleet`), or by a job ending here.

DBOS's other background chores are slowed to what reelforge needs (`quiet_dbos`): an idle
process should cost the database a few transactions a second, not dozens.

A claim counts what runs here from the database (`_count_running_in_the_database`): DBOS counts
this process's running workflows in memory, where a workflow it claimed appears only once an
executor thread has started it. A wake right after a claim (two creates in a row) used to find
that count still at 0 and claim a second job past the process's concurrency (two renders at
once on a worker with room for one).

DBOS 3's queue loop is internal API; dbos is pinned below 4 (as for recovery in `jobs.fleet`).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("reelforge.dispatch")

BUSY_TICK_SECONDS = 0.01
# DBOS chores reelforge does not rely on, at this period instead of every second: its internal
# queue (workflows started without a queue: reelforge has none), the sweep of DELAYED and
# timed-out workflows (reelforge uses neither), the listing of queue rows (reelforge's queues
# are dequeued here, not by DBOS's queue manager); and no minute of fast schedule polling
# after start (reelforge has no schedules).
DBOS_CHORES_SECONDS = 30.0


def quiet_dbos_before_launch() -> None:
    """Slow DBOS's once-a-second chores (call after `DBOS(config=...)`, before launch)."""
    from dbos import _scheduler, _workflow_commands
    from dbos._dbos import _get_dbos_instance

    _workflow_commands._BACKGROUND_JOBS_INTERVAL_SEC = DBOS_CHORES_SECONDS
    _scheduler._STARTUP_FAST_POLL_DURATION_SEC = 0.0  # reelforge registers no schedules
    internal = _get_dbos_instance()._registry.get_internal_queue()
    internal._polling_interval_sec = DBOS_CHORES_SECONDS


def quiet_dbos_after_launch() -> None:
    """DBOS's queue manager lists every queue row each second to find new ones; with
    `DBOS.listen_queues([])` it takes none of them, so a listing up to 30 s old does."""
    from dbos._dbos import _get_dbos_instance

    sys_db = _get_dbos_instance()._sys_db
    listing = sys_db.list_queues
    cache: dict[Any, tuple[float, Any]] = {}
    lock = threading.Lock()

    def list_queues(**kwargs: Any) -> Any:
        key = repr(sorted(kwargs.items()))
        now = time.monotonic()
        with lock:
            hit = cache.get(key)
            if hit is not None and now - hit[0] < DBOS_CHORES_SECONDS:
                return hit[1]
        found = listing(**kwargs)
        with lock:
            cache[key] = (now, found)
        return found

    sys_db.list_queues = list_queues  # type: ignore[method-assign]


class _Waker:
    """Quacks like the `threading.Event` DBOS's queue loop stops on: `is_set` and `set` are
    the stop; `wait` returns False early when there may be work (woken, or a slot freed)."""

    def __init__(self, queue_name: str, idle_seconds: float, active: Any) -> None:
        self._queue_name = queue_name
        self._idle = idle_seconds
        self._active = active  # DBOS's registry of workflows running in this process
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._wake.set()  # look at the queue at once on start (jobs recovered at launch)

    def running(self) -> int:
        return int(self._active.count_for_queue(self._queue_name))

    def is_set(self) -> bool:
        return self._stop.is_set()

    def set(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def wait(self, timeout: float | None = None) -> bool:
        del timeout  # DBOS's own interval: this process decides when to look
        deadline = time.monotonic() + self._idle
        running = self.running()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return self._stop.is_set()
            if self._wake.wait(min(left, BUSY_TICK_SECONDS) if running else left):
                self._wake.clear()
                return self._stop.is_set()
            if running and self.running() < running:
                return self._stop.is_set()


def _count_running_in_the_database(sys_db: Any, queues: Iterable[str]) -> None:
    """Make DBOS's claim on each of `queues` count this executor's workflows of the queue that
    the database says are running (claimed, recovered or started here: `PENDING` with its
    executor id), besides its in-memory count. Every earlier claim has committed by then, so
    none is missed however late its thread starts. One indexed count per look at a queue."""
    import sqlalchemy as sa
    from dbos._sys_db import WorkflowStatusString

    ws = sys_db.tables.workflow_status
    claim = sys_db.start_queued_workflows
    names = set(queues)  # the dispatcher's own set: queues added later are counted too

    def running_here(queue_name: str, executor_id: str) -> int:
        with sys_db.engine.connect() as conn:
            count = conn.execute(
                sa.select(sa.func.count()).select_from(ws).where(
                    ws.c.queue_name == queue_name,
                    ws.c.status == WorkflowStatusString.PENDING.value,
                    ws.c.executor_id == executor_id,
                )
            ).scalar()  # fmt: skip
        return int(count or 0)

    def start_queued_workflows(
        queue: Any, executor_id: str, app_version: str, partition_key: Any,
        local_running_count: int = 0, *args: Any, **kwargs: Any,
    ) -> Any:  # fmt: skip
        limit = queue._worker_concurrency
        # No limit, or full by the in-memory count already: nothing to add, no query.
        if queue.name in names and limit is not None and local_running_count < limit:
            in_db = running_here(queue.name, executor_id)
            local_running_count = max(local_running_count, in_db)
        return claim(queue, executor_id, app_version, partition_key, local_running_count,
                     *args, **kwargs)  # fmt: skip

    sys_db.start_queued_workflows = start_queued_workflows
    sys_db._reelforge_claims = names  # installed once per DBOS instance


class QueueDispatcher:
    def __init__(self, idle_seconds: float) -> None:
        self._idle = idle_seconds
        self._wakers: dict[str, _Waker] = {}
        self._threads: list[threading.Thread] = []

    @property
    def queues(self) -> list[str]:
        return list(self._wakers)

    def listen(
        self, queue: Any, concurrency: int | None, idle_seconds: float | None = None
    ) -> None:
        """Dequeue `queue` (a DBOS Queue from `DBOS.register_queue`) in this process, at most
        `concurrency` of its workflows at once (None: no limit), looking at it every
        `idle_seconds` when nothing wakes it (default: the dispatcher's). Call after
        `DBOS.launch()`."""
        from dbos._dbos import _get_dbos_instance
        from dbos._queue import queue_worker_thread

        dbos = _get_dbos_instance()
        claims = getattr(dbos._sys_db, "_reelforge_claims", None)
        if claims is None:
            _count_running_in_the_database(dbos._sys_db, [queue.name])
        else:
            claims.add(queue.name)
        local = copy.copy(queue)
        # This process's settings, never re-read from (or written to) the shared row.
        local.database_backed_queue = False
        local._worker_concurrency = concurrency
        local._polling_interval_sec = BUSY_TICK_SECONDS
        local._concurrency = None
        local._limiter = None
        local._partition_concurrency = None
        local._partition_worker_concurrency = None
        local._partition_limiter = None
        waker = _Waker(local.name, idle_seconds or self._idle, dbos._active_workflows_set)
        self._wakers[local.name] = waker
        thread = threading.Thread(
            target=queue_worker_thread,
            args=(waker, dbos, local),
            name=f"reelforge-dequeue-{local.name}",
            daemon=True,
        )
        thread.start()
        self._threads.append(thread)
        log.info("dequeuing %s here (at most %s at once)", local.name, concurrency or "any")

    def wake(self, queues: Iterable[str]) -> None:
        for name in queues:
            waker = self._wakers.get(name)
            if waker is not None:
                waker.wake()

    def running(self) -> int:
        return sum(waker.running() for waker in self._wakers.values())

    def stop(self) -> None:
        """Take no more jobs (the ones running go on); idempotent."""
        for waker in self._wakers.values():
            waker.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
