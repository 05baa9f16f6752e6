"""What a batch is made of: the requests the HTTP layer hands in (each already a
GenerationSpec, parsed by the native create's adapter), a snapshot of a batch with its items and
their jobs, and the rules that fix each item at create: the seeds of `n` takes, the idempotency
key of an item's job, the item's spec as stored JSON."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reelforge.core.batch import Batch, BatchItem, ItemState
from reelforge.core.job import Job, JobStatus
from reelforge.errors import ReelforgeError
from reelforge.spec import (
    AspectRatio,
    Codec,
    FieldWarning,
    GenerationSpec,
    ReferenceInput,
    ReferenceKind,
    ReferenceRole,
    Resolution,
)

# ---- what the HTTP layer hands in -----------------------------------------------------------


@dataclass(frozen=True)
class BatchRequestItem:
    """One request of a batch, parsed by the native create's adapter."""

    custom_id: str
    spec: GenerationSpec
    n: int = 1


@dataclass(frozen=True)
class BatchRequest:
    requests: tuple[BatchRequestItem, ...]
    max_cost: float | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    webhook_url: str | None = None
    item_webhooks: bool = False
    fingerprint: str = ""  # a hash of the request as sent (batch idempotency)


@dataclass(frozen=True)
class BatchSnapshot:
    """A batch with its items and their jobs, as read at one moment."""

    batch: Batch
    items: tuple[BatchItem, ...]
    jobs: dict[str, Job]
    currency: str

    def job(self, item: BatchItem) -> Job | None:
        return self.jobs.get(item.job_id) if item.job_id else None

    @property
    def overview(self) -> BatchOverview:
        counts: dict[tuple[ItemState, JobStatus | None], int] = {}
        for item in self.items:
            job = self.job(item)
            key = (item.state, job.status if job is not None else None)
            counts[key] = counts.get(key, 0) + 1
        jobs = self.jobs.values()
        totals = BatchTotals(
            counts=tuple((state, status, n) for (state, status), n in counts.items()),
            charged=round(sum(j.cost for j in jobs), 6),
            committed=round(sum(j.cost + j.hold_amount for j in jobs), 6),
        )
        return BatchOverview(self.batch, totals, self.currency)


@dataclass(frozen=True)
class BatchTotals:
    """A batch's items counted by (item state, job status), and its money."""

    counts: tuple[tuple[ItemState, JobStatus | None, int], ...]
    charged: float  # what its videos are charged so far
    committed: float  # holds of videos still queued or running plus charges of finished ones


@dataclass(frozen=True)
class BatchOverview:
    """A batch without its items (lists, webhook events): one query for its totals."""

    batch: Batch
    totals: BatchTotals
    currency: str


BatchEventBody = Callable[[BatchOverview, str, float], dict[str, Any]]
"""(overview, event id, created_at) -> the body of the `batch.completed` event."""


# ---- helpers ---------------------------------------------------------------------------------


def within(exc: ReelforgeError, where: str) -> ReelforgeError:
    """The same error, its `param` and message naming the batch item (`requests[3].seconds`)."""
    exc.param = f"{where}.{exc.param}" if exc.param else where
    if not exc.message.startswith(where):
        exc.message = f"{where}: {exc.message}"
    return exc


def derive_seed(seed: int, take: int) -> int:
    """The seed of take `take` of a request with `n`: take 0 keeps the request's seed, the
    others are derived from it (the same seed always gives the same takes)."""
    if take == 0:
        return seed
    digest = hashlib.sha256(f"reelforge-take:{seed}:{take}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def item_idempotency_key(
    batch_id: str, batch_key: str | None, custom_id: str, take: int, index: int
) -> str:
    """The Idempotency-Key of an item's job: derived from the batch's own key and the item's
    custom_id (and take) when the batch has one, else from the batch id and position."""
    if batch_key is None:
        return f"batch:{batch_id}:{index}"
    digest = hashlib.sha256(f"{batch_key}\n{custom_id}\n{take}".encode()).hexdigest()
    return f"batch:{digest[:48]}"


def encode_spec(spec: GenerationSpec) -> dict[str, Any]:
    """A GenerationSpec as JSON (stored with the item; `decode_spec` reads it back)."""
    return {
        "prompt": spec.prompt, "model": spec.model, "seconds": spec.seconds,
        "resolution": spec.resolution.value, "aspect_ratio": spec.aspect_ratio.value,
        "references": [
            {"kind": r.kind.value, "role": r.role.value, "url": r.url, "file_id": r.file_id,
             "data": base64.b64encode(r.data).decode() if r.data is not None else None,
             "filename": r.filename, "mime_type": r.mime_type}
            for r in spec.references
        ],
        "generate_audio": spec.generate_audio, "seed": spec.seed, "codec": spec.codec.value,
        "return_last_frame": spec.return_last_frame, "webhook_url": spec.webhook_url,
        "metadata": dict(spec.metadata), "end_user_id": spec.end_user_id,
        "execution_expires_after": spec.execution_expires_after, "dialect": spec.dialect,
        "webhook_progress": spec.webhook_progress,
        "warnings": [[w.code, w.message, w.param] for w in spec.warnings],
        "size": list(spec.size) if spec.size else None,
        "alpha": spec.alpha,
    }  # fmt: skip


def decode_spec(d: dict[str, Any]) -> GenerationSpec:
    size = d.get("size")
    return GenerationSpec(
        prompt=d["prompt"], model=d["model"], seconds=d["seconds"],
        resolution=Resolution(d["resolution"]), aspect_ratio=AspectRatio(d["aspect_ratio"]),
        references=tuple(
            ReferenceInput(
                kind=ReferenceKind(r["kind"]), role=ReferenceRole(r["role"]), url=r["url"],
                file_id=r["file_id"],
                data=base64.b64decode(r["data"]) if r.get("data") is not None else None,
                filename=r.get("filename"), mime_type=r.get("mime_type"),
            )
            for r in d["references"]
        ),
        generate_audio=d["generate_audio"], seed=d["seed"], codec=Codec(d["codec"]),
        return_last_frame=d["return_last_frame"], webhook_url=d["webhook_url"],
        metadata=dict(d["metadata"]), end_user_id=d["end_user_id"],
        execution_expires_after=d["execution_expires_after"], dialect=d["dialect"],
        webhook_progress=d["webhook_progress"],
        warnings=tuple(FieldWarning(c, m, p) for c, m, p in d.get("warnings") or ()),
        size=(int(size[0]), int(size[1])) if size else None,
        alpha=bool(d.get("alpha", False)),  # an item stored before alpha output: False
    )  # fmt: skip
