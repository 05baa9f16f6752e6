"""The Ark create body's field names (top level and each `content[]` item), for
`strict_fields.check_fields`.

The Ark SDKs (byteplus, volcengine) send every field of `tasks.create`, `null` when unset, so
`null` is always "not given". Of the fields Ark documents, the ones that would change the video
and that reelforge cannot honour are refused with a value (`frames`, `draft: true`,
`service_tier: "flex"`, `output_format` other than mp4); the ones that do not change the video
(`priority`, `tools`, `watermark: true`, `omni_reference_task_type`) are accepted and listed as
`ignored_parameter` warnings on the job (`GET /v1/videos/{id}` shows them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reelforge.api.common.strict_fields import Fields, Unsupported, check_fields, check_object
from reelforge.spec import FieldWarning

ARK_FIELDS = Fields.of(
    (
        "model", "content", "resolution", "ratio", "duration", "seed", "generate_audio",
        "return_last_frame", "callback_url", "execution_expires_after", "safety_identifier",
        "camera_fixed",
    ),
    unsupported={
        "frames": Unsupported("Seedance 2.0 takes duration in seconds, not frames; so does "
                              "reelforge"),
        "draft": Unsupported("drafts are a Seedance 1.5 pro feature", accepted=(False,)),
        "service_tier": Unsupported("only the default tier is offered (Ark has no flex tier "
                                    "for Seedance 2.0 either)", accepted=("default",)),
        "output_format": Unsupported("videos are MP4", accepted=("mp4",)),
        "watermark": Unsupported("outputs are never watermarked", accepted=(False,), warn=True),
        "priority": Unsupported("there is no priority queue; tasks run in the order they came",
                                warn=True),
        "tools": Unsupported("the engines have no tools (web search)", accepted=([],),
                             warn=True),
        "omni_reference_task_type": Unsupported(
            "the kind of task follows from the content items and their roles", warn=True
        ),
    },
    hints={
        "prompt": "the prompt is a content item: {\"type\": \"text\", \"text\": ...}",
        "aspect_ratio": "the aspect ratio is `ratio` here",
        "seconds": "the length in seconds is `duration` here",
        "webhook_url": "the callback is `callback_url` here",
        "fps": "every video is 24 fps; there is no frame-rate field",
        "framespersecond": "every video is 24 fps; there is no frame-rate field",
    },
)  # fmt: skip

_MEDIA_ITEM = {"image_url", "video_url", "audio_url"}
ITEM_FIELDS: dict[str, Fields] = {
    "text": Fields.of(("type", "text")),
    "draft_task": Fields.of(("type", "draft_task")),  # refused by mapping.py, naming the item
    **{kind: Fields.of(("type", kind, "role")) for kind in _MEDIA_ITEM},
}
# an item without a known `type`: any item's names (a misspelt `type` is named, not guessed)
ANY_ITEM_FIELDS = Fields.of(name for fields in ITEM_FIELDS.values() for name in fields.known)
URL_FIELDS = Fields.of(("url",))


def check_ark_fields(body: Mapping[str, Any]) -> list[FieldWarning]:
    """Refuse an unknown or unsupported field (top level, `content[i].x`,
    `content[i].image_url.x`) naming it; the warnings of the fields accepted but ignored."""
    warnings = check_fields(body, ARK_FIELDS)
    content = body.get("content")
    if not isinstance(content, list):
        return warnings
    for i, item in enumerate(content):
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type")
        fields = ITEM_FIELDS.get(kind) if isinstance(kind, str) else None
        warnings += check_fields(item, fields or ANY_ITEM_FIELDS, f"content[{i}].")
        if kind in _MEDIA_ITEM:
            warnings += check_object(item.get(kind), URL_FIELDS, f"content[{i}].{kind}.")
    return warnings
