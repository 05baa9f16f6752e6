"""What the dialects' presenters share: status words, a job's error and length as dialects
show them. Pure functions of a job (or its view); no HTTP, no runtime."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from reelforge.core.job import Job, JobStatus

StatusWords = Mapping[JobStatus, str]


def status_words(
    *, queued: str, running: str, succeeded: str, failed: str, canceled: str, expired: str
) -> StatusWords:
    """A dialect's word for every job status (keyword-only, so none can be forgotten)."""
    return MappingProxyType({
        JobStatus.QUEUED: queued, JobStatus.RUNNING: running, JobStatus.SUCCEEDED: succeeded,
        JobStatus.FAILED: failed, JobStatus.CANCELED: canceled, JobStatus.EXPIRED: expired,
    })  # fmt: skip


def job_error(job: Job) -> dict[str, Any] | None:
    """The terminal error of a failed, canceled or expired job as `{code, message}`."""
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED):
        return None
    return {
        "code": job.error.code if job.error else job.status.value,
        "message": (job.error.message if job.error else "") or f"the video is {job.status.value}",
    }


def job_warnings(job: Job) -> list[dict[str, Any]]:
    """What in the request was not rendered as asked, `[{code, message, param, span}]`: every
    dialect's task object carries it (a reelforge extension where the vendor has no field)."""
    return [w.to_dict() for w in job.warnings]


def job_seconds(job: Job) -> float | None:
    """Seconds delivered (or asked for while it renders); None while `auto` is undecided."""
    seconds = job.output_seconds or job.seconds
    return float(seconds) if seconds else None
