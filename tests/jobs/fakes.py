"""Fakes of the job core's ports (`reelforge.jobs.ports`), for unit tests of `JobService` and
`Submissions` without a database or a queue.

Each one implements the contract written in `ports.py`, not what the code under test happens to
call: the store's `transition` moves a job only from the given source statuses (as the guarded
SQL `UPDATE ... WHERE status IN (...)` does), the queue schedules an id once however often it is
enqueued, the admission replays an idempotency key it admitted before. Every fake counts its
calls, so a test can say how often the code under test read or wrote.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelforge.core.admission import AdmissionTicket
from reelforge.core.job import Job, JobOutputs, JobStatus, ResolvedModel, Stage
from reelforge.errors import Conflict, RateLimited, UnknownModel
from reelforge.jobs.ports import AdmitCheck
from reelforge.platform.moderation import Verdict
from reelforge.spec import AspectRatio, Codec, Resolution

# ---- the clock ----------------------------------------------------------------------------


class FakeClock:
    """A clock that moves only when told to; call it like `time.time`."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


# ---- the job store ------------------------------------------------------------------------


class FakeJobStore:
    """`JobStore` in memory. Rows are `Job` values; a write replaces the row (as an UPDATE),
    so a `Job` a caller holds never changes under it."""

    def __init__(self) -> None:
        self.rows: dict[str, Job] = {}
        self.calls: Counter[str] = Counter()
        # (job_id, sources, dst, moved) for every guarded move asked of the store
        self.transitions: list[tuple[str, frozenset[JobStatus], JobStatus, bool]] = []

    # -- helpers for tests (not part of the port) --

    def add(self, job: Job) -> Job:
        """Put a row in place without going through `insert` (no call counted)."""
        self.rows[job.id] = job
        return job

    def row(self, job_id: str) -> Job:
        """The row as stored (no call counted)."""
        return self.rows[job_id]

    # -- the port --

    def insert(self, job: Job, admit: AdmitCheck | None = None) -> Job:
        self.calls["insert"] += 1
        if admit is not None:
            # The fake has no connection; an admission fake ignores the argument.
            existing = admit(None)  # type: ignore[arg-type]
            if existing is not None:
                return self.rows[existing]
        if job.id in self.rows:
            raise ValueError(f"duplicate job id {job.id}")  # a primary key violation
        self.rows[job.id] = job
        return job

    def get(self, job_id: str) -> Job | None:
        self.calls["get"] += 1
        return self.rows.get(job_id)

    def page(
        self,
        owner_key_id: str,
        *,
        limit: int,
        after: Job | None = None,
        descending: bool = True,
        status: JobStatus | None = None,
    ) -> list[Job]:
        self.calls["page"] += 1
        found = [
            j
            for j in self.rows.values()
            if j.owner_key_id == owner_key_id
            and not j.deleted
            and (status is None or j.status is status)
        ]
        found.sort(key=lambda j: (j.created_at, j.id), reverse=descending)
        if after is not None:
            cursor = (after.created_at, after.id)
            found = [
                j
                for j in found
                if ((j.created_at, j.id) < cursor if descending else (j.created_at, j.id) > cursor)
            ]
        return found[:limit]

    def transition(
        self, job_id: str, src: frozenset[JobStatus] | set[JobStatus], dst: JobStatus, **values: Any
    ) -> bool:
        self.calls["transition"] += 1
        job = self.rows.get(job_id)
        moved = job is not None and job.status in src
        if moved:
            assert job is not None
            self.rows[job_id] = _with(job, status=dst, **values)
        self.transitions.append((job_id, frozenset(src), dst, moved))
        return moved

    def update_where_status(self, job_id: str, status: JobStatus, **values: Any) -> bool:
        self.calls["update_where_status"] += 1
        job = self.rows.get(job_id)
        if job is None or job.status is not status:
            return False
        self.rows[job_id] = _with(job, **values)
        return True

    def update(self, job_id: str, **values: Any) -> None:
        self.calls["update"] += 1
        job = self.rows.get(job_id)
        if job is not None:
            self.rows[job_id] = _with(job, **values)

    def ids_with_status(self, statuses: set[JobStatus]) -> list[str]:
        self.calls["ids_with_status"] += 1
        found = sorted(
            (j for j in self.rows.values() if j.status in statuses), key=lambda j: j.created_at
        )
        return [j.id for j in found]

    def overdue_queued(self, now: float) -> list[str]:
        self.calls["overdue_queued"] += 1
        return [
            j.id
            for j in self.rows.values()
            if j.status is JobStatus.QUEUED
            and j.execution_deadline is not None
            and j.execution_deadline < now
        ]

    def outputs_past_retention(self, now: float) -> list[str]:
        self.calls["outputs_past_retention"] += 1
        return [
            j.id
            for j in self.rows.values()
            if j.status is JobStatus.SUCCEEDED
            and j.expires_at is not None
            and j.expires_at < now
            and j.outputs != JobOutputs()
        ]

    def queue_positions(self, queued: list[Job]) -> dict[str, int]:
        self.calls["queue_positions"] += 1
        waiting = [j.created_at for j in self.rows.values() if j.status is JobStatus.QUEUED]
        return {j.id: sum(1 for t in waiting if t < j.created_at) for j in queued}

    def cancel_requested(self, job_id: str) -> bool:
        """The contract: asked to stop, or no longer running (or gone)."""
        self.calls["cancel_requested"] += 1
        job = self.rows.get(job_id)
        return job is None or job.cancel_requested or job.status is not JobStatus.RUNNING


def _with(job: Job, **values: Any) -> Job:
    """A row after an UPDATE of `values`; a NULL `outputs` column reads back as no outputs."""
    if "outputs" in values and values["outputs"] is None:
        values["outputs"] = JobOutputs()
    if isinstance(values.get("stage"), str):
        values["stage"] = Stage(values["stage"])
    return dataclasses.replace(job, **values)


def make_job(
    clock: FakeClock,
    *,
    owner: str = "key_a",
    status: JobStatus = JobStatus.QUEUED,
    engine: str = "ok",
    **overrides: Any,
) -> Job:
    """A job as `Submissions` would have stored it (queued at `clock()` unless told)."""
    now = clock()
    values: dict[str, Any] = dict(
        id="video_" + secrets.token_hex(12),
        owner_key_id=owner,
        status=status,
        stage=Stage.QUEUED,
        progress=0.0,
        model=engine,
        resolved=ResolvedModel(engine),
        prompt="a lighthouse at dusk",
        seconds=5,
        resolution=Resolution.P480,
        aspect_ratio=AspectRatio.R16_9,
        width=854,
        height=480,
        fps=24,
        seed=7,
        generate_audio=True,
        codec=Codec.H264,
        return_last_frame=False,
        references=(),
        created_at=now,
        updated_at=now,
        execution_deadline=now + 3600,
    )
    values.update(overrides)
    return Job(**values)


# ---- the queue ----------------------------------------------------------------------------


class FakeQueue:
    """`JobQueue`: records every enqueue; an id is scheduled once however often it comes."""

    def __init__(self, refuse_engines: frozenset[str] = frozenset()) -> None:
        self.calls: list[tuple[str, str]] = []
        self.scheduled: dict[str, str] = {}  # job id -> engine, in order
        self._refuse = refuse_engines

    def enqueue(self, job_id: str, engine: str) -> None:
        self.calls.append((job_id, engine))
        if engine in self._refuse:
            raise UnknownModel(
                f"engine {engine!r} is not configured here", code="engine.unavailable"
            )
        self.scheduled.setdefault(job_id, engine)


# ---- notifiers ----------------------------------------------------------------------------


class RecordingNotifier:
    """`Notifier`: remembers what it was told (the job as it was handed over)."""

    def __init__(self) -> None:
        self.ended: list[Job] = []
        self.progressed: list[Job] = []

    def job_ended(self, job: Job) -> None:
        self.ended.append(job)

    def job_progressed(self, job: Job) -> None:
        self.progressed.append(job)

    def ended_ids(self) -> list[str]:
        return [j.id for j in self.ended]


class FailingNotifier(RecordingNotifier):
    """Records, then raises: the service must go on and tell the others."""

    def job_ended(self, job: Job) -> None:
        super().job_ended(job)
        raise RuntimeError("notifier down")

    def job_progressed(self, job: Job) -> None:
        super().job_progressed(job)
        raise RuntimeError("notifier down")


# ---- admission ----------------------------------------------------------------------------


@dataclass
class FakeAdmission:
    """`AdmissionControl`. `refuse` is raised by every check (precheck and the locked check);
    an idempotency key admitted once is replayed (same request hash) or a 409 (another one)."""

    refuse: Exception | None = None
    prechecks: list[AdmissionTicket] = field(default_factory=list)
    checks: list[AdmissionTicket] = field(default_factory=list)
    admitted: list[AdmissionTicket] = field(default_factory=list)
    keys: dict[tuple[str, str], tuple[str | None, str]] = field(default_factory=dict)

    @staticmethod
    def rate_limited() -> FakeAdmission:
        return FakeAdmission(
            refuse=RateLimited("slow down", retry_after=3, code="rate_limited.creates_per_minute")
        )

    def remember(self, key_id: str, idempotency_key: str, request_hash: str, job_id: str) -> None:
        """An idempotency key already used (e.g. by another API process)."""
        self.keys[(key_id, idempotency_key)] = (request_hash, job_id)

    def _replay(self, t: AdmissionTicket) -> str | None:
        if t.idempotency_key is None:
            return None
        seen = self.keys.get((t.key_id, t.idempotency_key))
        if seen is None:
            return None
        request_hash, job_id = seen
        if request_hash != t.request_hash:
            raise Conflict("idempotency key reused", code="conflict.idempotency_key")
        return job_id

    def precheck(self, ticket: AdmissionTicket) -> str | None:
        self.prechecks.append(ticket)
        replay = self._replay(ticket)
        if replay is not None:
            return replay
        if self.refuse is not None:
            raise self.refuse
        return None

    def check(self, ticket: AdmissionTicket) -> AdmitCheck:
        self.checks.append(ticket)

        def admit(_conn: object) -> str | None:
            replay = self._replay(ticket)
            if replay is not None:
                return replay
            if self.refuse is not None:
                raise self.refuse
            self.admitted.append(ticket)
            if ticket.idempotency_key is not None:
                self.keys[(ticket.key_id, ticket.idempotency_key)] = (
                    ticket.request_hash,
                    ticket.job_id,
                )
            return None

        return admit


# ---- pricing ------------------------------------------------------------------------------


class FakePricing:
    """`Pricing`: a price per second per (model label, resolution); labels not in the table
    cost `fallback` per second. Records each call."""

    def __init__(
        self,
        table: dict[tuple[str, Resolution], float] | None = None,
        *,
        fallback: float = 0.1,
        currency: str = "EUR",
    ) -> None:
        self.table = dict(table or {})
        self.fallback = fallback
        self._currency = currency
        self.calls: list[tuple[str, Resolution, float]] = []

    @property
    def currency(self) -> str:
        return self._currency

    def per_second(self, engine: str, resolution: Resolution) -> float:
        return self.table.get((engine, resolution), self.fallback)

    def cost(self, engine: str, resolution: Resolution, seconds: float) -> float:
        self.calls.append((engine, resolution, seconds))
        return round(self.per_second(engine, resolution) * seconds, 4)


# ---- moderation ---------------------------------------------------------------------------


class FakeModeration:
    """`Moderation` (the `ModerationPolicy` protocol): blocks prompts containing any of
    `blocked_words` and references whose sha256 is in `blocked_hashes`; records what it saw."""

    def __init__(
        self, blocked_words: tuple[str, ...] = (), blocked_hashes: frozenset[str] = frozenset()
    ) -> None:
        self.blocked_words = blocked_words
        self.blocked_hashes = blocked_hashes
        self.prompts: list[str] = []
        self.references: list[tuple[str, str]] = []
        self.outputs: list[tuple[Path, Path]] = []

    def check_prompt(self, prompt: str) -> Verdict | None:
        self.prompts.append(prompt)
        for word in self.blocked_words:
            if word in prompt.lower():
                return Verdict(rule=word)
        return None

    def check_reference(self, kind: str, sha256: str) -> Verdict | None:
        self.references.append((kind, sha256))
        return Verdict(rule=f"sha256:{sha256}") if sha256 in self.blocked_hashes else None

    def check_output(self, video: Path, thumbnail: Path) -> Verdict | None:
        self.outputs.append((video, thumbnail))
        return None
