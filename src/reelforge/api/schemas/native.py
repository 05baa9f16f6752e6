"""The native API's response bodies (`/v1/videos`), as `presenters.native.video_object` and
`api/videos/routes.py` build them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_VIDEO_ID = "video_6a1c2f0b9d4e4b7f8a3c5d2e1f0a9b8c"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class JobErrorBody(_Open):
    """Why a video failed, canceled or expired."""

    code: str = Field(
        description="Stable error code (docs/api/errors.md).", examples=["engine.crashed"]
    )
    message: str = Field(
        description="What happened, for people.", examples=["the engine ran out of memory"]
    )
    param: str | None = Field(None, description="The request field at fault, if any.")
    reference_index: int | None = Field(
        None, description="Index into `references` of the reference at fault, if any."
    )
    stage: str | None = Field(
        None, description="Stage the job was in when it failed.", examples=["generate"]
    )
    retryable: bool = Field(description="Whether the same request may succeed if sent again.")


class VideoWarning(_Open):
    """Something in the request that reelforge did not render as asked."""

    code: str = Field(
        description="Stable warning code (docs/api/errors.md, Warnings).",
        examples=["prompt.camera_moves_dropped"],
    )
    message: str = Field(description="What was not rendered, and why.")
    param: str | None = Field(
        None, description="The request field it concerns.", examples=["prompt"]
    )
    span: list[int] | None = Field(
        None,
        description="[start, end) character offsets in the prompt, where it applies.",
        examples=[[24, 33]],
    )


class Usage(_Open):
    billed_seconds: float = Field(
        description="Seconds billed (0 until the video succeeds).", examples=[5]
    )
    cost: float = Field(description="What the video is charged, in `currency`.", examples=[0.35])
    currency: str = Field(description="Currency of `cost`.", examples=["USD"])


class Video(_Open):
    """A video job (shaped after the OpenAI Videos API's Video object)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "id": _VIDEO_ID, "object": "video", "model": "preview", "engine": "preview",
        "created_at": 1764643200, "started_at": 1764643201, "completed_at": 1764643230,
        "seconds": "5", "size": "1280x720", "resolution": "720p", "aspect_ratio": "16:9",
        "fps": 24, "seed": 42, "generate_audio": True, "codec": "h264", "error": None,
        "metadata": {}, "end_user_id": None, "warnings": [], "status": "completed",
        "progress": 100, "stage": "done", "queue_position": None, "expires_at": 1765248030,
        "prompt": "@Image1 walks along the beach at sunset, dolly in",
        "usage": {"billed_seconds": 5, "cost": 0.35, "currency": "USD"},
        "remixed_from_video_id": None,
        "urls": {"video": f"http://127.0.0.1:8000/v1/videos/{_VIDEO_ID}/content?variant=video"
                          "&expires=1764646830&signature=..."},
        "plan": None,
    }]})  # fmt: skip

    id: str = Field(description="The video's id.", examples=[_VIDEO_ID])
    object: Literal["video"] = Field(description="Always `video`.")
    model: str = Field(description="The model asked for (or the default).", examples=["preview"])
    engine: str = Field(
        description="The engine (and preset) that renders it.", examples=["preview"]
    )
    status: Literal["queued", "in_progress", "completed", "failed", "canceled", "expired"] = Field(
        description="Where the job is.", examples=["in_progress"]
    )
    progress: int = Field(description="Percent done, 0..100.", examples=[40])
    stage: str = Field(
        description="Stage of a running job: queued, intake, plan, generate, "
        "encode, finalize, done.",
        examples=["generate"],
    )
    queue_position: int | None = Field(
        description="Queued jobs ahead of it (only while queued).", examples=[0]
    )
    created_at: int = Field(description="Unix seconds.", examples=[1764643200])
    started_at: int | None = Field(description="Unix seconds; null until it starts.")
    completed_at: int | None = Field(description="Unix seconds; null until it ends.")
    expires_at: int | None = Field(description="When its files are deleted (Unix seconds).")
    seconds: str = Field(description='Length in seconds, or "auto" until planned.', examples=["5"])
    size: str = Field(description="WIDTHxHEIGHT of the output.", examples=["1280x720"])
    resolution: str = Field(description="480p, 720p, 1080p or 2160p.", examples=["720p"])
    aspect_ratio: str = Field(description="Aspect ratio of the output.", examples=["16:9"])
    fps: int = Field(description="Frames per second.", examples=[24])
    seed: int = Field(
        description="Seed used (the same seed renders the same video).", examples=[42]
    )
    generate_audio: bool = Field(description="Whether the video has a soundtrack.")
    codec: str = Field(
        description="h264 or h265 (MP4); prores_4444 (.mov) or vp9 (.webm) with alpha.",
        examples=["h264"],
    )
    alpha: bool = Field(
        False, description="Whether the video has an alpha channel (transparent background)."
    )
    container: str = Field(
        "mp4", description="The video file's container: mp4, mov or webm.", examples=["mp4"]
    )
    prompt: str = Field(description="The prompt.", examples=["@Image1 walks on the beach"])
    error: JobErrorBody | None = Field(description="Why it failed; null otherwise.")
    warnings: list[VideoWarning] = Field(
        description="What in the request was not rendered as asked (empty if nothing)."
    )
    metadata: dict[str, str] | None = Field(description="The caller's key-value metadata.")
    end_user_id: str | None = Field(description="The caller's end-user id, if given.")
    usage: Usage = Field(description="Billing.")
    remixed_from_video_id: str | None = Field(description="The video this one remixes.")
    urls: dict[str, str] | None = Field(
        description="Signed download links per variant (video, thumbnail, last_frame, "
        "spritesheet), once completed; they work without an API key until they expire."
    )
    plan: dict[str, Any] | None = Field(
        description="The shot plan the engine followed (shots, camera moves, timing, "
        "@Image bindings), once planned."
    )
    quality: dict[str, Any] | None = Field(
        None,
        description="What the delivered video measures against its plan (null until measured "
        "after the job completes).",
    )


class VideoList(_Open):
    """A page of videos, newest first by default; page on with `after=last_id`."""

    object: Literal["list"] = Field(description="Always `list`.")
    data: list[Video] = Field(description="The videos of this page.")
    has_more: bool = Field(description="Whether another page follows.")
    first_id: str | None = Field(description="Id of the first video here.", examples=[_VIDEO_ID])
    last_id: str | None = Field(
        description="Id of the last video here (the next `after`).", examples=[_VIDEO_ID]
    )


class VideoDeleted(_Open):
    id: str = Field(description="The deleted video's id.", examples=[_VIDEO_ID])
    object: Literal["video.deleted"] = Field(description="Always `video.deleted`.")
    deleted: bool = Field(description="Always true.", examples=[True])


class QuotedReference(_Open):
    type: str = Field(description="image, video or audio.", examples=["image"])
    role: str = Field(description="reference, first_frame or last_frame.", examples=["reference"])
    index: int = Field(description="Index in the request's references.", examples=[0])
    sha256: str = Field(description="SHA-256 of the fetched bytes.")
    mime_type: str | None = Field(description="Detected media type.", examples=["image/png"])
    width: int | None = Field(description="Pixels (images and videos).", examples=[1024])
    height: int | None = Field(description="Pixels (images and videos).", examples=[768])
    seconds: float | None = Field(description="Length (videos and audio).")


class Quote(_Open):
    """Every check of create passed; what a success would cost. Nothing was created."""

    object: Literal["video.quote"] = Field(description="Always `video.quote`.")
    model: str | None = Field(description="The model asked for.", examples=["preview"])
    engine: str = Field(description="The engine that would render it.", examples=["preview"])
    size: str = Field(description="Output WIDTHxHEIGHT.", examples=["1280x720"])
    resolution: str = Field(description="Output resolution.", examples=["720p"])
    aspect_ratio: str = Field(description="Output aspect ratio.", examples=["16:9"])
    seconds: int | str = Field(description='Seconds asked for, or "auto".', examples=[5])
    billed_seconds: float = Field(description="Seconds a success would bill.", examples=[5])
    cost: float = Field(description="Price of those seconds.", examples=[0.35])
    currency: str = Field(description="Currency of `cost`.", examples=["USD"])
    warnings: list[VideoWarning] = Field(description="What would not be rendered as asked.")
    references: list[QuotedReference] = Field(description="Each reference, fetched and probed.")


class OpenAIVideoError(_Open):
    code: str = Field(
        description="Stable error code (`canceled`, `expired.execution`, ...).",
        examples=["canceled"],
    )
    message: str = Field(description="What happened.")


class OpenAIVideo(Video):
    """The Video object of the OpenAI Videos API (`/openai/v1/videos`): the native one with
    OpenAI's four status words; a canceled or expired video is `failed`, its `error.code`
    saying which."""

    status: Literal["queued", "in_progress", "completed", "failed"] = Field(
        description="OpenAI's status word.", examples=["in_progress"]
    )
    error: OpenAIVideoError | None = Field(  # type: ignore[assignment]
        description="Why it failed; null otherwise."
    )


class OpenAIVideoList(VideoList):
    """A page of videos (OpenAI's list object)."""

    data: list[OpenAIVideo] = Field(description="The videos of this page.")  # type: ignore[assignment]
