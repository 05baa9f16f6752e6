"""SQL tables of webhook delivery (SQLAlchemy Core), on the job store's `metadata`.

    webhook_events      one row per event (`evt_...`): what happened to which job, the target
                        URL and the exact JSON body, fixed once so every attempt sends the same
                        bytes under the same `webhook-id`. Unique per (job_id, type).
    webhook_deliveries  one row per delivery of an event (the first one, then one per
                        redeliver call): status pending | delivering | succeeded | failed, the
                        attempt count and when the next attempt is due. The delivery loop claims
                        a row with a guarded update (status + claim token + lease).
    webhook_attempts    the attempt log: one row per POST, with the status code or the error,
                        its duration and time. Unique per (delivery_id, attempt).

Migration `migrations/versions/0003_webhooks.py` creates them.
"""

from __future__ import annotations

import sqlalchemy as sa

from reelforge.store.tables import metadata

webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("job_id", sa.String(64), nullable=False),
    sa.Column("owner_key_id", sa.String(64), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("job_id", "type", name="uq_webhook_events_job_type"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "event_id", sa.String(64), sa.ForeignKey("webhook_events.id"), nullable=False, index=True
    ),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.Float),
    sa.Column("claim_token", sa.String(64)),
    sa.Column("lease_until", sa.Float),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("completed_at", sa.Float),
    sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "delivery_id",
        sa.String(64),
        sa.ForeignKey("webhook_deliveries.id"),
        nullable=False,
        index=True,
    ),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error_code", sa.String(100)),
    sa.Column("error_message", sa.Text),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.UniqueConstraint("delivery_id", "attempt", name="uq_webhook_attempts_delivery_attempt"),
)
