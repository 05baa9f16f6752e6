"""Wire models of the native create request (documented in OpenAPI; parsed in mapping.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ReferenceIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["image", "video", "audio"] = "image"
    url: str | None = Field(None, description="https URL, data: URI or asset://file_...")
    file_id: str | None = None
    data: str | None = Field(None, description="raw base64")
    role: Literal["reference", "first_frame", "last_frame"] = "reference"


class InputReferenceIn(BaseModel):
    """OpenAI form of a single image reference."""

    model_config = ConfigDict(extra="ignore")

    image_url: str | None = None
    file_id: str | None = None


class VideoCreateRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    prompt: str
    model: str | None = None
    seconds: str | int | None = Field(None, description='"auto" or 1..15')
    size: str | None = Field(None, description='e.g. "1280x720"')
    resolution: Literal["480p", "720p", "1080p"] | None = None
    aspect_ratio: Literal["auto", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"] | None = None
    input_reference: InputReferenceIn | None = None
    references: list[ReferenceIn] | None = None
    generate_audio: bool | None = True
    seed: int | None = None
    codec: Literal["h264", "h265"] | None = None
    return_last_frame: bool | None = False
    webhook_url: str | None = None
    webhook_progress: bool | None = Field(
        False, description="also send video.progress events (start, 25, 50, 75 %)"
    )
    metadata: dict[str, str] | None = None
    end_user_id: str | None = None
    execution_expires_after: int | None = Field(
        None, description="seconds the job may wait in the queue before it expires"
    )
