"""SQL tables of batches (SQLAlchemy Core), on the job store's `metadata`.

    batches      one row per batch (`batch_...`): its owner, status, `max_cost`, metadata,
                 webhook URL, the batch's own Idempotency-Key (unique per key) and the hash of
                 the request it was first sent with.
    batch_items  one row per item (per take of a request with `n`), keyed by (batch_id, idx):
                 the encoded GenerationSpec, its seed, the idempotency key its job is created
                 under, its state (pending | admitted | skipped | failed), the job once
                 admitted, the price it was admitted at, and why it was skipped or failed.

Migration `migrations/versions/0007_batches.py` creates them.
"""

from __future__ import annotations

import sqlalchemy as sa

from reelforge.store.tables import metadata

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_key_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("completed_at", sa.Float),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("max_cost", sa.Float),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("webhook_url", sa.Text),
    sa.Column("item_webhooks", sa.Boolean, nullable=False, default=False),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("idempotency_key", sa.String(255)),
    sa.Column("request_hash", sa.String(64)),
    sa.UniqueConstraint("owner_key_id", "idempotency_key", name="uq_batches_key_idempotency"),
    sa.Index("ix_batches_owner_created", "owner_key_id", "created_at"),
    sa.Index("ix_batches_status", "status"),
)

batch_items = sa.Table(
    "batch_items",
    metadata,
    sa.Column("batch_id", sa.String(64), sa.ForeignKey("batches.id"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("custom_id", sa.String(255), nullable=False),
    sa.Column("take", sa.Integer, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("idempotency_key", sa.String(255), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("job_id", sa.String(64)),
    sa.Column("quote", sa.Float),
    sa.Column("error", sa.JSON(none_as_null=True)),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_batch_items_job_id", "job_id"),
)
