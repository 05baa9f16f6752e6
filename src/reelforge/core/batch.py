"""A batch of video requests (`POST /v1/batches`) and its items: typed records, their states and
the written state machine of a batch.

A batch is `in_progress` while its items are admitted and rendered, `canceling` once a cancel
was asked and its running items are still stopping, then `completed` or `canceled` (terminal,
never changed again). An item is `pending` (waiting in the batch for a slot under the key's
limits), `admitted` (it has a job: its status is the job's), `skipped` (never admitted: the
batch's `max_cost` was reached, or the batch was canceled) or `failed` (refused at admission,
e.g. a reference that could not be fetched; no job, nothing charged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class BatchStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    CANCELING = "canceling"
    COMPLETED = "completed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in (BatchStatus.COMPLETED, BatchStatus.CANCELED)


BATCH_ACTIVE = frozenset({BatchStatus.IN_PROGRESS, BatchStatus.CANCELING})


class ItemState(StrEnum):
    PENDING = "pending"
    ADMITTED = "admitted"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class BatchItem:
    batch_id: str
    index: int  # position in the batch (after `n` takes are expanded)
    custom_id: str
    take: int  # 0..n-1 for a request with `n` takes; 0 otherwise
    seed: int
    spec: dict[str, Any]  # the item's GenerationSpec, encoded (`jobs.batches.encode_spec`)
    idempotency_key: str  # the key its job is created under (replays give the same job)
    state: ItemState = ItemState.PENDING
    job_id: str | None = None
    quote: float | None = None  # the price it was admitted at
    error: dict[str, Any] | None = None  # why it was skipped or failed (an error's to_dict())
    updated_at: float = 0.0


@dataclass(frozen=True)
class Batch:
    id: str
    owner_key_id: str
    status: BatchStatus
    created_at: float
    updated_at: float
    total: int
    max_cost: float | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    webhook_url: str | None = None
    item_webhooks: bool = False  # each item's video events go to webhook_url too
    cancel_requested: bool = False
    completed_at: float | None = None
    idempotency_key: str | None = None
    request_hash: str | None = None
