"""What the flat and seed dialects share, written once.

Each of those dialects carries the same few things under its own names: a prompt, a duration, a
resolution and aspect ratio, lists (or single strings) of reference URLs or base64 per modality,
a seed, a webhook URL. A dialect describes its names and defaults in a `FlatShape`;
`parse_flat` turns a body into the canonical `GenerationSpec` with the shared field parsers
(`spec_fields`), so every limit and error code is the same everywhere, and `create_job`
hands it to `JobService` (honouring `Idempotency-Key`) with errors naming the dialect's own
fields (`image_urls[3]`, not `references[3]`).

On the way out, the dialects present a `JobView` with `reelforge.presenters.common`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from reelforge import codes
from reelforge.api.common.spec_fields import (
    parse_aspect,
    parse_bool,
    parse_resolution,
    parse_seconds,
    parse_seed,
)
from reelforge.api.common.strict_fields import Fields, Unsupported, check_fields
from reelforge.api.deps import HttpOptions
from reelforge.api.videos.routes import read_create_fields
from reelforge.core.job import Job
from reelforge.errors import InvalidReference, InvalidRequest, ReelforgeError
from reelforge.jobs.submissions import Submissions
from reelforge.spec import (
    DEFAULT_SECONDS,
    FPS,
    AspectRatio,
    GenerationSpec,
    ReferenceInput,
    ReferenceKind,
    ReferenceRole,
    Resolution,
)
from reelforge.store.key_repository import ApiKeyRecord

# ---- request side -------------------------------------------------------------------------


@dataclass(frozen=True)
class FlatShape:
    """Where one flat dialect carries each canonical field (the first name present wins for
    scalars; every name present contributes for reference lists) and the defaults its provider
    documents."""

    dialect: str  # GenerationSpec.dialect: "eachlabs", "seed000", ...
    images: tuple[str, ...] = ()
    videos: tuple[str, ...] = ()
    audios: tuple[str, ...] = ()
    prompt: tuple[str, ...] = ("prompt",)
    model: tuple[str, ...] = ("model",)
    seconds: tuple[str, ...] = ("duration",)
    resolution: tuple[str, ...] = ("resolution",)
    aspect_ratio: tuple[str, ...] = ("aspect_ratio",)
    generate_audio: tuple[str, ...] = ("generate_audio",)
    seed: tuple[str, ...] = ("seed",)
    webhook_url: tuple[str, ...] = ("webhook_url", "callback_url")
    end_user_id: tuple[str, ...] = ("end_user_id",)
    default_seconds: int | None = DEFAULT_SECONDS  # None = auto
    default_resolution: Resolution = Resolution.P720
    default_aspect: AspectRatio = AspectRatio.R16_9
    # No silent drops (strict_fields): the body may hold only the names above, `extra_fields`
    # (read by the dialect itself, e.g. seed 004's fps and mode) and `unsupported` ones (fields
    # the provider documents that reelforge refuses, or accepts with a warning).
    extra_fields: tuple[str, ...] = ()
    unsupported: Mapping[str, Unsupported] = field(default_factory=dict)
    hints: Mapping[str, str] = field(default_factory=dict)

    def fields(self) -> Fields:
        """The strict field list of this dialect's body."""
        names = (
            *self.images, *self.videos, *self.audios, *self.prompt, *self.model, *self.seconds,
            *self.resolution, *self.aspect_ratio, *self.generate_audio, *self.seed,
            *self.webhook_url, *self.end_user_id, *self.extra_fields,
        )  # fmt: skip
        return Fields.of(names, self.unsupported, {**FLAT_HINTS, **self.hints})


# names clients bring from the other dialects, answered with a pointer instead of a guess
FLAT_HINTS = {
    "seconds": "the length in seconds is `duration` here",
    "ratio": "the aspect ratio is `aspect_ratio` here",
    "n": "one video per request; send one request per video",
    "negative_prompt": "negative prompts are not supported; say in `prompt` what to show",
    "output_format": "videos are MP4 (H.264)",
    "fps": f"every video is rendered at {FPS} fps; there is no frame-rate field",
}


@dataclass(frozen=True)
class DialectRequest:
    """A parsed create request: the spec, and the dialect's name for each reference in spec
    order (`image_urls[0]`, `reference_images[1]`, `image_url`), for error messages."""

    spec: GenerationSpec
    reference_params: tuple[str, ...]


def _pick(body: Mapping[str, Any], names: Sequence[str]) -> tuple[Any, str]:
    """The first of `names` with a value (None and "" count as absent), and its name."""
    for name in names:
        value = body.get(name)
        if value is not None and value != "":
            return value, name
    return None, names[0] if names else ""


def reference_values(value: Any, param: str) -> list[tuple[str, str]]:
    """A reference field as clients send it -> [(url or base64, param)]: None or "" -> [];
    one string -> itself; a JSON-encoded list in a string -> its items; a list of strings or of
    `{"url": ...}` objects -> its items, each named `param[i]`."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            return [(text, param)]
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidRequest(
                f"{param} is neither a URL nor a JSON list of URLs", param=param
            ) from exc
    if not isinstance(value, list):
        raise InvalidRequest(
            f"{param} must be a list of URLs (or base64 strings)",
            code=codes.INVALID_REQUEST_REFERENCE_LIST, param=param,
        )  # fmt: skip
    items = []
    for i, item in enumerate(value):
        where = f"{param}[{i}]"
        if isinstance(item, dict):
            item = item.get("url") or item.get("image_url") or item.get("data")
        if not isinstance(item, str) or not item.strip():
            raise InvalidReference(
                f"{where} must be a non-empty URL or base64 string",
                code=codes.INVALID_REFERENCE_MISSING_SOURCE, param=where,
            )  # fmt: skip
        items.append((item.strip(), where))
    return items


def collect_references(
    body: Mapping[str, Any],
    groups: Sequence[tuple[ReferenceKind, Sequence[str], ReferenceRole]],
) -> tuple[list[ReferenceInput], list[str]]:
    """References of every (kind, field names, role) group in order, with their params.
    A string that is not a URL (raw base64, a data: URI, `asset://file_...`) is passed on as
    is: intake tells them apart."""
    refs: list[ReferenceInput] = []
    params: list[str] = []
    for kind, names, role in groups:
        for name in names:
            for value, param in reference_values(body.get(name), name):
                refs.append(ReferenceInput(kind=kind, role=role, url=value))
                params.append(param)
    return refs, params


def parse_flat(
    body: Mapping[str, Any],
    shape: FlatShape,
    *,
    default_model: str,
    image_role: ReferenceRole = ReferenceRole.REFERENCE,
    where: str = "",
) -> DialectRequest:
    """A flat create body -> the canonical spec. Nulls and empty strings mean "not given";
    numbers may come as strings; a field name outside `shape.fields()` is refused, naming
    `where` + the name (`where`: `"input."` when the fields sit in an object)."""
    warnings = check_fields(body, shape.fields(), where)
    prompt, prompt_param = _pick(body, shape.prompt)
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest(
            f"{prompt_param} is required", code=codes.INVALID_REQUEST_PROMPT, param=prompt_param
        )
    seconds_value, seconds_param = _pick(body, shape.seconds)
    resolution, resolution_param = _pick(body, shape.resolution)
    aspect, aspect_param = _pick(body, shape.aspect_ratio)
    audio, audio_param = _pick(body, shape.generate_audio)
    seed, seed_param = _pick(body, shape.seed)
    model, _ = _pick(body, shape.model)
    webhook, _ = _pick(body, shape.webhook_url)
    end_user, _ = _pick(body, shape.end_user_id)
    refs, params = collect_references(
        body,
        [
            (ReferenceKind.IMAGE, shape.images, image_role),
            (ReferenceKind.VIDEO, shape.videos, ReferenceRole.REFERENCE),
            (ReferenceKind.AUDIO, shape.audios, ReferenceRole.REFERENCE),
        ],
    )
    spec = GenerationSpec(
        prompt=prompt,
        model=str(model or default_model),
        seconds=shape.default_seconds
        if seconds_value is None
        else parse_seconds(seconds_value, seconds_param),
        resolution=shape.default_resolution
        if resolution is None
        else parse_resolution(resolution, resolution_param),
        aspect_ratio=shape.default_aspect if aspect is None else parse_aspect(aspect, aspect_param),
        references=tuple(refs),
        generate_audio=True if audio is None else parse_bool(audio, audio_param),
        seed=parse_seed(seed, seed_param),
        webhook_url=str(webhook) if webhook else None,
        end_user_id=str(end_user) if end_user else None,
        dialect=shape.dialect,
        warnings=tuple(warnings),
    )
    return DialectRequest(spec, tuple(params))


async def read_json_body(request: Request, options: HttpOptions) -> dict[str, Any]:
    """The create body as a dict (JSON, or a form with plain fields), size-checked."""
    fields, uploads = await read_create_fields(request, options.max_request_bytes)
    if uploads:
        raise InvalidRequest(
            "this endpoint takes JSON with reference URLs or base64; upload files through "
            "POST /v1/files and pass asset://<file id>",
            code=codes.INVALID_REQUEST_UPLOADS_NOT_SUPPORTED, param=uploads[0][0],
        )  # fmt: skip
    return fields


_REFERENCE_PARAM = re.compile(r"references\[(\d+)\]")


def rename_reference_params(err: ReelforgeError, params: Sequence[str]) -> None:
    """Make an error name the dialect's fields: `references[3]` -> `params[3]`, and the bare
    `references` of a count error -> the field of the reference it points at."""

    def dialect_name(m: re.Match[str]) -> str:
        i = int(m.group(1))
        return params[i] if i < len(params) else m.group(0)

    err.message = _REFERENCE_PARAM.sub(dialect_name, err.message)
    if err.param == "references" and err.reference_index is not None:
        if err.reference_index < len(params):
            err.param = params[err.reference_index].split("[", 1)[0]
    elif err.param:
        err.param = _REFERENCE_PARAM.sub(dialect_name, err.param)


@contextmanager
def dialect_reference_names(params: Sequence[str]) -> Iterator[None]:
    try:
        yield
    except ReelforgeError as err:
        rename_reference_params(err, params)
        raise


async def create_job(
    request: Request, submissions: Submissions, key: ApiKeyRecord, parsed: DialectRequest
) -> Job:
    """Create the job (off the event loop); `Idempotency-Key` honoured: the same key and body
    give the same job, another body with the same key is a 409."""
    idem = request.headers.get("idempotency-key")
    with dialect_reference_names(parsed.reference_params):
        return await asyncio.to_thread(
            submissions.submit, key.id, parsed.spec, idempotency_key=idem
        )


async def create_flat(
    request: Request,
    options: HttpOptions,
    submissions: Submissions,
    key: ApiKeyRecord,
    shape: FlatShape,
) -> Job:
    """Read, parse and create in one: the whole create of a dialect without special fields."""
    body = await read_json_body(request, options)
    parsed = parse_flat(body, shape, default_model=options.default_model)
    return await create_job(request, submissions, key, parsed)


# ---- response side ------------------------------------------------------------------------
