"""Seed 001, the AI/ML API pattern: `/v2/generate/video`.

    POST /v2/generate/video  {model, image_url, prompt, duration, resolution, aspect_ratio}
                             -> {id, task_id, status}
    GET  /v2/generate/video/{task_id} -> {task_id, status, video_url, video: {url}, error}

Statuses `queued`, `processing`, `completed`, `failed` (canceled and expired read `failed`).
`image_url` is one URL or base64 string; `image_urls` a list. Errors in AI/ML API's shape:
`{message, statusCode, requestId, timestamp}` plus our `code` and `param`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request

from reelforge.api.common.dialect_common import (
    FlatShape,
    create_flat,
)
from reelforge.api.common.dialect_router import DialectRouter
from reelforge.api.common.strict_fields import Unsupported
from reelforge.api.deps import GenerateKey, JobsDep, OptionsDep, ReadKey, SubmissionsDep, ViewsDep
from reelforge.errors import ReelforgeError
from reelforge.jobs.views import JobView
from reelforge.logs import request_id_var
from reelforge.presenters.common import job_error, job_warnings, status_words

PREFIX = "/v2/generate/video"
SHAPE = FlatShape(
    dialect="seed001",
    images=("image_url", "image_urls"),
    unsupported={  # named in the seed's prose; refused rather than silently ignored
        "motion_strength": Unsupported(
            "the engines take the motion from the prompt's camera and action words; there is "
            "no strength knob to map it to"
        ),
    },
)
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


def present(view: JobView) -> dict[str, Any]:
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


router = DialectRouter(render=error_body, prefixes=(PREFIX,), tags=["seed 001"])


async def create(
    request: Request, options: OptionsDep, submissions: SubmissionsDep, key: GenerateKey
) -> dict[str, Any]:
    job = await create_flat(request, options, submissions, key, SHAPE)
    return {"id": job.id, "task_id": job.id, "status": STATUS[job.status]}


def retrieve(task_id: str, jobs: JobsDep, views: ViewsDep, key: ReadKey) -> dict[str, Any]:
    return present(views.view(jobs.get(key.id, task_id)))


router.add(PREFIX, create, methods=["POST"], summary="Create a video (seed 001)")
router.add(f"{PREFIX}/{{task_id}}", retrieve, methods=["GET"],
           summary="Get a video task (seed 001)")  # fmt: skip
