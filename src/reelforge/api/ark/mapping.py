"""Ark create body -> GenerationSpec.

`content[]` is one text item (the prompt; several are joined by new lines) and media items in
reference order: `image_url` items become image references, `video_url` videos, `audio_url`
audio, so `[Image 1]` / `@Image1` in the text name the first image item (intake checks the
mentions). Roles: `first_frame` / `last_frame` -> the frame roles, `reference_image`,
`reference_video`, `reference_audio` -> plain references; an image without a role is the first
frame when it is the only media item (Ark's image-to-video) and a reference otherwise. URLs may
be `https://`, `data:<mime>;base64,...` or `asset://file_...` (an upload of `POST /v1/files`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from reelforge import codes
from reelforge.api.ark import ARK_DIALECT
from reelforge.api.ark.fields import check_ark_fields
from reelforge.api.ark.flags import split_flags
from reelforge.api.ark.wire import (
    CONTENT_TYPES,
    ArkCreateRequest,
    AudioItem,
    DraftTaskItem,
    ImageItem,
    TextItem,
    VideoItem,
)
from reelforge.api.common.spec_fields import (
    parse_aspect,
    parse_bool,
    parse_resolution,
    parse_seconds,
    parse_seed,
)
from reelforge.errors import InvalidReference, InvalidRequest
from reelforge.intake.sources import file_id_of
from reelforge.spec import (
    DEFAULT_SECONDS,
    FPS,
    AspectRatio,
    FieldWarning,
    GenerationSpec,
    ReferenceInput,
    ReferenceKind,
    ReferenceRole,
    Resolution,
)

MISSING = codes.INVALID_REQUEST_MISSING_PARAMETER
UNSUPPORTED = codes.INVALID_REQUEST_UNSUPPORTED_PARAMETER
CAMERA_FIXED_HINT = "Fixed camera."
IMAGE_ONLY_PROMPT = "Animate"  # + the images: the prompt of a task without a text item

_IMAGE_ROLES = {
    "first_frame": ReferenceRole.FIRST_FRAME,
    "last_frame": ReferenceRole.LAST_FRAME,
    "reference_image": ReferenceRole.REFERENCE,
}
_MEDIA_ROLES = {ReferenceKind.VIDEO: "reference_video", ReferenceKind.AUDIO: "reference_audio"}


@dataclass(frozen=True)
class ArkCreate:
    spec: GenerationSpec
    content_index: tuple[int, ...]  # the content[] position of each of spec.references


def parse_create(body: dict[str, Any], *, default_model: str) -> ArkCreate:
    """Validate and map one create body; raises InvalidRequest naming the Ark field."""
    warnings = check_ark_fields(body)  # no silent drops (api/common/strict_fields.py)
    try:
        req = ArkCreateRequest.model_validate(body)
    except ValidationError as exc:
        raise _invalid(exc) from None
    texts: list[str] = []
    refs: list[ReferenceInput] = []
    index: list[int] = []
    for i, item in enumerate(req.content):
        if isinstance(item, TextItem):
            texts.append(item.text)
        elif isinstance(item, DraftTaskItem):
            raise InvalidRequest(
                f"content[{i}] is a draft_task; drafts (Seedance 1.5 pro) are not supported",
                code=UNSUPPORTED, param=f"content[{i}]",
            )  # fmt: skip
        else:
            refs.append(_reference(item, i))
            index.append(i)
    refs = _default_roles(req, refs)

    prompt, flags = split_flags("\n".join(t for t in texts if t.strip()))
    if not prompt.strip():
        prompt = _image_only_prompt(refs)
        warnings.append(
            FieldWarning(
                code=codes.PROMPT_SUPPLIED, param="content",
                message=f"content has no text item; the video follows the prompt {prompt!r}",
            )
        )  # fmt: skip

    def field(name: str) -> Any:
        value = getattr(req, name)
        return flags.get(name) if value is None else value

    _refuse_unsupported(req, flags)
    resolution = Resolution.P720
    if field("resolution") is not None:
        resolution = parse_resolution(field("resolution"), "resolution")
    aspect = AspectRatio.AUTO  # Ark's default: adaptive (16:9 without a picture)
    if field("ratio") is not None:
        aspect = parse_aspect(field("ratio"), "ratio")
    duration = field("duration")
    seconds = DEFAULT_SECONDS if duration is None else parse_seconds(duration, "duration")
    camera_fixed = field("camera_fixed")
    if camera_fixed is not None and parse_bool(camera_fixed, "camera_fixed"):
        prompt = f"{prompt.rstrip()} {CAMERA_FIXED_HINT}"
    watermark = field("watermark")
    # `--wm true` in the text (a `watermark: true` in the body is warned by check_ark_fields)
    if watermark is not None and parse_bool(watermark, "watermark") and req.watermark is None:
        warnings.append(_flag_ignored("--wm true", "outputs are never watermarked"))
    spec = GenerationSpec(
        prompt=prompt,
        model=req.model,
        seconds=seconds,
        resolution=resolution,
        aspect_ratio=aspect,
        references=tuple(refs),
        generate_audio=True if req.generate_audio is None else req.generate_audio,
        seed=parse_seed(field("seed")),
        return_last_frame=bool(req.return_last_frame),
        webhook_url=req.callback_url or None,
        end_user_id=req.safety_identifier or None,
        execution_expires_after=_expires_after(req.execution_expires_after),
        dialect=ARK_DIALECT,
        warnings=tuple(warnings),
    )
    return ArkCreate(spec, tuple(index))


def _flag_ignored(flag: str, why: str) -> FieldWarning:
    return FieldWarning(
        code=codes.IGNORED_PARAMETER, message=f"{flag} was ignored: {why}", param="content"
    )


def _image_only_prompt(refs: list[ReferenceInput]) -> str:
    """Ark renders a task with images and no text (a first frame alone, reference images
    alone): the job gets a neutral prompt naming each image, shown as the task's
    `revised_prompt`. Without an image, a text item is required."""
    images = [r for r in refs if r.kind is ReferenceKind.IMAGE]
    if not images:
        raise InvalidRequest(
            "content needs a text item with the prompt (or at least one image_url item)",
            code=MISSING, param="content",
        )  # fmt: skip
    names = [f"@Image{n}" for n in range(1, len(images) + 1)]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{IMAGE_ONLY_PROMPT} {listed}."


def _reference(item: ImageItem | VideoItem | AudioItem, i: int) -> ReferenceInput:
    if isinstance(item, ImageItem):
        kind, url = ReferenceKind.IMAGE, item.image_url.url
        role = _IMAGE_ROLES.get(item.role) if item.role else ReferenceRole.REFERENCE
        allowed = ", ".join(_IMAGE_ROLES)
    else:
        kind = ReferenceKind.VIDEO if isinstance(item, VideoItem) else ReferenceKind.AUDIO
        url = item.video_url.url if isinstance(item, VideoItem) else item.audio_url.url
        allowed = _MEDIA_ROLES[kind]
        role = ReferenceRole.REFERENCE if item.role in (None, allowed) else None
    if role is None:
        raise InvalidReference(
            f"content[{i}].role is {item.role!r}; a {item.type} item takes {allowed}",
            code=codes.INVALID_REFERENCE_ROLE, param=f"content[{i}].role",
        )  # fmt: skip
    url = url.strip()
    if not url:
        raise InvalidReference(
            f"content[{i}] has an empty url", code=codes.INVALID_REFERENCE_MISSING_SOURCE,
            param=f"content[{i}].{item.type}.url",
        )  # fmt: skip
    if url.lower().startswith("asset://") and file_id_of(url) is None:
        raise InvalidReference(
            f"content[{i}] names {url!r}; asset ids here are the ids of files uploaded with "
            "POST /v1/files (asset://file_...)",
            code=codes.INVALID_REFERENCE_ASSET, param=f"content[{i}].{item.type}.url",
        )  # fmt: skip
    return ReferenceInput(kind=kind, role=role, url=url)


def _default_roles(req: ArkCreateRequest, refs: list[ReferenceInput]) -> list[ReferenceInput]:
    """A lone image without a role is Ark's image-to-video first frame."""
    media = [c for c in req.content if not isinstance(c, TextItem)]
    if len(media) == 1 and isinstance(media[0], ImageItem) and media[0].role is None:
        only = refs[0]
        return [ReferenceInput(kind=only.kind, role=ReferenceRole.FIRST_FRAME, url=only.url)]
    return refs


def _refuse_unsupported(req: ArkCreateRequest, flags: dict[str, str]) -> None:
    """Text flags that would change the result and that this service cannot honour (the body's
    fields are checked by `check_ark_fields`): an error beats a silently ignored parameter."""
    fps = flags.get("framepersecond")
    if fps is not None and fps not in (str(FPS), f"{FPS}.0"):
        raise InvalidRequest(
            f"--fps is {fps}; output is always {FPS} frames per second",
            code=UNSUPPORTED, param="framepersecond",
        )  # fmt: skip


def _expires_after(value: int | None) -> int | None:
    if value is None:
        return None
    if value <= 0:
        raise InvalidRequest(
            f"execution_expires_after is {value}; it must be a positive number of seconds",
            code=codes.INVALID_REQUEST_EXECUTION_EXPIRES_AFTER, param="execution_expires_after",
        )  # fmt: skip
    return value


def _invalid(exc: ValidationError) -> InvalidRequest:
    """The first pydantic error as an InvalidRequest naming the field the Ark way:
    `content[1].image_url.url`."""
    first = exc.errors()[0]
    loc = list(first.get("loc", ()))
    # a tagged union puts the tag into the path: content.1.image_url.image_url.url
    if len(loc) >= 3 and isinstance(loc[1], int) and loc[2] in CONTENT_TYPES:
        del loc[2]
    param = ""
    for part in loc:
        param += f"[{part}]" if isinstance(part, int) else f".{part}" if param else str(part)
    if first.get("type") == "missing":
        return InvalidRequest(f"{param} is required", code=MISSING, param=param or None)
    if first.get("type") == "union_tag_invalid":
        message = f"{param}.type must be one of {', '.join(CONTENT_TYPES)}"
    else:
        message = f"{param or 'body'}: {first.get('msg', 'invalid value')}"
    return InvalidRequest(message, code=codes.INVALID_REQUEST, param=param or None)
