"""The field names of the native create (`POST /v1/videos`, JSON and multipart) for
`strict_fields.check_fields`: the wire model's fields are the honoured ones (a field added to
`VideoCreateRequest` is accepted at once), and the names people bring from the Seedance and
image APIs get a hint instead of a silent drop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reelforge import codes
from reelforge.api.common.strict_fields import Fields, check_fields, check_object
from reelforge.api.videos.wire import InputReferenceIn, ReferenceIn, VideoCreateRequest
from reelforge.errors import InvalidRequest
from reelforge.spec import FPS

NATIVE_FIELDS = Fields.of(
    VideoCreateRequest.model_fields,
    hints={
        "duration": 'the length in seconds is `seconds` here ("auto" or 1..60)',
        "ratio": "the aspect ratio is `aspect_ratio` here",
        "fps": f"every video is rendered at {FPS} fps; there is no frame-rate field",
        "frames": "the length is `seconds`; there is no frame-count field",
        "n": "one video per request; send one request per video",
        "negative_prompt": "negative prompts are not supported; say in `prompt` what to show",
        "output_format": "choose the codec with `codec`: h264 or h265 (MP4), or with "
        "`alpha` true prores_4444 (.mov) or vp9 (.webm)",
        "callback_url": "the webhook is `webhook_url` here",
        "image_url": 'send it as `input_reference` ({"image_url": ...}) or in `references`',
        "image_urls": 'send images in `references` ([{"type": "image", "url": ...}])',
    },
)
REFERENCE_FIELDS = Fields.of(ReferenceIn.model_fields)
INPUT_REFERENCE_FIELDS = Fields.of(InputReferenceIn.model_fields)
# multipart file fields (`mapping._FIELD_KINDS`), with or without a `[]` suffix
UPLOAD_FIELDS = Fields.of(
    ("input_reference", "image", "images", "video", "videos", "audio", "audios")
)


def check_native_fields(fields: Mapping[str, Any], upload_names: Sequence[str]) -> None:
    """Refuse a field (or an uploaded file's field name) that the native API does not have,
    naming it; JSON and multipart alike. Nested objects (`references[i]`, `input_reference`)
    are checked too; a JSON string there is checked once mapping.py has decoded it."""
    check_fields(fields, NATIVE_FIELDS)
    for name in upload_names:
        if name.removesuffix("[]") not in UPLOAD_FIELDS.known:
            raise InvalidRequest(
                f"unknown file field: {name}; upload files as input_reference, image(s), "
                "video(s) or audio(s)",
                code=codes.INVALID_REQUEST_UNKNOWN_PARAMETER, param=name,
            )  # fmt: skip
    check_object(fields.get("input_reference"), INPUT_REFERENCE_FIELDS, "input_reference.")
    check_references(fields.get("references"))


def check_references(value: Any) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            check_object(item, REFERENCE_FIELDS, f"references[{i}].")
