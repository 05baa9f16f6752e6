"""JobView: a job with everything a dialect shows about it (download links, cost, queue
position, warnings), built once by `JobViews`; each dialect presents it with pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reelforge.core.job import Job, JobStatus, JobWarning
from reelforge.jobs.ports import JobStore, Pricing
from reelforge.storage.signing import UrlSigner

VARIANTS = ("video", "thumbnail", "last_frame", "spritesheet")


@dataclass(frozen=True)
class JobView:
    job: Job
    urls: Mapping[str, str] | None  # signed download links, once the video is there
    cost: float  # what the job is charged (0 unless it succeeded)
    currency: str
    queue_position: int | None  # queued jobs created before it (None unless queued)
    base_url: str  # the service's public URL, for links a dialect hands out

    @property
    def billed_seconds(self) -> float:
        job = self.job
        return float(job.output_seconds or 0.0) if job.status is JobStatus.SUCCEEDED else 0.0

    @property
    def warnings(self) -> tuple[JobWarning, ...]:
        return self.job.warnings

    def url(self, variant: str) -> str | None:
        return self.urls.get(variant) if self.urls else None

    def link(self, path: str) -> str:
        return f"{self.base_url}{path}"


class JobViews:
    def __init__(self, store: JobStore, signer: UrlSigner, pricing: Pricing, base_url: str) -> None:
        self._store = store
        self._signer = signer
        self._pricing = pricing
        self._base_url = base_url.rstrip("/")

    def view(self, job: Job) -> JobView:
        return self.views([job])[0]

    def views(self, jobs: Sequence[Job]) -> list[JobView]:
        """Views of a page of jobs: one query for all their queue positions."""
        positions = self._store.queue_positions([j for j in jobs if j.status is JobStatus.QUEUED])
        return [self._view(j, positions.get(j.id)) for j in jobs]

    def event_view(self, job: Job) -> JobView:
        """A view for a webhook body: no queue position (no query)."""
        return self._view(job, None)

    def _view(self, job: Job, position: int | None) -> JobView:
        billed = float(job.output_seconds or 0.0) if job.status is JobStatus.SUCCEEDED else 0.0
        return JobView(
            job=job,
            urls=self._urls(job),
            cost=self._pricing.cost(job.resolved.label, job.resolution, billed),
            currency=self._pricing.currency,
            queue_position=position,
            base_url=self._base_url,
        )

    def _urls(self, job: Job) -> dict[str, str] | None:
        if job.status is not JobStatus.SUCCEEDED or job.outputs.video is None:
            return None
        # a variant the job lacks (the spritesheet of a job older than it) gets no link
        return {
            v: self.content_url(job.id, v) for v in VARIANTS if getattr(job.outputs, v) is not None
        }

    def content_url(self, job_id: str, variant: str) -> str:
        expires, signature = self._signer.sign(f"{job_id}/{variant}")
        return (
            f"{self._base_url}/v1/videos/{job_id}/content?variant={variant}"
            f"&expires={expires}&signature={signature}"
        )


def video_fields(job: Job) -> dict[str, Any]:
    """The fields every outward view shares (the native Video object, webhook events)."""
    seconds = job.output_seconds or job.seconds
    return {
        "id": job.id,
        "object": "video",
        "model": job.model,
        "engine": job.resolved.label,
        "created_at": int(job.created_at),
        "started_at": _ts(job.started_at),
        "completed_at": _ts(job.completed_at),
        "seconds": str(int(seconds)) if seconds else "auto",
        "size": f"{job.width}x{job.height}",
        "resolution": job.resolution.value,
        "aspect_ratio": job.aspect_ratio.value,
        "fps": job.fps,
        "seed": job.seed,
        "generate_audio": job.generate_audio,
        "codec": job.codec.value,
        "alpha": job.codec.alpha,  # the subjects on a transparent background
        "container": job.codec.container,  # mp4, or mov / webm with alpha
        "error": job.error.to_dict() if job.error else None,
        "metadata": job.metadata,
        "end_user_id": job.end_user_id,
        "warnings": [w.to_dict() for w in job.warnings],
    }


def _ts(value: float | None) -> int | None:
    return int(value) if value else None
