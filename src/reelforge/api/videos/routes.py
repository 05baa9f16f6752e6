"""Native API: /v1/videos."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import PurePosixPath
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.datastructures import UploadFile

from reelforge import codes
from reelforge.api.common.openapi import inline_schema
from reelforge.api.deps import (
    Downloads,
    DownloadsDep,
    GenerateKey,
    HttpOptions,
    JobsDep,
    KeysDep,
    OptionsDep,
    ReadKey,
    SubmissionsDep,
    ViewsDep,
    current_key,
    key_from_headers,
)
from reelforge.api.videos.mapping import (
    NATIVE_DEFAULTS,
    CreateDefaults,
    Upload,
    spec_from_fields,
)
from reelforge.api.videos.wire import VideoCreateRequest
from reelforge.core.job import Job, JobStatus
from reelforge.errors import InvalidRequest, NotFound, PayloadTooLarge
from reelforge.jobs.service import JobService
from reelforge.jobs.submissions import Submissions
from reelforge.jobs.views import VARIANTS, JobView, JobViews
from reelforge.platform.keys import KeyRing, Scope, require_scope
from reelforge.presenters.native import quote_object, video_object
from reelforge.store.key_repository import ApiKeyRecord

router = APIRouter(prefix="/v1/videos", tags=["videos"])
Presenter = Callable[[JobView], dict[str, Any]]

_CREATE_BODY = {
    "requestBody": {
        "content": {
            "application/json": {"schema": inline_schema(VideoCreateRequest)},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "prompt": {"type": "string"}, "seconds": {"type": "string"},
                "size": {"type": "string"}, "model": {"type": "string"},
                "input_reference": {"type": "string", "format": "binary"},
                "references": {"type": "string", "description": "JSON list, as in JSON"},
            }, "required": ["prompt"]}},
        },
        "required": True,
    }
}  # fmt: skip

CREATE_BODY = _CREATE_BODY  # also documents the OpenAI-compatible create (api/openai/)

_STATUS_FILTER = {"queued": JobStatus.QUEUED, "in_progress": JobStatus.RUNNING,
                  "completed": JobStatus.SUCCEEDED, "failed": JobStatus.FAILED,
                  "canceled": JobStatus.CANCELED, "expired": JobStatus.EXPIRED}  # fmt: skip


async def read_create_fields(
    request: Request, max_bytes: int
) -> tuple[dict[str, Any], list[Upload]]:
    """The request's fields and uploaded files, JSON or multipart alike."""
    length = request.headers.get("content-length")
    if length and int(length) > max_bytes:
        raise PayloadTooLarge(f"request body is {length} bytes; at most {max_bytes}")
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data") or ctype.startswith(
        "application/x-www-form-urlencoded"
    ):
        form = await request.form(max_files=20, max_fields=100)
        fields: dict[str, Any] = {}
        uploads: list[Upload] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                uploads.append(Upload(name, await value.read(), value.filename, value.content_type))
            else:
                fields[name] = value
        return fields, uploads
    body = await request.body()
    try:
        data = json.loads(body or b"{}")
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc.msg}", param="body") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("request body must be a JSON object", param="body")
    return data, []


@router.post("", status_code=202, openapi_extra=_CREATE_BODY, summary="Create a video")
async def create_video(
    request: Request,
    options: OptionsDep,
    submissions: SubmissionsDep,
    views: ViewsDep,
    key: GenerateKey,
) -> JSONResponse:
    return await create_response(request, options, submissions, views, key)


async def create_response(
    request: Request, options: HttpOptions, submissions: Submissions, views: JobViews,
    key: ApiKeyRecord, *, defaults: CreateDefaults = NATIVE_DEFAULTS, status_code: int = 202,
    present: Presenter = video_object,
) -> JSONResponse:  # fmt: skip
    """A create on this route (native: 202 and native defaults) or on the OpenAI-compatible one
    (`api/openai/routes.py`: 200 and OpenAI's defaults)."""
    fields, uploads = await read_create_fields(request, options.max_request_bytes)
    spec = spec_from_fields(fields, uploads, default_model=options.default_model, defaults=defaults)
    idem = request.headers.get("idempotency-key")

    def create() -> dict[str, Any]:
        return present(views.view(submissions.submit(key.id, spec, idempotency_key=idem)))

    return JSONResponse(await asyncio.to_thread(create), status_code=status_code)


REMIX_BODY = {
    "requestBody": {
        "content": {"application/json": {"schema": {
            "type": "object", "properties": {"prompt": {"type": "string"}},
            "required": ["prompt"],
        }}},
        "required": True,
    }
}  # fmt: skip


@router.post(
    "/{video_id}/remix", status_code=202, openapi_extra=REMIX_BODY,
    summary="A new video from a completed one's references and settings, with a new prompt",
)  # fmt: skip
async def remix_video(
    video_id: str,
    request: Request,
    options: OptionsDep,
    submissions: SubmissionsDep,
    views: ViewsDep,
    key: GenerateKey,
) -> JSONResponse:
    return await remix_response(video_id, request, options, submissions, views, key)


async def remix_response(
    video_id: str, request: Request, options: HttpOptions, submissions: Submissions,
    views: JobViews, key: ApiKeyRecord, *, status_code: int = 202,
    present: Presenter = video_object,
) -> JSONResponse:  # fmt: skip
    """`{prompt}` (JSON or a form); the source must be a completed video of the same key."""
    fields, uploads = await read_create_fields(request, options.max_request_bytes)
    prompt = fields.get("prompt")
    if uploads or not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest(
            "prompt is required: a remix takes {\"prompt\": \"...\"} and nothing else",
            code=codes.INVALID_REQUEST_PROMPT, param="prompt",
        )  # fmt: skip
    extra = sorted(set(fields) - {"prompt"})
    if extra:
        raise InvalidRequest(
            f"a remix takes only prompt; {extra[0]} is not a remix field (the source video's "
            "references and settings are reused)", param=extra[0],
        )  # fmt: skip
    idem = request.headers.get("idempotency-key")

    def remix() -> dict[str, Any]:
        job = submissions.remix(key.id, video_id, prompt, idempotency_key=idem)
        return present(views.view(job))

    return JSONResponse(await asyncio.to_thread(remix), status_code=status_code)


@router.post("/quote", openapi_extra=_CREATE_BODY, summary="Validate a request and price it")
async def quote_video(
    request: Request, options: OptionsDep, submissions: SubmissionsDep, key: GenerateKey
) -> dict[str, Any]:
    """Runs every check of create, references fetched and probed included, without creating a
    job; answers the price and the seconds a success would bill."""
    fields, uploads = await read_create_fields(request, options.max_request_bytes)
    spec = spec_from_fields(fields, uploads, default_model=options.default_model)
    prepared = await asyncio.to_thread(submissions.quote, key.id, spec)
    return quote_object(prepared)


def list_route(present: Presenter) -> Callable[..., dict[str, Any]]:
    """`GET` of a dialect's video list, whose items `present` draws (`list_body`)."""

    def list_videos(
        jobs: JobsDep,
        views: ViewsDep,
        key: ReadKey,
        after: str | None = None,
        limit: int = Query(20, ge=1, le=100),
        order: str = Query("desc", pattern="^(asc|desc)$"),
        status: str | None = None,
    ) -> dict[str, Any]:
        return list_body(jobs, views, key, after, limit, order, status, present)

    return list_videos


router.add_api_route("", list_route(video_object), methods=["GET"], summary="List videos")


def list_body(
    jobs: JobService, views: JobViews, key: ApiKeyRecord, after: str | None, limit: int,
    order: str, status: str | None, present: Presenter = video_object,
) -> dict[str, Any]:  # fmt: skip
    status_filter = None
    if status is not None:
        if status not in _STATUS_FILTER:
            raise InvalidRequest(
                f"status is {status!r}; allowed: {', '.join(_STATUS_FILTER)}", param="status"
            )
        status_filter = _STATUS_FILTER[status]
    page, has_more = jobs.list_page(
        key.id, limit=limit, after=after, descending=order == "desc", status=status_filter
    )
    data = [present(v) for v in views.views(page)]
    return {
        "object": "list",
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


@router.get("/{video_id}", summary="Retrieve a video")
def get_video(video_id: str, jobs: JobsDep, views: ViewsDep, key: ReadKey) -> JSONResponse:
    return get_response(video_id, jobs, views, key)


def get_response(
    video_id: str, jobs: JobService, views: JobViews, key: ApiKeyRecord,
    present: Presenter = video_object,
) -> JSONResponse:  # fmt: skip
    job = jobs.get(key.id, video_id)
    headers = {} if job.status.is_terminal else {"openai-poll-after-ms": "1000"}
    return JSONResponse(present(views.view(job)), headers=headers)


@router.post("/{video_id}/cancel", summary="Cancel a queued or running video")
def cancel_video(video_id: str, jobs: JobsDep, views: ViewsDep, key: ReadKey) -> dict[str, Any]:
    require_scope(key, Scope.GENERATE)
    return video_object(views.view(jobs.cancel(key.id, video_id)))


@router.delete("/{video_id}", summary="Delete a finished video and its outputs")
def delete_video(video_id: str, jobs: JobsDep, key: ReadKey) -> dict[str, Any]:
    require_scope(key, Scope.GENERATE)
    job = jobs.delete(key.id, video_id)
    return {"id": job.id, "object": "video.deleted", "deleted": True}


_MEDIA = {"video": "video/mp4", "thumbnail": "image/jpeg", "last_frame": "image/png",
          "spritesheet": "image/jpeg"}  # fmt: skip
# An alpha video's container (`codec` prores_4444 or vp9), by the stored file's suffix.
_VIDEO_MEDIA = {".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm"}
_REDIRECT_SECONDS = 3600  # life of a presigned object-storage URL (clients follow at once)


@router.get(
    "/{video_id}/content", summary="Download the video, thumbnail, last frame or spritesheet"
)
def video_content(
    video_id: str,
    request: Request,
    jobs: JobsDep,
    keys: KeysDep,
    downloads: DownloadsDep,
    variant: str = "video",
    expires: int | None = None,
    signature: str | None = None,
) -> Response:
    """Works with an API key header, or without one through a signed URL
    (`expires` + `signature`, as handed out in the Video object's `urls`). With S3 storage
    the answer is a 307 redirect to a presigned URL of the object (docs/storage.md)."""
    if variant not in VARIANTS:
        raise InvalidRequest(
            f"variant is {variant!r}; allowed: {', '.join(VARIANTS)}",
            code=codes.INVALID_REQUEST_VARIANT, param="variant",
        )  # fmt: skip
    job = _job_for_content(request, jobs, keys, downloads, video_id, variant, expires, signature)
    storage_key = getattr(job.outputs, variant)
    if job.status is JobStatus.SUCCEEDED and job.outputs.video is None:
        raise NotFound(
            f"the files of video {video_id} were deleted after its retention period",
            code=codes.NOT_FOUND_OUTPUT_EXPIRED, param="id",
        )  # fmt: skip
    if job.status is not JobStatus.SUCCEEDED or storage_key is None:
        raise NotFound(
            f"video {video_id} has no {variant} (status {job.status.value})",
            code=codes.NOT_FOUND_CONTENT, param="variant",
        )  # fmt: skip
    suffix = PurePosixPath(storage_key).suffix
    filename = f"{video_id}{suffix}"
    media = _VIDEO_MEDIA.get(suffix, _MEDIA[variant]) if variant == "video" else _MEDIA[variant]
    storage = downloads.storage
    url = storage.download_url(storage_key, _REDIRECT_SECONDS, filename, media)
    if url is not None:
        return RedirectResponse(url, status_code=307)
    path = storage.local_path(storage_key)
    return FileResponse(path, media_type=media, filename=filename)


def _job_for_content(
    request: Request, jobs: JobService, keys: KeyRing, downloads: Downloads, video_id: str,
    variant: str, expires: int | None, signature: str | None,
) -> Job:  # fmt: skip
    if key_from_headers(request) is None and signature is not None and expires is not None:
        if not downloads.signer.verify(f"{video_id}/{variant}", expires, signature):
            raise NotFound(
                "this download link is invalid or has expired; fetch the video again for a "
                "fresh one", code=codes.NOT_FOUND_LINK_EXPIRED, param="signature",
            )  # fmt: skip
        job = jobs.load(video_id)
        if job.deleted:
            raise NotFound(f"no video {video_id!r}", code=codes.NOT_FOUND_VIDEO, param="id")
        return job
    key = current_key(request, keys)
    require_scope(key, Scope.READ)
    return jobs.get(key.id, video_id)


@router.get("/{video_id}/events", summary="Server-sent events: status, progress, stage")
async def video_events(
    video_id: str, request: Request, jobs: JobsDep, views: ViewsDep, key: ReadKey
) -> StreamingResponse:
    jobs.get(key.id, video_id)  # 404 before the stream starts

    async def stream() -> AsyncIterator[bytes]:
        last: tuple[Any, ...] | None = None
        while True:
            job = await asyncio.to_thread(jobs.get, key.id, video_id)
            state = (job.status, job.stage, int(job.progress))
            if state != last:
                last = state
                body = await asyncio.to_thread(lambda: video_object(views.view(job)))  # noqa: B023
                event = f"video.{body['status']}"
                yield f"event: {event}\ndata: {json.dumps(body)}\n\n".encode()
            if job.status.is_terminal or await request.is_disconnected():
                return
            await asyncio.sleep(0.3)

    return StreamingResponse(
        stream(), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )  # fmt: skip
