"""Seed 000, the "BytePlus REST pattern": `/seedance/v1/generate` and `/seedance/v1/status/{id}`.

    POST /seedance/v1/generate   {prompt, resolution, duration, aspect_ratio,
                                  reference_images: [raw base64 | URL | data URI]} -> {job_id}
    GET  /seedance/v1/status/{job_id}   -> {job_id, status, video_url, error}

The wire body and the routes; the status object, the status words and the error body are in
`presenters/seed000.py`.
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
from reelforge.presenters.seed000 import DIALECT, created, error_body, present

PREFIX = "/seedance/v1"
SHAPE = FlatShape(dialect=DIALECT, images=("reference_images",))

router = DialectRouter(render=error_body, prefixes=(PREFIX,), tags=["seed 000"])


async def generate(
    request: Request, options: OptionsDep, submissions: SubmissionsDep, key: GenerateKey
) -> dict[str, Any]:
    return created(await create_flat(request, options, submissions, key, SHAPE))


def status(job_id: str, jobs: JobsDep, views: ViewsDep, key: ReadKey) -> dict[str, Any]:
    return present(views.view(jobs.get(key.id, job_id)))


router.add(f"{PREFIX}/generate", generate, methods=["POST"], summary="Create a video (seed 000)")
router.add(f"{PREFIX}/status/{{job_id}}", status, methods=["GET"],
           summary="Status of a video (seed 000)")  # fmt: skip
