"""Ark's response bodies (`/api/v3/contents/generations/tasks`), as `presenters.ark` builds
them: the fields of the Ark SDKs' `ContentGenerationTask`, plus reelforge's `engine`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reelforge.api.schemas.native import VideoWarning

_TASK_ID = "cgt-6a1c2f0b9d4e4b7f8a3c5d2e1f0a9b8c"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TaskCreated(_Open):
    id: str = Field(
        description="The new task's id; poll it with GET .../tasks/{id}.", examples=[_TASK_ID]
    )


class TaskContent(_Open):
    video_url: str | None = Field(
        None,
        description="Signed link to the MP4 once succeeded (works without a key).",
        examples=["http://127.0.0.1:8000/v1/videos/cgt-.../content?variant=video&expires=..."],
    )
    last_frame_url: str | None = Field(
        None, description="Signed link to the last frame (PNG), if `return_last_frame`."
    )
    file_url: str | None = Field(None, description="Always null (3D outputs only).")


class TaskError(_Open):
    code: str = Field(description="Ark's error code.", examples=["InternalServiceError"])
    message: str = Field(description="What happened, ending with reelforge's code.")
    reelforge_code: str | None = Field(
        None, description="reelforge's stable code.", examples=["engine.crashed"]
    )


class TaskUsage(_Open):
    completion_tokens: int = Field(
        description="Ark's token count of the output (0 unless succeeded).", examples=[108000]
    )
    total_tokens: int = Field(description="Same as `completion_tokens`.", examples=[108000])


class Task(_Open):
    """A content generation task, as Ark's GET answers it."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "id": _TASK_ID, "model": "dreamina-seedance-2-0-260128", "status": "succeeded",
        "error": None, "created_at": 1764643200, "updated_at": 1764643230,
        "content": {"video_url": "http://127.0.0.1:8000/v1/videos/.../content?variant=video",
                    "last_frame_url": None, "file_url": None},
        "seed": 42, "resolution": "720p", "ratio": "16:9", "duration": 5,
        "framespersecond": 24, "generate_audio": True, "frames": None, "draft": False,
        "draft_task_id": None, "service_tier": "default", "execution_expires_after": 172800,
        "priority": 0, "revised_prompt": "a cat on a skateboard", "safety_identifier": None,
        "output_format": "mp4", "subdivisionlevel": None, "fileformat": None, "tools": [],
        "usage": {"completion_tokens": 108000, "total_tokens": 108000}, "engine": "preview",
    }]})  # fmt: skip

    id: str = Field(description="The task's id.", examples=[_TASK_ID])
    model: str = Field(
        description="The model id asked for.", examples=["dreamina-seedance-2-0-260128"]
    )
    status: Literal["queued", "running", "succeeded", "failed", "cancelled", "expired"] = Field(
        description="Ark's status word.", examples=["running"]
    )
    error: TaskError | None = Field(description="Why it failed or expired; null otherwise.")
    created_at: int = Field(description="Unix seconds.", examples=[1764643200])
    updated_at: int = Field(description="Unix seconds of the last change.")
    content: TaskContent = Field(description="The outputs' links.")
    seed: int | None = Field(None, description="Seed used.", examples=[42])
    resolution: str | None = Field(None, description="480p, 720p or 1080p.", examples=["720p"])
    ratio: str | None = Field(None, description="Aspect ratio.", examples=["16:9"])
    duration: int | None = Field(
        None, description="Seconds (-1: decided by the model).", examples=[5]
    )
    framespersecond: int | None = Field(None, description="Frames per second.", examples=[24])
    generate_audio: bool | None = Field(None, description="Whether it has a soundtrack.")
    frames: int | None = Field(None, description="Always null (reelforge returns duration).")
    draft: bool | None = Field(None, description="Always false.")
    draft_task_id: str | None = Field(None, description="Always null.")
    service_tier: str | None = Field(None, description="Always `default`.")
    execution_expires_after: int | None = Field(
        None, description="Seconds the task may wait in the queue."
    )
    priority: int | None = Field(None, description="Always 0 (one priority for every task).")
    revised_prompt: str | None = Field(None, description="The prompt rendered.")
    safety_identifier: str | None = Field(None, description="The caller's end-user id.")
    output_format: str | None = Field(None, description="Always `mp4`.")
    subdivisionlevel: Any = Field(None, description="Always null (3D outputs only).")
    fileformat: Any = Field(None, description="Always null (3D outputs only).")
    tools: list[Any] | None = Field(None, description="Always empty.")
    usage: TaskUsage = Field(description="Tokens, by Ark's formula.")
    engine: str | None = Field(
        None, description="reelforge: the engine that renders it.", examples=["preview"]
    )
    warnings: list[VideoWarning] = Field(
        default_factory=list,
        description="reelforge: what in the request was not rendered as asked (empty if nothing).",
    )


class TaskList(_Open):
    """The tasks of the last 7 days, newest first, `page_size` per page."""

    items: list[Task] = Field(description="This page's tasks.")
    total: int = Field(description="Tasks matching the filters, on all pages.", examples=[1])


class Empty(_Open):
    """`{}`: the task was cancelled (queued) or deleted (finished)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{}]})
