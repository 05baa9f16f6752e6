"""A job's view -> seed 002's generation (the reference endpoint
`/v1/bytedance/seedance-2.0/reference-to-video`); its error body. Routes and wire parsing:
`api/seed_dialects/seed002.py`.

Statuses `pending`, `processing`, `complete`, `failed` (canceled and expired read `failed`; the
error says which). Errors: `{status: "failed", error: {code, message, param}}`.
"""

from __future__ import annotations

from typing import Any

from reelforge.core.job import Job
from reelforge.errors import ReelforgeError
from reelforge.jobs.views import JobView
from reelforge.presenters.common import job_error, job_seconds, job_warnings, status_words

DIALECT = "seed002"
STATUS = status_words(
    queued="pending", running="processing", succeeded="complete", failed="failed",
    canceled="failed", expired="failed",
)  # fmt: skip


def error_body(err: ReelforgeError) -> dict[str, Any]:
    return {
        "status": "failed",
        "error": {"code": err.code, "message": err.message, "param": err.param},
    }


def created(job: Job) -> dict[str, Any]:
    """`POST .../reference-to-video`."""
    return {"id": job.id, "status": STATUS[job.status]}


def present(view: JobView, file_size: int | None) -> dict[str, Any]:
    """`GET .../reference-to-video/{id}`. `file_size` is the video's size in bytes, which the
    route reads from storage (None until there is a video)."""
    job = view.job
    return {
        "id": job.id,
        "status": STATUS[job.status],
        "output_url": view.url("video"),
        "metadata": {
            "duration": job_seconds(job),
            "resolution": job.resolution.value,
            "width": job.width,
            "height": job.height,
            "aspect_ratio": job.aspect_ratio.value,
            "fps": job.fps,
            "file_size": file_size,
        },
        "error": job_error(job),
        "progress": int(job.progress),
        "created_at": int(job.created_at),
        "warnings": job_warnings(job),
    }
