"""`migrate`: bring the databases' schemas up to date, then exit (the first step of a deploy)."""

from __future__ import annotations

import time

import typer

from reelforge.cli.base import app, fail, settings_or_exit


@app.command()
def migrate() -> None:
    """Create or upgrade the schemas of the durable queue (DBOS) and of the job store.

    Safe to run from several places at once: on PostgreSQL each runs under an advisory lock, so
    one migrates and the others find nothing to do. Run it before starting new API replicas and
    workers (docs/scale-mode.md); `serve` and `worker` with REELFORGE_MIGRATE_ON_START=false
    wait for it."""
    import sqlalchemy as sa

    from reelforge.store.database import create_store_engine
    from reelforge.store.database import migrate as migrate_store

    settings = settings_or_exit()
    started = time.monotonic()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    system_url = settings.resolved_dbos_database_url
    try:
        # The durable queue's schema first: a store at its head revision then means both are
        # ready to the processes that wait for it.
        if not system_url.startswith("sqlite"):
            from dbos import DBOS

            DBOS.migrate(system_url)
        engine = create_store_engine(settings.resolved_database_url)
        try:
            revision = migrate_store(engine)
        finally:
            engine.dispose()
    except sa.exc.OperationalError as exc:
        fail(f"cannot reach the database: {exc.orig or exc}", code=2)
    where = sa.make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    typer.echo(f"schema at revision {revision} in {where} ({time.monotonic() - started:.1f} s)")
