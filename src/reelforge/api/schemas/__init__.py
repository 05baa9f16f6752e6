"""Typed response bodies for the OpenAPI document, one module per dialect, attached by path
in `api.common.openapi.finish_openapi` (`RESPONSES`): the routes keep returning their
presenters' dicts; these models only describe them (every field, with a description and an
example). Extra fields are allowed, so a field added to a presenter does not break clients
that validate against the document; `tests/api/test_response_schemas.py` checks the real
answers of each dialect's main flow against it.
"""

from __future__ import annotations

from typing import Any, TypedDict

from pydantic import BaseModel

from reelforge.api.eachlabs import routes as eachlabs
from reelforge.api.schemas import ark, batches, flat, native, platform
from reelforge.api.seed_dialects import seed000, seed001, seed002, seed004

Media = dict[str, dict[str, Any]]
"""A non-JSON answer: media type -> OpenAPI media object."""

ResponseSpec = type[BaseModel] | Media

_BINARY = {"schema": {"type": "string", "format": "binary"}}
CONTENT: Media = {
    "video/mp4": _BINARY,
    "image/jpeg": _BINARY,
    "image/png": _BINARY,
}
EVENTS: Media = {
    "text/event-stream": {
        "schema": {
            "type": "string",
            "description": "Server-sent events: `event: video.progress` or `video.<status>`, "
            "`data:` the Video object as JSON, until the video is terminal.",
        },
        "example": 'event: video.progress\ndata: {"id": "video_...", "status": "in_progress", '
        '"progress": 40}\n\n',
    }
}

_V = "/v1/videos"
_ARK = "/api/v3/contents/generations/tasks"
_OA = "/openai/v1/videos"
_B = "/v1/batches"

RESPONSES: dict[tuple[str, str], dict[str, ResponseSpec]] = {
    ("post", _V): {"202": native.Video},
    ("get", _V): {"200": native.VideoList},
    ("post", _V + "/{video_id}/remix"): {"202": native.Video},
    ("post", _V + "/quote"): {"200": native.Quote},
    ("get", _V + "/{video_id}"): {"200": native.Video},
    ("delete", _V + "/{video_id}"): {"200": native.VideoDeleted},
    ("post", _V + "/{video_id}/cancel"): {"200": native.Video},
    ("get", _V + "/{video_id}/content"): {"200": CONTENT},
    ("get", _V + "/{video_id}/events"): {"200": EVENTS},
    ("post", _ARK): {"200": ark.TaskCreated},
    ("get", _ARK): {"200": ark.TaskList},
    ("get", _ARK + "/{task_id}"): {"200": ark.Task},
    ("delete", _ARK + "/{task_id}"): {"200": ark.Empty},
    ("post", "/seedance/v1/generate"): {"200": flat.Seed000Created},
    ("get", "/seedance/v1/status/{job_id}"): {"200": flat.Seed000Status},
    ("post", seed001.PREFIX): {"200": flat.Seed001Created},
    ("get", seed001.PREFIX + "/{task_id}"): {"200": flat.Seed001Task},
    ("post", seed002.PREFIX): {"200": flat.Seed002Created},
    ("get", seed002.PREFIX + "/{generation_id}"): {"200": flat.Seed002Generation},
    ("post", seed004.PREFIX): {"200": flat.Seed004Created},
    ("get", seed004.PREFIX + "/{job_id}"): {"200": flat.Seed004Generation},
    ("post", seed004.ATLAS_PREFIX): {"200": flat.Seed004Created},
    ("get", seed004.ATLAS_PREFIX + "/{job_id}"): {"200": flat.Seed004Generation},
    ("post", "/v1/prediction"): {"200": flat.PredictionCreated},
    ("get", "/v1/prediction/{prediction_id}"): {"200": flat.Prediction},
    ("post", "/v1/prediction/{prediction_id}/cancel"): {"200": flat.Prediction},
    ("post", _OA): {"200": native.OpenAIVideo},
    ("get", _OA): {"200": native.OpenAIVideoList},
    ("post", _OA + "/{video_id}/remix"): {"200": native.OpenAIVideo},
    ("get", _OA + "/{video_id}"): {"200": native.OpenAIVideo},
    ("delete", _OA + "/{video_id}"): {"200": native.VideoDeleted},
    ("get", _OA + "/{video_id}/content"): {"200": CONTENT},
    ("get", "/v1/models"): {"200": platform.ModelList},
    ("get", "/v1/models/{model_id}"): {"200": platform.ModelObject},
    ("get", "/healthz"): {"200": platform.Health},
    ("get", "/version"): {"200": platform.Version},
    ("get", "/readyz"): {"200": platform.Ready, "503": platform.Ready},
    ("post", "/v1/files"): {"200": platform.FileObject},
    ("get", "/v1/files/{file_id}"): {"200": platform.FileObject},
    ("delete", "/v1/files/{file_id}"): {"200": platform.Deleted},
    ("get", "/v1/keys"): {"200": platform.ApiKeyList},
    ("post", "/v1/keys"): {"200": platform.ApiKeyCreated},
    ("get", "/v1/keys/me"): {"200": platform.KeyMe},
    ("post", "/v1/keys/{key_id}/credits"): {"200": platform.Balance},
    ("get", "/v1/keys/{key_id}/ledger"): {"200": platform.Ledger},
    ("delete", "/v1/keys/{key_id}"): {"200": platform.ApiKey},
    ("get", "/v1/usage"): {"200": platform.UsageReport},
    ("get", _V + "/{video_id}/webhooks"): {"200": platform.WebhookEvents},
    ("post", _V + "/{video_id}/webhooks/{event_id}/redeliver"): {"202": platform.WebhookDelivery},
    ("post", _B): {"202": batches.BatchObject},
    ("get", _B): {"200": batches.BatchList},
    ("get", _B + "/{batch_id}"): {"200": batches.BatchObject},
    ("get", _B + "/{batch_id}/results"): {"200": batches.RESULTS},
    ("post", _B + "/{batch_id}/cancel"): {"200": batches.BatchObject},
    ("get", _B + "/{batch_id}/webhooks"): {"200": platform.WebhookEvents},
}
"""(method, path) -> status -> the body's model (or media types)."""


class RequestDoc(TypedDict, total=False):
    """What `finish_openapi` adds to an operation's request body: descriptions of top-level
    fields that have none, and an example per media type that has none."""

    fields: dict[str, str]
    examples: dict[str, Any]
    body: Media  # the whole body, for a route that reads its form itself
    nested: dict[str, str]  # descriptions of fields at any depth, by name


_NATIVE_EXAMPLE = {
    "prompt": "@Image1 walks along the beach at sunset, dolly in",
    "model": "preview",
    "seconds": "5",
    "resolution": "720p",
    "references": [{"type": "image", "url": "https://example.com/cat.png"}],
}
_NATIVE_FORM = {
    "prompt": "a paper boat drifts down a rain-soaked street",
    "seconds": "5",
    "size": "1280x720",
    "model": "preview",
}
_NATIVE_CREATE: RequestDoc = {
    "fields": {
        "input_reference": "The first frame, uploaded as a file (OpenAI's form field)",
        "references": "JSON list of references, as in the JSON body; uploaded files in "
        "other fields join them in order",
    },
    "examples": {"application/json": _NATIVE_EXAMPLE, "multipart/form-data": _NATIVE_FORM},
}
_REMIX: RequestDoc = {
    "fields": {"prompt": "The new prompt; references and settings come from the source video"},
    "examples": {"application/json": {"prompt": "the same scene at night, in the rain"}},
}


def _flat(shape: Any, example: dict[str, Any]) -> RequestDoc:
    return {"body": {"application/json": {"schema": flat.flat_request(shape, example)}}}


_FLAT_EXAMPLE = {"prompt": "@Image1 walks on the beach at sunset", "duration": 5,
                 "resolution": "720p", "aspect_ratio": "16:9"}  # fmt: skip
_EACHLABS_INPUT = flat.flat_request(eachlabs.SHAPE, {**_FLAT_EXAMPLE, "duration": "5"})
_EACHLABS_INPUT["description"] = "The model's input; any other field is refused."

REQUEST_DOCS: dict[tuple[str, str], RequestDoc] = {
    ("post", "/seedance/v1/generate"): _flat(seed000.SHAPE, _FLAT_EXAMPLE),
    ("post", seed001.PREFIX): _flat(seed001.SHAPE, _FLAT_EXAMPLE),
    ("post", seed002.PREFIX): _flat(seed002.SHAPE, _FLAT_EXAMPLE),
    ("post", seed004.PREFIX): _flat(seed004.SHAPE, _FLAT_EXAMPLE),
    ("post", seed004.ATLAS_PREFIX): _flat(seed004.ATLAS_SHAPE, _FLAT_EXAMPLE),
    ("post", "/v1/prediction"): {
        "body": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["input"],
                    "properties": {
                        "model": {
                            "type": "string",
                            "description": "each::labs model slug",
                            "examples": ["seedance-v2-0-reference-to-video"],
                        },
                        "input": _EACHLABS_INPUT,
                        "webhook_url": {
                            "type": "string",
                            "description": "https URL that receives the prediction's end",
                        },
                        "version": {
                            "type": "string",
                            "description": "Deprecated; accepted and ignored",
                        },
                        "webhook_secret": {
                            "description": "Refused (400 unsupported_parameter): reelforge "
                            "signs webhooks with Standard Webhooks and the key's secret"
                        },
                    },
                    "example": {
                        "model": "seedance-v2-0-reference-to-video",
                        "input": {**_FLAT_EXAMPLE, "duration": "5"},
                    },
                }
            }
        }
    },
    ("post", _V): _NATIVE_CREATE,
    ("post", _V + "/quote"): _NATIVE_CREATE,
    ("post", _V + "/{video_id}/remix"): _REMIX,
    ("post", "/openai/v1/videos"): _NATIVE_CREATE,
    ("post", "/openai/v1/videos/{video_id}/remix"): _REMIX,
    ("post", _ARK): {
        "fields": {
            "content": "The prompt (one text item) and the references: image_url items "
            "(first_frame, last_frame or reference_image), video_url items "
            "(reference_video) and audio_url items (reference_audio)",
        },
        "nested": {
            "type": "The item's kind: text, image_url, video_url, audio_url (draft_task: refused)",
            "text": "The prompt; [Image 1], [Video 1], [Audio 1] name the references in order, "
            "and --flags (--rs 720p, --dur 5, ...) set fields left unset",
            "image_url": "`{url}` of the image",
            "video_url": "`{url}` of the video",
            "audio_url": "`{url}` of the audio clip",
            "draft_task": "Seedance 1.5 pro drafts; refused here",
        },
        "examples": {
            "application/json": {
                "model": "dreamina-seedance-2-0-260128",
                "content": [
                    {"type": "text", "text": "[Image 1] the cat jumps onto the sofa"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://example.com/cat.png"},
                        "role": "reference_image",
                    },
                ],
                "resolution": "720p",
                "ratio": "16:9",
                "duration": 5,
            }
        },
    },
    ("post", "/v1/keys"): {
        "fields": {
            "name": "A name for people (1..200 characters)",
            "scopes": "What the key may do: read, generate, admin (default: read, generate)",
            "daily_budget": "Credits the key may spend per UTC day; omitted: no daily cap",
            "creates_per_minute": "Creates per minute for this key; omitted: the server's",
            "max_active_jobs": "Queued and running jobs at once; omitted: the server's",
        },
        "examples": {
            "application/json": {"name": "ci", "scopes": ["read", "generate"], "balance": 100}
        },
    },
    ("post", "/v1/files"): {
        "body": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The image, video or audio file",
                        },
                        "kind": {
                            "type": "string",
                            "enum": ["image", "video", "audio"],
                            "description": "What it is; omitted: detected from the bytes",
                        },
                    },
                }
            }
        },
        "examples": {"multipart/form-data": {"file": "cat.png", "kind": "image"}},
    },
    ("post", "/v1/keys/{key_id}/credits"): {
        "fields": {"amount": "Credits to add (> 0)"},
        "examples": {"application/json": {"amount": 50}},
    },
}
"""(method, path) -> request body documentation added centrally."""
