"""A background thread that applies the lifecycle: expires overdue queued jobs, deletes the files
of videos past their retention, and runs the repair passes. State changes go through JobService.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from reelforge.jobs.service import JobService

log = logging.getLogger("reelforge.janitor")


class Janitor:
    def __init__(
        self,
        service: JobService,
        interval_seconds: float,
        repairs: Sequence[Callable[[], object]] = (),
    ) -> None:
        self._service = service
        self._interval = interval_seconds
        # Catch-up passes for work a terminal listener could not do at the time (a credit hold
        # left open, a webhook event not stored), so a passing fault costs a delay, not a loss.
        self._repairs = list(repairs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        expired = self._service.expire_overdue()
        purged = self._service.purge_expired_outputs()
        for repair in self._repairs:
            repair()
        if expired or purged:
            log.info("lifecycle: %d jobs expired, %d outputs deleted", len(expired), len(purged))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="reelforge-janitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.run_once()
            except Exception:  # keep the janitor alive; the next pass retries
                log.exception("lifecycle pass failed")
