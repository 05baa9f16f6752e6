"""The flat dialects (each::labs, seeds 000/001/002/004, AtlasCloud): request bodies derived
from each dialect's `FlatShape` (the field names it reads, and those it refuses), and their
response bodies as their presenters build them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reelforge.api.common.dialect_common import FlatShape
from reelforge.api.schemas.native import VideoWarning

_ID = "video_6a1c2f0b9d4e4b7f8a3c5d2e1f0a9b8c"
_URL = "http://127.0.0.1:8000/v1/videos/video_.../content?variant=video&expires=...&signature=..."

_KINDS: list[tuple[str, dict[str, Any], str]] = [
    ("prompt", {"type": "string"}, "What to render; @Image1 ... name the references"),
    ("model", {"type": "string"}, "Model id (GET /v1/models); omitted: the server's default"),
    ("seconds", {"type": ["integer", "string"]}, 'Length in seconds, or "auto"'),
    ("resolution", {"type": "string"}, "480p, 720p or 1080p"),
    ("aspect_ratio", {"type": "string"}, "16:9, 4:3, 1:1, 3:4, 9:16, 21:9 or auto"),
    ("generate_audio", {"type": "boolean"}, "Render a soundtrack"),
    ("seed", {"type": ["integer", "string"]}, "0..4294967295: the same seed, the same video"),
    ("webhook_url", {"type": "string"}, "https URL that receives the job's end"),
    ("end_user_id", {"type": "string"}, "Your end user's id, for abuse reports"),
]
_REFS = {"images": "image", "videos": "video", "audios": "audio clip"}


def flat_request(shape: FlatShape, example: dict[str, Any]) -> dict[str, Any]:
    """The JSON body `shape` reads: every name it honours, described; the vendor's fields it
    refuses, described as such. Any other field is refused (400 unknown_parameter)."""
    props: dict[str, Any] = {}
    for attr, kind in _REFS.items():
        for name in getattr(shape, attr):
            props[name] = {
                "type": ["array", "string"], "items": {"type": "string"},
                "description": f"Reference {kind}s, in @-mention order: https URLs, data: "
                "URIs, asset://file_... ids or raw base64 (a list, or one string)",
            }  # fmt: skip
    for attr, schema, text in _KINDS:
        for name in getattr(shape, attr):
            props[name] = {**schema, "description": text}
    for name in shape.extra_fields:
        props.setdefault(name, {"description": f"Read by this dialect ({name})"})
    for name, why in shape.unsupported.items():
        note = "accepted with a warning" if why.warn else "refused (400 unsupported_parameter)"
        props[name] = {"description": f"Documented by the vendor; {note}: {why.why}"}
    return {
        "type": "object",
        "properties": props,
        "description": "Any field not listed is refused (400 invalid_request.unknown_parameter).",
        "example": example,
    }


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorSummary(_Open):
    code: str = Field(description="Stable error code.", examples=["engine.crashed"])
    message: str = Field(description="What happened.")


class Seed000Created(_Open):
    job_id: str = Field(description="The job's id.", examples=[_ID])
    status: str = Field(description="queued, processing, completed or failed.", examples=["queued"])


class Seed000Status(Seed000Created):
    """A seed 000 job."""

    warnings: list[VideoWarning] = Field(
        default_factory=list,
        description="reelforge: what in the request was not rendered as asked (empty if nothing).",
    )

    video_url: str | None = Field(
        None, description="Signed MP4 link once completed.", examples=[_URL]
    )
    error: str | None = Field(None, description="Why it failed.")
    code: str | None = Field(None, description="Stable error code, if failed.")
    progress: int = Field(description="Percent done.", examples=[100])
    created_at: int = Field(description="Unix seconds.", examples=[1764643200])


class Seed001Created(_Open):
    id: str = Field(description="The task's id.", examples=[_ID])
    task_id: str = Field(description="Same as `id`.", examples=[_ID])
    status: str = Field(description="queued, processing, completed or failed.", examples=["queued"])


class VideoLink(_Open):
    url: str = Field(description="Signed MP4 link.", examples=[_URL])


class Seed001Task(Seed001Created):
    """A seed 001 task."""

    warnings: list[VideoWarning] = Field(
        default_factory=list,
        description="reelforge: what in the request was not rendered as asked (empty if nothing).",
    )

    model: str = Field(description="The model asked for.", examples=["seedance-2.0"])
    video_url: str | None = Field(None, description="Signed MP4 link once completed.")
    video: VideoLink | None = Field(None, description="`{url}` once completed.")
    error: ErrorSummary | None = Field(None, description="Why it failed.")
    progress: int = Field(description="Percent done.", examples=[40])
    created_at: int = Field(description="Unix seconds.", examples=[1764643200])


class Seed002Created(_Open):
    id: str = Field(description="The generation's id.", examples=[_ID])
    status: str = Field(
        description="pending, processing, complete or failed.", examples=["pending"]
    )


class Seed002Metadata(_Open):
    duration: float | None = Field(None, description="Seconds.", examples=[5])
    resolution: str = Field(description="Output resolution.", examples=["720p"])
    width: int = Field(description="Pixels.", examples=[1280])
    height: int = Field(description="Pixels.", examples=[720])
    aspect_ratio: str = Field(description="Aspect ratio.", examples=["16:9"])
    fps: int = Field(description="Frames per second.", examples=[24])
    file_size: int | None = Field(None, description="Bytes of the MP4, once there.")


class Seed002Generation(Seed002Created):
    """A seed 002 generation."""

    warnings: list[VideoWarning] = Field(
        default_factory=list,
        description="reelforge: what in the request was not rendered as asked (empty if nothing).",
    )

    output_url: str | None = Field(None, description="Signed MP4 link once complete.")
    metadata: Seed002Metadata = Field(description="The output's properties.")
    error: ErrorSummary | None = Field(None, description="Why it failed.")
    progress: int = Field(description="Percent done.", examples=[100])
    created_at: int = Field(description="Unix seconds.", examples=[1764643200])


class Seed004Created(_Open):
    id: str = Field(description="The generation's id.", examples=[_ID])
    job_id: str = Field(description="Same as `id`.", examples=[_ID])
    status: str = Field(description="Status word of the dialect.", examples=["queued"])


class Seed004Generation(Seed004Created):
    """A seed 004 / AtlasCloud generation."""

    warnings: list[VideoWarning] = Field(
        default_factory=list,
        description="reelforge: what in the request was not rendered as asked (empty if nothing).",
    )

    object: str = Field(description="Always `video.generation`.")
    model: str = Field(description="The model asked for.", examples=["seedance-2.0"])
    output_url: str | None = Field(None, description="Signed MP4 link once done.")
    error: ErrorSummary | None = Field(None, description="Why it failed.")
    progress: int = Field(description="Percent done.", examples=[100])
    mode: str | None = Field(None, description="The generation mode.")
    duration: float | None = Field(None, description="Seconds.", examples=[5])
    resolution: str = Field(description="Output resolution.", examples=["720p"])
    aspect_ratio: str = Field(description="Aspect ratio.", examples=["16:9"])
    size: str = Field(description="WIDTHxHEIGHT.", examples=["1280x720"])
    fps: int = Field(description="Frames per second.", examples=[24])
    seed: int = Field(description="Seed used.", examples=[42])
    created_at: int = Field(description="Unix seconds.", examples=[1764643200])
    completed_at: int | None = Field(None, description="Unix seconds, once done.")


class PredictionCreated(_Open):
    status: str = Field(description="Always `success`.", examples=["success"])
    message: str = Field(description="Always `Prediction created successfully`.")
    predictionID: str = Field(description="Poll GET /v1/prediction/{id}.", examples=[_ID])


class PredictionMetrics(_Open):
    predict_time: float | None = Field(None, description="Seconds it rendered.")
    cost: float | None = Field(None, description="What it is charged.")


class PredictionUrls(_Open):
    get: str = Field(description="This prediction's URL.")
    cancel: str = Field(description="Its cancel URL.")


class Prediction(_Open):
    """An each::labs prediction."""

    warnings: list[VideoWarning] = Field(
        default_factory=list,
        description="reelforge: what in the request was not rendered as asked (empty if nothing).",
    )

    id: str = Field(description="The prediction's id.", examples=[_ID])
    predictionID: str = Field(description="Same as `id`.", examples=[_ID])
    model: str = Field(description="The model asked for.")
    engine: str | None = Field(None, description="reelforge: the engine that renders it.")
    status: str = Field(description="each::labs' status word.", examples=["success"])
    input: dict[str, Any] = Field(description="The input as understood.")
    output: str | None = Field(None, description="Signed MP4 link once done.")
    logs: Any = Field(None, description="Always null.")
    progress: int = Field(description="Percent done.", examples=[100])
    metrics: PredictionMetrics = Field(description="Timing and cost.")
    urls: PredictionUrls = Field(description="Its own URLs.")
    created_at: str | None = Field(None, description="ISO 8601.")
    started_at: str | None = Field(None, description="ISO 8601.")
    completed_at: str | None = Field(None, description="ISO 8601.")
    message: str | None = Field(None, description="Why it failed, if it did.")
    details: str | None = Field(None, description="`code=...`, if it failed.")
    code: str | None = Field(None, description="Stable error code, if it failed.")
