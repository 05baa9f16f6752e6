"""Typed response bodies for the OpenAPI document, one module per dialect, attached by path
in `api.common.openapi.finish_openapi` (`RESPONSES`): the routes keep returning their
presenters' dicts; these models only describe them (every field, with a description and an
example). Extra fields are allowed, so a field added to a presenter does not break clients
that validate against the document; `tests/api/test_response_schemas.py` checks the real
answers of each dialect's main flow against it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from reelforge.api.schemas import ark, native

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
}
"""(method, path) -> status -> the body's model (or media types)."""
