"""A job's view -> seed 004's video generation (the generic v2 API `/v2/generations` and its
AtlasCloud variant `/v1/video/generations`: same response, same status words). Routes and wire
parsing: `api/seed_dialects/seed004.py`.

Statuses `queued`, `processing`, `succeeded`, `failed` (canceled and expired read `failed`: the
seed's loops end only on `succeeded` or `failed`). `mode` is read back from the references:
none is `t2v`, a first or last frame `i2v`, references only `r2v`. Errors are the native body
(`api.errors.native_error_body`), the OpenAI-compatible shape AtlasCloud exposes.
"""

from __future__ import annotations

from typing import Any

from reelforge.core.job import Job
from reelforge.jobs.views import JobView
from reelforge.presenters.common import job_error, job_seconds, job_warnings, status_words
from reelforge.spec import ReferenceRole

DIALECT = "seed004"
ATLAS_DIALECT = "atlascloud"
STATUS = status_words(
    queued="queued", running="processing", succeeded="succeeded", failed="failed",
    canceled="failed", expired="failed",
)  # fmt: skip


def _mode(job: Job) -> str:
    if not job.references:
        return "t2v"
    framed = any(r.role is not ReferenceRole.REFERENCE for r in job.references)
    return "i2v" if framed else "r2v"


def created(job: Job) -> dict[str, Any]:
    """`POST /v2/generations` and `POST /v1/video/generations`."""
    return {"id": job.id, "job_id": job.id, "status": STATUS[job.status]}


def present(view: JobView) -> dict[str, Any]:
    """`GET /v2/generations/{job_id}` and `GET /v1/video/generations/{job_id}`."""
    job = view.job
    return {
        "id": job.id,
        "job_id": job.id,
        "object": "video.generation",
        "model": job.model,
        "status": STATUS[job.status],
        "output_url": view.url("video"),
        "error": job_error(job),
        "progress": int(job.progress),
        "mode": _mode(job),
        "duration": job_seconds(job),
        "resolution": job.resolution.value,
        "aspect_ratio": job.aspect_ratio.value,
        "size": f"{job.width}x{job.height}",
        "fps": job.fps,
        "seed": job.seed,
        "created_at": int(job.created_at),
        "completed_at": int(job.completed_at) if job.completed_at else None,
        "warnings": job_warnings(job),
    }
