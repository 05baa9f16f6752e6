"""Executor leases: one live process per executor id, and proof that a process is gone.

A lease is held for as long as the process lives: on PostgreSQL a session advisory lock on one
dedicated connection (which also LISTENs for queue wake-ups and carries the heartbeat), on
SQLite (one machine) an exclusive `flock` on `data_dir/executors/<id>.lock`. The server (or the
kernel) drops it the moment the process's session ends: exit, kill -9, a crash, a pod gone
(TCP keepalives of 5 s x 3 on the connection notice a vanished host). `jobs.fleet` uses it to
refuse a second process with a live id, to let a replacement of a dead one start at once, and
to recover a silent process's jobs only once its session is over.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import secrets
import threading
import time
import zlib
from pathlib import Path
from typing import IO, Any, Protocol

import sqlalchemy as sa

from reelforge import codes
from reelforge.errors import ReelforgeError
from reelforge.store.database import PoolOptions, postgres_url

log = logging.getLogger("reelforge.fleet")

WAKE_CHANNEL = "reelforge_jobs"
_LEASE_NAMESPACE = 0x7266  # first key of reelforge's two-key advisory locks ("rf")


class ExecutorIdInUse(ReelforgeError):
    code = codes.CONFLICT_EXECUTOR_ID


class LeaseBusy(RuntimeError):
    """The lease is not (yet) ours again after a lost connection; the next pass retries."""


def lease_key(executor_id: str) -> int:
    """The second key of an executor's advisory lock: 31 bits of CRC-32 of its id."""
    return zlib.crc32(executor_id.encode()) & 0x7FFFFFFF


class Lease(Protocol):
    """An exclusive hold on an executor id that ends with the process."""

    def acquire(self, wait_seconds: float) -> None:
        """Take our id, waiting up to `wait_seconds` for a previous holder; ExecutorIdInUse."""

    def ensure(self) -> bool:
        """Still held (reconnecting and taking it again after a dropped connection)? False
        when another process holds it now. Raises on a database error (try again later)."""

    def connected_since(self) -> float:
        """monotonic() of the start of the current unbroken hold."""

    def try_hold(self, executor_id: str) -> bool:
        """Take another executor's lease if no live process holds it (then `let_go`)."""

    def lost(self) -> None:
        """The connection behind the lease failed: `ensure` takes it again."""

    def let_go(self, executor_id: str) -> None: ...

    def wait(self, timeout: float) -> list[str]:
        """Sleep up to `timeout`; the wake-ups (queue names) received meanwhile."""

    def interrupt(self) -> None:
        """End a `wait` early (stopping)."""

    def release(self) -> None: ...


class PostgresLease:
    """The lease as an advisory lock held by one dedicated connection, which also LISTENs for
    queue wake-ups and carries the heartbeat (one connection in all)."""

    def __init__(
        self,
        url: str,
        executor_id: str,
        pool: PoolOptions | None = None,
        *,
        reclaim_seconds: float = 30.0,
    ) -> None:
        self._executor_id = executor_id
        self._key = lease_key(executor_id)
        self._reclaim = reclaim_seconds
        options = pool or PoolOptions()
        # Names this process's sessions (a pid alone repeats across containers).
        self._app_name = f"{options.application_name}-{secrets.token_hex(3)} lease"[:63]
        self._engine = sa.create_engine(
            postgres_url(url),
            poolclass=sa.pool.NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "connect_timeout": max(1, round(options.connect_timeout)),
                "application_name": self._app_name,
                # The client notices a vanished server; the server a vanished client (below).
                "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                "keepalives_count": 3,
            },
        )  # fmt: skip
        self._conn: sa.Connection | None = None
        self._since = 0.0
        self._lost_at: float | None = None
        self._others: set[str] = set()
        self._stopping = False

    @property
    def connection(self) -> sa.Connection:
        """The lease's connection (only the fleet thread uses it)."""
        if self._conn is None:
            raise RuntimeError("the executor lease is not connected")
        return self._conn

    def _connect(self) -> sa.Connection:
        conn = self._engine.connect()
        for name, value in (("idle", 5), ("interval", 2), ("count", 3)):
            with contextlib.suppress(sa.exc.DBAPIError):  # no TCP settings on a Unix socket
                conn.execute(sa.text(f"SET tcp_keepalives_{name} = {value}"))
        conn.execute(sa.text(f"LISTEN {WAKE_CHANNEL}"))
        return conn

    def _try_lock(self, conn: sa.Connection, key: int) -> bool:
        got = conn.execute(
            sa.text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": _LEASE_NAMESPACE, "key": key}
        ).scalar()
        return bool(got)

    def _take(self, conn: sa.Connection) -> bool:
        """Our lock, taking it back from a session of ours the server has not yet seen end
        (the connection dropped on our side only: a network blip, a proxy restart)."""
        if self._try_lock(conn, self._key):
            return True
        holder = conn.execute(
            sa.text(
                "SELECT a.pid, a.application_name FROM pg_locks AS l JOIN pg_stat_activity AS a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.classid = :ns AND l.objid = :key AND l.objsubid = 2"
            ),
            {"ns": _LEASE_NAMESPACE, "key": self._key},
        ).first()
        if holder is None or holder.application_name != self._app_name:
            return False
        log.info("ending this process's stale database session (pid %s) to take its executor "
                 "lease back", holder.pid)  # fmt: skip
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 2000)"), {"pid": holder.pid})
        return self._try_lock(conn, self._key)

    def acquire(self, wait_seconds: float) -> None:
        deadline = time.monotonic() + wait_seconds
        said = False
        while True:
            if self._conn is None:
                self._conn = self._connect()
            if self._take(self._conn):
                self._since = time.monotonic()
                self._lost_at = None
                return
            if time.monotonic() >= deadline:
                self._drop()
                raise ExecutorIdInUse(
                    f"executor id {self._executor_id!r} is held by a live process; give each "
                    "process its own REELFORGE_EXECUTOR_ID (or REELFORGE_SLOT)",
                )
            if not said:
                log.warning("executor id %s is held by another process; waiting up to %.0f s "
                            "for it to stop", self._executor_id, wait_seconds)  # fmt: skip
                said = True
            time.sleep(0.5)

    def ensure(self) -> bool:
        if self._conn is not None and self._lost_at is None:
            return True  # a dropped connection shows in the heartbeat, which calls `lost`
        if self._lost_at is None:
            self._lost_at = time.monotonic()
        if self._conn is None:
            self._conn = self._connect()
        if not self._take(self._conn):
            if time.monotonic() - self._lost_at < self._reclaim:
                # Another session holds our id: perhaps our old one, which the server drops
                # when its keepalives fail (about 11 s); else a process that replaced us.
                raise LeaseBusy(f"executor lease {self._executor_id} is held by another session")
            return False
        self._since = time.monotonic()
        self._lost_at = None
        self._others.clear()  # locks on others died with the old session
        log.info("executor lease %s taken again after a lost connection", self._executor_id)
        return True

    def connected_since(self) -> float:
        return self._since

    def try_hold(self, executor_id: str) -> bool:
        if self._try_lock(self.connection, lease_key(executor_id)):
            self._others.add(executor_id)
            return True
        return False

    def lost(self) -> None:
        self._drop()

    def let_go(self, executor_id: str) -> None:
        if executor_id in self._others and self._conn is not None:
            self._others.discard(executor_id)
            self._conn.execute(
                sa.text("SELECT pg_advisory_unlock(:ns, :key)"),
                {"ns": _LEASE_NAMESPACE, "key": lease_key(executor_id)},
            )

    def wait(self, timeout: float) -> list[str]:
        if self._conn is None or self._stopping:
            time.sleep(min(timeout, 0.5) if self._stopping else timeout)
            return []
        raw: Any = self._conn.connection.driver_connection
        try:
            # Returns with the first batch of notifications that arrives, or at the timeout.
            return [n.payload for n in raw.notifies(timeout=max(0.0, timeout), stop_after=1)]
        except Exception as exc:  # the connection dropped: `ensure` reconnects next pass
            log.warning("executor lease connection lost: %s", exc)
            self._drop()
            return []

    def interrupt(self) -> None:
        self._stopping = True

    def release(self) -> None:
        self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        if self._lost_at is None:
            self._lost_at = time.monotonic()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # closes the session: the server frees its locks
                conn.close()
            except Exception:
                pass


class FileLease:
    """The lease on one machine (SQLite): an exclusive flock on `<dir>/<executor id>.lock`,
    which the kernel releases when the process ends however it ends."""

    def __init__(self, directory: Path, executor_id: str) -> None:
        self._dir = directory
        self._executor_id = executor_id
        self._mine: IO[bytes] | None = None
        self._others: dict[str, IO[bytes]] = {}
        self._since = 0.0
        self._stop = threading.Event()

    def _lock(self, executor_id: str) -> IO[bytes] | None:
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle = open(self._dir / f"{executor_id}.lock", "ab")  # noqa: SIM115 (held open)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None
        return handle

    def acquire(self, wait_seconds: float) -> None:
        deadline = time.monotonic() + wait_seconds
        while (handle := self._lock(self._executor_id)) is None:
            if time.monotonic() >= deadline:
                raise ExecutorIdInUse(
                    f"executor id {self._executor_id!r} is held by a live process on this "
                    "machine; give each process its own REELFORGE_EXECUTOR_ID",
                )
            time.sleep(0.2)
        self._mine = handle
        self._since = time.monotonic()

    def ensure(self) -> bool:
        return self._mine is not None

    def connected_since(self) -> float:
        return self._since

    def try_hold(self, executor_id: str) -> bool:
        handle = self._lock(executor_id)
        if handle is None:
            return False
        self._others[executor_id] = handle
        return True

    def lost(self) -> None:
        pass

    def let_go(self, executor_id: str) -> None:
        handle = self._others.pop(executor_id, None)
        if handle is not None:
            handle.close()

    def wait(self, timeout: float) -> list[str]:
        self._stop.wait(timeout)
        return []

    def interrupt(self) -> None:
        self._stop.set()

    def release(self) -> None:
        for name in list(self._others):
            self.let_go(name)
        if self._mine is not None:
            self._mine.close()
            self._mine = None


def open_lease(
    database_url: str, data_dir: Path, executor_id: str, pool: PoolOptions | None = None
) -> Lease:
    if database_url.startswith("sqlite"):
        return FileLease(data_dir / "executors", executor_id)
    return PostgresLease(database_url, executor_id, pool)
