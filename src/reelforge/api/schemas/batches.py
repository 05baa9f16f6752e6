"""Response bodies of `/v1/batches`, as `presenters.batches` builds them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reelforge.api.schemas.native import JobErrorBody

_BATCH_ID = "batch_0123456789abcdef01234567"
_VIDEO_ID = "video_6a1c2f0b9d4e4b7f8a3c5d2e1f0a9b8c"
_STATUS = Literal["pending", "queued", "in_progress", "completed", "failed", "canceled", "expired",
                  "skipped"]  # fmt: skip


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class BatchItemObject(_Open):
    """One item of a batch (one take of one request); also one line of the results."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "object": "batch.item", "batch_id": _BATCH_ID, "index": 0, "custom_id": "sku-1042",
        "take": 0, "seed": 42, "status": "completed", "video_id": _VIDEO_ID, "quote": 0.14,
        "cost": 0.14, "currency": "USD", "error": None,
        "urls": {"video": f"http://127.0.0.1:8000/v1/videos/{_VIDEO_ID}/content?variant=video"
                          "&expires=1764646830&signature=..."},
    }]})  # fmt: skip

    object: Literal["batch.item"] = Field(description="Always `batch.item`.")
    batch_id: str = Field(description="The batch's id.", examples=[_BATCH_ID])
    index: int = Field(description="Position in the batch (takes expanded in place).")
    custom_id: str = Field(description="The request's custom_id.", examples=["sku-1042"])
    take: int = Field(description="Which take of a request with `n` (0 otherwise).")
    seed: int = Field(description="The seed it renders with (fixed when the batch is created).")
    status: _STATUS = Field(
        description="pending (waiting in the batch), the video's status once admitted, skipped "
        "(never started: budget or cancel) or failed.",
        examples=["completed"],
    )
    video_id: str | None = Field(description="Its video, once admitted.", examples=[_VIDEO_ID])
    quote: float | None = Field(description="The price it was admitted at.", examples=[0.14])
    cost: float = Field(description="What it is charged (0 unless completed).", examples=[0.14])
    currency: str = Field(description="Currency of `quote` and `cost`.", examples=["USD"])
    error: JobErrorBody | None = Field(
        description="Why it was skipped or failed (`skipped.budget`, `skipped.canceled`, the "
        "admission's or the video's error); null otherwise."
    )
    urls: dict[str, str] | None = Field(
        description="Signed download links of its video once completed (as on the Video)."
    )


class BatchUsage(_Open):
    cost: float = Field(description="Charged so far for the batch's videos.", examples=[1.12])
    committed: float = Field(
        description="Charged plus held for videos still running (never above `max_cost`).",
        examples=[1.4],
    )
    max_cost: float | None = Field(description="The batch's budget, if any.", examples=[12.5])
    currency: str = Field(description="Currency of the amounts.", examples=["USD"])


class RequestCounts(_Open):
    total: int = Field(description="Items in the batch.", examples=[8])
    pending: int = Field(description="Waiting in the batch for a slot.")
    queued: int = Field(description="Admitted, queued.")
    in_progress: int = Field(description="Rendering.")
    completed: int = Field(description="Rendered.")
    failed: int = Field(description="Failed (at admission or while rendering).")
    canceled: int = Field(description="Canceled while queued or rendering.")
    expired: int = Field(description="Expired in the queue.")
    skipped: int = Field(description="Never started (budget or cancel).")


_SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": _BATCH_ID, "object": "batch", "status": "in_progress", "created_at": 1764643200,
    "completed_at": None, "metadata": {"campaign": "spring"},
    "webhook_url": "https://example.com/hooks/reelforge", "item_webhooks": False,
    "request_counts": {"total": 2, "pending": 0, "queued": 0, "in_progress": 1, "completed": 1,
                       "failed": 0, "canceled": 0, "expired": 0, "skipped": 0},
    "usage": {"cost": 0.14, "committed": 0.28, "max_cost": 12.5, "currency": "USD"},
}  # fmt: skip


class BatchSummary(_Open):
    """A batch without its items."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [_SUMMARY_EXAMPLE]})

    id: str = Field(description="The batch's id.", examples=[_BATCH_ID])
    object: Literal["batch"] = Field(description="Always `batch`.")
    status: Literal["in_progress", "canceling", "completed", "canceled"] = Field(
        description="in_progress, canceling (after a cancel, until its videos stop), then "
        "completed or canceled.",
        examples=["in_progress"],
    )
    created_at: int = Field(description="Unix seconds.", examples=[1764643200])
    completed_at: int | None = Field(description="Unix seconds; null until it ends.")
    metadata: dict[str, str] = Field(description="Your key-value strings.")
    webhook_url: str | None = Field(description="Receives `batch.completed`.")
    item_webhooks: bool = Field(description="Whether each item's video events go there too.")
    request_counts: RequestCounts = Field(description="Items per status.")
    usage: BatchUsage = Field(description="Money: charged, committed, budget.")


class BatchObject(BatchSummary):
    """A batch with every item."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        **_SUMMARY_EXAMPLE,
        "items": BatchItemObject.model_config["json_schema_extra"]["examples"],  # type: ignore[index]
    }]})  # fmt: skip

    items: list[BatchItemObject] = Field(description="Every item, in order.")


class BatchList(_Open):
    """A page of batches, newest first; page on with `after=last_id`."""

    object: Literal["list"] = Field(description="Always `list`.")
    data: list[BatchSummary] = Field(description="The batches of this page (without items).")
    has_more: bool = Field(description="Whether another page follows.")
    first_id: str | None = Field(description="Id of the first batch here.", examples=[_BATCH_ID])
    last_id: str | None = Field(
        description="Id of the last batch here (the next `after`).", examples=[_BATCH_ID]
    )


RESULTS = {
    "application/jsonl": {
        "schema": {
            "type": "string",
            "format": "binary",
            "description": "JSON Lines: one BatchItemObject per line, in order.",
        },
        "example": '{"object": "batch.item", "custom_id": "sku-1042", "take": 0, '
        '"status": "completed", "video_id": "video_...", "cost": 0.14}\n',
    }
}
