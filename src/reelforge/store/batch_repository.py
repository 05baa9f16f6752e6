"""Rows of `batches` and `batch_items`: the SQL side of `jobs.batches.BatchService`. Typed
records in and out (`core.batch`); every change of state is a guarded update, so a re-run of a
workflow step after a crash, or a cancel racing the admission loop, moves each row once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from reelforge.core.batch import Batch, BatchItem, BatchStatus, ItemState
from reelforge.core.job import Job, JobStatus
from reelforge.store.batch_tables import batch_items, batches
from reelforge.store.job_repository import job_from_row
from reelforge.store.tables import idempotency_keys, jobs


def _batch(row: sa.Row[tuple[object, ...]]) -> Batch:
    m = row._mapping
    return Batch(
        id=m["id"],
        owner_key_id=m["owner_key_id"],
        status=BatchStatus(m["status"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        total=m["total"],
        max_cost=m["max_cost"],
        metadata=dict(m["metadata"] or {}),
        webhook_url=m["webhook_url"],
        item_webhooks=bool(m["item_webhooks"]),
        cancel_requested=bool(m["cancel_requested"]),
        completed_at=m["completed_at"],
        idempotency_key=m["idempotency_key"],
        request_hash=m["request_hash"],
    )


def _item(row: sa.Row[tuple[object, ...]]) -> BatchItem:
    m = row._mapping
    return BatchItem(
        batch_id=m["batch_id"],
        index=m["idx"],
        custom_id=m["custom_id"],
        take=m["take"],
        seed=int(m["seed"]),
        spec=m["spec"],
        idempotency_key=m["idempotency_key"],
        state=ItemState(m["state"]),
        job_id=m["job_id"],
        quote=m["quote"],
        error=m["error"],
        updated_at=m["updated_at"],
    )


class BatchRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def _writing(self) -> sa.Connection:
        return self._engine.connect().execution_options(immediate=True)

    # ---- creating ----------------------------------------------------------------------

    def insert(self, batch: Batch, items: Sequence[BatchItem]) -> tuple[Batch, bool]:
        """Store a batch and its items in one transaction. With an idempotency key already used
        by this key, nothing is stored: the existing batch is answered, with False."""
        with self._writing() as conn, conn.begin():
            if batch.idempotency_key is not None:
                row = conn.execute(
                    sa.select(batches).where(
                        batches.c.owner_key_id == batch.owner_key_id,
                        batches.c.idempotency_key == batch.idempotency_key,
                    )
                ).first()
                if row is not None:
                    return _batch(row), False
            conn.execute(
                batches.insert().values(
                    id=batch.id, owner_key_id=batch.owner_key_id, status=batch.status.value,
                    created_at=batch.created_at, updated_at=batch.updated_at,
                    completed_at=None, total=batch.total, max_cost=batch.max_cost,
                    metadata=dict(batch.metadata), webhook_url=batch.webhook_url,
                    item_webhooks=batch.item_webhooks, cancel_requested=False,
                    idempotency_key=batch.idempotency_key, request_hash=batch.request_hash,
                )
            )  # fmt: skip
            if items:
                conn.execute(
                    batch_items.insert(),
                    [
                        {
                            "batch_id": i.batch_id, "idx": i.index, "custom_id": i.custom_id,
                            "take": i.take, "seed": i.seed, "spec": i.spec,
                            "idempotency_key": i.idempotency_key, "state": i.state.value,
                            "job_id": None, "quote": None, "error": None,
                            "updated_at": i.updated_at,
                        }
                        for i in items
                    ],
                )  # fmt: skip
        return batch, True

    # ---- reads -------------------------------------------------------------------------

    def get(self, batch_id: str) -> Batch | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(batches).where(batches.c.id == batch_id)).first()
        return _batch(row) if row is not None else None

    def items(self, batch_id: str, state: ItemState | None = None) -> list[BatchItem]:
        q = sa.select(batch_items).where(batch_items.c.batch_id == batch_id)
        if state is not None:
            q = q.where(batch_items.c.state == state.value)
        with self._engine.connect() as conn:
            rows = conn.execute(q.order_by(batch_items.c.idx)).all()
        return [_item(r) for r in rows]

    def jobs_of(self, batch_id: str) -> dict[str, Job]:
        """The jobs of the batch's admitted items, by id (one query)."""
        q = (
            sa.select(jobs)
            .join(batch_items, batch_items.c.job_id == jobs.c.id)
            .where(batch_items.c.batch_id == batch_id)
        )
        with self._engine.connect() as conn:
            return {j.id: j for j in (job_from_row(r) for r in conn.execute(q).all())}

    def totals(
        self, batch_ids: Sequence[str]
    ) -> dict[str, list[tuple[ItemState, JobStatus | None, int, float, float]]]:
        """Per batch: its items counted by (state, job status), with the charges and holds of
        those jobs (one query for a page of batches)."""
        q = (
            sa.select(
                batch_items.c.batch_id, batch_items.c.state, jobs.c.status, sa.func.count(),
                sa.func.coalesce(sa.func.sum(jobs.c.cost), 0.0),
                sa.func.coalesce(sa.func.sum(jobs.c.hold_amount), 0.0),
            )
            .select_from(batch_items.outerjoin(jobs, jobs.c.id == batch_items.c.job_id))
            .where(batch_items.c.batch_id.in_(list(batch_ids)))
            .group_by(batch_items.c.batch_id, batch_items.c.state, jobs.c.status)
        )  # fmt: skip
        out: dict[str, list[tuple[ItemState, JobStatus | None, int, float, float]]] = {
            b: [] for b in batch_ids
        }
        with self._engine.connect() as conn:
            for batch_id, state, status, n, cost, hold in conn.execute(q).all():
                out[batch_id].append((
                    ItemState(state), JobStatus(status) if status else None, int(n),
                    float(cost), float(hold),
                ))  # fmt: skip
        return out

    def committed(self, batch_id: str) -> float:
        """What the batch's admitted items may still cost or have cost: a job's hold until it
        is settled, then its charge (never more than the hold: `platform.credits`)."""
        q = (
            sa.select(sa.func.coalesce(sa.func.sum(jobs.c.cost + jobs.c.hold_amount), 0.0))
            .select_from(batch_items.join(jobs, batch_items.c.job_id == jobs.c.id))
            .where(batch_items.c.batch_id == batch_id)
        )
        with self._engine.connect() as conn:
            return float(conn.execute(q).scalar_one())

    def unrecorded_jobs(self, batch: Batch) -> list[tuple[int, str, float]]:
        """Pending items whose job was stored under the item's idempotency key but not yet
        recorded (the process died in between): (index, job id, its hold)."""
        ik = idempotency_keys.c
        q = (
            sa.select(batch_items.c.idx, jobs.c.id, jobs.c.hold_amount)
            .select_from(
                batch_items.join(
                    idempotency_keys,
                    sa.and_(
                        ik.key_id == batch.owner_key_id,
                        ik.idempotency_key == batch_items.c.idempotency_key,
                    ),
                ).join(jobs, jobs.c.id == ik.job_id)
            )
            .where(
                batch_items.c.batch_id == batch.id,
                batch_items.c.state == ItemState.PENDING.value,
            )
        )
        with self._engine.connect() as conn:
            return [(int(r[0]), str(r[1]), float(r[2] or 0.0)) for r in conn.execute(q).all()]

    def page(self, owner_key_id: str, *, limit: int, after: Batch | None = None) -> list[Batch]:
        """The key's batches, newest first, after the cursor batch."""
        q = sa.select(batches).where(batches.c.owner_key_id == owner_key_id)
        if after is not None:
            key = sa.tuple_(batches.c.created_at, batches.c.id)
            q = q.where(key < sa.tuple_(sa.literal(after.created_at), sa.literal(after.id)))
        q = q.order_by(batches.c.created_at.desc(), batches.c.id.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [_batch(r) for r in conn.execute(q).all()]

    def ids_with_status(self, statuses: set[BatchStatus]) -> list[str]:
        q = sa.select(batches.c.id).where(batches.c.status.in_([s.value for s in statuses]))
        with self._engine.connect() as conn:
            return [r[0] for r in conn.execute(q.order_by(batches.c.created_at)).all()]

    # ---- guarded changes ---------------------------------------------------------------

    def admitted(self, batch_id: str, index: int, job_id: str, quote: float, now: float) -> bool:
        """pending -> admitted with its job; False when the item is no longer pending (a cancel
        skipped it meanwhile)."""
        return self._move_item(batch_id, index, ItemState.ADMITTED, now, job_id=job_id, quote=quote)

    def ended(
        self, batch_id: str, index: int, state: ItemState, error: dict[str, Any], now: float
    ) -> bool:
        """pending -> skipped | failed, with why."""
        return self._move_item(batch_id, index, state, now, error=error)

    def _move_item(
        self, batch_id: str, index: int, state: ItemState, now: float, **values: Any
    ) -> bool:
        with self._engine.begin() as conn:
            res = conn.execute(
                batch_items.update()
                .where(
                    batch_items.c.batch_id == batch_id,
                    batch_items.c.idx == index,
                    batch_items.c.state == ItemState.PENDING.value,
                )
                .values(state=state.value, updated_at=now, **values)
            )
        return res.rowcount == 1

    def skip_pending(self, batch_id: str, error: dict[str, Any], now: float) -> int:
        """Every pending item of the batch -> skipped, with why; how many."""
        with self._engine.begin() as conn:
            res = conn.execute(
                batch_items.update()
                .where(
                    batch_items.c.batch_id == batch_id,
                    batch_items.c.state == ItemState.PENDING.value,
                )
                .values(state=ItemState.SKIPPED.value, error=error, updated_at=now)
            )
        return int(res.rowcount)

    def request_cancel(self, batch_id: str, now: float) -> bool:
        """in_progress -> canceling; True when this call moved it."""
        return self.transition(
            batch_id, {BatchStatus.IN_PROGRESS}, BatchStatus.CANCELING,
            cancel_requested=True, updated_at=now,
        )  # fmt: skip

    def transition(
        self, batch_id: str, src: set[BatchStatus], dst: BatchStatus, **values: Any
    ) -> bool:
        with self._engine.begin() as conn:
            res = conn.execute(
                batches.update()
                .where(batches.c.id == batch_id, batches.c.status.in_([s.value for s in src]))
                .values(status=dst.value, **values)
            )
        return res.rowcount == 1
