"""The seam between JobService and the durable executor that runs jobs."""

from __future__ import annotations

from typing import Protocol


class JobQueue(Protocol):
    def enqueue(self, job_id: str, engine: str) -> None:
        """Schedule the job's workflow on the queue of `engine` (a registry name); enqueueing
        the same id twice schedules it once."""
