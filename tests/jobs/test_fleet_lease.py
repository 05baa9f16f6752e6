"""Executor leases and the fleet's recovery rules, on PostgreSQL and on SQLite (one machine):
one live process per executor id; a replacement starts at once once the old one is gone; a
silent process is recovered only once its session is over (never while it lives); a process
declared dead while cut off abandons its renders when it comes back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from reelforge.jobs.fleet import ExecutorIdInUse, FileLease, Fleet, PostgresLease
from reelforge.store.database import open_database
from reelforge.store.tables import workers
from tests.postgres import postgres_url

__all__ = ["postgres_url"]


def _fleet(engine: sa.Engine, executor: str, lease: object, recovered: list[str],
           fenced: list[str] | None = None) -> Fleet:  # fmt: skip
    def recover(executor_id: str) -> int:
        recovered.append(executor_id)
        return 1

    return Fleet(
        engine, executor, ["ok"], lease=lease,  # type: ignore[arg-type]
        heartbeat_seconds=0.2, dead_after_seconds=1.0, recover=recover,
        on_fenced=lambda: (fenced if fenced is not None else []).append(executor),
    )  # fmt: skip


@pytest.mark.postgres
def test_one_live_process_per_executor_id_and_a_replacement_starts_at_once(
    postgres_url: str,
) -> None:
    first = PostgresLease(postgres_url, "worker-a")
    first.acquire(0)
    second = PostgresLease(postgres_url, "worker-a")
    with pytest.raises(ExecutorIdInUse):
        second.acquire(0.5)
    first.release()  # the old process is gone (its session ended)
    started = time.monotonic()
    second.acquire(5)
    assert time.monotonic() - started < 1.0
    second.release()


@pytest.mark.postgres
def test_a_silent_process_is_recovered_only_once_its_session_is_over(postgres_url: str) -> None:
    engine = open_database(postgres_url)
    recovered: list[str] = []
    fenced: list[str] = []
    a_lease = PostgresLease(postgres_url, "a")
    a = _fleet(engine, "a", a_lease, [], fenced)
    b = _fleet(engine, "b", PostgresLease(postgres_url, "b"), recovered)
    try:
        a.claim(0)
        b.claim(0)
        time.sleep(1.0)  # b has watched the fleet, connected, longer than a beat can lapse
        # a stops beating but lives (its lease is held): never recovered.
        with engine.begin() as conn:
            conn.execute(workers.update().where(workers.c.executor_id == "a").values(last_seen=0))
        assert b.beat_and_reap() == []
        assert recovered == []
        # a's session ends (its connection cut on the server's side): recovered at once.
        with engine.begin() as conn:
            pid = conn.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE application_name LIKE '%lease' "
                        "AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' "
                        "AND objid = :key)"), {"key": a_lease._key},
            ).scalar_one()  # fmt: skip
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 2000)"), {"pid": pid})
        assert b.beat_and_reap() == ["a"]
        assert recovered == ["a"]
        # a was alive after all (cut off): when it is back, it finds itself declared dead.
        with pytest.raises(sa.exc.DBAPIError):
            a.beat_and_reap()  # its connection was the one cut
        assert a.beat_and_reap() == []
        assert fenced == ["a"]
        with engine.connect() as conn:
            rows = conn.execute(sa.select(workers.c.executor_id)).scalars().all()
        assert sorted(rows) == ["a", "b"]  # a joined again
    finally:
        a.stop()
        b.stop()
        engine.dispose()


def test_on_one_machine_the_lease_is_a_file_lock(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'store.db'}")
    folder = tmp_path / "executors"
    recovered: list[str] = []
    a_lease = FileLease(folder, "a")
    a = _fleet(engine, "a", a_lease, [])
    b = _fleet(engine, "b", FileLease(folder, "b"), recovered)
    a.claim(0)
    b.claim(0)
    with pytest.raises(ExecutorIdInUse):
        FileLease(folder, "a").acquire(0.3)
    time.sleep(1.0)
    with engine.begin() as conn:
        conn.execute(workers.update().where(workers.c.executor_id == "a").values(last_seen=0))
    assert b.beat_and_reap() == []  # a's process holds its lock: alive
    a_lease.release()  # a's process ends
    assert b.beat_and_reap() == ["a"]
    assert recovered == ["a"]
    replacement = FileLease(folder, "a")
    replacement.acquire(0)  # at once
    replacement.release()
    b.stop()
    engine.dispose()
