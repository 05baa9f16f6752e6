"""Seed 004, the generic v2 API (`/v2/generations`) and its AtlasCloud variant
(`/v1/video/generations`): same body, same response, same status words.

    POST /v2/generations | /v1/video/generations
         {model, prompt, duration, resolution, fps, mode: t2v|i2v|r2v, aspect_ratio,
          image_url | image | image_urls} -> {id, job_id, status}
    GET  /v2/generations/{job_id} | /v1/video/generations/{job_id}
         -> {id, job_id, status, output_url, error, ...}

`fps` must be 24 (the seed: "fixed in v2").
`mode`: `t2v` takes no image; `i2v` animates one image (its first frame; a second image is the
last frame); `r2v` (or no mode) uses the images as references. Errors in the OpenAI-compatible
shape AtlasCloud exposes: `{"error": {code, message, param, type}}`. The wire body and the
routes; the generation object and the status words are in `presenters/seed004.py`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import Request

from reelforge import codes
from reelforge.api.common.dialect_common import (
    DialectRequest,
    FlatShape,
    create_job,
    parse_flat,
    read_json_body,
)
from reelforge.api.common.dialect_router import DialectRouter
from reelforge.api.deps import (
    GenerateKey,
    HttpOptions,
    JobsDep,
    OptionsDep,
    ReadKey,
    SubmissionsDep,
    ViewsDep,
)
from reelforge.api.errors import native_error_body
from reelforge.core.job import Job
from reelforge.errors import InvalidRequest
from reelforge.jobs.submissions import Submissions
from reelforge.presenters.seed004 import ATLAS_DIALECT, DIALECT, created, present
from reelforge.spec import FPS, ReferenceRole
from reelforge.store.key_repository import ApiKeyRecord

PREFIX = "/v2/generations"
ATLAS_PREFIX = "/v1/video/generations"
SHAPE = FlatShape(
    dialect=DIALECT, images=("image_url", "image", "image_urls"), extra_fields=("fps", "mode")
)
ATLAS_SHAPE = replace(SHAPE, dialect=ATLAS_DIALECT)
MODES = ("t2v", "i2v", "r2v")


def _check_fps(value: Any) -> None:
    if value is None or value == "":
        return
    try:
        ok = float(value) == FPS
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidRequest(
            f"fps is {value!r}; every video is rendered at {FPS} fps",
            code=codes.INVALID_REQUEST_FPS, param="fps",
        )  # fmt: skip


def parse(body: dict[str, Any], shape: FlatShape, default_model: str) -> DialectRequest:
    """The flat fields, plus `fps` (24 only) and `mode` (which role the images play)."""
    _check_fps(body.get("fps"))
    mode = str(body.get("mode") or "").strip().lower() or None
    if mode is not None and mode not in MODES:
        raise InvalidRequest(
            f"mode is {mode!r}; allowed: {', '.join(MODES)}",
            code=codes.INVALID_REQUEST_MODE, param="mode",
        )  # fmt: skip
    role = ReferenceRole.FIRST_FRAME if mode == "i2v" else ReferenceRole.REFERENCE
    parsed = parse_flat(body, shape, default_model=default_model, image_role=role)
    refs = parsed.spec.references
    if mode == "t2v" and refs:
        raise InvalidRequest(
            f"mode is t2v but {parsed.reference_params[0]} is given; use mode i2v to animate "
            "an image or r2v to use images as references",
            code=codes.INVALID_REQUEST_MODE, param="mode",
        )  # fmt: skip
    if mode == "i2v":
        if not 1 <= len(refs) <= 2:
            raise InvalidRequest(
                f"mode i2v needs one image (image_url), or two (first and last frame); "
                f"{len(refs)} given", code=codes.INVALID_REQUEST_MODE, param="image_url",
            )  # fmt: skip
        if len(refs) == 2:
            last = replace(refs[1], role=ReferenceRole.LAST_FRAME)
            parsed = replace(parsed, spec=replace(parsed.spec, references=(refs[0], last)))
    return parsed


router = DialectRouter(
    render=native_error_body, prefixes=(PREFIX, ATLAS_PREFIX), tags=["seed 004 / AtlasCloud"]
)


async def _create(
    request: Request,
    options: HttpOptions,
    submissions: Submissions,
    key: ApiKeyRecord,
    shape: FlatShape,
) -> Job:
    body = await read_json_body(request, options)
    parsed = parse(body, shape, options.default_model)
    return await create_job(request, submissions, key, parsed)


async def create(
    request: Request, options: OptionsDep, submissions: SubmissionsDep, key: GenerateKey
) -> dict[str, Any]:
    return created(await _create(request, options, submissions, key, SHAPE))


async def create_atlas(
    request: Request, options: OptionsDep, submissions: SubmissionsDep, key: GenerateKey
) -> dict[str, Any]:
    return created(await _create(request, options, submissions, key, ATLAS_SHAPE))


def retrieve(job_id: str, jobs: JobsDep, views: ViewsDep, key: ReadKey) -> dict[str, Any]:
    return present(views.view(jobs.get(key.id, job_id)))


router.add(PREFIX, create, methods=["POST"], summary="Create a video (seed 004)")
router.add(f"{PREFIX}/{{job_id}}", retrieve, methods=["GET"],
           summary="Get a video job (seed 004)")  # fmt: skip
router.add(ATLAS_PREFIX, create_atlas, methods=["POST"], summary="Create a video (AtlasCloud)")
router.add(f"{ATLAS_PREFIX}/{{job_id}}", retrieve, methods=["GET"],
           summary="Get a video job (AtlasCloud)")  # fmt: skip
