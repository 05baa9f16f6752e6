"""Job -> native Video object (shaped after the OpenAI Videos API)."""

from __future__ import annotations

from typing import Any

from reelforge.jobs.models import Job, JobStatus
from reelforge.jobs.views import video_fields
from reelforge.runtime import Runtime

NATIVE_STATUS = {
    JobStatus.QUEUED: "queued",
    JobStatus.RUNNING: "in_progress",
    JobStatus.SUCCEEDED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELED: "canceled",
    JobStatus.EXPIRED: "expired",
}
VARIANTS = ("video", "thumbnail", "last_frame")


def signed_content_url(runtime: Runtime, job: Job, variant: str) -> str:
    expires, signature = runtime.signer.sign(f"{job.id}/{variant}")
    base = runtime.settings.resolved_public_url
    return (
        f"{base}/v1/videos/{job.id}/content?variant={variant}"
        f"&expires={expires}&signature={signature}"
    )


def download_urls(runtime: Runtime, job: Job) -> dict[str, str] | None:
    if job.status is not JobStatus.SUCCEEDED or job.outputs.video is None:
        return None
    return {v: signed_content_url(runtime, job, v) for v in VARIANTS}


def billed_seconds(job: Job) -> float:
    return float(job.output_seconds or 0.0) if job.status is JobStatus.SUCCEEDED else 0.0


def video_object(runtime: Runtime, job: Job) -> dict[str, Any]:
    billed = billed_seconds(job)
    return {
        **video_fields(job),
        "status": NATIVE_STATUS[job.status],
        "progress": int(job.progress),
        "stage": job.stage.value,
        "queue_position": runtime.jobs.queue_position(job),
        "expires_at": int(job.expires_at) if job.expires_at else None,
        "prompt": job.prompt,
        "usage": {
            "billed_seconds": billed,
            "cost": runtime.prices.cost(job.engine, job.resolution, billed),
            "currency": runtime.prices.currency,
        },
        "remixed_from_video_id": None,
        "urls": download_urls(runtime, job),
        # The shot plan the engine followed (shots, camera moves, timing, @Image bindings).
        "plan": job.plan,
    }
