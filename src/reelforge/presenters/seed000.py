"""A job's view -> seed 000's status object (the "BytePlus REST pattern", `/seedance/v1`); its
error body. Routes and wire parsing: `api/seed_dialects/seed000.py`.

Statuses `queued`, `processing`, `completed`, `failed`. The seed's loop ends only on `completed`
or `failed`, so a canceled or expired job reads `failed` (its `error` says which), and an error
body carries `status: "failed"` too: a loop polling an unknown id stops with the message.
"""

from __future__ import annotations

from typing import Any

from reelforge.core.job import Job
from reelforge.errors import ReelforgeError
from reelforge.jobs.views import JobView
from reelforge.presenters.common import job_error, job_warnings, status_words

DIALECT = "seed000"
STATUS = status_words(
    queued="queued", running="processing", succeeded="completed", failed="failed",
    canceled="failed", expired="failed",
)  # fmt: skip


def error_body(err: ReelforgeError) -> dict[str, Any]:
    return {"status": "failed", "error": err.message, "code": err.code, "param": err.param}


def created(job: Job) -> dict[str, Any]:
    """`POST /seedance/v1/generate`."""
    return {"job_id": job.id, "status": STATUS[job.status]}


def present(view: JobView) -> dict[str, Any]:
    """`GET /seedance/v1/status/{job_id}`."""
    job = view.job
    err = job_error(job)
    return {
        "job_id": job.id,
        "status": STATUS[job.status],
        "video_url": view.url("video"),
        "error": err["message"] if err else None,
        "code": err["code"] if err else None,
        "progress": int(job.progress),
        "created_at": int(job.created_at),
        "warnings": job_warnings(job),
    }
