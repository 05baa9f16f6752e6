"""JobService: the single owner of job state.

The HTTP layer, the CLI and the workers call it; none keeps its own copy of a job's status.
Every change of status is a guarded update following `models.TRANSITIONS`.
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reelforge.engines.models import ResolvedModel, resolve_model
from reelforge.errors import Conflict, InvalidRequest, NotFound, ReelforgeError
from reelforge.intake.references import ReferenceIntake
from reelforge.intake.rules import check_request_rules, check_stored_references
from reelforge.intake.stored import StoredReference
from reelforge.jobs.fingerprint import spec_fingerprint
from reelforge.jobs.models import (
    ACTIVE,
    Job,
    JobOutputs,
    JobStatus,
    Stage,
    can_transition,
)
from reelforge.jobs.queue import JobQueue
from reelforge.planning.shots import choose_seconds
from reelforge.platform.admission import Admission, AdmissionTicket
from reelforge.platform.moderation import (
    AllowAll,
    ModerationPolicy,
    enforce_prompt,
    enforce_references,
)
from reelforge.platform.pricing import PriceTable
from reelforge.spec import (
    FPS,
    MAX_SECONDS,
    MIN_SECONDS,
    AspectRatio,
    GenerationSpec,
    ReferenceKind,
    nearest_aspect,
    output_size,
)
from reelforge.storage.base import Storage
from reelforge.store.job_repository import JobRepository

log = logging.getLogger("reelforge.jobs")
TerminalListener = Callable[[Job], None]


@dataclass(frozen=True)
class Lifecycle:
    """How long things live: a queued job's deadline, a finished video's files."""

    execution_expires_after: int | None = 48 * 3600
    output_retention_seconds: int | None = 7 * 24 * 3600


@dataclass(frozen=True)
class PreparedRequest:
    """A request that passed every check, with its references stored and its price known."""

    spec: GenerationSpec
    resolved: ResolvedModel
    references: tuple[StoredReference, ...]
    aspect_ratio: AspectRatio
    width: int
    height: int
    billed_seconds: float  # what a success will bill (auto: the planner's length)
    cost: float
    currency: str


class JobService:
    def __init__(
        self,
        repo: JobRepository,
        intake: ReferenceIntake,
        storage: Storage,
        *,
        engine_names: Callable[[], list[str]],
        default_model: str,
        prices: PriceTable,
        admission: Admission | None = None,
        moderation: ModerationPolicy | None = None,
        lifecycle: Lifecycle | None = None,
        model_aliases: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repo = repo
        self._intake = intake
        self._storage = storage
        self._engine_names = engine_names
        self._default_model = default_model
        self._prices = prices
        self._admission = admission
        self._moderation = moderation or AllowAll()
        self._lifecycle = lifecycle or Lifecycle()
        self._model_aliases = dict(model_aliases or {})
        self._clock = clock
        self._queue: JobQueue | None = None
        # Cancel requests seen by this process, so local workers stop without a DB round trip.
        self._cancel_events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._listeners: list[TerminalListener] = []
        self._progress_listeners: list[TerminalListener] = []

    def add_progress_listener(self, listener: TerminalListener) -> None:
        """Called with the job as its progress is reported, for jobs that asked for progress
        webhooks (`webhook_progress`)."""
        self._progress_listeners.append(listener)

    def add_listener(self, listener: TerminalListener) -> None:
        """Called with the job after it reached a terminal status (exactly once per job): the
        place where webhooks and billing hook in; never from routes."""
        self._listeners.append(listener)

    def _move(
        self, job_id: str, src: frozenset[JobStatus] | set[JobStatus], dst: JobStatus,
        **values: Any,
    ) -> bool:  # fmt: skip
        """Every status change: allowed by the written state machine, and guarded in SQL so
        that of two racing callers exactly one moves the job."""
        assert all(can_transition(s, dst) for s in src), (src, dst)
        return self._repo.transition(job_id, src, dst, **values)

    def _terminal(self, job_id: str) -> None:
        job = self.load(job_id)
        for listener in self._listeners:
            try:
                listener(job)
            except Exception:  # one failing listener must not starve the others
                log.exception("terminal listener %r failed for %s", listener, job_id)

    def attach_queue(self, queue: JobQueue) -> None:
        self._queue = queue

    # ---- client side -------------------------------------------------------------------

    def resolve_model(self, model: str | None) -> ResolvedModel:
        return resolve_model(
            model,
            default_model=self._default_model,
            engines=self._engine_names(),
            aliases=self._model_aliases,
        )

    def validate(self, spec: GenerationSpec) -> ResolvedModel:
        """Check what can be checked without the references; raise naming the field."""
        if not spec.prompt or not spec.prompt.strip():
            raise InvalidRequest(
                "prompt is required", code="invalid_request.prompt", param="prompt"
            )
        limit = self._intake.limits.max_prompt_chars
        if len(spec.prompt) > limit:
            raise InvalidRequest(
                f"prompt is {len(spec.prompt)} characters; at most {limit}",
                code="invalid_request.prompt_too_long", param="prompt",
            )  # fmt: skip
        if spec.seconds is not None and not MIN_SECONDS <= spec.seconds <= MAX_SECONDS:
            raise InvalidRequest(
                f"seconds is {spec.seconds}; it must be {MIN_SECONDS}..{MAX_SECONDS} or 'auto'",
                code="invalid_request.seconds", param="seconds",
            )  # fmt: skip
        if spec.end_user_id is not None and (
            not isinstance(spec.end_user_id, str) or len(spec.end_user_id) > 200
        ):
            raise InvalidRequest(
                "end_user_id must be a string of at most 200 characters",
                code="invalid_request.end_user_id", param="end_user_id",
            )  # fmt: skip
        if spec.webhook_url is not None:
            self._intake.check_callback_url(spec.webhook_url, param="webhook_url")
        if spec.seed is not None and not 0 <= spec.seed < 2**32:
            raise InvalidRequest(
                f"seed is {spec.seed}; it must be 0..4294967295",
                code="invalid_request.seed", param="seed",
            )  # fmt: skip
        return self.resolve_model(spec.model)

    def prepare(self, owner_key_id: str, spec: GenerationSpec) -> PreparedRequest:
        """Validate the whole request, references included (fetched, probed and stored once by
        content hash), and work out the output; nothing is created."""
        resolved = self.validate(spec)
        enforce_prompt(self._moderation, spec.prompt)
        check_request_rules(spec.prompt, spec.references, self._intake.limits)
        refs = self._intake.ingest(owner_key_id, spec.references)
        enforce_references(
            self._moderation, [(i, r.kind.value, r.sha256) for i, r in enumerate(refs)]
        )
        check_stored_references(refs, self._intake.limits)
        aspect = choose_aspect(spec.aspect_ratio, [(r.kind, r.width, r.height) for r in refs])
        width, height = output_size(spec.resolution, aspect)
        # `auto`: the planner's choice, from the same text and reference metadata the worker
        # will plan with, so the quote and the credit hold match what a success bills.
        seconds = spec.seconds or choose_seconds(spec.prompt, refs)
        return PreparedRequest(
            spec=spec,
            resolved=resolved,
            references=tuple(refs),
            aspect_ratio=aspect,
            width=width,
            height=height,
            billed_seconds=float(seconds),
            cost=self._prices.cost(resolved.label, spec.resolution, seconds),
            currency=self._prices.currency,
        )

    def create(
        self, owner_key_id: str, spec: GenerationSpec, *, idempotency_key: str | None = None
    ) -> Job:
        """Validate, store and enqueue a job. With an `idempotency_key`, the same key and
        request give the same job (also while the first request is still in flight); the same
        key with another request is a 409."""
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
            raise InvalidRequest(
                "Idempotency-Key must be 1..255 characters",
                code="invalid_request.idempotency_key",
                param="Idempotency-Key",
            )
        request_hash = spec_fingerprint(spec) if idempotency_key else None
        if self._admission is not None:
            # Refuse (or replay) before fetching references: cheap checks first.
            replay = self._admission.precheck(
                AdmissionTicket(
                    key_id=owner_key_id,
                    job_id="",
                    hold_amount=self._prices.cost(
                        self.resolve_model(spec.model).label, spec.resolution, spec.seconds
                    )
                    if spec.seconds
                    else -1.0,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                )
            )
            if replay is not None:
                return self.load(replay)
        prepared = self.prepare(owner_key_id, spec)
        now = self._clock()
        expires_after = spec.execution_expires_after or self._lifecycle.execution_expires_after
        job_id = "video_" + secrets.token_hex(12)
        job = Job(
            id=job_id,
            owner_key_id=owner_key_id,
            status=JobStatus.QUEUED,
            stage=Stage.QUEUED,
            progress=0.0,
            model=spec.model or self._default_model,
            engine=prepared.resolved.label,
            prompt=spec.prompt,
            seconds=spec.seconds,
            resolution=spec.resolution,
            aspect_ratio=prepared.aspect_ratio,
            width=prepared.width,
            height=prepared.height,
            fps=FPS,
            seed=spec.seed if spec.seed is not None else random.SystemRandom().randrange(2**31),
            generate_audio=spec.generate_audio,
            codec=spec.codec,
            return_last_frame=spec.return_last_frame,
            references=prepared.references,
            created_at=now,
            updated_at=now,
            metadata=dict(spec.metadata),
            end_user_id=spec.end_user_id,
            webhook_url=spec.webhook_url,
            hold_amount=prepared.cost,
            execution_deadline=now + expires_after if expires_after else None,
            dialect=spec.dialect,
            webhook_progress=spec.webhook_progress and spec.webhook_url is not None,
        )
        admit = None
        if self._admission is not None:
            admit = self._admission.check(
                AdmissionTicket(
                    key_id=owner_key_id,
                    job_id=job_id,
                    hold_amount=prepared.cost,
                    idempotency_key=idempotency_key,
                    request_hash=request_hash,
                )
            )
        stored = self._repo.insert(job, admit)
        if stored.id == job_id:
            self._enqueue(stored)
        return stored

    def get(self, owner_key_id: str, job_id: str) -> Job:
        job = self._repo.get(job_id)
        if job is None or job.owner_key_id != owner_key_id or job.deleted:
            raise NotFound(f"no video {job_id!r}", code="not_found.video", param="id")
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
        rows = self._repo.page(
            owner_key_id, limit=limit + 1, after=cursor, descending=descending, status=status
        )
        return rows[:limit], len(rows) > limit

    def queue_position(self, job: Job) -> int | None:
        return self._repo.queue_position(job) if job.status is JobStatus.QUEUED else None

    def cancel(self, owner_key_id: str, job_id: str) -> Job:
        """A queued job is canceled at once; a running one is asked to stop and reaches
        `canceled` when its worker sees the request (between frames)."""
        job = self.get(owner_key_id, job_id)
        now = self._clock()
        if job.status is JobStatus.QUEUED:
            if self._move(
                job_id, {JobStatus.QUEUED}, JobStatus.CANCELED,
                completed_at=now, updated_at=now, cancel_requested=True,
                error=_canceled_error(Stage.QUEUED),
            ):  # fmt: skip
                self._terminal(job_id)
                return self.get(owner_key_id, job_id)
            job = self.get(owner_key_id, job_id)  # a worker started it meanwhile
        if job.status is JobStatus.RUNNING:
            self._repo.update_where_status(
                job_id, JobStatus.RUNNING, cancel_requested=True, updated_at=now
            )
            event = self._cancel_events.get(job_id)  # set when this process runs the job
            if event is not None:
                event.set()
            return self.get(owner_key_id, job_id)
        if job.status.is_terminal and job.status is not JobStatus.CANCELED:
            raise Conflict(
                f"video {job_id} is already {job.status.value}; only queued or running videos "
                "can be canceled", code="conflict.not_cancelable", param="id",
            )  # fmt: skip
        return job

    def delete(self, owner_key_id: str, job_id: str) -> Job:
        job = self.get(owner_key_id, job_id)
        if not job.status.is_terminal:
            raise Conflict(
                f"video {job_id} is {job.status.value}; cancel it before deleting it",
                code="conflict.not_terminal", param="id",
            )  # fmt: skip
        self._storage.delete_prefix(f"outputs/{job_id}")
        self._repo.update(job_id, deleted=True, outputs=None, updated_at=self._clock())
        return job

    # ---- worker side -------------------------------------------------------------------

    def load(self, job_id: str) -> Job:
        job = self._repo.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        return job

    def start(self, job_id: str) -> Job | None:
        """Mark the job running; None when it must not run (canceled or finished meanwhile).
        A job already running is resumed (the process running it died)."""
        now = self._clock()
        queued = self.load(job_id)
        deadline = queued.execution_deadline
        if queued.status is JobStatus.QUEUED and deadline is not None and deadline < now:
            self._expire(queued.id, now)  # the janitor may not have ticked yet
            return None
        self._move(
            job_id, {JobStatus.QUEUED}, JobStatus.RUNNING,
            started_at=now, updated_at=now, stage=Stage.INTAKE.value,
        )  # fmt: skip
        job = self.load(job_id)
        if job.status is not JobStatus.RUNNING:
            return None
        self._cancel_event(job_id)  # this process runs it: a cancel here reaches it at once
        return job

    def report(self, job_id: str, *, stage: Stage, progress: float, announce: bool = False) -> None:
        """Record progress; with `announce` (the job asked for progress webhooks) also tell the
        progress listeners. The caller knows the job, so no read is added per report."""
        moved = self._repo.update_where_status(
            job_id, JobStatus.RUNNING, stage=stage.value,
            progress=round(max(0.0, min(progress, 100.0)), 1), updated_at=self._clock(),
        )  # fmt: skip
        if moved and announce and self._progress_listeners:
            job = self.load(job_id)
            for listener in self._progress_listeners:
                try:
                    listener(job)
                except Exception:  # progress news must never fail the job
                    log.exception("progress listener failed for %s", job_id)

    def set_plan(self, job_id: str, plan: dict[str, Any], seconds: float) -> None:
        self._repo.update_where_status(
            job_id, JobStatus.RUNNING, plan=plan, output_seconds=seconds, updated_at=self._clock()
        )

    def cancel_requested(self, job_id: str) -> bool:
        event = self._cancel_events.get(job_id)
        if event is not None and event.is_set():
            return True
        job = self._repo.get(job_id)
        return job is None or job.cancel_requested or job.status is not JobStatus.RUNNING

    def succeed(self, job_id: str, outputs: JobOutputs, output_seconds: float) -> bool:
        now = self._clock()
        moved = self._move(
            job_id, {JobStatus.RUNNING}, JobStatus.SUCCEEDED,
            stage=Stage.DONE.value, progress=100.0, outputs=outputs.to_dict(),
            output_seconds=output_seconds, completed_at=now, updated_at=now,
            expires_at=now + self._lifecycle.output_retention_seconds
            if self._lifecycle.output_retention_seconds else None,
        )  # fmt: skip
        self._forget(job_id)
        if moved:
            self._terminal(job_id)
        return moved

    def fail(self, job_id: str, error: dict[str, Any]) -> bool:
        now = self._clock()
        moved = self._move(
            job_id, ACTIVE, JobStatus.FAILED, error=error, completed_at=now, updated_at=now
        )
        self._forget(job_id)
        if moved:
            self._terminal(job_id)
        return moved

    def mark_canceled(self, job_id: str, stage: Stage) -> bool:
        now = self._clock()
        moved = self._move(
            job_id, ACTIVE, JobStatus.CANCELED,
            error=_canceled_error(stage), completed_at=now, updated_at=now,
        )  # fmt: skip
        self._forget(job_id)
        if moved:
            self._terminal(job_id)
        return moved

    def expire_overdue(self) -> list[str]:
        """Queued jobs past their execution deadline become `expired` (never charged)."""
        now = self._clock()
        return [job.id for job in self._repo.overdue_queued(now) if self._expire(job.id, now)]

    def _expire(self, job_id: str, now: float) -> bool:
        error = {
            "code": "expired.execution",
            "message": "the video waited in the queue past its execution deadline",
            "stage": Stage.QUEUED.value, "param": "execution_expires_after",
            "reference_index": None, "retryable": True,
        }  # fmt: skip
        moved = self._move(
            job_id, {JobStatus.QUEUED}, JobStatus.EXPIRED,
            error=error, completed_at=now, updated_at=now,
        )  # fmt: skip
        if moved:
            self._terminal(job_id)
        return moved

    def purge_expired_outputs(self) -> list[str]:
        """Delete the files of videos past their retention; the job stays, its links end."""
        ids = self._repo.outputs_past_retention(self._clock())
        for job_id in ids:
            self._storage.delete_prefix(f"outputs/{job_id}")
            self._repo.update(job_id, outputs=None, updated_at=self._clock())
        return ids

    def unfinished_job_ids(self) -> list[str]:
        return self._repo.ids_with_status(set(ACTIVE))

    def _enqueue(self, job: Job) -> None:
        if self._queue is None:
            raise RuntimeError("JobService has no queue attached")
        self._queue.enqueue(job.id, job.engine.partition(":")[0])

    def reenqueue_unfinished(self) -> int:
        """Enqueue every queued or running job again (idempotent per job id): covers a crash
        between storing a job and enqueueing it."""
        ids = self.unfinished_job_ids()
        for job_id in ids:
            try:
                self._enqueue(self.load(job_id))
            except ReelforgeError as exc:  # e.g. its engine is no longer configured
                self.fail(job_id, {**exc.to_dict(), "stage": Stage.QUEUED.value})
        return len(ids)

    def _cancel_event(self, job_id: str) -> threading.Event:
        with self._lock:
            return self._cancel_events.setdefault(job_id, threading.Event())

    def _forget(self, job_id: str) -> None:
        with self._lock:
            self._cancel_events.pop(job_id, None)


def _canceled_error(stage: Stage) -> dict[str, Any]:
    return {
        "code": "canceled",
        "message": "the video was canceled at the client's request",
        "stage": stage.value,
        "param": None,
        "reference_index": None,
        "retryable": False,
    }


def choose_aspect(
    asked: AspectRatio, visuals: list[tuple[ReferenceKind, int | None, int | None]]
) -> AspectRatio:
    """`auto` picks the fixed ratio nearest the first visual reference, else 16:9."""
    if asked is not AspectRatio.AUTO:
        return asked
    for kind, width, height in visuals:
        if kind in (ReferenceKind.IMAGE, ReferenceKind.VIDEO) and width and height:
            return nearest_aspect(width, height)
    return AspectRatio.R16_9
