"""Seed 002, the reference endpoint `/v1/bytedance/seedance-2.0/reference-to-video`.

    POST .../reference-to-video  {prompt, reference_images, reference_videos, reference_audio,
                                  duration, aspect_ratio} -> {id, status}
    GET  .../reference-to-video/{id} -> {id, status, output_url,
                                         metadata: {duration, resolution, file_size}, error}

Statuses `pending`, `processing`, `complete`, `failed` (canceled and expired read `failed`; the
error says which). Errors: `{status: "failed", error: {code, message, param}}`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from reelforge.api.common.dialect_common import (
    FlatShape,
    create_flat,
)
from reelforge.api.common.dialect_router import DialectRouter
from reelforge.api.deps import (
    DownloadsDep,
    GenerateKey,
    JobsDep,
    OptionsDep,
    ReadKey,
    SubmissionsDep,
    ViewsDep,
)
from reelforge.errors import ReelforgeError
from reelforge.jobs.views import JobView
from reelforge.presenters.common import job_error, job_seconds, job_warnings, status_words
from reelforge.storage.base import Storage

PREFIX = "/v1/bytedance/seedance-2.0/reference-to-video"
SHAPE = FlatShape(
    dialect="seed002",
    images=("reference_images", "image_urls"),
    videos=("reference_videos", "video_urls"),
    audios=("reference_audio", "reference_audios", "audio_urls"),
)
STATUS = status_words(
    queued="pending", running="processing", succeeded="complete", failed="failed",
    canceled="failed", expired="failed",
)  # fmt: skip


def error_body(err: ReelforgeError) -> dict[str, Any]:
    return {
        "status": "failed",
        "error": {"code": err.code, "message": err.message, "param": err.param},
    }


def present(view: JobView, storage: Storage) -> dict[str, Any]:
    job = view.job
    url = view.url("video")
    size = storage.size(job.outputs.video) if url and job.outputs.video else None
    return {
        "id": job.id,
        "status": STATUS[job.status],
        "output_url": url,
        "metadata": {
            "duration": job_seconds(job),
            "resolution": job.resolution.value,
            "width": job.width,
            "height": job.height,
            "aspect_ratio": job.aspect_ratio.value,
            "fps": job.fps,
            "file_size": size,
        },
        "error": job_error(job),
        "progress": int(job.progress),
        "created_at": int(job.created_at),
        "warnings": job_warnings(job),
    }


router = DialectRouter(render=error_body, prefixes=(PREFIX,), tags=["seed 002"])


async def create(
    request: Request, options: OptionsDep, submissions: SubmissionsDep, key: GenerateKey
) -> dict[str, Any]:
    job = await create_flat(request, options, submissions, key, SHAPE)
    return {"id": job.id, "status": STATUS[job.status]}


def retrieve(
    generation_id: str, jobs: JobsDep, views: ViewsDep, downloads: DownloadsDep, key: ReadKey
) -> dict[str, Any]:
    return present(views.view(jobs.get(key.id, generation_id)), downloads.storage)


router.add(PREFIX, create, methods=["POST"], summary="Create a video (seed 002)")
router.add(f"{PREFIX}/{{generation_id}}", retrieve, methods=["GET"],
           summary="Get a generation (seed 002)")  # fmt: skip
