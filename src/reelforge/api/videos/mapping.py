"""Native create request (JSON or multipart) -> GenerationSpec."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from reelforge import codes
from reelforge.api.common.spec_fields import (
    parse_aspect,
    parse_bool,
    parse_codec,
    parse_resolution,
    parse_seconds,
    parse_seed,
    parse_size_field,
)
from reelforge.api.common.strict_fields import check_object
from reelforge.api.videos.fields import (
    INPUT_REFERENCE_FIELDS,
    check_native_fields,
    check_references,
)
from reelforge.errors import InvalidReference, InvalidRequest
from reelforge.intake.probe import sniff_kind
from reelforge.spec import (
    DEFAULT_SECONDS,
    HOSTED_RESOLUTIONS,
    MAX_CONTINUATION_SECONDS,
    MAX_SECONDS,
    GenerationSpec,
    ReferenceInput,
    ReferenceKind,
    ReferenceRole,
    Resolution,
    exact_size,
)


@dataclass(frozen=True)
class CreateDefaults:
    """What a create field left out means, per route: the native API's own defaults, or OpenAI's
    on the OpenAI-compatible base URL (`/openai/v1`, docs/api/openai.md)."""

    model: str | None = None  # None: the server's DEFAULT_MODEL
    seconds: int = DEFAULT_SECONDS
    size: str = "1280x720"
    dialect: str = "native"
    # Past the hosted limits (2160p, up to 60 s, `alpha`): the native API only; the
    # OpenAI-compatible base URL keeps OpenAI's shape.
    extended: bool = True

    @property
    def resolutions(self) -> tuple[Resolution, ...]:
        return tuple(Resolution) if self.extended else HOSTED_RESOLUTIONS

    @property
    def most_seconds(self) -> int:
        return MAX_CONTINUATION_SECONDS if self.extended else MAX_SECONDS


NATIVE_DEFAULTS = CreateDefaults()
# The OpenAI SDK's documented defaults (`videos.create`: model sora-2, 4 seconds, 720x1280).
OPENAI_DEFAULTS = CreateDefaults(
    model="sora-2", seconds=4, size="720x1280", dialect="openai", extended=False
)


class Upload(NamedTuple):
    """A file of a multipart create, in form order."""

    field: str
    data: bytes
    filename: str | None
    content_type: str | None


def _reference(item: Any, i: int) -> ReferenceInput:
    param = f"references[{i}]"
    if not isinstance(item, dict):
        raise InvalidRequest(f"{param} must be an object", param=param)
    try:
        kind = ReferenceKind(item.get("type", "image"))
        role = ReferenceRole(item.get("role") or "reference")
    except ValueError as exc:
        raise InvalidRequest(
            f"{param}: {exc}", code=codes.INVALID_REFERENCE_TYPE, param=param
        ) from exc
    url, file_id, data = item.get("url"), item.get("file_id"), item.get("data")
    if data == "" or url == "":
        raise InvalidReference(
            f"{param} is empty (0 bytes)",
            code=codes.INVALID_REFERENCE_EMPTY,
            param=param,
            reference_index=i,
        )
    if any(x is not None and not isinstance(x, str) for x in (url, file_id, data)):
        raise InvalidRequest(
            f"{param}: url, file_id and data must be strings",
            code=codes.INVALID_REFERENCE_SOURCE_TYPE, param=param,
        )  # fmt: skip
    if sum(x is not None for x in (url, file_id, data)) != 1:
        raise InvalidRequest(
            f"{param} needs exactly one of url, file_id or data",
            code=codes.INVALID_REFERENCE_MISSING_SOURCE, param=param,
        )  # fmt: skip
    return ReferenceInput(kind=kind, role=role, url=url or data, file_id=file_id)


def spec_from_fields(
    fields: dict[str, Any],
    uploads: list[Upload],
    *,
    default_model: str,
    defaults: CreateDefaults = NATIVE_DEFAULTS,
) -> GenerationSpec:
    """`fields` is the JSON body or the multipart form; `uploads` the multipart files in order as
    (field name, bytes, filename). Uploaded files come first in reference order. `defaults`:
    what a field left out means on this route."""
    check_native_fields(fields, [u.field for u in uploads])  # no silent drops (strict_fields)
    prompt = fields.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest(
            "prompt is required", code=codes.INVALID_REQUEST_PROMPT, param="prompt"
        )

    size_text = str(fields.get("size") or defaults.size)
    resolution, aspect = parse_size_field(size_text, allowed=defaults.resolutions)
    size = exact_size(size_text)  # 1792x1024 and 1024x1792: rendered at exactly that size
    if fields.get("resolution"):
        resolution = parse_resolution(fields["resolution"], allowed=defaults.resolutions)
    if fields.get("aspect_ratio"):
        aspect = parse_aspect(fields["aspect_ratio"])

    seconds_raw = fields.get("seconds")
    seconds = (
        defaults.seconds
        if seconds_raw is None
        else parse_seconds(seconds_raw, most=defaults.most_seconds)
    )

    refs: list[ReferenceInput] = []
    for upload in uploads:
        refs.append(_upload(upload))
    input_ref = fields.get("input_reference")
    if isinstance(input_ref, str) and input_ref.startswith("{"):
        input_ref = _json_field(input_ref, "input_reference", "a JSON object")
        check_object(input_ref, INPUT_REFERENCE_FIELDS, "input_reference.")
    if isinstance(input_ref, dict):
        src = input_ref.get("image_url") or input_ref.get("file_id")
        if src:
            if not isinstance(src, str):
                raise InvalidRequest(
                    "input_reference.image_url and .file_id must be strings",
                    param="input_reference",
                )
            refs.append(ReferenceInput(kind=ReferenceKind.IMAGE, url=src))
    raw_refs = fields.get("references")
    if isinstance(raw_refs, str):
        raw_refs = _json_field(raw_refs, "references", "a JSON list")
        check_references(raw_refs)
    if raw_refs:
        if not isinstance(raw_refs, list):
            raise InvalidRequest("references must be a list", param="references")
        refs.extend(_reference(item, len(refs)) for item in raw_refs)

    metadata = fields.get("metadata") or {}
    if isinstance(metadata, str):
        metadata = _json_field(metadata, "metadata", "a JSON object of strings")
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise InvalidRequest("metadata must be a map of strings", param="metadata")

    def flag(name: str, default: bool) -> bool:
        value = fields.get(name)
        return default if value is None else parse_bool(value, name)

    return GenerationSpec(
        prompt=prompt,
        model=str(fields.get("model") or defaults.model or default_model),
        seconds=seconds,
        resolution=resolution,
        aspect_ratio=aspect,
        references=tuple(refs),
        generate_audio=flag("generate_audio", True),
        seed=parse_seed(fields.get("seed")),
        codec=parse_codec(fields["codec"]) if fields.get("codec") else parse_codec("h264"),
        alpha=_alpha(fields, defaults),
        return_last_frame=flag("return_last_frame", False),
        webhook_url=fields.get("webhook_url") or None,
        metadata={str(k): v for k, v in metadata.items()},
        end_user_id=fields.get("end_user_id") or None,
        execution_expires_after=_positive_int(fields.get("execution_expires_after")),
        webhook_progress=flag("webhook_progress", False),
        dialect=defaults.dialect,
        # resolution / aspect_ratio fields override a size; an exact size stands only alone
        size=size if not (fields.get("resolution") or fields.get("aspect_ratio")) else None,
    )


def _alpha(fields: dict[str, Any], defaults: CreateDefaults) -> bool:
    value = fields.get("alpha")
    if value is None or value == "":
        return False
    alpha = parse_bool(value, "alpha")
    if alpha and not defaults.extended:
        raise InvalidRequest(
            "alpha is a field of the native API (/v1/videos), not of the OpenAI Videos API; "
            "send it to /v1/videos",
            code=codes.INVALID_REQUEST_UNSUPPORTED_PARAMETER, param="alpha",
        )  # fmt: skip
    return alpha


def _positive_int(value: Any, param: str = "execution_expires_after") -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        number = 0
    if number <= 0:
        raise InvalidRequest(f"{param} is {value!r}; it must be a positive number of seconds",
                             param=param)  # fmt: skip
    return number


_FIELD_KINDS = {
    "image": ReferenceKind.IMAGE, "images": ReferenceKind.IMAGE,
    "video": ReferenceKind.VIDEO, "videos": ReferenceKind.VIDEO,
    "audio": ReferenceKind.AUDIO, "audios": ReferenceKind.AUDIO,
}  # fmt: skip


def _upload(upload: Upload) -> ReferenceInput:
    kind = (
        _FIELD_KINDS.get(upload.field.rstrip("[]"))
        or sniff_kind(upload.data[:16])
        or ReferenceKind.IMAGE
    )
    return ReferenceInput(
        kind=kind, data=upload.data, filename=upload.filename, mime_type=upload.content_type
    )


def _json_field(text: str, param: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"{param} must be {what}: {exc.msg}", param=param) from exc
