"""JobService: the single owner of job state after a job exists (creating one is
`Submissions`' work).

The HTTP layer, the CLI and the workers call it; none keeps its own copy of a job's status.
Every change of status follows `core.job.TRANSITIONS` (checked with an exception that holds
under `python -O`) and is a guarded update in the store, so of two racing callers exactly one
moves the job.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reelforge import codes
from reelforge.core.job import (
    ACTIVE,
    Job,
    JobError,
    JobOutputs,
    JobStatus,
    Stage,
    check_transition,
)
from reelforge.errors import Conflict, NotFound, ReelforgeError
from reelforge.jobs.ports import Clock, JobQueue, JobStore, Notifier
from reelforge.platform.metrics import observe_finished, observe_started
from reelforge.storage.base import Storage

log = logging.getLogger("reelforge.jobs")


@dataclass(frozen=True)
class Lifecycle:
    """How long things live: a queued job's deadline, a finished video's files."""

    execution_expires_after: int | None = 48 * 3600
    output_retention_seconds: int | None = 7 * 24 * 3600


def canceled_error(stage: Stage) -> JobError:
    return JobError(
        code=codes.CANCELED,
        message="the video was canceled at the client's request",
        stage=stage.value,
    )


EXPIRED_ERROR = JobError(
    code=codes.EXPIRED_EXECUTION,
    message="the video waited in the queue past its execution deadline",
    stage=Stage.QUEUED.value,
    param="execution_expires_after",
    retryable=True,
)


class CancelSignals:
    """Cancel requests seen by this process, so a local worker stops without a database read."""

    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def watch(self, job_id: str) -> None:
        with self._lock:
            self._events.setdefault(job_id, threading.Event())

    def signal(self, job_id: str) -> None:
        with self._lock:
            event = self._events.get(job_id)
        if event is not None:
            event.set()

    def is_set(self, job_id: str) -> bool:
        event = self._events.get(job_id)
        return event is not None and event.is_set()

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._events.pop(job_id, None)


class JobService:
    def __init__(
        self,
        store: JobStore,
        storage: Storage,
        *,
        notifiers: Sequence[Notifier] = (),
        lifecycle: Lifecycle | None = None,
        clock: Clock = time.time,
    ) -> None:
        self._store = store
        self._storage = storage
        self._notifiers = list(notifiers)
        self._lifecycle = lifecycle or Lifecycle()
        self._clock = clock
        self._queue: JobQueue | None = None
        self._signals = CancelSignals()

    @property
    def clock(self) -> Clock:
        return self._clock

    def add_notifier(self, notifier: Notifier) -> None:
        self._notifiers.append(notifier)

    def attach_queue(self, queue: JobQueue) -> None:
        self._queue = queue

    # ---- reads -------------------------------------------------------------------------

    def get(self, owner_key_id: str, job_id: str) -> Job:
        """The key's job, or 404 (also for another key's job or a deleted one)."""
        job = self._store.get(job_id)
        if job is None or job.owner_key_id != owner_key_id or job.deleted:
            raise NotFound(f"no video {job_id!r}", code=codes.NOT_FOUND_VIDEO, param="id")
        return job

    def load(self, job_id: str) -> Job:
        """Any job by id (workers, signed links, repairs); 404 when there is none."""
        job = self._store.get(job_id)
        if job is None:
            raise NotFound(f"no video {job_id!r}", code=codes.NOT_FOUND_VIDEO, param="id")
        return job

    def list_page(
        self,
        owner_key_id: str,
        *,
        limit: int = 20,
        after: str | None = None,
        descending: bool = True,
        status: JobStatus | None = None,
    ) -> tuple[list[Job], bool]:
        """A page of the key's jobs and whether more follow."""
        cursor = self.get(owner_key_id, after) if after else None
        rows = self._store.page(
            owner_key_id, limit=limit + 1, after=cursor, descending=descending, status=status
        )
        return rows[:limit], len(rows) > limit

    def unfinished_job_ids(self) -> list[str]:
        return self._store.ids_with_status(set(ACTIVE))

    # ---- the state machine -------------------------------------------------------------

    def _move(
        self, job_id: str, src: frozenset[JobStatus] | set[JobStatus], dst: JobStatus,
        **values: Any,
    ) -> bool:  # fmt: skip
        check_transition(src, dst)
        moved = self._store.transition(job_id, src, dst, **values)
        if moved:
            log_transition(job_id, src, dst, values.get("error"))
        return moved

    def _ended(self, job_id: str) -> None:
        self._signals.forget(job_id)
        job = self.load(job_id)
        observe_finished(
            job.engine, job.status.value, resolution=job.resolution.value,
            run_seconds=(job.completed_at - job.started_at)
            if job.completed_at is not None and job.started_at is not None else None,
            output_seconds=job.output_seconds,
        )  # fmt: skip
        for notifier in self._notifiers:
            try:
                notifier.job_ended(job)
            except Exception:  # one failing notifier must not starve the others
                log.exception("notifier %r failed for %s", notifier, job_id)

    def enqueue(self, job: Job) -> None:
        if self._queue is None:
            raise RuntimeError("JobService has no queue attached")
        self._queue.enqueue(job.id, job.engine)

    def cancel(self, owner_key_id: str, job_id: str) -> Job:
        """A queued job is canceled at once; a running one is asked to stop and reaches
        `canceled` when its worker sees the request (between frames)."""
        job = self.get(owner_key_id, job_id)
        now = self._clock()
        if job.status is JobStatus.QUEUED:
            if self._move(
                job_id, {JobStatus.QUEUED}, JobStatus.CANCELED,
                completed_at=now, updated_at=now, cancel_requested=True,
                error=canceled_error(Stage.QUEUED),
            ):  # fmt: skip
                self._ended(job_id)
                return self.get(owner_key_id, job_id)
            job = self.get(owner_key_id, job_id)  # a worker started it meanwhile
        if job.status is JobStatus.RUNNING:
            self._store.update_where_status(
                job_id, JobStatus.RUNNING, cancel_requested=True, updated_at=now
            )
            self._signals.signal(job_id)  # this process runs it: it stops at once
            return self.get(owner_key_id, job_id)
        if job.status.is_terminal and job.status is not JobStatus.CANCELED:
            raise Conflict(
                f"video {job_id} is already {job.status.value}; only queued or running videos "
                "can be canceled", code=codes.CONFLICT_NOT_CANCELABLE, param="id",
            )  # fmt: skip
        return job

    def delete(self, owner_key_id: str, job_id: str) -> Job:
        job = self.get(owner_key_id, job_id)
        if not job.status.is_terminal:
            raise Conflict(
                f"video {job_id} is {job.status.value}; cancel it before deleting it",
                code=codes.CONFLICT_NOT_TERMINAL, param="id",
            )  # fmt: skip
        self._storage.delete_prefix(f"outputs/{job_id}")
        self._store.update(job_id, deleted=True, outputs=None, updated_at=self._clock())
        return job

    def start(self, job_id: str) -> Job | None:
        """queued -> running; the job as it now is, or None when it is not to run (canceled,
        expired or taken by another worker meanwhile). One read of the job."""
        now = self._clock()
        job = self.load(job_id)
        if job.status is JobStatus.RUNNING:
            # Resumed after a crash of this worker (or recovered by the fleet): go on.
            self._signals.watch(job_id)
            return job
        if job.status is not JobStatus.QUEUED:
            return None
        if job.execution_deadline is not None and job.execution_deadline < now:
            self._expire(job.id, now)  # the janitor may not have ticked yet
            return None
        if not self._move(
            job_id, {JobStatus.QUEUED}, JobStatus.RUNNING,
            started_at=now, updated_at=now, stage=Stage.INTAKE,
        ):  # fmt: skip
            return None
        observe_started(job.engine, now - job.created_at)
        self._signals.watch(job_id)  # a cancel in this process reaches the render at once
        return _replace(job, status=JobStatus.RUNNING, stage=Stage.INTAKE, started_at=now)

    def report(self, job: Job, *, stage: Stage, progress: float) -> None:
        """Record progress; tell the notifiers when the job asked for progress webhooks. The
        caller knows the job, so no read is added per report."""
        value = round(max(0.0, min(progress, 100.0)), 1)
        moved = self._store.update_where_status(
            job.id, JobStatus.RUNNING, stage=stage, progress=value, updated_at=self._clock()
        )
        if moved and job.webhook_progress:
            now_job = _replace(job, stage=stage, progress=value)
            for notifier in self._notifiers:
                try:
                    notifier.job_progressed(now_job)
                except Exception:  # progress news must never fail the job
                    log.exception("progress notifier failed for %s", job.id)

    def set_plan(self, job_id: str, plan: dict[str, Any], seconds: float) -> None:
        self._store.update_where_status(
            job_id, JobStatus.RUNNING, plan=plan, output_seconds=seconds, updated_at=self._clock()
        )

    def cancel_requested(self, job_id: str) -> bool:
        """Whether a running job should stop (this process' signal first, then the store)."""
        return self._signals.is_set(job_id) or self._store.cancel_requested(job_id)

    def succeed(self, job_id: str, outputs: JobOutputs, output_seconds: float) -> bool:
        now = self._clock()
        retention = self._lifecycle.output_retention_seconds
        moved = self._move(
            job_id, {JobStatus.RUNNING}, JobStatus.SUCCEEDED,
            stage=Stage.DONE, progress=100.0, outputs=outputs,
            output_seconds=output_seconds, completed_at=now, updated_at=now,
            expires_at=now + retention if retention else None,
        )  # fmt: skip
        if moved:
            self._ended(job_id)
        self._signals.forget(job_id)
        return moved

    def set_quality(self, job_id: str, report: dict[str, Any]) -> None:
        """Attach the quality report of a succeeded job's video (not a change of state)."""
        self._store.update_where_status(job_id, JobStatus.SUCCEEDED, quality=report)

    def fail(self, job_id: str, error: JobError) -> bool:
        now = self._clock()
        moved = self._move(
            job_id, ACTIVE, JobStatus.FAILED, error=error, completed_at=now, updated_at=now
        )
        if moved:
            self._ended(job_id)
        self._signals.forget(job_id)
        return moved

    def mark_canceled(self, job_id: str, stage: Stage) -> bool:
        now = self._clock()
        moved = self._move(
            job_id, ACTIVE, JobStatus.CANCELED,
            error=canceled_error(stage), completed_at=now, updated_at=now,
        )  # fmt: skip
        if moved:
            self._ended(job_id)
        self._signals.forget(job_id)
        return moved

    def expire_overdue(self) -> list[str]:
        """Queued jobs past their execution deadline become `expired` (never charged)."""
        now = self._clock()
        return [job_id for job_id in self._store.overdue_queued(now) if self._expire(job_id, now)]

    def _expire(self, job_id: str, now: float) -> bool:
        moved = self._move(
            job_id, {JobStatus.QUEUED}, JobStatus.EXPIRED,
            error=EXPIRED_ERROR, completed_at=now, updated_at=now,
        )  # fmt: skip
        if moved:
            self._ended(job_id)
        return moved

    def purge_expired_outputs(self) -> list[str]:
        """Delete the files of videos past their retention; the job stays, its links end."""
        ids = self._store.outputs_past_retention(self._clock())
        for job_id in ids:
            self._storage.delete_prefix(f"outputs/{job_id}")
            self._store.update(job_id, outputs=None, updated_at=self._clock())
        return ids

    def reenqueue_unfinished(self) -> int:
        """Enqueue every queued or running job again (idempotent per job id): covers a crash
        between storing a job and enqueueing it."""
        ids = self.unfinished_job_ids()
        for job_id in ids:
            try:
                self.enqueue(self.load(job_id))
            except ReelforgeError as exc:  # e.g. its engine is no longer configured
                error = JobError.from_dict({**exc.to_dict(), "stage": Stage.QUEUED.value})
                self.fail(job_id, error)
        return len(ids)


def log_transition(
    job_id: str,
    src: frozenset[JobStatus] | set[JobStatus] | None,
    dst: JobStatus,
    error: JobError | None = None,
) -> None:
    """One log line per change of a job's status (`job_id`, `from`, `to`, and the error's code
    when it failed). `src` None: the job was just created. A guarded move from several states
    names them all (`queued|running`): the store does not say which one it left."""
    before = "none" if src is None else "|".join(sorted(s.value for s in src))
    extra: dict[str, Any] = {"job_id": job_id, "from": before, "to": dst.value}
    if isinstance(error, JobError):
        extra["error_code"] = error.code
    log.info("job %s %s -> %s", job_id, before, dst.value, extra=extra)


def _replace(job: Job, **changes: Any) -> Job:
    return dataclasses.replace(job, **changes)
