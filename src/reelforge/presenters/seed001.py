"""A job's view -> seed 001's video task (the AI/ML API pattern, `/v2/generate/video`); its
error body. Routes and wire parsing: `api/seed_dialects/seed001.py`.

Statuses `queued`, `processing`, `completed`, `failed` (canceled and expired read `failed`).
Errors in AI/ML API's shape: `{message, statusCode, requestId, timestamp}` plus our `code` and
`param`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reelforge.core.job import Job
from reelforge.errors import ReelforgeError
from reelforge.jobs.views import JobView
from reelforge.logs import request_id_var
from reelforge.presenters.common import job_error, job_warnings, status_words

DIALECT = "seed001"
STATUS = status_words(
    queued="queued", running="processing", succeeded="completed", failed="failed",
    canceled="failed", expired="failed",
)  # fmt: skip


def error_body(err: ReelforgeError) -> dict[str, Any]:
    return {
        "message": err.message,
        "statusCode": err.http_status,
        "requestId": request_id_var.get(),
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "code": err.code,
        "param": err.param,
    }


def created(job: Job) -> dict[str, Any]:
    """`POST /v2/generate/video`."""
    return {"id": job.id, "task_id": job.id, "status": STATUS[job.status]}


def present(view: JobView) -> dict[str, Any]:
    """`GET /v2/generate/video/{task_id}`."""
    job = view.job
    url = view.url("video")
    return {
        "id": job.id,
        "task_id": job.id,
        "model": job.model,
        "status": STATUS[job.status],
        "video_url": url,
        "video": {"url": url} if url else None,
        "error": job_error(job),
        "progress": int(job.progress),
        "created_at": int(job.created_at),
        "warnings": job_warnings(job),
    }
