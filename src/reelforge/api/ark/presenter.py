"""Job -> Ark task object: the body of GET, of each list item and of the `callback_url` POST.

Usage follows Ark's token formula: tokens = (seconds of the input videos + seconds of the
output) x width x height x 24 / 1024, rounded down, on succeeded tasks only (failed, cancelled
and expired tasks are not billed); `completion_tokens` = `total_tokens`.
"""

from __future__ import annotations

from typing import Any

from reelforge.api.ark.errors import task_error
from reelforge.api.videos.presenter import signed_content_url
from reelforge.jobs.models import Job, JobStatus
from reelforge.platform.webhooks import BodyBuilder
from reelforge.runtime import Runtime
from reelforge.spec import ReferenceKind

ARK_STATUS = {
    JobStatus.QUEUED: "queued",
    JobStatus.RUNNING: "running",
    JobStatus.SUCCEEDED: "succeeded",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELED: "cancelled",
    JobStatus.EXPIRED: "expired",
}
STATUS_FROM_ARK = {word: status for status, word in ARK_STATUS.items()}


def tokens(job: Job) -> int:
    if job.status is not JobStatus.SUCCEEDED or not job.output_seconds:
        return 0
    input_video = sum(r.seconds or 0.0 for r in job.references if r.kind is ReferenceKind.VIDEO)
    return int((input_video + job.output_seconds) * job.width * job.height * job.fps / 1024)


def _duration(job: Job) -> int:
    """The delivered length once planned; as asked before; -1 while `auto` is undecided."""
    if job.output_seconds:
        return round(job.output_seconds)
    return job.seconds if job.seconds is not None else -1


def _content(runtime: Runtime, job: Job) -> dict[str, Any]:
    done = job.status is JobStatus.SUCCEEDED and job.outputs.video is not None
    content: dict[str, Any] = {
        "video_url": signed_content_url(runtime, job, "video") if done else None
    }
    if job.return_last_frame:
        has_frame = done and job.outputs.last_frame is not None
        content["last_frame_url"] = (
            signed_content_url(runtime, job, "last_frame") if has_frame else None
        )
    return content


def task_object(runtime: Runtime, job: Job) -> dict[str, Any]:
    used = tokens(job)
    expires_after = (
        round(job.execution_deadline - job.created_at) if job.execution_deadline else None
    )
    failed = job.status in (JobStatus.FAILED, JobStatus.EXPIRED)
    return {
        "id": job.id,
        "model": job.model,
        "status": ARK_STATUS[job.status],
        "error": task_error(job.error) if failed else None,
        "created_at": int(job.created_at),
        "updated_at": int(job.updated_at),
        "content": _content(runtime, job),
        "seed": job.seed,
        "resolution": job.resolution.value,
        "ratio": job.aspect_ratio.value,
        "duration": _duration(job),
        "framespersecond": job.fps,
        "generate_audio": job.generate_audio,
        "draft": False,
        "service_tier": "default",
        "execution_expires_after": expires_after,
        "safety_identifier": job.end_user_id,
        "usage": {"completion_tokens": used, "total_tokens": used},
        "engine": job.engine,
    }


def callback_body(runtime: Runtime) -> BodyBuilder:
    """The `callback_url` body: the task object, as Ark posts it (built when the job ends)."""

    def build(job: Job, _event_id: str, _event_type: str, _created_at: float) -> dict[str, Any]:
        return task_object(runtime, job)

    return build
