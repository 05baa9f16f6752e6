"""Job -> Ark task object: the body of GET, of each list item and of the `callback_url` POST.

Usage follows Ark's token formula: tokens = (seconds of the input videos + seconds of the
output) x width x height x 24 / 1024, rounded down, on succeeded tasks only (failed, cancelled
and expired tasks are not billed); `completion_tokens` = `total_tokens`.
"""

from __future__ import annotations

from typing import Any

from reelforge.core.job import Job, JobError, JobStatus
from reelforge.jobs.views import JobView
from reelforge.presenters.common import job_warnings
from reelforge.spec import ReferenceKind

ARK_DIALECT = "ark"

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


def _content(view: JobView) -> dict[str, Any]:
    """Every key of the SDKs' `Content` type; `null` where there is nothing (no video yet, no
    last frame asked, `file_url` is for 3D outputs)."""
    last_frame = view.url("last_frame") if view.job.return_last_frame else None
    return {"video_url": view.url("video"), "last_frame_url": last_frame, "file_url": None}


def task_object(view: JobView) -> dict[str, Any]:
    """Every field of the Ark SDKs' `ContentGenerationTask` (byteplus and volcengine, whose
    types declare them all) is present; those that do not apply are `null`, as Ark sends
    `error: null`: `frames` (Ark returns duration or frames, never both), `draft_task_id`,
    `subdivisionlevel` and `fileformat` (3D outputs)."""
    job = view.job
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
        "content": _content(view),
        "seed": job.seed,
        "resolution": job.resolution.value,
        "ratio": job.aspect_ratio.value,
        "duration": _duration(job),
        "framespersecond": job.fps,
        "generate_audio": job.generate_audio,
        "frames": None,
        "draft": False,
        "draft_task_id": None,
        "service_tier": "default",
        "execution_expires_after": expires_after,
        "priority": 0,  # one priority for every task: `priority` on create is not honoured
        "revised_prompt": job.prompt,  # the prompt rendered (flags out; image-only tasks' own)
        "safety_identifier": job.end_user_id,
        "output_format": "mp4",
        "subdivisionlevel": None,
        "fileformat": None,
        "tools": [],
        "usage": {"completion_tokens": used, "total_tokens": used},
        "engine": job.resolved.label,
        "warnings": job_warnings(job),
    }


def callback_body(
    view: JobView, _event_id: str, _event_type: str, _created: float
) -> dict[str, Any]:
    """The `callback_url` body: the task object, as Ark posts it (built when the job ends)."""
    return task_object(view)


_BY_STATUS = {
    400: ("InvalidParameter", "BadRequest"),
    401: ("AuthenticationError", "Unauthorized"),
    402: ("AccountOverdueError", "Forbidden"),
    403: ("AccessDenied", "Forbidden"),
    404: ("ResourceNotFound", "NotFound"),
    405: ("InvalidParameter", "BadRequest"),
    409: ("OperationDenied", "Conflict"),
    413: ("InvalidParameter", "BadRequest"),
    422: ("InvalidParameter", "BadRequest"),
    429: ("RateLimitExceeded", "TooManyRequests"),
    503: ("ServerOverloaded", "ServiceUnavailable"),
}
_BY_CODE = {
    "invalid_request.unknown_model": ("InvalidEndpointOrModel.NotFound", "NotFound"),
    "invalid_request.missing_parameter": ("MissingParameter", "BadRequest"),
    "invalid_request.prompt": ("MissingParameter", "BadRequest"),
    "moderation.input.text": ("InputTextSensitiveContentDetected", "BadRequest"),
    "moderation.input.reference": ("InputImageSensitiveContentDetected", "BadRequest"),
    "moderation.output": ("OutputVideoSensitiveContentDetected", "BadRequest"),
    "expired.execution": ("TaskExpired", "BadRequest"),
}
_SERVER = ("InternalServiceError", "InternalServerError")


def ark_code(code: str, http_status: int) -> tuple[str, str]:
    """(Ark code, Ark type) for one of our codes."""
    for ours, ark in _BY_CODE.items():
        if code == ours or code.startswith(ours + "."):
            return ark
    return _BY_STATUS.get(http_status, _SERVER)


def task_error(error: JobError | None) -> dict[str, Any] | None:
    """A job's stored error as a task's `error` object."""
    if error is None:
        return None
    ours = error.code or "internal"
    code, _ = ark_code(
        ours, 400 if ours.startswith(("invalid_request", "invalid_reference")) else 500
    )
    return {"code": code, "message": f"{error.message} ({ours})", "reelforge_code": ours}
