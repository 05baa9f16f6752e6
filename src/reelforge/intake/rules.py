"""Reference and prompt rules (API.md 'Limits'), shared by every dialect.

- `check_request_rules` runs before anything is fetched: prompt length, counts per modality and
  in all, the three mutually exclusive modes, audio needing a picture, and mentions.
- `check_reference_media` checks one reference's measured facts (bytes, sides, aspect,
  duration, pixels per frame, frame rate). Probing calls it with what the header says, before
  decoding, and intake calls it again on every stored reference (file ids included, so a limit
  tightened after an upload still holds).
- `check_stored_references` runs after probing: every reference again, then the totals.
- `check_metadata` caps a job's `metadata` (keys, key length, value length), like OpenAI's and
  Stripe's: it is copied into every list page and webhook body.

Every refusal names the value and the limit, carries its own stable code, and points at the
reference (`param="references[3]"`, `reference_index=3`).

Prompt tokens are counted without a model tokenizer, the same way everywhere: every run of
letters, digits and underscores is one token, every other visible character (punctuation,
symbols, emoji) is one token, and every CJK ideograph, kana or hangul syllable is one token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reelforge import codes
from reelforge.core.references import StoredReference
from reelforge.errors import InvalidReference, InvalidRequest, PayloadTooLarge, UnprocessableMedia
from reelforge.intake.limits import Limits
from reelforge.planning.mentions import iter_mentions
from reelforge.spec import ReferenceInput, ReferenceKind, ReferenceRole

IMAGE, VIDEO, AUDIO = ReferenceKind.IMAGE, ReferenceKind.VIDEO, ReferenceKind.AUDIO
FPS_TOLERANCE = 0.002  # relative: 23.976 (24000/1001) counts as 24, 59.94 as 60

_CJK = (
    "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
)
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+|[^\w\s]")


def count_prompt_tokens(prompt: str) -> int:
    """Tokens as documented in the module docstring and in docs/api/limits.md."""
    return sum(1 for _ in _TOKEN.finditer(prompt))


def _param(index: int) -> str:
    return f"references[{index}]"


@dataclass(frozen=True)
class Where:
    """The reference an error names: `param` (`references[3]`, or `file` for an upload) and its
    position in the request's reference list."""

    param: str
    index: int | None

    @classmethod
    def ref(cls, index: int) -> Where:
        return cls(_param(index), index)


def reference_error(
    code: str, message: str, where: Where | int, cls: type[InvalidRequest] = InvalidReference
) -> InvalidRequest:
    """`cls(message)` with `code` (a `codes` constant), naming the reference."""
    if isinstance(where, int):
        where = Where.ref(where)
    return cls(
        f"{where.param}: {message}",
        code=code,
        param=where.param,
        reference_index=where.index,
    )


def _n(value: float) -> str:
    """A number as people write it: 15, 2.5, 12.35, 409,600."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _mb(n: int) -> str:
    return f"{n:,} bytes ({n / 1024 / 1024:.1f} MiB)"


# ---- before fetching ----------------------------------------------------------------------


def check_request_rules(prompt: str, refs: Sequence[ReferenceInput], limits: Limits) -> None:
    check_prompt(prompt, limits)
    check_counts(refs, limits)
    check_modes(refs)
    check_audio_needs_visual(refs, limits)
    check_mentions(prompt, refs)


def _key_shown(key: str) -> str:
    return key if len(key) <= 40 else key[:37] + "..."


def check_metadata(metadata: Mapping[str, str], limits: Limits) -> None:
    """At most `max_metadata_keys` keys, each 1..`max_metadata_key_chars` characters, each value
    at most `max_metadata_value_chars` characters; a 400 naming the key."""
    if len(metadata) > limits.max_metadata_keys:
        raise InvalidRequest(
            f"metadata has {len(metadata)} keys; at most {limits.max_metadata_keys}",
            code=codes.INVALID_REQUEST_METADATA, param="metadata",
        )  # fmt: skip
    for key, value in metadata.items():
        where = f"metadata.{_key_shown(key)}"
        if not key or len(key) > limits.max_metadata_key_chars:
            raise InvalidRequest(
                f"metadata key {_key_shown(key)!r} is {len(key)} characters; keys are "
                f"1..{limits.max_metadata_key_chars} characters",
                code=codes.INVALID_REQUEST_METADATA, param=where,
            )  # fmt: skip
        if len(value) > limits.max_metadata_value_chars:
            raise InvalidRequest(
                f"{where} is {len(value)} characters; at most {limits.max_metadata_value_chars}",
                code=codes.INVALID_REQUEST_METADATA, param=where,
            )  # fmt: skip


def check_prompt(prompt: str, limits: Limits) -> None:
    if len(prompt) > limits.max_prompt_chars:
        raise InvalidRequest(
            f"prompt is {len(prompt):,} characters; at most {limits.max_prompt_chars:,}",
            code=codes.INVALID_REQUEST_PROMPT_TOO_LONG, param="prompt",
        )  # fmt: skip
    tokens = count_prompt_tokens(prompt)
    if tokens > limits.max_prompt_tokens:
        raise InvalidRequest(
            f"prompt is {tokens:,} tokens (words, punctuation marks and CJK characters each "
            f"count one); at most {limits.max_prompt_tokens:,}",
            code=codes.INVALID_REQUEST_PROMPT_TOO_LONG, param="prompt",
        )  # fmt: skip


_KIND_COUNTS = {
    IMAGE: ("max_images", codes.too_many("image")),
    VIDEO: ("max_videos", codes.too_many("video")),
    AUDIO: ("max_audios", codes.too_many("audio")),
}


def check_counts(refs: Sequence[ReferenceInput | StoredReference], limits: Limits) -> None:
    """Counts per modality and in all; the reference named is the first one over the limit."""
    if len(refs) > limits.max_references:
        over = limits.max_references
        raise InvalidReference(
            f"{len(refs)} references given; at most {limits.max_references} in all "
            f"(images, videos and audio together); {_param(over)} is the first one over",
            code=codes.INVALID_REFERENCE_TOO_MANY_REFERENCES, param="references",
            reference_index=over,
        )  # fmt: skip
    for kind, (attr, code) in _KIND_COUNTS.items():
        positions = [i for i, r in enumerate(refs) if r.kind is kind]
        limit = getattr(limits, attr)
        if len(positions) > limit:
            raise InvalidReference(
                f"{len(positions)} {kind.value} references given; at most {limit}; "
                f"{_param(positions[limit])} is the first one over",
                code=code, param="references",
                reference_index=positions[limit],
            )  # fmt: skip


def check_modes(refs: Sequence[ReferenceInput | StoredReference]) -> None:
    """First frame only, first + last frame, or references: never a mix."""
    framed = [(i, r) for i, r in enumerate(refs) if r.role is not ReferenceRole.REFERENCE]
    if not framed:
        return
    for i, r in framed:
        if r.kind is not IMAGE:
            raise reference_error(
                codes.INVALID_REFERENCE_FRAME_ROLE_KIND,
                f"role {r.role.value} needs an image; this reference is a {r.kind.value}",
                i,
            )
    first = [i for i, r in framed if r.role is ReferenceRole.FIRST_FRAME]
    last = [i for i, r in framed if r.role is ReferenceRole.LAST_FRAME]
    plain = [i for i, r in enumerate(refs) if r.role is ReferenceRole.REFERENCE]
    if plain:
        i, (j, fr) = plain[0], framed[0]
        raise reference_error(
            codes.INVALID_REFERENCE_MODE_CONFLICT,
            f"this is a reference {refs[i].kind.value}, but {_param(j)} has role "
            f"{fr.role.value}: the first-frame, first-and-last-frame and reference modes cannot "
            "be mixed",
            i,
        )
    if len(first) > 1:
        raise reference_error(
            codes.INVALID_REFERENCE_DUPLICATE_FRAME_ROLE,
            f"a second first_frame (the first is {_param(first[0])}); at most one", first[1],
        )  # fmt: skip
    if len(last) > 1:
        raise reference_error(
            codes.INVALID_REFERENCE_DUPLICATE_FRAME_ROLE,
            f"a second last_frame (the first is {_param(last[0])}); at most one", last[1],
        )  # fmt: skip
    if last and not first:
        raise reference_error(
            codes.INVALID_REFERENCE_LAST_FRAME_WITHOUT_FIRST_FRAME,
            "role last_frame, but no reference has role first_frame; a last frame needs a "
            "first frame",
            last[0],
        )


def check_audio_needs_visual(
    refs: Sequence[ReferenceInput | StoredReference], limits: Limits
) -> None:
    if not limits.audio_requires_visual:
        return
    audio = [i for i, r in enumerate(refs) if r.kind is AUDIO]
    if audio and not any(r.kind in (IMAGE, VIDEO) for r in refs):
        raise reference_error(
            codes.INVALID_REFERENCE_AUDIO_WITHOUT_VISUAL,
            f"{len(audio)} audio reference(s) but no image or video reference; audio needs at "
            "least one image or video reference",
            audio[0],
        )


def check_mentions(prompt: str, refs: Sequence[ReferenceInput | StoredReference]) -> None:
    """Every `@Image1` / `[Image 1]` must name a reference that was given (by order within its
    kind, counting from 1). References the prompt does not name are kept."""
    counts = {kind: sum(1 for r in refs if r.kind is kind) for kind in ReferenceKind}
    for mention in iter_mentions(prompt):
        kind, index = mention.kind, mention.index
        if not 1 <= index <= counts[kind]:
            have = counts[kind]
            if have == 0:
                given = f"no {kind.value} reference was given"
            elif have == 1:
                given = f"only 1 {kind.value} reference was given"
            else:
                given = f"only {have} {kind.value} references were given"
            raise InvalidRequest(
                f"prompt mentions {prompt[mention.start : mention.end]!r} (@{mention.label}), "
                f"but {given}",
                code=codes.INVALID_REQUEST_MENTION, param="prompt",
            )  # fmt: skip


# ---- after probing ------------------------------------------------------------------------


def check_reference_media(
    kind: ReferenceKind,
    where: Where,
    limits: Limits,
    *,
    nbytes: int | None = None,
    width: int | None = None,
    height: int | None = None,
    seconds: float | None = None,
    fps: float | None = None,
) -> None:
    """One reference's facts against the limits of its kind. Unknown facts are skipped."""
    if kind is IMAGE:
        _check_image(where, limits, nbytes, width, height)
    elif kind is VIDEO:
        _check_video(where, limits, nbytes, width, height, seconds, fps)
    else:
        _check_audio(where, limits, nbytes, seconds)


def check_bytes(kind: ReferenceKind, where: Where, nbytes: int, limits: Limits) -> None:
    limit, code = {
        IMAGE: (limits.max_image_bytes, codes.file_too_large("image")),
        VIDEO: (limits.max_video_bytes, codes.file_too_large("video")),
        AUDIO: (limits.max_audio_bytes, codes.file_too_large("audio")),
    }[kind]
    if nbytes > limit:
        raise reference_error(
            code, f"the {kind.value} is {_mb(nbytes)}; at most {_mb(limit)}", where,
            PayloadTooLarge,
        )  # fmt: skip


def check_image_pixels(where: Where, width: int, height: int, limits: Limits) -> None:
    """The pixel-bomb guard: from the header, before anything is decoded."""
    if width * height > limits.max_image_pixels:
        raise reference_error(
            codes.INVALID_REFERENCE_IMAGE_TOO_MANY_PIXELS,
            f"the image header says {width}x{height} = {width * height:,} pixels; at most "
            f"{limits.max_image_pixels:,} are decoded",
            where, UnprocessableMedia,
        )  # fmt: skip


def _check_image(
    where: Where, limits: Limits, nbytes: int | None, width: int | None, height: int | None
) -> None:
    if nbytes is not None:
        check_bytes(IMAGE, where, nbytes, limits)
    if width is None or height is None:
        return
    check_image_pixels(where, width, height, limits)
    size = f"{width}x{height}"
    if min(width, height) < limits.min_image_side:
        raise reference_error(
            codes.INVALID_REFERENCE_IMAGE_TOO_SMALL,
            f"the image is {size} px; each side must be at least {limits.min_image_side} px",
            where,
        )
    if max(width, height) > limits.max_image_side:
        raise reference_error(
            codes.INVALID_REFERENCE_IMAGE_TOO_LARGE,
            f"the image is {size} px; each side must be at most {limits.max_image_side} px",
            where,
        )
    aspect = width / height
    if not limits.min_image_aspect <= aspect <= limits.max_image_aspect:
        raise reference_error(
            codes.INVALID_REFERENCE_IMAGE_ASPECT,
            f"the image is {size} px, aspect ratio (width / height) {aspect:.2f}; it must be "
            f"{_n(limits.min_image_aspect)}..{_n(limits.max_image_aspect)}",
            where,
        )


def _check_seconds(
    kind: ReferenceKind, where: Where, seconds: float, low: float, high: float, tol: float
) -> None:
    if seconds > high + tol:
        raise reference_error(
            codes.too_long(kind.value),
            f"the {kind.value} is {_n(round(seconds, 2))} s long; at most {_n(high)} s",
            where,
        )
    if seconds < low - tol:
        raise reference_error(
            codes.too_short(kind.value),
            f"the {kind.value} is {_n(round(seconds, 2))} s long; at least {_n(low)} s",
            where,
        )


def check_video_header(
    where: Where, limits: Limits, width: int | None, height: int | None, fps: float | None
) -> None:
    """Pixels per frame and frame rate (what the header says; nothing decoded)."""
    if width and height:
        pixels = width * height
        size = f"{width}x{height} = {pixels:,} pixels per frame"
        span = f"{limits.min_video_pixels:,}..{limits.max_video_pixels:,}"
        if pixels < limits.min_video_pixels:
            raise reference_error(
                codes.INVALID_REFERENCE_VIDEO_TOO_FEW_PIXELS,
                f"the video is {size}; it must be {span}",
                where,
            )
        if pixels > limits.max_video_pixels:
            raise reference_error(
                codes.INVALID_REFERENCE_VIDEO_TOO_MANY_PIXELS,
                f"the video is {size}; it must be {span}",
                where,
            )
    if fps:
        span = f"{_n(limits.min_video_fps)}..{_n(limits.max_video_fps)} fps"
        if fps < limits.min_video_fps * (1 - FPS_TOLERANCE):
            raise reference_error(
                codes.INVALID_REFERENCE_VIDEO_FPS_TOO_LOW,
                f"the video runs at {_n(round(fps, 3))} fps; {span}",
                where,
            )
        if fps > limits.max_video_fps * (1 + FPS_TOLERANCE):
            raise reference_error(
                codes.INVALID_REFERENCE_VIDEO_FPS_TOO_HIGH,
                f"the video runs at {_n(round(fps, 3))} fps; {span}",
                where,
            )


def check_video_seconds(where: Where, limits: Limits, seconds: float) -> None:
    _check_seconds(
        VIDEO, where, seconds, limits.min_video_seconds, limits.max_video_seconds,
        limits.duration_tolerance_seconds,
    )  # fmt: skip


def check_audio_seconds(where: Where, limits: Limits, seconds: float) -> None:
    _check_seconds(
        AUDIO, where, seconds, limits.min_audio_seconds, limits.max_audio_seconds,
        limits.duration_tolerance_seconds,
    )  # fmt: skip


def _check_video(
    where: Where,
    limits: Limits,
    nbytes: int | None,
    width: int | None,
    height: int | None,
    seconds: float | None,
    fps: float | None,
) -> None:
    if nbytes is not None:
        check_bytes(VIDEO, where, nbytes, limits)
    if seconds is not None:
        check_video_seconds(where, limits, seconds)
    check_video_header(where, limits, width, height, fps)


def _check_audio(where: Where, limits: Limits, nbytes: int | None, seconds: float | None) -> None:
    if nbytes is not None:
        check_bytes(AUDIO, where, nbytes, limits)
    if seconds is not None:
        check_audio_seconds(where, limits, seconds)


def check_stored_references(refs: Sequence[StoredReference], limits: Limits) -> None:
    """Every stored reference against the limits of its kind, then the totals."""
    check_counts(refs, limits)
    for i, r in enumerate(refs):
        check_reference_media(
            r.kind, Where.ref(i), limits, nbytes=r.bytes, width=r.width, height=r.height,
            seconds=r.seconds, fps=r.fps,
        )  # fmt: skip
    check_totals(refs, limits)


def check_totals(refs: Sequence[StoredReference], limits: Limits) -> None:
    """Videos together: bytes and seconds; audio together: seconds. The reference named is the
    one that crossed the limit."""
    tol = limits.duration_tolerance_seconds
    _total(
        refs,
        VIDEO,
        "bytes",
        limits.max_video_bytes_total,
        0,
        codes.INVALID_REFERENCE_VIDEOS_TOTAL_TOO_LARGE,
    )
    _total(
        refs,
        VIDEO,
        "seconds",
        limits.max_video_seconds_total,
        tol,
        codes.INVALID_REFERENCE_VIDEOS_TOTAL_TOO_LONG,
    )
    _total(
        refs,
        AUDIO,
        "seconds",
        limits.max_audio_seconds_total,
        tol,
        codes.INVALID_REFERENCE_AUDIO_TOTAL_TOO_LONG,
    )


def _total(
    refs: Sequence[StoredReference],
    kind: ReferenceKind,
    attr: str,
    limit: float,
    tol: float,
    code: str,
) -> None:
    running = 0.0
    parts: list[str] = []
    for i, r in enumerate(refs):
        value = getattr(r, attr)
        if r.kind is not kind or value is None:
            continue
        running += value
        parts.append(_n(round(value, 2)) if attr == "seconds" else f"{value:,}")
        if running > limit + tol:
            unit = "s" if attr == "seconds" else "bytes"
            what = "videos" if kind is VIDEO else "audio references"
            cls = PayloadTooLarge if attr == "bytes" else InvalidReference
            raise reference_error(
                code,
                f"the {what} add up to {' + '.join(parts)} = {_n(round(running, 2))} {unit}; "
                f"at most {_n(limit)} {unit} together",
                Where.ref(i), cls,
            )  # fmt: skip
