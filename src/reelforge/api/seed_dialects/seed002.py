"""Seed 002, the reference endpoint `/v1/bytedance/seedance-2.0/reference-to-video`.

    POST .../reference-to-video  {prompt, reference_images, reference_videos, reference_audio,
                                  duration, aspect_ratio} -> {id, status}
    GET  .../reference-to-video/{id} -> {id, status, output_url,
                                         metadata: {duration, resolution, file_size}, error}

The wire body and the routes (the retrieve route reads the video's size from storage); the
generation object, the status words and the error body are in `presenters/seed002.py`.
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
from reelforge.presenters.seed002 import DIALECT, created, error_body, present

PREFIX = "/v1/bytedance/seedance-2.0/reference-to-video"
SHAPE = FlatShape(
    dialect=DIALECT,
    images=("reference_images", "image_urls"),
    videos=("reference_videos", "video_urls"),
    audios=("reference_audio", "reference_audios", "audio_urls"),
)

router = DialectRouter(render=error_body, prefixes=(PREFIX,), tags=["seed 002"])


async def create(
    request: Request, options: OptionsDep, submissions: SubmissionsDep, key: GenerateKey
) -> dict[str, Any]:
    return created(await create_flat(request, options, submissions, key, SHAPE))


def retrieve(
    generation_id: str, jobs: JobsDep, views: ViewsDep, downloads: DownloadsDep, key: ReadKey
) -> dict[str, Any]:
    view = views.view(jobs.get(key.id, generation_id))
    video = view.job.outputs.video
    size = downloads.storage.size(video) if view.url("video") and video else None
    return present(view, size)


router.add(PREFIX, create, methods=["POST"], summary="Create a video (seed 002)")
router.add(f"{PREFIX}/{{generation_id}}", retrieve, methods=["GET"],
           summary="Get a generation (seed 002)")  # fmt: skip
