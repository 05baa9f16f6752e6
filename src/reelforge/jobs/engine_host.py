"""Engines run in a child process per engine (kept warm between jobs), so that a cancel the
engine ignores, or a crash inside native code, ends that job and never the service.

The parent relays progress, asks the child to stop when the job's cancel token is set, and
terminates it after a grace period if it does not; the next job starts a fresh child. With
`engine_ranks_per_job` > 1 the child is a rank group of processes that render each job together
(`jobs/rank_group.py`); the parent talks to its rank 0 and watches every rank.
`isolation="thread"` runs engines in the caller's thread instead (no termination possible).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from reelforge import codes
from reelforge.core.job import JobError
from reelforge.engines.base import RenderRequest
from reelforge.engines.registry import EngineFactory, EngineRegistry
from reelforge.errors import JobFailed, ReelforgeError
from reelforge.jobs.engine_child import STOP
from reelforge.jobs.outages import Abandoned
from reelforge.jobs.rank_group import EngineProcesses, RankPlan, plan_ranks
from reelforge.jobs.render import RenderedFiles, render_video
from reelforge.media.types import CancelToken, EngineCanceled, ProgressCallback
from reelforge.spec import Codec

if TYPE_CHECKING:
    from reelforge.engines.diffusion.settings import DiffusionSettings

log = logging.getLogger("reelforge.engine_host")


class JobLog:
    """A picklable job log for engines: lines go to the `reelforge.engine` logger."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id

    def __call__(self, message: str) -> None:
        logging.getLogger("reelforge.engine").info(message, extra={"job_id": self.job_id})


class WorkerShuttingDown(Abandoned):
    """Raised out of a render when this process is stopping. A BaseException on purpose: the
    workflow must not record it as the job's failure; the job is resumed elsewhere or later."""


class EngineCrashed(JobFailed):
    code = codes.ENGINE_CRASHED
    retryable = True


class EngineHosts:
    def __init__(
        self,
        registry: EngineRegistry,
        *,
        isolation: str = "process",
        grace_seconds: Callable[[str], float] = lambda _engine: 1.0,
        parallel: DiffusionSettings | None = None,
    ) -> None:
        self._registry = registry
        self._isolation = isolation
        self._parallel = parallel  # engine_ranks_per_job, engine_gpus: rank groups
        self._grace = grace_seconds  # per engine: how long it may ignore a cancel
        self._hosts: dict[str, _ProcessHost] = {}
        self._lock = threading.Lock()
        self._closed = False  # closed for good: a render now would outlive the service

    def render(
        self,
        engine_name: str,
        request: RenderRequest,
        out_dir: Path,
        *,
        codec: Codec,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> RenderedFiles:
        if self._isolation == "thread":
            self._rank_plan(engine_name)  # refuses engine_ranks_per_job > 1
            engine = self._registry.get(engine_name)
            return render_video(
                engine, request, out_dir, codec=codec, progress=progress, cancel=cancel
            )
        host = self._host(engine_name)
        return host.render(request, out_dir, codec=codec, progress=progress, cancel=cancel)

    def _host(self, engine_name: str) -> _ProcessHost:
        with self._lock:
            if self._closed:
                # The process is stopping: the job's workflow stays pending and resumes later.
                raise WorkerShuttingDown()
            host = self._hosts.get(engine_name)
            if host is None:
                host = _ProcessHost(
                    engine_name, self._registry.factory(engine_name), self._grace(engine_name),
                    partial(self._rank_plan, engine_name),
                )  # fmt: skip
                self._hosts[engine_name] = host
            return host

    def _rank_plan(self, engine_name: str) -> RankPlan | None:
        """Checked each time the engine's processes start (a refusal fails that job)."""
        entry = self._registry.entry(engine_name)
        return plan_ranks(self._parallel, entry, self._isolation)

    def warm(self, engine_names: list[str]) -> None:
        """Start the engines' processes now, in the background, so that the first job does not
        wait for a process start and the engine's imports (it builds the engine; a diffusion
        engine still loads its weights on its first job)."""
        if self._isolation == "thread":
            return
        for name in engine_names:
            try:
                host = self._host(name)
            except WorkerShuttingDown:
                return
            threading.Thread(target=host.warm, name=f"warm-{name}", daemon=True).start()

    def close(self) -> None:
        """Stop every engine process; a later `render` or `warm` starts none."""
        with self._lock:
            self._closed = True
            hosts, self._hosts = list(self._hosts.values()), {}
        for host in hosts:
            host.close()


class _ProcessHost:
    """One engine's process (or rank group: `jobs/rank_group.py`); one job at a time."""

    def __init__(
        self, name: str, factory: EngineFactory, grace: float, plan: Callable[[], RankPlan | None]
    ) -> None:
        self._name = name
        self._factory = factory
        self._grace = grace
        self._plan = plan
        self._lock = threading.Lock()  # one job at a time per child
        self._procs: EngineProcesses | None = None
        self._closing = False

    def warm(self) -> None:
        if self._lock.acquire(blocking=False):  # a job already holds it: nothing to warm
            try:
                if not self._closing:
                    self._ensure()
            except ReelforgeError as exc:  # the first job fails with it too
                log.warning("engine %s cannot start: %s", self._name, exc.message)
            finally:
                self._lock.release()

    def _ensure(self) -> EngineProcesses:
        if self._procs is None or self._procs.failure() is not None:
            self._kill()
            self._procs = EngineProcesses(self._name, self._factory, self._plan())
        return self._procs

    def render(
        self,
        request: RenderRequest,
        out_dir: Path,
        *,
        codec: Codec,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> RenderedFiles:
        with self._lock:
            if self._closing:
                raise WorkerShuttingDown()
            procs = self._ensure()
            conn = procs.conn
            procs.cancel.clear()
            answered = False  # the child finished this job (done, canceled or error)
            try:
                conn.send(("render", request, str(out_dir), codec.value))
                cancel_deadline: float | None = None
                while True:
                    if self._closing:
                        raise WorkerShuttingDown()
                    if conn.poll(0.05):
                        kind, payload = conn.recv()
                        if kind == "progress":
                            progress(float(payload))
                        else:
                            answered = True
                            if kind == "done":
                                return RenderedFiles(**payload)
                            if kind == "canceled":
                                raise EngineCanceled()
                            if not procs.keeps_after_error:
                                # A rank's death reaches rank 0 as an error in a collective.
                                if why := procs.failure(wait=0.2, errors=False):
                                    raise self._crashed(why)
                                self._kill()  # a rank may be left inside a collective
                            raise _error_from(payload)
                    # A process ended. In a group, rank 0 may still answer: its error is the job's.
                    elif (why := procs.failure()) and not conn.poll(procs.answer_wait):
                        raise self._crashed(why)
                    # Checked on every pass, also while progress messages keep arriving.
                    if cancel_deadline is None and cancel.is_set():
                        procs.cancel.set()
                        cancel_deadline = time.monotonic() + self._grace
                    if cancel_deadline is not None and time.monotonic() > cancel_deadline:
                        log.warning("engine %s ignored cancel for %.1f s: terminating its "
                                    "process", self._name, self._grace)  # fmt: skip
                        raise EngineCanceled()
            except (EOFError, OSError):
                if self._closing:
                    raise WorkerShuttingDown() from None
                raise self._crashed(procs.failure(wait=1.0) or "its pipe closed") from None
            finally:
                # Any other way out (cancel ignored, a failing progress callback, shutdown)
                # leaves the child mid-job: kill it, so that the next job never reads this
                # job's late messages.
                if not answered:
                    self._kill()

    def _crashed(self, why: str) -> EngineCrashed:
        self._kill()
        return EngineCrashed(why, stage="generate")

    def _kill(self) -> None:
        procs, self._procs = self._procs, None
        if procs is not None:
            procs.stop()

    def close(self) -> None:
        """Stop the child now, also mid-job (without waiting for the render to end): the job's
        workflow stays pending and is resumed by this worker's restart or by the fleet."""
        self._closing = True
        if self._lock.acquire(blocking=False):
            try:
                procs, self._procs = self._procs, None
                if procs is not None:
                    with contextlib.suppress(OSError):
                        procs.conn.send(STOP)
                    procs.stop(grace=procs.stop_grace)
            finally:
                self._lock.release()
        else:
            procs = self._procs
            if procs is not None:
                procs.terminate()


def _error_from(error: JobError) -> ReelforgeError:
    err = ReelforgeError(error.message, code=error.code)
    err.param = error.param
    err.reference_index = error.reference_index
    err.stage = error.stage or "generate"
    err.retryable = error.retryable
    return err
