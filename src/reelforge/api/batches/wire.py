"""Wire models of `POST /v1/batches` (documented in OpenAPI; parsed in routes.py). Each request
of a batch is the native create's own model (`VideoCreateRequest`) plus `custom_id` and `n`, so
the field rules are the native create's, not a second copy."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from reelforge.api.videos.wire import VideoCreateRequest
from reelforge.jobs.batches import MAX_ITEMS, MAX_TAKES


class BatchRequestItem(VideoCreateRequest):
    """One request of a batch: any field of the native create, plus `custom_id` and `n`."""

    custom_id: str | None = Field(
        None,
        description="Your id for this request (1..255 characters, unique in the batch), "
        "returned with its item(s); default: its position in `requests`",
        examples=["sku-1042"],
    )
    n: int | None = Field(
        None,
        description=f"Takes of this request (1..{MAX_TAKES}), each with its own seed derived "
        "from `seed` (take 0 keeps it)",
        examples=[4],
    )


class BatchCreateRequest(BaseModel):
    """A batch of native requests, admitted one by one under the key's limits."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"examples": [{
            "requests": [
                {"custom_id": "sku-1042", "prompt": "@Image1 on a marble table, slow orbit",
                 "seconds": 2, "resolution": "480p",
                 "references": [{"type": "image", "file_id": "file_0123456789abcdef"}]},
                {"custom_id": "ad-a", "prompt": "a paper boat on a rainy street", "seconds": 2,
                 "resolution": "480p", "seed": 42, "n": 4},
            ],
            "max_cost": 12.5,
            "metadata": {"campaign": "spring"},
            "webhook_url": "https://example.com/hooks/reelforge",
        }]},
    )  # fmt: skip

    requests: list[BatchRequestItem] = Field(
        description=f"The requests (1..{MAX_ITEMS} items once `n` takes are counted)"
    )
    max_cost: float | None = Field(
        None,
        description="Stop admitting items once their quotes would pass this amount (the rest "
        "end `skipped`, `skipped.budget`); the batch never charges more",
        examples=[12.5],
    )
    metadata: dict[str, str] | None = Field(
        None, description="Your key-value strings, returned on the Batch object"
    )
    webhook_url: str | None = Field(
        None, description="Receives one signed `batch.completed` event when the batch ends"
    )
    item_webhooks: bool | None = Field(
        False,
        description="Also send each item's video events to `webhook_url` (an item's own "
        "`webhook_url` wins)",
    )
