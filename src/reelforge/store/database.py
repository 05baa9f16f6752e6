"""Open the job store: create the engine (SQLite in WAL mode by default) and migrate it.

SQLite files are owner-only whatever the umask: `secure_sqlite_file` creates the database file
0600 before SQLite opens it (SQLite gives its `-wal` and `-shm` files the database file's mode)
and tightens one left by an older version; `private_dir` creates a directory 0700.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

_MIGRATIONS = Path(__file__).parent / "migrations"


def open_database(url: str) -> sa.Engine:
    """Create the engine and bring the schema to the newest migration."""
    if url.startswith("sqlite"):
        secure_sqlite_file(url)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # The turn is taken before BEGIN IMMEDIATE asks SQLite for its write lock.
        one_writer_at_a_time(engine, lambda conn: conn.get_execution_options().get("immediate"))
        sa.event.listen(engine, "begin", _sqlite_begin)
    else:
        parsed = sa.make_url(url)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 ships with DBOS
        engine = sa.create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=10)
    migrate(engine)
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


def migrate(engine: sa.Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
