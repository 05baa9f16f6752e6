"""`/openai/v1/videos`: the OpenAI Videos API as OpenAI publishes it (docs/api/openai.md).

The same jobs as the native `/v1/videos` (one key sees its videos on both), with OpenAI's
behaviour where the two differ: create and remix answer 200 (the native API answers 202), a
field left out means OpenAI's default (model `sora-2`, 4 seconds, 720x1280), and the Video
object has OpenAI's four status words (`presenters.openai`). Errors have the native body, which
is OpenAI's (`{"error": {"code", "message", "param", "type"}}`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reelforge.api.deps import GenerateKey, JobsDep, OptionsDep, ReadKey, SubmissionsDep, ViewsDep
from reelforge.api.openai import OPENAI_PREFIX
from reelforge.api.videos.mapping import OPENAI_DEFAULTS
from reelforge.api.videos.routes import (
    CREATE_BODY,
    REMIX_BODY,
    create_response,
    delete_video,
    get_response,
    list_route,
    remix_response,
    video_content,
)
from reelforge.presenters.openai import openai_video_object

router = APIRouter(prefix=f"{OPENAI_PREFIX}/videos", tags=["openai"])


@router.post("", openapi_extra=CREATE_BODY, summary="Create a video (200, OpenAI's defaults)")
async def create(
    request: Request,
    options: OptionsDep,
    submissions: SubmissionsDep,
    views: ViewsDep,
    key: GenerateKey,
) -> JSONResponse:
    return await create_response(
        request, options, submissions, views, key,
        defaults=OPENAI_DEFAULTS, status_code=200, present=openai_video_object,
    )  # fmt: skip


@router.post(
    "/{video_id}/remix",
    openapi_extra=REMIX_BODY,
    summary="Remix a completed video with a new prompt",
)
async def remix(
    video_id: str,
    request: Request,
    options: OptionsDep,
    submissions: SubmissionsDep,
    views: ViewsDep,
    key: GenerateKey,
) -> JSONResponse:
    return await remix_response(
        video_id, request, options, submissions, views, key,
        status_code=200, present=openai_video_object,
    )  # fmt: skip


router.add_api_route("", list_route(openai_video_object), methods=["GET"], summary="List videos")


@router.get("/{video_id}", summary="Retrieve a video")
def retrieve(video_id: str, jobs: JobsDep, views: ViewsDep, key: ReadKey) -> JSONResponse:
    return get_response(video_id, jobs, views, key, openai_video_object)


router.add_api_route(
    "/{video_id}", delete_video, methods=["DELETE"], summary="Delete a finished video"
)
router.add_api_route(
    "/{video_id}/content", video_content, methods=["GET"],
    summary="Download the video, thumbnail, spritesheet or last frame",
)  # fmt: skip
