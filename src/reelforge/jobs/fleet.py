"""Worker heartbeats and the recovery of a dead worker's jobs by the survivors.

DBOS recovers a process's own pending workflows when it restarts with the same executor id. A
worker that never comes back (a GPU machine gone) would leave its jobs pending for ever, so every
process that runs workers beats a heartbeat into the `workers` table and looks for workers whose
heartbeat stopped longer than `dead_after` ago. The first survivor to claim the dead row (a
guarded delete) asks DBOS to recover that executor's pending workflows: they go back onto their
engine's queue and run again from their unfinished step on a worker hosting that engine.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from dbos import DBOS

from reelforge import codes
from reelforge.errors import ReelforgeError
from reelforge.store.tables import workers

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
        heartbeat_seconds: float,
        dead_after_seconds: float,
        recover: Callable[[str], int] = recover_executor,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._executor_id = executor_id
        self._engines = engines
        self._heartbeat = heartbeat_seconds
        self._dead_after = dead_after_seconds
        self._recover = recover
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        now = self._clock()
        with self._engine.begin() as conn:
            live = conn.execute(
                sa.select(workers.c.hostname, workers.c.pid).where(
                    workers.c.executor_id == self._executor_id,
                    workers.c.last_seen >= now - self._dead_after,
                )
            ).first()
            if live is not None and _alive_elsewhere(live.hostname, live.pid):
                raise ReelforgeError(
                    f"executor id {self._executor_id!r} is in use by a live worker "
                    f"({live.hostname}, pid {live.pid}); give each worker its own "
                    "REELFORGE_EXECUTOR_ID",
                    code=codes.CONFLICT_EXECUTOR_ID,
                )
            conn.execute(workers.delete().where(workers.c.executor_id == self._executor_id))
            conn.execute(
                workers.insert().values(
                    executor_id=self._executor_id, engines=self._engines,
                    hostname=socket.gethostname(), pid=os.getpid(),
                    started_at=now, last_seen=now,
                )
            )  # fmt: skip
        self._thread = threading.Thread(target=self._loop, name="reelforge-fleet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        # A stopped worker may never come back: mark it long silent, so that a survivor puts
        # its unfinished jobs back on their queues at once (harmless if it had none, and if it
        # restarts first it recovers them itself).
        with self._engine.begin() as conn:
            conn.execute(
                workers.update()
                .where(workers.c.executor_id == self._executor_id)
                .values(last_seen=0.0)
            )

    def beat_and_reap(self) -> list[str]:
        """One pass: refresh our heartbeat, recover the jobs of workers found dead."""
        now = self._clock()
        with self._engine.begin() as conn:
            conn.execute(
                workers.update()
                .where(workers.c.executor_id == self._executor_id)
                .values(last_seen=now)
            )
            dead = conn.execute(
                sa.select(workers.c.executor_id).where(
                    workers.c.last_seen < now - self._dead_after,
                    workers.c.executor_id != self._executor_id,
                )
            ).scalars().all()  # fmt: skip
        recovered = []
        for executor_id in dead:
            with self._engine.begin() as conn:
                claimed = conn.execute(
                    workers.delete().where(
                        workers.c.executor_id == executor_id,
                        workers.c.last_seen < now - self._dead_after,
                    )
                ).rowcount
            if claimed == 1:
                count = self._recover(executor_id)
                log.warning("worker %s is gone: %d of its jobs put back on their queues",
                            executor_id, count)  # fmt: skip
                recovered.append(executor_id)
        return recovered

    def _loop(self) -> None:
        while not self._stop.wait(self._heartbeat):
            try:
                self.beat_and_reap()
            except Exception:  # keep beating; the next pass retries
                log.exception("fleet heartbeat failed")


def live_engines(engine: sa.Engine, since: float) -> set[str]:
    """The engines advertised by workers whose heartbeat is newer than `since`."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(workers.c.engines).where(workers.c.last_seen >= since))
        return {name for (names,) in rows for name in names or ()}


def _alive_elsewhere(hostname: str, pid: int) -> bool:
    """Whether the worker that last beat under our executor id may still be running: on another
    machine we cannot tell (so: yes); here, when its process still exists."""
    if hostname != socket.gethostname():
        return True
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
