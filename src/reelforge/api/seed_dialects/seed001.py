"""Seed 001, the AI/ML API pattern: `/v2/generate/video`.

    POST /v2/generate/video  {model, image_url, prompt, duration, resolution, aspect_ratio}
                             -> {id, task_id, status}
    GET  /v2/generate/video/{task_id} -> {task_id, status, video_url, video: {url}, error}

`image_url` is one URL or base64 string; `image_urls` a list. The wire body and the routes; the
task object, the status words and the error body are in `presenters/seed001.py`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from reelforge.api.common.dialect_common import (
    FlatShape,
    create_flat,
)
from reelforge.api.common.dialect_router import DialectRouter
from reelforge.api.common.strict_fields import Unsupported
from reelforge.api.deps import GenerateKey, JobsDep, OptionsDep, ReadKey, SubmissionsDep, ViewsDep
from reelforge.presenters.seed001 import DIALECT, created, error_body, present

PREFIX = "/v2/generate/video"
SHAPE = FlatShape(
    dialect=DIALECT,
    images=("image_url", "image_urls"),
    unsupported={  # named in the seed's prose; refused rather than silently ignored
        "motion_strength": Unsupported(
            "the engines take the motion from the prompt's camera and action words; there is "
            "no strength knob to map it to"
        ),
    },
)

router = DialectRouter(render=error_body, prefixes=(PREFIX,), tags=["seed 001"])


async def create(
    request: Request, options: OptionsDep, submissions: SubmissionsDep, key: GenerateKey
) -> dict[str, Any]:
    return created(await create_flat(request, options, submissions, key, SHAPE))


def retrieve(task_id: str, jobs: JobsDep, views: ViewsDep, key: ReadKey) -> dict[str, Any]:
    return present(views.view(jobs.get(key.id, task_id)))


router.add(PREFIX, create, methods=["POST"], summary="Create a video (seed 001)")
router.add(f"{PREFIX}/{{task_id}}", retrieve, methods=["GET"],
           summary="Get a video task (seed 001)")  # fmt: skip
