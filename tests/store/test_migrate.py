"""Migrations in scale mode: `reelforge migrate`, concurrent migrations taking turns on an
advisory lock (four processes started at once on an empty database all come up), and a
process that does not migrate waiting for the schema instead of racing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from reelforge.store.database import (
    SchemaNotReady,
    create_store_engine,
    head_revision,
    migrate,
    wait_for_schema,
)
from tests.postgres import postgres_url

__all__ = ["postgres_url"]
BIN = Path(sys.executable).parent


def _migrate_cli(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELFORGE_")}
    env.update(env_overrides)
    return subprocess.run([str(BIN / "reelforge"), "migrate"], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


@pytest.mark.postgres
def test_migrations_started_at_once_take_turns(postgres_url: str) -> None:
    engines = [create_store_engine(postgres_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(4) as pool:
            revisions = list(pool.map(migrate, engines))
        assert revisions == [head_revision()] * 4
        with engines[0].connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.postgres
def test_a_process_that_does_not_migrate_waits_for_reelforge_migrate(
    postgres_url: str, tmp_path: Path
) -> None:
    engine = create_store_engine(postgres_url)
    found: list[str] = []
    waiter = threading.Thread(
        target=lambda: found.append(wait_for_schema(engine, 120, interval=0.2))
    )
    waiter.start()
    try:
        done = _migrate_cli({"REELFORGE_DATABASE_URL": postgres_url,
                             "REELFORGE_DATA_DIR": str(tmp_path)})  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"schema at revision {head_revision()}" in done.stdout
        waiter.join(timeout=60)
        assert found == [head_revision()]
        with engine.connect() as conn:  # the durable queue's schema came first
            assert conn.execute(sa.text("SELECT to_regclass('dbos.workflow_status')")).scalar()
        again = _migrate_cli({"REELFORGE_DATABASE_URL": postgres_url,
                              "REELFORGE_DATA_DIR": str(tmp_path)})  # fmt: skip
        assert again.returncode == 0, again.stderr  # nothing to do: fine
    finally:
        waiter.join(timeout=1)
        engine.dispose()


@pytest.mark.postgres
def test_waiting_for_the_schema_ends_with_what_to_do(postgres_url: str) -> None:
    engine = create_store_engine(postgres_url)
    try:
        with pytest.raises(SchemaNotReady, match="reelforge migrate"):
            wait_for_schema(engine, 0.5, interval=0.1)
    finally:
        engine.dispose()


def test_migrate_on_one_machine(tmp_path: Path) -> None:
    done = _migrate_cli({"REELFORGE_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "reelforge.db").is_file()


def test_migrate_says_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    done = _migrate_cli({"REELFORGE_DATA_DIR": str(tmp_path), "REELFORGE_DATABASE_URL":
                         "postgresql://nobody:x@127.0.0.1:9/none?connect_timeout=2"})  # fmt: skip
    assert done.returncode == 2
    assert "cannot reach the database" in done.stderr
