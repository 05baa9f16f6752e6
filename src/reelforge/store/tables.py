"""SQL tables of the job store (SQLAlchemy Core). Migrations in `migrations/` create them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("webhook_secret", sa.String(200), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_used_at", sa.Float),
    sa.Column("revoked_at", sa.Float),
    # Credits: NULL balance = unlimited. Limits: NULL = the server's default.
    sa.Column("balance", sa.Float),
    sa.Column("daily_budget", sa.Float),
    sa.Column("creates_per_minute", sa.Integer),
    sa.Column("max_active_jobs", sa.Integer),
)

files = sa.Table(
    "files",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_key_id", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("storage_key", sa.String(300), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("mime_type", sa.String(100), nullable=False),
    sa.Column("filename", sa.String(300)),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("seconds", sa.Float),
    sa.Column("fps", sa.Float),
    sa.Column("created_at", sa.Float, nullable=False),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_key_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("engine", sa.String(100), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float),
    sa.Column("completed_at", sa.Float),
    sa.Column("expires_at", sa.Float),
    # Also in `spec`; a column so that overdue queued jobs are found by index (janitor).
    sa.Column("execution_deadline", sa.Float),
    sa.Column("error", sa.JSON(none_as_null=True)),
    sa.Column("plan", sa.JSON(none_as_null=True)),
    sa.Column("outputs", sa.JSON(none_as_null=True)),
    sa.Column("output_seconds", sa.Float),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("deleted", sa.Boolean, nullable=False, default=False),
    sa.Column("hold_amount", sa.Float, nullable=False, default=0.0),
    sa.Column("cost", sa.Float, nullable=False, default=0.0),
    sa.Column("end_user_id", sa.String(200)),
    sa.Column("quality", sa.JSON(none_as_null=True)),
    sa.Index("ix_jobs_owner_created", "owner_key_id", "created_at"),
    sa.Index("ix_jobs_owner_status", "owner_key_id", "status"),  # active jobs per key
    sa.Index("ix_jobs_status", "status"),
    sa.Index("ix_jobs_status_created", "status", "created_at"),
    sa.Index("ix_jobs_status_deadline", "status", "execution_deadline"),
)

# Every change of a key's balance, so that balance changes can be audited to the cent.
ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key_id", sa.String(64), nullable=False, index=True),
    sa.Column("job_id", sa.String(64), index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # topup | hold | release | charge
    sa.Column("amount", sa.Float, nullable=False),  # signed: what it did to the balance
    sa.Column("created_at", sa.Float, nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("idempotency_key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("job_id", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# Processes that run workers, with a heartbeat, so the fleet can recover the jobs of one that
# died for good (`jobs/fleet.py`).
workers = sa.Table(
    "workers",
    metadata,
    sa.Column("executor_id", sa.String(200), primary_key=True),
    sa.Column("engines", sa.JSON, nullable=False),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
)
