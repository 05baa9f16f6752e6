"""Rows of `jobs`: the SQL implementation of `jobs.ports.JobStore`. Only the job services call
it; every status change is a guarded update. Typed values in and out (JobError, JobOutputs,
ResolvedModel); the JSON columns are an encoding detail of this module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from reelforge.core.job import (
    Job,
    JobError,
    JobOutputs,
    JobStatus,
    JobWarning,
    ResolvedModel,
    Stage,
)
from reelforge.core.references import StoredReference
from reelforge.spec import AspectRatio, Codec, Resolution
from reelforge.store.tables import jobs

AdmitCheck = Callable[[sa.Connection], str | None]

_SPEC_FIELDS = (
    "prompt", "seconds", "resolution", "aspect_ratio", "width", "height", "fps", "seed",
    "generate_audio", "codec", "return_last_frame", "metadata", "end_user_id", "webhook_url",
    "execution_deadline", "dialect", "webhook_progress",
)  # fmt: skip


def _spec_json(job: Job) -> dict[str, Any]:
    d: dict[str, Any] = {f: getattr(job, f) for f in _SPEC_FIELDS}
    d["resolution"] = job.resolution.value
    d["aspect_ratio"] = job.aspect_ratio.value
    d["codec"] = job.codec.value
    d["references"] = [r.to_dict() for r in job.references]
    d["warnings"] = [w.to_dict() for w in job.warnings]
    d["remixed_from"] = job.remixed_from
    return d


def _column_values(values: dict[str, Any]) -> dict[str, Any]:
    """Typed values as their columns store them."""
    out = dict(values)
    if isinstance(out.get("error"), JobError):
        out["error"] = out["error"].to_dict()
    if isinstance(out.get("outputs"), JobOutputs):
        out["outputs"] = out["outputs"].to_dict()
    if isinstance(out.get("stage"), Stage):
        out["stage"] = out["stage"].value
    return out


def job_from_row(row: sa.Row[tuple[object, ...]]) -> Job:
    """A `jobs` row as a Job (also for other repositories' joins)."""
    m = row._mapping
    s = m["spec"]
    return Job(
        id=m["id"],
        owner_key_id=m["owner_key_id"],
        status=JobStatus(m["status"]),
        stage=Stage(m["stage"]),
        progress=float(m["progress"]),
        model=m["model"],
        resolved=ResolvedModel.parse(m["engine"]),
        prompt=s["prompt"],
        seconds=s["seconds"],
        resolution=Resolution(s["resolution"]),
        aspect_ratio=AspectRatio(s["aspect_ratio"]),
        width=s["width"],
        height=s["height"],
        fps=s["fps"],
        seed=s["seed"],
        generate_audio=s["generate_audio"],
        codec=Codec(s["codec"]),
        return_last_frame=s["return_last_frame"],
        references=tuple(StoredReference.from_dict(r) for r in s["references"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        started_at=m["started_at"],
        completed_at=m["completed_at"],
        expires_at=m["expires_at"],
        error=JobError.from_dict(m["error"]) if m["error"] else None,
        metadata=s.get("metadata") or {},
        end_user_id=s.get("end_user_id"),
        webhook_url=s.get("webhook_url"),
        execution_deadline=s.get("execution_deadline"),
        dialect=s.get("dialect", "native"),
        webhook_progress=bool(s.get("webhook_progress", False)),
        plan=m["plan"],
        outputs=JobOutputs.from_dict(m["outputs"]),
        cancel_requested=bool(m["cancel_requested"]),
        output_seconds=m["output_seconds"],
        deleted=bool(m["deleted"]),
        hold_amount=float(m["hold_amount"] or 0.0),
        cost=float(m["cost"] or 0.0),
        warnings=tuple(JobWarning.from_dict(w) for w in s.get("warnings") or ()),
        remixed_from=s.get("remixed_from"),
        quality=m["quality"],
    )


def _queue_positions() -> sa.Select[Any]:
    ahead = jobs.alias("ahead")
    position = (
        sa.select(sa.func.count())
        .select_from(ahead)
        .where(ahead.c.status == JobStatus.QUEUED.value, ahead.c.created_at < jobs.c.created_at)
        .scalar_subquery()
    )
    return sa.select(jobs.c.id, position).where(jobs.c.id.in_(sa.bindparam("ids", expanding=True)))


# Built once: building this statement (an alias and a correlated subquery) cost more than
# running it, on every create (the Video object of a queued job has its position).
_QUEUE_POSITIONS = _queue_positions()
_INSERT_JOB = jobs.insert()


class JobRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def insert(self, job: Job, admit: AdmitCheck | None = None) -> Job:
        """Store a new job. `admit` runs first in the same write-locked transaction (rate limits,
        idempotency, credit holds); it may return the id of an existing job to hand back instead
        (an idempotent replay), or raise to refuse the job."""
        with self._engine.connect().execution_options(immediate=True) as conn, conn.begin():
            if admit is not None:
                existing = admit(conn)
                if existing is not None:
                    row = conn.execute(sa.select(jobs).where(jobs.c.id == existing)).first()
                    if row is None:  # the replayed job was removed meanwhile: a bug, not input
                        raise RuntimeError(f"idempotent replay of a missing job {existing}")
                    return job_from_row(row)
            conn.execute(
                _INSERT_JOB,
                {
                    "id": job.id,
                    "owner_key_id": job.owner_key_id,
                    "status": job.status.value,
                    "stage": job.stage.value,
                    "progress": job.progress,
                    "model": job.model,
                    "engine": job.resolved.label,
                    "spec": _spec_json(job),
                    "created_at": job.created_at,
                    "updated_at": job.updated_at,
                    "expires_at": job.expires_at,
                    "execution_deadline": job.execution_deadline,
                    "cancel_requested": False,
                    "deleted": False,
                    "hold_amount": job.hold_amount,
                    "end_user_id": job.end_user_id,
                },
            )
        return job

    def get(self, job_id: str) -> Job | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
        return job_from_row(row) if row else None

    def page(
        self,
        owner_key_id: str,
        *,
        limit: int,
        after: Job | None = None,
        descending: bool = True,
        status: JobStatus | None = None,
    ) -> list[Job]:
        q = sa.select(jobs).where(jobs.c.owner_key_id == owner_key_id, jobs.c.deleted.is_(False))
        if status is not None:
            q = q.where(jobs.c.status == status.value)
        key = sa.tuple_(jobs.c.created_at, jobs.c.id)
        if after is not None:
            cursor = sa.tuple_(sa.literal(after.created_at), sa.literal(after.id))
            q = q.where(key < cursor if descending else key > cursor)
        order = (jobs.c.created_at.desc(), jobs.c.id.desc()) if descending else (
            jobs.c.created_at.asc(), jobs.c.id.asc())  # fmt: skip
        with self._engine.connect() as conn:
            rows = conn.execute(q.order_by(*order).limit(limit)).all()
        return [job_from_row(r) for r in rows]

    def transition(
        self, job_id: str, src: frozenset[JobStatus] | set[JobStatus], dst: JobStatus, **values: Any
    ) -> bool:
        """Move the job to `dst` only if it is in one of `src`; True when this call moved it."""
        with self._engine.begin() as conn:
            res = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.status.in_([s.value for s in src]))
                .values(status=dst.value, **_column_values(values))
            )
        return res.rowcount == 1

    def update_where_status(self, job_id: str, status: JobStatus, **values: Any) -> bool:
        with self._engine.begin() as conn:
            res = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.status == status.value)
                .values(**_column_values(values))
            )
        return res.rowcount == 1

    def update(self, job_id: str, **values: Any) -> None:
        with self._engine.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**_column_values(values)))

    def ids_with_status(self, statuses: set[JobStatus]) -> list[str]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(jobs.c.id)
                .where(jobs.c.status.in_([s.value for s in statuses]))
                .order_by(jobs.c.created_at)
            ).all()
        return [r[0] for r in rows]

    def overdue_queued(self, now: float) -> list[str]:
        """The ids of queued jobs whose execution deadline has passed (by index: a long queue
        of jobs still in time costs nothing)."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(jobs.c.id).where(
                    jobs.c.status == JobStatus.QUEUED.value,
                    jobs.c.execution_deadline < now,
                )
            ).all()
        return [r[0] for r in rows]

    def outputs_past_retention(self, now: float) -> list[str]:
        with self._engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(jobs.c.id).where(
                        jobs.c.status == JobStatus.SUCCEEDED.value,
                        jobs.c.expires_at.is_not(None),
                        jobs.c.expires_at < now,
                        jobs.c.outputs.is_not(None),
                    )
                ).scalars()
            )

    def queue_positions(self, queued: list[Job]) -> dict[str, int]:
        """For each of `queued`: how many queued jobs were created before it. One query for a
        whole page, each position an index range count (`ix_jobs_status_created`)."""
        if not queued:
            return {}
        with self._engine.connect() as conn:
            rows = conn.execute(_QUEUE_POSITIONS, {"ids": [j.id for j in queued]}).all()
        return {job_id: int(n) for job_id, n in rows}

    def cancel_requested(self, job_id: str) -> bool:
        """Whether a running job should stop: asked to, or no longer running (a narrow read,
        polled while rendering; not a read of the job)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(jobs.c.cancel_requested, jobs.c.status).where(jobs.c.id == job_id)
            ).first()
        return row is None or bool(row[0]) or row[1] != JobStatus.RUNNING.value
