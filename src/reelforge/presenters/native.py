"""A job's view -> the native Video object (shaped after the OpenAI Videos API)."""

from __future__ import annotations

from typing import Any

from reelforge.core.job import JobStatus
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
