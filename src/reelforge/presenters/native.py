"""A job's view -> the native Video object (shaped after the OpenAI Videos API)."""

from __future__ import annotations

from typing import Any

from reelforge.core.job import JobStatus
from reelforge.jobs.submissions import PreparedRequest
from reelforge.jobs.views import JobView, video_fields

NATIVE_STATUS = {
    JobStatus.QUEUED: "queued",
    JobStatus.RUNNING: "in_progress",
    JobStatus.SUCCEEDED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELED: "canceled",
    JobStatus.EXPIRED: "expired",
}


def video_object(view: JobView) -> dict[str, Any]:
    job = view.job
    return {
        **video_fields(job),
        "status": NATIVE_STATUS[job.status],
        "progress": int(job.progress),
        "stage": job.stage.value,
        "queue_position": view.queue_position,
        "expires_at": int(job.expires_at) if job.expires_at else None,
        "prompt": job.prompt,
        "usage": {
            "billed_seconds": view.billed_seconds,
            "cost": view.cost,
            "currency": view.currency,
        },
        "remixed_from_video_id": job.remixed_from,
        "urls": dict(view.urls) if view.urls else None,
        # The shot plan the engine followed (shots, camera moves, timing, @Image bindings).
        "plan": job.plan,
        # What the delivered video measures against that plan (null until measured).
        "quality": job.quality,
    }


def quote_object(prepared: PreparedRequest) -> dict[str, Any]:
    """`POST /v1/videos/quote`: what a create of the same request would deliver and bill."""
    spec = prepared.spec
    return {
        "object": "video.quote",
        "model": spec.model,
        "engine": prepared.resolved.label,
        "size": f"{prepared.width}x{prepared.height}",
        "resolution": spec.resolution.value,
        "aspect_ratio": prepared.aspect_ratio.value,
        "seconds": spec.seconds if spec.seconds is not None else "auto",
        "billed_seconds": prepared.billed_seconds,
        "cost": prepared.cost,
        "currency": prepared.currency,
        "warnings": [w.to_dict() for w in prepared.warnings],
        "references": [
            {"type": r.kind.value, "role": r.role.value, "index": r.index, "sha256": r.sha256,
             "mime_type": r.mime_type, "width": r.width, "height": r.height,
             "seconds": r.seconds}
            for r in prepared.references
        ],
    }  # fmt: skip
