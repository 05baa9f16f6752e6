"""Wire models of the native create request (documented in OpenAPI; parsed in mapping.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ReferenceIn(BaseModel):
    """One reference: an image, video or audio clip the video is made from."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["image", "video", "audio"] = Field(
        "image", description="What the reference is.", examples=["image"]
    )
    url: str | None = Field(
        None,
        description="https URL, data: URI or asset://file_... (give one of url, file_id, data)",
    )
    file_id: str | None = Field(
        None, description="An id from POST /v1/files.", examples=["file_0123456789abcdef"]
    )
    data: str | None = Field(None, description="raw base64 of the file")
    role: Literal["reference", "first_frame", "last_frame"] = Field(
        "reference",
        description="reference: anything the prompt mentions as @Image1, @Video1, @Audio1; "
        "first_frame / last_frame: the video starts or ends on this image",
    )


class InputReferenceIn(BaseModel):
    """OpenAI form of a single image reference."""

    model_config = ConfigDict(extra="ignore")

    image_url: str | None = Field(
        None,
        description="https URL or data: URI of the image",
    )
    file_id: str | None = Field(None, description="An id from POST /v1/files.")


class VideoCreateRequest(BaseModel):
    """A video to render (the native API; JSON or multipart/form-data)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [{
            "prompt": "@Image1 walks along the beach at sunset, dolly in",
            "model": "preview", "seconds": "5", "resolution": "720p", "aspect_ratio": "16:9",
            "references": [{"type": "image", "url": "https://example.com/cat.png"}],
        }]},
    )  # fmt: skip

    prompt: str = Field(
        description="What to render; @Image1, @Video1, @Audio1 name the references in order",
        examples=["@Image1 walks along the beach at sunset, dolly in"],
    )
    model: str | None = Field(
        None,
        description="An engine, engine:preset, alias or hosted model id (GET /v1/models); "
        "omitted: the server's default",
        examples=["preview"],
    )
    seconds: str | int | None = Field(
        None,
        description='"auto" or 1..60 (past 15 s by planned continuation, on engines whose '
        "GET /v1/models limits allow it)",
        examples=["5"],
    )
    size: str | None = Field(None, description='e.g. "1280x720"', examples=["1280x720"])
    resolution: Literal["480p", "720p", "1080p", "2160p"] | None = Field(
        None,
        description="Output resolution (instead of size); 2160p on engines that list it",
        examples=["720p"],
    )
    aspect_ratio: Literal["auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"] | None = Field(
        None,
        description="Output aspect ratio; auto: that of the first visual reference",
        examples=["16:9"],
    )
    input_reference: InputReferenceIn | None = Field(
        None, description="OpenAI's single image reference (the first frame)"
    )
    references: list[ReferenceIn] | None = Field(
        None, description="Images, videos and audio clips, in @-mention order"
    )
    generate_audio: bool | None = Field(True, description="Render a soundtrack")
    seed: int | None = Field(
        None,
        description="0..4294967295; the same seed and request render the same video",
        examples=[42],
    )
    codec: Literal["h264", "h265", "prores_4444", "vp9"] | None = Field(
        None,
        description="h264 or h265 (MP4); with alpha: true, prores_4444 (.mov) or vp9 (.webm)",
    )
    alpha: bool | None = Field(
        False,
        description="The subjects on a transparent background, for compositing; needs codec "
        "prores_4444 or vp9 and an engine that renders alpha",
    )
    return_last_frame: bool | None = Field(
        False, description="Also keep the last frame as a PNG (variant last_frame)"
    )
    webhook_url: str | None = Field(
        None,
        description="https URL that receives the video's events (signed, Standard Webhooks)",
    )
    webhook_progress: bool | None = Field(
        False, description="also send video.progress events (start, 25, 50, 75 %)"
    )
    metadata: dict[str, str] | None = Field(
        None,
        description="Your key-value strings, returned on the Video object",
        examples=[{"order": "1234"}],
    )
    end_user_id: str | None = Field(
        None, description="Your end user's id (at most 200 characters), for abuse reports"
    )
    execution_expires_after: int | None = Field(
        None, description="seconds the job may wait in the queue before it expires"
    )
