"""The migrations build exactly the schema `store/tables.py` declares (SQLite and PostgreSQL),
and the execution-deadline column is filled from the specs of jobs stored before it existed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from reelforge.store.database import _alembic_config, create_store_engine, migrate
from reelforge.store.job_repository import JobRepository
from reelforge.store.tables import metadata
from tests.postgres import postgres_url

__all__ = ["postgres_url"]


def _engine(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> sa.Engine:
    if kind == "postgresql":
        return create_store_engine(request.getfixturevalue("postgres_url"))
    return create_store_engine(f"sqlite:///{tmp_path / 'reelforge.db'}")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> sa.Engine:
    return _engine(request.param, tmp_path, request)


def test_the_migrated_schema_is_the_declared_one(engine: sa.Engine) -> None:
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    engine.dispose()


def _upgrade(engine: sa.Engine, revision: str) -> None:
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_jobs_queued_before_the_deadline_column_still_expire(engine: sa.Engine) -> None:
    _upgrade(engine, "0007")
    now = time.time()
    with engine.begin() as conn:
        for job_id, deadline in (("late", now - 5), ("in_time", now + 3600), ("none", None)):
            conn.execute(
                sa.text(
                    "INSERT INTO jobs (id, owner_key_id, status, stage, progress, model, engine, "
                    "spec, created_at, updated_at, cancel_requested, deleted, hold_amount, cost) "
                    "VALUES (:id, 'key', 'queued', 'queued', 0, 'preview', 'preview', :spec, "
                    ":now, :now, false, false, 0, 0)"
                ),
                {"id": job_id, "spec": json.dumps({"execution_deadline": deadline}), "now": now},
            )
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, execution_deadline FROM jobs")).all()
    column: dict[str, float | None] = {r[0]: r[1] for r in rows}
    assert column == {"late": pytest.approx(now - 5), "in_time": pytest.approx(now + 3600),
                      "none": None}  # fmt: skip
    assert JobRepository(engine).overdue_queued(now) == ["late"]
    engine.dispose()
