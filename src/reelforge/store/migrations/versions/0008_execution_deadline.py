"""The execution deadline as a column, indexed with the status: the janitor's pass over overdue
queued jobs is one index range instead of reading every queued job's spec.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("execution_deadline", sa.Float))
    # Until now the deadline lived only in the spec JSON: copy it over.
    if op.get_bind().dialect.name == "postgresql":
        deadline = "(spec::jsonb ->> 'execution_deadline')::double precision"
    else:
        deadline = "json_extract(spec, '$.execution_deadline')"
    op.execute(f"UPDATE jobs SET execution_deadline = {deadline}")
    op.create_index("ix_jobs_status_deadline", "jobs", ["status", "execution_deadline"])


def downgrade() -> None:
    op.drop_index("ix_jobs_status_deadline", table_name="jobs")
    op.drop_column("jobs", "execution_deadline")
