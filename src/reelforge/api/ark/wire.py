"""The Ark create body, as `byteplussdkarkruntime` / `volcenginesdkarkruntime` send it.

The SDKs send every optional field, `null` when unset, so every field but `model` and
`content` is optional and `null` means "not given". Field names are checked before this model
sees the body (`fields.py`: unknown ones are refused, unsupported ones refused or warned).
Values are checked in `mapping.py` with the checks every dialect shares.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ImageRole = Literal["first_frame", "last_frame", "reference_image"]


class MediaUrl(BaseModel):
    model_config = ConfigDict(extra="ignore")

    url: str = Field(description="https URL, data:<mime>;base64,... or asset://<file id>")


class TextItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: str


class ImageItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["image_url"]
    image_url: MediaUrl
    role: str | None = Field(None, description="first_frame | last_frame | reference_image")


class VideoItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["video_url"]
    video_url: MediaUrl
    role: str | None = Field(None, description="reference_video")


class AudioItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["audio_url"]
    audio_url: MediaUrl
    role: str | None = Field(None, description="reference_audio")


class DraftTaskItem(BaseModel):
    """Seedance 1.5 pro drafts; refused (no drafts here)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["draft_task"]
    draft_task: dict[str, Any] | None = None


ContentItem = Annotated[
    TextItem | ImageItem | VideoItem | AudioItem | DraftTaskItem, Field(discriminator="type")
]
CONTENT_TYPES = ("text", "image_url", "video_url", "audio_url", "draft_task")


class ArkCreateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(description="a Seedance model id such as dreamina-seedance-2-0-260128")
    content: list[ContentItem] = Field(min_length=1)
    resolution: str | None = Field(None, description="480p | 720p | 1080p (default 720p)")
    ratio: str | None = Field(None, description="16:9 4:3 1:1 3:4 9:16 21:9 adaptive")
    duration: int | None = Field(None, description="seconds 1..15, or -1: the engine picks")
    frames: int | None = Field(None, description="not supported by Seedance 2.0: refused")
    seed: int | None = Field(None, description="-1..4294967295; -1 or null: random")
    watermark: bool | None = Field(None, description="true: accepted with a warning")
    generate_audio: bool | None = Field(None, description="default true")
    return_last_frame: bool | None = Field(None, description="adds content.last_frame_url")
    camera_fixed: bool | None = Field(None, description="true asks the planner for a still camera")
    callback_url: str | None = Field(None, description="POSTed the task object when it ends")
    execution_expires_after: int | None = Field(None, description="seconds it may stay queued")
    service_tier: str | None = Field(None, description="default (flex is refused)")
    priority: int | None = Field(None, description="accepted with a warning")
    draft: bool | None = Field(None, description="false; true is refused (no drafts)")
    safety_identifier: str | None = Field(None, description="stored as the end user id")
    output_format: str | None = Field(None, description="mp4 or null; anything else is refused")
    tools: list[dict[str, Any]] | None = Field(None, description="accepted with a warning")
    omni_reference_task_type: str | None = Field(None, description="accepted with a warning")
