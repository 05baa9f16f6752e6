"""Ark content generation tasks: /api/v3/contents/generations/tasks.

The tasks are the service's jobs: a task created here is the video of the same id in the
native API of the same key, and the other way round.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from reelforge import codes
from reelforge.api.ark import ARK_PREFIX
from reelforge.api.ark.errors import name_ark_fields
from reelforge.api.ark.mapping import parse_create
from reelforge.api.ark.wire import ArkCreateRequest
from reelforge.api.common.openapi import inline_schema
from reelforge.api.deps import (
    GenerateKey,
    JobsDep,
    OptionsDep,
    ReadKey,
    SubmissionsDep,
    ViewsDep,
)
from reelforge.api.videos.routes import read_create_fields
from reelforge.core.job import Job, JobStatus
from reelforge.errors import Conflict, InvalidRequest, NotFound, ReelforgeError
from reelforge.jobs.service import JobService
from reelforge.presenters.ark import STATUS_FROM_ARK, task_object

router = APIRouter(prefix=f"{ARK_PREFIX}/contents/generations/tasks", tags=["ark"])

LIST_WINDOW_SECONDS = 7 * 24 * 3600  # Ark lists the tasks of the last 7 days
_SCAN_PAGE = 200

_CREATE_BODY = {
    "requestBody": {
        "content": {"application/json": {"schema": inline_schema(ArkCreateRequest)}},
        "required": True,
    }
}


@router.post("", openapi_extra=_CREATE_BODY, summary="Create a task (Ark)")
async def create_task(
    request: Request, options: OptionsDep, submissions: SubmissionsDep, key: GenerateKey
) -> dict[str, str]:
    """JSON body as the Ark SDKs send it; answers `{"id": ...}` at once, the video renders in
    the background. `Idempotency-Key` is honoured as in the native API."""
    fields, uploads = await read_create_fields(request, options.max_request_bytes)
    if uploads:
        raise InvalidRequest(
            "the Ark create takes a JSON body; upload files with POST /v1/files and name them "
            "asset://file_...", param="content",
        )  # fmt: skip
    parsed = parse_create(fields, default_model=options.default_model)
    idem = request.headers.get("idempotency-key")
    try:
        job = await asyncio.to_thread(submissions.submit, key.id, parsed.spec, idempotency_key=idem)
    except ReelforgeError as err:
        name_ark_fields(err, parsed.content_index)
        raise
    return {"id": job.id}


@router.get("", summary="List tasks (Ark)")
def list_tasks(
    jobs: JobsDep,
    views: ViewsDep,
    key: ReadKey,
    page_num: Annotated[int, Query(ge=1, le=500)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 10,
    status: Annotated[str | None, Query(alias="filter.status")] = None,
    task_ids: Annotated[list[str] | None, Query(alias="filter.task_ids")] = None,
    model: Annotated[str | None, Query(alias="filter.model")] = None,
    service_tier: Annotated[str | None, Query(alias="filter.service_tier")] = None,
) -> dict[str, Any]:
    """`{items, total}`: the tasks of the last 7 days, newest first, `page_size` per page."""
    wanted = None
    if status:
        wanted = STATUS_FROM_ARK.get(status)
        if wanted is None:
            raise InvalidRequest(
                f"filter.status is {status!r}; allowed: {', '.join(STATUS_FROM_ARK)}",
                param="filter.status",
            )  # fmt: skip
    since = time.time() - LIST_WINDOW_SECONDS
    if service_tier not in (None, "", "default"):
        found: list[Job] = []  # every task here runs on the default tier
    elif task_ids:
        found = _by_ids(jobs, key.id, task_ids, since)
    else:
        found = _recent(jobs, key.id, since, wanted)
    found = [
        j for j in found
        if (wanted is None or j.status is wanted) and (not model or j.model == model)
    ]  # fmt: skip
    start = (page_num - 1) * page_size
    items = [task_object(v) for v in views.views(found[start : start + page_size])]
    return {"items": items, "total": len(found)}


def _recent(jobs: JobService, key_id: str, since: float, status: JobStatus | None) -> list[Job]:
    """The key's jobs created since `since`, newest first (scanned page by page)."""
    found: list[Job] = []
    after: str | None = None
    while True:
        page, more = jobs.list_page(key_id, limit=_SCAN_PAGE, after=after, status=status)
        for job in page:
            if job.created_at < since:
                return found
            found.append(job)
        if not more or not page:
            return found
        after = page[-1].id


def _by_ids(jobs: JobService, key_id: str, ids: list[str], since: float) -> list[Job]:
    found: dict[str, Job] = {}
    for task_id in ids:
        try:
            job = jobs.get(key_id, task_id)
        except NotFound:
            continue
        if job.created_at >= since:
            found[job.id] = job
    return sorted(found.values(), key=lambda j: (j.created_at, j.id), reverse=True)


@router.get("/{task_id}", summary="Retrieve a task (Ark)")
def get_task(task_id: str, jobs: JobsDep, views: ViewsDep, key: ReadKey) -> dict[str, Any]:
    return task_object(views.view(_task(jobs, key.id, task_id)))


@router.delete("/{task_id}", summary="Cancel a queued task or delete a finished one (Ark)")
def delete_task(task_id: str, jobs: JobsDep, key: GenerateKey) -> JSONResponse:
    """Queued: cancelled (the task stays, status `cancelled`). Succeeded, failed, expired or
    cancelled: deleted with its files. Running: refused, as Ark does (409); the native
    `POST /v1/videos/{id}/cancel` stops a running job. Answers `{}` (the SDKs parse JSON)."""
    job = _task(jobs, key.id, task_id)
    if job.status is JobStatus.QUEUED:
        # Cancelled; had a worker taken it meanwhile, it is asked to stop and ends cancelled.
        jobs.cancel(key.id, task_id)
        return JSONResponse({})
    if job.status is JobStatus.RUNNING:
        raise Conflict(
            f"task {task_id} is running; a running task cannot be deleted. Wait for it to end, "
            f"or stop it with POST /v1/videos/{task_id}/cancel",
            code=codes.CONFLICT_RUNNING, param="id",
        )  # fmt: skip
    jobs.delete(key.id, task_id)
    return JSONResponse({})


def _task(jobs: JobService, key_id: str, task_id: str) -> Job:
    try:
        job = jobs.get(key_id, task_id)
    except NotFound:
        raise NotFound(
            f"the task {task_id!r} does not exist", code=codes.NOT_FOUND_TASK, param="id"
        ) from None
    return job
