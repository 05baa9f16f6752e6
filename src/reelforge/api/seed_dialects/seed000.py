"""Seed 000, the "BytePlus REST pattern": `/seedance/v1/generate` and `/seedance/v1/status/{id}`.

    POST /seedance/v1/generate   {prompt, resolution, duration, aspect_ratio,
                                  reference_images: [raw base64 | URL | data URI]} -> {job_id}
    GET  /seedance/v1/status/{job_id}   -> {job_id, status, video_url, error}

Statuses `queued`, `processing`, `completed`, `failed`. The seed's loop ends only on `completed`
or `failed`, so a canceled or expired job reads `failed` (its `error` says which), and an error
body carries `status: "failed"` too: a loop polling an unknown id stops with the message.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from reelforge.api.common.dialect_common import (
    FlatShape,
    create_flat,
)
from reelforge.api.common.dialect_router import DialectRouter
from reelforge.api.deps import GenerateKey, JobsDep, OptionsDep, ReadKey, SubmissionsDep, ViewsDep
from reelforge.errors import ReelforgeError
from reelforge.jobs.views import JobView
from reelforge.presenters.common import job_error, job_warnings, status_words

PREFIX = "/seedance/v1"
SHAPE = FlatShape(dialect="seed000", images=("reference_images",))
STATUS = status_words(
    queued="queued", running="processing", succeeded="completed", failed="failed",
    canceled="failed", expired="failed",
)  # fmt: skip


def error_body(err: ReelforgeError) -> dict[str, Any]:
    return {"status": "failed", "error": err.message, "code": err.code, "param": err.param}


def present(view: JobView) -> dict[str, Any]:
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


router = DialectRouter(render=error_body, prefixes=(PREFIX,), tags=["seed 000"])


async def generate(
    request: Request, options: OptionsDep, submissions: SubmissionsDep, key: GenerateKey
) -> dict[str, Any]:
    job = await create_flat(request, options, submissions, key, SHAPE)
    return {"job_id": job.id, "status": STATUS[job.status]}


def status(job_id: str, jobs: JobsDep, views: ViewsDep, key: ReadKey) -> dict[str, Any]:
    return present(views.view(jobs.get(key.id, job_id)))


router.add(f"{PREFIX}/generate", generate, methods=["POST"], summary="Create a video (seed 000)")
router.add(f"{PREFIX}/status/{{job_id}}", status, methods=["GET"],
           summary="Status of a video (seed 000)")  # fmt: skip
