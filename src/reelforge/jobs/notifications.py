"""Webhook events of jobs: which event a job's change makes, and its body in the job's dialect.

`WebhookEvents` is a `Notifier` of `JobService`. It builds the body from the job's view with the
builder registered for the job's dialect (the composition root registers the dialects'
presenters; the native event is the default) and hands it to the platform's dispatcher, which
stores and delivers it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from reelforge.core.job import Job, JobStatus
from reelforge.errors import NotFound
from reelforge.jobs.ports import Clock
from reelforge.jobs.views import JobView, JobViews, video_fields

log = logging.getLogger("reelforge.webhooks")

EVENT_TYPES: dict[JobStatus, str] = {
    JobStatus.SUCCEEDED: "video.completed",
    JobStatus.FAILED: "video.failed",
    JobStatus.CANCELED: "video.canceled",
    JobStatus.EXPIRED: "video.expired",
}
PROGRESS_MILESTONES = (0, 25, 50, 75)
RECOVERY_WINDOW_SECONDS = 24 * 3600.0

BodyBuilder = Callable[[JobView, str, str, float], dict[str, Any]]
"""(view, event id, event type, created_at) -> the JSON body sent for that event."""


class EventSink(Protocol):
    """Where events go (`platform.webhooks.WebhookDispatcher`)."""

    def store_event(
        self, *, job_id: str, owner_key_id: str, url: str, key: str, event_id: str,
        body: dict[str, Any],
    ) -> str | None: ...  # fmt: skip

    def jobs_missing_events(self, since: float) -> list[str]: ...


def event_body(view: JobView, event_id: str, event_type: str, created_at: float) -> dict[str, Any]:
    """The native event: thin (no prompt, no download links), built from the job alone."""
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created_at": int(created_at),
        "data": {**video_fields(view.job), "status": event_type.removeprefix("video.")},
    }


class WebhookEvents:
    def __init__(
        self,
        sink: EventSink,
        views: JobViews,
        load_job: Callable[[str], Job],
        *,
        bodies: Mapping[str, BodyBuilder] | None = None,
        clock: Clock,
    ) -> None:
        self._sink = sink
        self._views = views
        self._load_job = load_job
        self._bodies = dict(bodies or {})
        self._clock = clock

    def job_ended(self, job: Job) -> None:
        """Never raises (a failure here must not fail the job; `recover_missed` creates what
        was missed)."""
        try:
            self.enqueue(job)
        except Exception:
            log.exception("could not store the webhook event of %s", job.id)

    def enqueue(self, job: Job) -> str | None:
        """Store the job's terminal event; its id, or None when the job has no webhook URL, is
        not terminal, or already has its event."""
        event_type = EVENT_TYPES.get(job.status)
        if not job.webhook_url or event_type is None:
            return None
        now = self._clock()
        event_id = "evt_" + secrets.token_hex(12)
        build = self._bodies.get(job.dialect, event_body)
        body = build(self._views.event_view(job), event_id, event_type, now)
        return self._sink.store_event(
            job_id=job.id, owner_key_id=job.owner_key_id, url=job.webhook_url,
            key=event_type, event_id=event_id, body=body,
        )  # fmt: skip

    def job_progressed(self, job: Job) -> None:
        """`video.progress` events for jobs that asked for them: once when rendering starts
        and at 25, 50 and 75 %. Each milestone is one event (stored under its own key, so a
        report seen twice sends it once); a terminal event follows as always."""
        if not job.webhook_url:
            return
        view = self._views.event_view(job)
        for milestone in PROGRESS_MILESTONES:
            if job.progress >= milestone:
                now = self._clock()
                event_id = "evt_" + secrets.token_hex(12)
                body = event_body(view, event_id, "video.progress", now)
                body["data"]["progress"] = milestone
                self._sink.store_event(
                    job_id=job.id, owner_key_id=job.owner_key_id, url=job.webhook_url,
                    key=f"video.progress:{milestone}", event_id=event_id, body=body,
                )  # fmt: skip

    def recover_missed(self) -> int:
        """Create the events of jobs that ended recently without one; how many were created."""
        created = 0
        for job_id in self._sink.jobs_missing_events(self._clock() - RECOVERY_WINDOW_SECONDS):
            try:
                job = self._load_job(job_id)
            except NotFound:
                continue
            if self.enqueue(job) is not None:
                created += 1
        if created:
            log.info("created %d webhook events missed before a restart", created)
        return created
