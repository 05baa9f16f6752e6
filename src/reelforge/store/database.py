"""Open the job store: create the engine (SQLite in WAL mode by default) and migrate it, or
wait for `reelforge migrate` to have done so.

On PostgreSQL every migration runs under one advisory lock, so processes started at once on an
empty database take turns: the first migrates, the others find the schema at its head. A
process told not to migrate (`MIGRATE_ON_START=false`) waits until the schema is there.

SQLite files are owner-only whatever the umask: `secure_sqlite_file` creates the database file
0600 before SQLite opens it (SQLite gives its `-wal` and `-shm` files the database file's mode)
and tightens one left by an older version; `private_dir` creates a directory 0700.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

_MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key of reelforge's schema migrations ("reelforg" as a big-endian int64).
MIGRATION_LOCK = int.from_bytes(b"reelforg", "big", signed=True)

log = logging.getLogger("reelforge.store")


@dataclass(frozen=True)
class PoolOptions:
    """How many server connections a process keeps and opens (PostgreSQL only)."""

    pool_size: int = 3
    max_overflow: int = 10
    connect_timeout: float = 5.0
    application_name: str = "reelforge"


def postgres_url(url: str) -> sa.URL:
    """`postgresql://...` with the psycopg 3 driver (the one DBOS ships with)."""
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_store_engine(url: str, pool: PoolOptions | None = None) -> sa.Engine:
    """The engine of the job store, without touching the schema."""
    if url.startswith("sqlite"):
        secure_sqlite_file(url)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # The turn is taken before BEGIN IMMEDIATE asks SQLite for its write lock.
        one_writer_at_a_time(engine, lambda conn: conn.get_execution_options().get("immediate"))
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    pool = pool or PoolOptions()
    engine = sa.create_engine(
        postgres_url(url),
        pool_size=pool.pool_size,
        max_overflow=pool.max_overflow,
        pool_timeout=30,
        pool_use_lifo=True,  # the busy connections stay warm, the others idle (and get pinged)
        connect_args={
            "connect_timeout": max(1, round(pool.connect_timeout)),
            "application_name": pool.application_name[:63],
        },
    )
    ping_when_idle(engine, IDLE_PING_SECONDS)
    return engine


# A pooled connection unused this long is checked before use (SQLAlchemy's pool_pre_ping checks
# every checkout: a round trip and a transaction each time, most of an idle process's load).
IDLE_PING_SECONDS = 10.0


def ping_when_idle(engine: sa.Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it sat idle longer than `idle_seconds`
    (after an outage, the idle ones are the stale ones; a connection in use that breaks is
    reported by its query, and SQLAlchemy then renews the whole pool)."""

    @sa.event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["reelforge_idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("reelforge_idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            cursor = dbapi_conn.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_conn.rollback()
        except Exception as exc:
            raise sa.exc.DisconnectionError(f"stale pooled connection: {exc}") from exc


def open_database(
    url: str,
    *,
    pool: PoolOptions | None = None,
    migrate_schema: bool = True,
    schema_wait_seconds: float = 300.0,
) -> sa.Engine:
    """Create the engine and bring the schema to the newest migration (or, with
    `migrate_schema=False`, wait up to `schema_wait_seconds` for it to get there)."""
    engine = create_store_engine(url, pool)
    try:
        if migrate_schema or url.startswith("sqlite"):
            migrate(engine)
        else:
            wait_for_schema(engine, schema_wait_seconds)
    except BaseException:
        engine.dispose()
        raise
    return engine


def one_writer_at_a_time(engine: sa.Engine, writes: Callable[[sa.Connection], Any]) -> None:
    """Writers of this process take turns on a lock before SQLite's write lock. Without it,
    threads that find the database locked wait in SQLite's busy handler, which sleeps in growing
    steps (up to 100 ms) and wakes in no order: a burst of creates then has a tail of hundreds of
    milliseconds. The turn ends when the connection goes back to the pool, after its COMMIT.
    (Other processes still meet the busy handler; they are rare writers.)"""
    lock = threading.RLock()  # a connection may run several transactions before check-in

    @sa.event.listens_for(engine, "begin")
    def _take(conn: sa.Connection) -> None:
        if writes(conn):
            lock.acquire()
            conn.info["reelforge_turns"] = conn.info.get("reelforge_turns", 0) + 1

    @sa.event.listens_for(engine.pool, "checkin")
    def _give(_dbapi_conn: Any, record: Any) -> None:
        for _ in range(record.info.pop("reelforge_turns", 0) if record is not None else 0):
            lock.release()


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///...` URL; None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite"):
        return None
    db_path = url.split("///", 1)[-1].split("?", 1)[0]
    if not db_path or db_path == ":memory:" or "mode=memory" in url:
        return None
    return Path(db_path)


def private_dir(path: Path) -> None:
    """Create `path` (and its parents) owner-only (0700); an existing one is tightened to 0700
    when this process owns it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(0o700)


def secure_sqlite_file(url: str) -> None:
    """Create the SQLite file of `url` empty and 0600 before SQLite does (its directory 0700 if
    it is new), or tighten an existing one and its `-wal`/`-shm`/`-journal` files to 0600."""
    path = sqlite_path(url)
    if path is None:
        return
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.close(fd)
    for file in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        private_file(file)


def private_file(path: Path) -> None:
    """Tighten an existing file this process owns to 0600 (no-op when missing)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(0o600)


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is lazy and
    # cannot take the write lock up front).
    dbapi_conn.isolation_level = None  # type: ignore[attr-defined]
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    """`connection.execution_options(immediate=True)` takes the write lock at BEGIN, so a
    check-then-insert (rate limits, idempotency) cannot interleave with another process."""
    immediate = conn.get_execution_options().get("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    """The schema's revision; None on an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: sa.Engine) -> str:
    """Bring the schema to the newest migration; its revision. On PostgreSQL under a
    transaction-scoped advisory lock (the DDL and the version row commit with it), so concurrent
    callers run one after another and the later ones find nothing to do."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        revision = MigrationContext.configure(conn).get_current_revision()
    return revision or ""


class SchemaNotReady(RuntimeError):
    """The schema did not reach the head revision in time (nobody ran `reelforge migrate`)."""


def wait_for_schema(
    engine: sa.Engine, timeout: float, *, interval: float = 1.0, sleep: Callable[[float], None]
    = time.sleep,
) -> str:  # fmt: skip
    """Wait until the schema is at the head revision this code knows; its revision. A schema
    newer than this code (a later release migrated it) is accepted too: migrations only add."""
    head = head_revision()
    known = {
        rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
    }
    deadline = time.monotonic() + timeout
    said = False
    while True:
        try:
            current = current_revision(engine)
        except sa.exc.OperationalError as exc:  # the server is not up yet
            current, problem = None, f"database unreachable: {exc.orig or exc}"
        else:
            problem = f"schema at {current or 'nothing'}, this version needs {head}"
        if current == head or (current is not None and current not in known):
            return current
        if time.monotonic() >= deadline:
            raise SchemaNotReady(
                f"{problem}; run `reelforge migrate` (or set REELFORGE_MIGRATE_ON_START=true)"
            )
        if not said:
            log.warning("waiting for the schema (%s): run `reelforge migrate`", problem)
            said = True
        sleep(interval)
