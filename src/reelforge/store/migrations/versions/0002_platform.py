"""Platform: credits and limits per key, the ledger, idempotency keys, job cost.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("balance", sa.Float))
        batch.add_column(sa.Column("daily_budget", sa.Float))
        batch.add_column(sa.Column("creates_per_minute", sa.Integer))
        batch.add_column(sa.Column("max_active_jobs", sa.Integer))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("hold_amount", sa.Float, nullable=False, server_default="0"))
        batch.add_column(sa.Column("cost", sa.Float, nullable=False, server_default="0"))
        batch.add_column(sa.Column("end_user_id", sa.String(200)))
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key_id", sa.String(64), nullable=False, index=True),
        sa.Column("job_id", sa.String(64), index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("idempotency_key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_jobs_owner_status", "jobs", ["owner_key_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_jobs_owner_status", "jobs")
    op.drop_table("idempotency_keys")
    op.drop_table("ledger")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("end_user_id")
        batch.drop_column("cost")
        batch.drop_column("hold_amount")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("max_active_jobs")
        batch.drop_column("creates_per_minute")
        batch.drop_column("daily_budget")
        batch.drop_column("balance")
