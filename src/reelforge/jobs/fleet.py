"""Who is in the fleet, and the recovery of the jobs of a process that died.

Every process (API replicas and workers alike) holds an **executor lease** for its executor id
while it runs, and beats a heartbeat into the `workers` table:

- The lease (`jobs.leases`) is a PostgreSQL session advisory lock on one dedicated connection
  (on SQLite, one machine: an exclusive `flock` on `data_dir/executors/<id>.lock`). The server
  drops it the moment the process's session ends: kill -9, a crash, a pod gone (TCP keepalives
  of 5 s x 3 on that connection notice a vanished host). So a second process cannot run under
  a live process's id, and a replacement with the id of one that is gone starts at once.
- A process whose heartbeat is older than `dead_after` is recovered by the first survivor that
  takes its lease (proof that its session is over): the survivor asks DBOS to put its pending
  workflows back on their engine queues, where a worker hosting that engine resumes each from
  its last checkpoint, and then forgets its row. A silent process that still holds its lease (alive
  but stuck, or unable to beat) is never recovered. A survivor reaps only after it has been
  connected itself for that long, so after a database outage every process has had time to
  beat again before anyone is declared dead.
- A process that finds its own row gone was declared dead while it was cut off: its jobs now
  belong to others (`on_fenced`: the service exits at once and is restarted). One that finds
  its id taken by another live process stops at once too (`on_replaced`).

The lease connection also LISTENs on `reelforge_jobs`: a create NOTIFYs the engine's queue
name, and the workers of that engine look at their queue at once instead of at their next poll.

Times on PostgreSQL are the database's clock, so clock skew between machines does not matter.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from dbos import DBOS

from reelforge.jobs.leases import (
    WAKE_CHANNEL,
    ExecutorIdInUse,
    FileLease,
    Lease,
    LeaseBusy,
    PostgresLease,
    open_lease,
)
from reelforge.store.tables import workers

__all__ = [
    "ExecutorIdInUse", "FileLease", "Fleet", "Lease", "LeaseBusy", "PostgresLease",
    "announce_queue", "live_engines", "open_lease", "recover_executor",
]  # fmt: skip

log = logging.getLogger("reelforge.fleet")


def recover_executor(executor_id: str) -> int:
    """Put the pending workflows of `executor_id` back on their queues; how many.

    DBOS 3 exposes this only as an internal class method (its admin server's recovery endpoint
    calls the same); dbos is pinned below 4 for that reason.
    """
    return len(DBOS._recover_pending_workflows([executor_id]))


class Fleet:
    def __init__(
        self,
        engine: sa.Engine,
        executor_id: str,
        engines: list[str],
        *,
        lease: Lease,
        heartbeat_seconds: float,
        dead_after_seconds: float,
        recover: Callable[[str], int] = recover_executor,
        on_wake: Callable[[Iterable[str]], None] = lambda _queues: None,
        on_recovered: Callable[[Iterable[str]], None] = lambda _engines: None,
        on_fenced: Callable[[], object] = lambda: None,
        on_replaced: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self._executor_id = executor_id
        self._engines = list(engines)
        self._lease = lease
        self._heartbeat = heartbeat_seconds
        self._dead_after = dead_after_seconds
        # A row this old at a pass is recovered by that pass: within `dead_after` of the beat,
        # with a margin for the pass itself and the takeover.
        margin = min(1.0, heartbeat_seconds / 2)
        self._stale_after = max(heartbeat_seconds, dead_after_seconds - heartbeat_seconds - margin)
        self._recover = recover
        self._on_wake = on_wake
        self._on_recovered = on_recovered
        self._on_fenced = on_fenced
        self._on_replaced = on_replaced
        self._postgres = engine.dialect.name == "postgresql"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned: set[str] = set()
        self._claimed = False
        self.last_beat = 0.0  # monotonic() of the last heartbeat that reached the database

    @property
    def executor_id(self) -> str:
        return self._executor_id

    def lease_problem(self) -> str | None:
        """For /readyz: None while this process's heartbeat reaches the database."""
        silent = time.monotonic() - self.last_beat
        if silent > self._stale_after:
            return f"no heartbeat reached the database for {silent:.0f} s"
        return None

    def claim(self, wait_seconds: float) -> None:
        """Take the lease of our executor id and write our row. Called before DBOS recovers
        this executor's workflows, so only the one live holder of an id ever does."""
        self._lease.acquire(wait_seconds)
        self._claimed = True
        self._write_row()

    def advertise(self, engines: list[str]) -> None:
        """The engines this process renders with (those that passed their readiness check)."""
        self._engines = list(engines)
        with self._write() as conn:
            conn.execute(
                workers.update()
                .where(workers.c.executor_id == self._executor_id)
                .values(engines=self._engines)
            )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="reelforge-fleet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Leave the fleet: the row is marked long silent, so that as soon as the lease is
        free a survivor recovers whatever of this process is still pending (a drain hands its
        jobs back itself; batch workflows and anything a failed drain left are caught here)
        and forgets the row. A restart under the same id claims the row first."""
        self._stop.set()
        self._lease.interrupt()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if not self._claimed:  # the id is another process's: its row is not ours to touch
            self._lease.release()
            return
        try:
            with self._write() as conn:
                conn.execute(
                    workers.update()
                    .where(workers.c.executor_id == self._executor_id)
                    .values(last_seen=0.0)
                )
        except Exception:
            log.exception("leaving the fleet: the workers row of %s stays", self._executor_id)
        finally:
            self._lease.release()

    # ---- one pass ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """A write transaction (on SQLite it takes the write lock at BEGIN, so a read before
        the write cannot be refused for a concurrent writer)."""
        with self._engine.connect().execution_options(immediate=True) as conn, conn.begin():
            yield conn

    def _now(self, conn: sa.Connection) -> float:
        if self._postgres:
            return float(conn.execute(sa.text("SELECT extract(epoch FROM clock_timestamp())"))
                         .scalar_one())  # fmt: skip
        return time.time()

    def _write_row(self) -> None:
        with self._write() as conn:
            now = self._now(conn)
            conn.execute(workers.delete().where(workers.c.executor_id == self._executor_id))
            conn.execute(
                workers.insert().values(
                    executor_id=self._executor_id, engines=self._engines,
                    hostname=socket.gethostname(), pid=os.getpid(),
                    started_at=now, last_seen=now,
                )
            )  # fmt: skip
        self.last_beat = time.monotonic()

    def beat_and_reap(self) -> list[str]:
        """One pass: make sure we hold our lease, refresh our heartbeat, recover the jobs of
        processes found dead; the executor ids recovered."""
        if not self._lease.ensure():
            log.critical("executor id %s is now held by another live process: stopping",
                         self._executor_id)  # fmt: skip
            self._on_replaced()
            return []
        now, stale = self._beat()
        if now is None:  # our row was gone: we were declared dead while cut off
            log.error(
                "executor %s was declared dead while cut off from the database; its jobs went "
                "to other workers",
                self._executor_id,
            )
            self._on_fenced()
            self._write_row()
            return []
        self.last_beat = time.monotonic()
        # Reap only after watching the fleet, connected, for longer than a heartbeat can lapse.
        if time.monotonic() - self._lease.connected_since() < self._stale_after:
            return []
        recovered = []
        for executor_id, engines in stale:
            if self._reap(executor_id, engines, now):
                recovered.append(executor_id)
        return recovered

    def _beat(self) -> tuple[float | None, list[tuple[str, list[str]]]]:
        """Our heartbeat and the rows gone stale, in one statement on PostgreSQL."""
        if self._postgres and isinstance(self._lease, PostgresLease):
            try:
                rows = self._beat_postgres(self._lease.connection)
            except sa.exc.DBAPIError:
                self._lease.lost()
                raise
            now = rows[0].now if rows else None
            return now, [(r.executor_id, list(r.engines or ())) for r in rows if r.executor_id]
        return self._sqlite_beat()

    def _beat_postgres(self, conn: sa.Connection) -> Sequence[Any]:
        return conn.execute(
            sa.text(
                "WITH beat AS (UPDATE workers SET last_seen = "
                "extract(epoch FROM clock_timestamp()) WHERE executor_id = :me "
                "RETURNING last_seen) "
                "SELECT (SELECT last_seen FROM beat) AS now, w.executor_id, w.engines "
                "FROM (SELECT 1) AS one LEFT JOIN workers AS w ON w.executor_id <> :me "
                "AND w.last_seen < (SELECT last_seen FROM beat) - :stale"
            ),
            {"me": self._executor_id, "stale": self._stale_after},
        ).all()

    def _sqlite_beat(self) -> tuple[float | None, list[tuple[str, list[str]]]]:
        with self._write() as conn:
            now = time.time()
            moved = conn.execute(
                workers.update()
                .where(workers.c.executor_id == self._executor_id)
                .values(last_seen=now)
            ).rowcount
            rows = conn.execute(
                sa.select(workers.c.executor_id, workers.c.engines).where(
                    workers.c.last_seen < now - self._stale_after,
                    workers.c.executor_id != self._executor_id,
                )
            ).all()
        if moved != 1:
            return None, []
        return now, [(r.executor_id, list(r.engines or ())) for r in rows]

    def _reap(self, executor_id: str, engines: list[str], now: float) -> bool:
        if not self._lease.try_hold(executor_id):
            if executor_id not in self._warned:
                self._warned.add(executor_id)
                log.warning("executor %s has not beaten for over %.0f s but is still connected: "
                            "not recovering its jobs while it lives", executor_id,
                            self._stale_after)  # fmt: skip
            return False
        try:
            # Its session is over (we hold its lease): recover, then forget it. Recovery is
            # idempotent, so a failure between the two is repaired by the next pass.
            count = self._recover(executor_id)
            with self._write() as conn:
                conn.execute(
                    workers.delete().where(
                        workers.c.executor_id == executor_id,
                        workers.c.last_seen < now - self._stale_after,
                    )
                )
        finally:
            self._lease.let_go(executor_id)
        self._warned.discard(executor_id)
        log.warning("executor %s is gone: %d of its jobs put back on their queues",
                    executor_id, count)  # fmt: skip
        if count:
            self._on_recovered(engines)
        return True

    def _loop(self) -> None:
        next_beat = time.monotonic() + self._heartbeat
        failing_since: float | None = None
        while not self._stop.is_set():
            try:
                woken = self._lease.wait(max(0.0, next_beat - time.monotonic()))
                if woken:
                    self._on_wake(woken)
                if self._stop.is_set():
                    return
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self._heartbeat
                    self.beat_and_reap()
                    if failing_since is not None:
                        log.info("heartbeat reaches the database again (after %.0f s)",
                                 time.monotonic() - failing_since)  # fmt: skip
                        failing_since = None
            except Exception as exc:  # keep beating; the next pass retries
                text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
                if failing_since is None:  # said once per outage, not once a second
                    failing_since = time.monotonic()
                    log.warning("fleet heartbeat failed: %s (retrying)", text)
                else:
                    log.debug("fleet heartbeat failed: %s", text)
                self._stop.wait(min(self._heartbeat, 1.0))


def live_engines(engine: sa.Engine, dead_after: float) -> set[str]:
    """The engines advertised by processes whose heartbeat is newer than `dead_after`."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            since: Any = sa.func.extract("epoch", sa.func.clock_timestamp()) - dead_after
        else:
            since = time.time() - dead_after
        rows = conn.execute(sa.select(workers.c.engines).where(workers.c.last_seen >= since))
        return {name for (names,) in rows for name in names or ()}


def announce_queue(engine: sa.Engine, queue: str) -> None:
    """Tell every process LISTENing (the workers hosting `queue`) that it has work."""
    with engine.begin() as conn:
        conn.execute(sa.text("SELECT pg_notify(:channel, :queue)"),
                     {"channel": WAKE_CHANNEL, "queue": queue})  # fmt: skip
