"""A batch's snapshot -> the native Batch object, its items (also the lines of
`GET /v1/batches/{id}/results`) and the `batch.completed` webhook event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reelforge.core.batch import BatchItem, ItemState
from reelforge.core.job import Job, JobStatus
from reelforge.jobs.batch_items import BatchOverview, BatchSnapshot, BatchTotals
from reelforge.jobs.views import JobView
from reelforge.presenters.native import NATIVE_STATUS

ITEM_STATUSES = ("pending", "queued", "in_progress", "completed", "failed", "canceled",
                 "expired", "skipped")  # fmt: skip


def item_status(item: BatchItem, job: Job | None) -> str:
    """`pending` (waiting in the batch), the job's status once admitted, `skipped` (never
    started: budget or cancel) or `failed` (refused at admission: no job)."""
    return _word(item.state, job.status if job is not None else None)


def batch_item(
    snapshot: BatchSnapshot, item: BatchItem, views: Mapping[str, JobView] | None = None
) -> dict[str, Any]:
    job = snapshot.job(item)
    view = views.get(job.id) if views is not None and job is not None else None
    error = item.error or (job.error.to_dict() if job is not None and job.error else None)
    return {
        "object": "batch.item",
        "batch_id": snapshot.batch.id,
        "index": item.index,
        "custom_id": item.custom_id,
        "take": item.take,
        "seed": item.seed,
        "status": item_status(item, job),
        "video_id": item.job_id,
        "quote": item.quote,
        "cost": view.cost if view is not None else (job.cost if job is not None else 0.0),
        "currency": snapshot.currency,
        "error": error,
        "urls": dict(view.urls) if view is not None and view.urls else None,
    }


def _word(state: ItemState, status: JobStatus | None) -> str:
    if state is ItemState.ADMITTED:
        return NATIVE_STATUS[status] if status is not None else "queued"
    return state.value


def request_counts(totals: BatchTotals) -> dict[str, int]:
    counts = dict.fromkeys(ITEM_STATUSES, 0)
    for state, status, n in totals.counts:
        counts[_word(state, status)] += n
    return {"total": sum(counts.values()), **counts}


def batch_summary(overview: BatchOverview) -> dict[str, Any]:
    """The Batch object without its items (lists, webhook events)."""
    batch, totals = overview.batch, overview.totals
    return {
        "id": batch.id,
        "object": "batch",
        "status": batch.status.value,
        "created_at": int(batch.created_at),
        "completed_at": int(batch.completed_at) if batch.completed_at else None,
        "metadata": dict(batch.metadata),
        "webhook_url": batch.webhook_url,
        "item_webhooks": batch.item_webhooks,
        "request_counts": request_counts(totals),
        "usage": {
            "cost": totals.charged,
            "committed": totals.committed,
            "max_cost": batch.max_cost,
            "currency": overview.currency,
        },
    }


def batch_object(snapshot: BatchSnapshot, views: Mapping[str, JobView]) -> dict[str, Any]:
    """The Batch object with every item (`GET /v1/batches/{id}`)."""
    return {
        **batch_summary(snapshot.overview),
        "items": [batch_item(snapshot, item, views) for item in snapshot.items],
    }


def batch_event_body(overview: BatchOverview, event_id: str, created_at: float) -> dict[str, Any]:
    """The `batch.completed` event: the Batch object without items (no download links; fetch
    `GET /v1/batches/{id}/results` for them)."""
    return {
        "id": event_id,
        "object": "event",
        "type": "batch.completed",
        "created_at": int(created_at),
        "data": batch_summary(overview),
    }
