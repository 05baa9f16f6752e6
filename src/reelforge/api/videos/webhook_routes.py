"""Native API: a video's webhook delivery log and redeliver."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from reelforge.api.deps import JobsDep, ReadKey, WebhooksDep
from reelforge.platform.keys import Scope, require_scope
from reelforge.store.webhook_repository import (
    DeliveryLog,
    EventLog,
    WebhookAttempt,
    WebhookDelivery,
)

router = APIRouter(prefix="/v1/videos", tags=["webhooks"])


def _time(value: float | None) -> int | None:
    return int(value) if value is not None else None


def attempt_object(a: WebhookAttempt) -> dict[str, Any]:
    error = None if a.error_code is None else {"code": a.error_code, "message": a.error_message}
    return {
        "attempt": a.attempt,
        "started_at": round(a.started_at, 3),
        "duration_ms": a.duration_ms,
        "status_code": a.status_code,
        "succeeded": a.succeeded,
        "error": error,
    }


def delivery_object(
    d: WebhookDelivery, attempts: tuple[WebhookAttempt, ...] = ()
) -> dict[str, Any]:
    return {
        "id": d.id,
        "object": "webhook_delivery",
        "event_id": d.event_id,
        "status": d.status.value,
        "attempt_count": d.attempts,
        "next_attempt_at": round(d.next_attempt_at, 3) if d.next_attempt_at else None,
        "created_at": _time(d.created_at),
        "completed_at": _time(d.completed_at),
        "attempts": [attempt_object(a) for a in attempts],
    }


def event_object(e: EventLog) -> dict[str, Any]:
    deliveries: tuple[DeliveryLog, ...] = e.deliveries
    latest = deliveries[-1].delivery.status.value if deliveries else None
    return {
        "id": e.event.id,
        "object": "webhook_event",
        "type": e.event.type,
        "url": e.event.url,
        "created_at": _time(e.event.created_at),
        "status": latest,
        "payload": json.loads(e.event.payload),
        "deliveries": [delivery_object(d.delivery, d.attempts) for d in deliveries],
    }


@router.get("/{video_id}/webhooks", summary="The video's webhook events and delivery attempts")
def list_webhooks(
    video_id: str, jobs: JobsDep, webhooks: WebhooksDep, key: ReadKey
) -> dict[str, Any]:
    jobs.get(key.id, video_id)  # 404 for an unknown video or another key's
    data = [event_object(e) for e in webhooks.log(video_id)]
    return {"object": "list", "data": data}


@router.post(
    "/{video_id}/webhooks/{event_id}/redeliver",
    status_code=202,
    summary="Deliver a webhook event again (same event id, same body)",
)
def redeliver_webhook(
    video_id: str, event_id: str, jobs: JobsDep, webhooks: WebhooksDep, key: ReadKey
) -> JSONResponse:
    require_scope(key, Scope.GENERATE)
    jobs.get(key.id, video_id)
    delivery = webhooks.redeliver(video_id, event_id)
    return JSONResponse(delivery_object(delivery), status_code=202)
