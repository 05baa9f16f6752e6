"""The ports of the job core: small Protocols that `jobs/` owns and the layers below implement
(`store.job_repository.JobRepository`, `platform.admission.Admission`,
`platform.pricing.PriceTable`, `platform.moderation.*Policy`, `platform.credits.Credits`, the
webhook events in `jobs.notifications`, the durable queue in `jobs.workflow`).

Unit tests give the job services fakes of these; the app gives them the real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import sqlalchemy as sa

from reelforge.core.admission import AdmissionTicket
from reelforge.core.job import Job, JobStatus
from reelforge.platform.moderation import ModerationPolicy
from reelforge.spec import Resolution

Clock = Callable[[], float]
AdmitCheck = Callable[[sa.Connection], str | None]
"""Runs inside the insert's write-locked transaction; may return the id of an existing job (an
idempotent replay) or raise to refuse the job."""


class JobStore(Protocol):
    def insert(self, job: Job, admit: AdmitCheck | None = None) -> Job: ...

    def get(self, job_id: str) -> Job | None: ...

    def page(
        self,
        owner_key_id: str,
        *,
        limit: int,
        after: Job | None = None,
        descending: bool = True,
        status: JobStatus | None = None,
    ) -> list[Job]: ...

    def transition(
        self, job_id: str, src: frozenset[JobStatus] | set[JobStatus], dst: JobStatus, **values: Any
    ) -> bool:
        """Move the job to `dst` only if it is in one of `src`; True when this call moved it."""

    def update_where_status(self, job_id: str, status: JobStatus, **values: Any) -> bool: ...

    def update(self, job_id: str, **values: Any) -> None: ...

    def ids_with_status(self, statuses: set[JobStatus]) -> list[str]: ...

    def overdue_queued(self, now: float) -> list[str]: ...

    def outputs_past_retention(self, now: float) -> list[str]: ...

    def queue_positions(self, queued: list[Job]) -> dict[str, int]: ...

    def cancel_requested(self, job_id: str) -> bool: ...


class AdmissionControl(Protocol):
    def precheck(self, ticket: AdmissionTicket) -> str | None:
        """The checks without writing, before references are fetched; an existing job id for an
        idempotent replay."""

    def check(self, ticket: AdmissionTicket) -> AdmitCheck: ...


class Pricing(Protocol):
    @property
    def currency(self) -> str: ...

    def cost(self, engine: str, resolution: Resolution, seconds: float) -> float:
        """`engine` is a resolved model's label (`engine` or `engine:preset`)."""


# Moderation is an extension point operators implement (`platform.moderation.ModerationPolicy`:
# prompts, references by content hash, rendered outputs); the job core uses it as it is.
Moderation = ModerationPolicy


class Notifier(Protocol):
    """Told about jobs as they change; never fails the job (errors are logged)."""

    def job_ended(self, job: Job) -> None:
        """Once per job, after it reached a terminal status (billing, webhooks)."""

    def job_progressed(self, job: Job) -> None:
        """While it renders, for jobs that asked for progress webhooks."""


class JobQueue(Protocol):
    def enqueue(self, job_id: str, engine: str) -> None:
        """Schedule the job's workflow on the queue of `engine`; enqueueing the same id twice
        schedules it once."""
