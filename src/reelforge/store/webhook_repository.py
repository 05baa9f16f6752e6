"""Rows of `webhook_events`, `webhook_deliveries` and `webhook_attempts`.

Only `platform.webhooks.WebhookDispatcher` calls this. A delivery moves
`pending -> delivering -> succeeded | failed | pending (retry)`; every move is a guarded update,
so two processes sharing the database never make the same attempt twice: `claim` wins for one
of them only, and `finish` records an attempt only for the holder of the claim token.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa

from reelforge.core.job import TERMINAL
from reelforge.store.tables import jobs
from reelforge.store.webhook_tables import webhook_attempts, webhook_deliveries, webhook_events


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for `next_attempt_at`
    DELIVERING = "delivering"  # claimed by one process until `lease_until`
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up: attempts exhausted or a failure that no retry can fix


@dataclass(frozen=True)
class WebhookEvent:
    id: str  # evt_..., sent as `webhook-id`
    job_id: str
    owner_key_id: str
    type: str
    url: str
    payload: str  # the exact JSON body, the same bytes on every attempt
    created_at: float


@dataclass(frozen=True)
class WebhookDelivery:
    id: str
    event_id: str
    status: DeliveryStatus
    attempts: int  # attempts made so far
    next_attempt_at: float | None
    created_at: float
    updated_at: float
    completed_at: float | None


@dataclass(frozen=True)
class WebhookAttempt:
    delivery_id: str
    attempt: int  # 1-based within its delivery
    started_at: float
    duration_ms: int
    status_code: int | None
    error_code: str | None
    error_message: str | None
    succeeded: bool


@dataclass(frozen=True)
class DeliveryLog:
    delivery: WebhookDelivery
    attempts: tuple[WebhookAttempt, ...]


@dataclass(frozen=True)
class EventLog:
    event: WebhookEvent
    deliveries: tuple[DeliveryLog, ...]


def _event(row: sa.Row[tuple[object, ...]]) -> WebhookEvent:
    m = row._mapping
    return WebhookEvent(
        id=m["id"],
        job_id=m["job_id"],
        owner_key_id=m["owner_key_id"],
        type=m["type"],
        url=m["url"],
        payload=m["payload"],
        created_at=m["created_at"],
    )


def _delivery(row: sa.Row[tuple[object, ...]]) -> WebhookDelivery:
    m = row._mapping
    return WebhookDelivery(
        id=m["id"],
        event_id=m["event_id"],
        status=DeliveryStatus(m["status"]),
        attempts=int(m["attempts"]),
        next_attempt_at=m["next_attempt_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        completed_at=m["completed_at"],
    )


def _attempt(row: sa.Row[tuple[object, ...]]) -> WebhookAttempt:
    m = row._mapping
    return WebhookAttempt(
        delivery_id=m["delivery_id"],
        attempt=int(m["attempt"]),
        started_at=m["started_at"],
        duration_ms=int(m["duration_ms"]),
        status_code=m["status_code"],
        error_code=m["error_code"],
        error_message=m["error_message"],
        succeeded=bool(m["succeeded"]),
    )


def _new_delivery(delivery_id: str, event_id: str, now: float) -> dict[str, object]:
    return {
        "id": delivery_id,
        "event_id": event_id,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }


def _due(now: float) -> sa.ColumnElement[bool]:
    """Pending and due, or claimed by a process whose lease ran out (it died mid-attempt)."""
    d = webhook_deliveries.c
    return sa.or_(
        sa.and_(d.status == DeliveryStatus.PENDING.value, d.next_attempt_at <= now),
        sa.and_(d.status == DeliveryStatus.DELIVERING.value, d.lease_until < now),
    )


class WebhookRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def insert_event(self, event: WebhookEvent, delivery_id: str) -> bool:
        """Store the event and its first delivery (due now) in one transaction; False when the
        job already has an event of this type (the other writer won)."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    webhook_events.insert().values(
                        id=event.id,
                        job_id=event.job_id,
                        owner_key_id=event.owner_key_id,
                        type=event.type,
                        url=event.url,
                        payload=event.payload,
                        created_at=event.created_at,
                    )
                )
                conn.execute(
                    webhook_deliveries.insert().values(
                        **_new_delivery(delivery_id, event.id, event.created_at)
                    )
                )
        except sa.exc.IntegrityError:
            return False
        return True

    def due(self, now: float, limit: int) -> list[str]:
        """Ids of deliveries to attempt now: pending and due, or claimed by a process whose
        lease ran out (it died mid-attempt)."""
        d = webhook_deliveries.c
        q = sa.select(d.id).where(_due(now)).order_by(d.next_attempt_at).limit(limit)
        with self._engine.connect() as conn:
            return [r[0] for r in conn.execute(q).all()]

    def claim(
        self, delivery_id: str, token: str, now: float, lease_until: float
    ) -> tuple[WebhookEvent, WebhookDelivery] | None:
        """Take the delivery for one attempt; None when another process (or thread) has it or
        it is not due any more."""
        d = webhook_deliveries.c
        with self._engine.begin() as conn:
            res = conn.execute(
                webhook_deliveries.update()
                .where(d.id == delivery_id, _due(now))
                .values(
                    status=DeliveryStatus.DELIVERING.value,
                    claim_token=token,
                    lease_until=lease_until,
                    updated_at=now,
                )
            )
            if res.rowcount != 1:
                return None
            delivery = conn.execute(sa.select(webhook_deliveries).where(d.id == delivery_id)).one()
            event = conn.execute(
                sa.select(webhook_events).where(webhook_events.c.id == delivery.event_id)
            ).one()
        return _event(event), _delivery(delivery)

    def finish(
        self,
        attempt: WebhookAttempt,
        token: str,
        status: DeliveryStatus,
        next_attempt_at: float | None,
        now: float,
    ) -> bool:
        """Record the attempt and move the delivery on, only while `token` still holds the claim
        (False otherwise, and nothing is written)."""
        d = webhook_deliveries.c
        done = status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED)
        with self._engine.begin() as conn:
            res = conn.execute(
                webhook_deliveries.update()
                .where(
                    d.id == attempt.delivery_id,
                    d.status == DeliveryStatus.DELIVERING.value,
                    d.claim_token == token,
                )
                .values(
                    status=status.value,
                    attempts=attempt.attempt,
                    next_attempt_at=next_attempt_at,
                    claim_token=None,
                    lease_until=None,
                    updated_at=now,
                    completed_at=now if done else None,
                )
            )
            if res.rowcount != 1:
                return False
            conn.execute(
                webhook_attempts.insert().values(
                    delivery_id=attempt.delivery_id,
                    attempt=attempt.attempt,
                    started_at=attempt.started_at,
                    duration_ms=attempt.duration_ms,
                    status_code=attempt.status_code,
                    error_code=attempt.error_code,
                    error_message=attempt.error_message,
                    succeeded=attempt.succeeded,
                )
            )
        return True

    def event(self, job_id: str, event_id: str) -> WebhookEvent | None:
        e = webhook_events.c
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(webhook_events).where(e.id == event_id, e.job_id == job_id)
            ).first()
        return _event(row) if row else None

    def redeliver(self, event_id: str, delivery_id: str, now: float) -> WebhookDelivery:
        """Deliver the event again: a delivery still waiting for a retry is made due now;
        otherwise a new delivery (attempts from 1 again, same event id) is added."""
        d = webhook_deliveries.c
        with self._engine.begin() as conn:
            waiting = conn.execute(
                sa.select(d.id)
                .where(d.event_id == event_id, d.status == DeliveryStatus.PENDING.value)
                .order_by(d.created_at.desc())
            ).first()
            if waiting is not None:
                conn.execute(
                    webhook_deliveries.update()
                    .where(d.id == waiting[0], d.status == DeliveryStatus.PENDING.value)
                    .values(next_attempt_at=now, updated_at=now)
                )
                target = waiting[0]
            else:
                conn.execute(
                    webhook_deliveries.insert().values(**_new_delivery(delivery_id, event_id, now))
                )
                target = delivery_id
            row = conn.execute(sa.select(webhook_deliveries).where(d.id == target)).one()
        return _delivery(row)

    def log(self, job_id: str) -> list[EventLog]:
        """The job's events, oldest first, each with its deliveries and their attempts."""
        e, d, a = webhook_events.c, webhook_deliveries.c, webhook_attempts.c
        with self._engine.connect() as conn:
            events = conn.execute(
                sa.select(webhook_events).where(e.job_id == job_id).order_by(e.created_at, e.id)
            ).all()
            ids = [r._mapping["id"] for r in events]
            deliveries = conn.execute(
                sa.select(webhook_deliveries)
                .where(d.event_id.in_(ids))
                .order_by(d.created_at, d.id)
            ).all()
            delivery_ids = [r._mapping["id"] for r in deliveries]
            attempts = conn.execute(
                sa.select(webhook_attempts)
                .where(a.delivery_id.in_(delivery_ids))
                .order_by(a.delivery_id, a.attempt)
            ).all()
        by_delivery: dict[str, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
        for row in attempts:
            att = _attempt(row)
            by_delivery[att.delivery_id].append(att)
        by_event: dict[str, list[DeliveryLog]] = {i: [] for i in ids}
        for row in deliveries:
            dl = _delivery(row)
            by_event[dl.event_id].append(DeliveryLog(dl, tuple(by_delivery[dl.id])))
        return [EventLog(_event(r), tuple(by_event[r._mapping["id"]])) for r in events]

    def jobs_missing_events(self, since: float) -> list[str]:
        """Ids of jobs that ended since `since` with a webhook URL but no event: the listener
        never ran for them (the process died between the status change and the insert)."""
        j, e = jobs.c, webhook_events.c
        url = j.spec["webhook_url"].as_string()
        q = (
            sa.select(j.id)
            .where(
                j.status.in_([s.value for s in TERMINAL]),
                j.completed_at >= since,
                url.is_not(None),
                url != "",
                ~sa.exists().where(e.job_id == j.id, ~e.type.like("video.progress%")),
            )
            .order_by(j.completed_at)
        )
        with self._engine.connect() as conn:
            return [r[0] for r in conn.execute(q).all()]
