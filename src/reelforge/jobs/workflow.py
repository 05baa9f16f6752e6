"""The durable job workflow on DBOS Transact: intake -> plan -> generate -> encode -> finalize.

Each step is checkpointed in the DBOS system database. A process killed mid-job recovers the
workflow on its next start (same executor id) and re-runs only the unfinished step. Steps write
under deterministic keys (`work/<job>/`, `outputs/<job>/`) and end with guarded status updates,
so a re-run never produces a second output.

Each step rides out a database or storage outage (`jobs.outages`: retried with back-off, for a
bounded time) instead of failing the job. A process that stops (SIGTERM) drains: it takes no
more jobs, lets the renders in progress finish within a grace period, and hands the others back
to the queue, where another worker resumes each from its last checkpoint (`drain`).

DBOS keeps one process-wide instance and registry; `JobWorkflows` registers its functions on a
fresh registry per app (with stable names, so recovery finds them after a restart) and destroys
it on shutdown, so tests can build one app after another in one process.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from dbos import DBOS, SetWorkflowID

from reelforge import __version__, codes
from reelforge.core.job import Job, JobError, JobOutputs, Stage
from reelforge.core.references import StoredReference
from reelforge.errors import ReelforgeError, UnknownModel
from reelforge.jobs.dispatch import (
    QueueDispatcher,
    quiet_dbos_after_launch,
    quiet_dbos_before_launch,
)
from reelforge.jobs.engine_host import EngineHosts, JobLog
from reelforge.jobs.outages import Abandoned, RetryPolicy, is_transient
from reelforge.jobs.render import RenderedFiles, build_render_request, plan_video
from reelforge.jobs.service import JobService
from reelforge.logs import job_id_var
from reelforge.media.spritesheet import write_spritesheet
from reelforge.media.types import EngineCanceled
from reelforge.planning.model import ShotPlan
from reelforge.platform.moderation import AllowAll, ModerationPolicy, enforce_output
from reelforge.storage.base import Storage
from reelforge.store.dbos_engine import dbos_sqlite_engine

log = logging.getLogger("reelforge.worker")


def queue_name(engine: str) -> str:
    """Each engine has its own queue, so a GPU worker listens only to the engines it hosts."""
    return f"reelforge-jobs-{engine}"


WORKFLOW_NAME = "reelforge.job"
T = TypeVar("T")


class CancelWatcher:
    """Cancel token for one job: this process' signal at once, the store every 0.25 s (a
    narrow read of two columns, not of the job). While the store is unreachable the render
    goes on (asked again 0.25 s later). When this process abandons its renders (drain past
    its grace, or the fleet gave its jobs to others) it raises `Abandoned` out of the render."""

    def __init__(
        self,
        service: JobService,
        job_id: str,
        interval: float = 0.25,
        abandon: threading.Event | None = None,
    ) -> None:
        self._service = service
        self._job_id = job_id
        self._interval = interval
        self._abandon = abandon
        self._next_check = 0.0
        self._set = False

    def is_set(self) -> bool:
        if self._abandon is not None and self._abandon.is_set():
            raise Abandoned(f"render of {self._job_id} abandoned: handed back to the queue")
        now = time.monotonic()
        if not self._set and now >= self._next_check:
            self._next_check = now + self._interval
            try:
                self._set = self._service.cancel_requested(self._job_id)
            except Exception as exc:
                if not is_transient(exc):
                    raise
        return self._set


class ProgressReporter:
    """Writes progress at most every 0.5 s or 2 points, so the store is not hammered per frame."""

    def __init__(self, service: JobService, job: Job, stage: Stage, lo: float, hi: float) -> None:
        self._service, self._job, self._stage = service, job, stage
        self._lo, self._hi = lo, hi
        self._last_value = -1.0
        self._last_time = 0.0

    def __call__(self, fraction: float) -> None:
        value = self._lo + (self._hi - self._lo) * max(0.0, min(fraction, 1.0))
        now = time.monotonic()
        if value - self._last_value >= 2.0 or now - self._last_time >= 0.5 or fraction >= 1.0:
            self._last_value, self._last_time = value, now
            try:
                self._service.report(self._job, stage=self._stage, progress=value)
            except Exception as exc:  # progress is news, not state: an outage skips it
                if not is_transient(exc):
                    raise


class StepClock:
    """Seconds spent in each workflow step (logged once per job: where a job's time goes
    besides the render)."""

    def __init__(self) -> None:
        self._last = time.monotonic()
        self._laps: list[tuple[str, float]] = []

    def lap(self, name: str, value: T) -> T:
        now = time.monotonic()
        self._laps.append((name, now - self._last))
        self._last = now
        return value

    def summary(self) -> str:
        return ", ".join(f"{name} {seconds:.3f} s" for name, seconds in self._laps)


class JobWorkflows:
    def __init__(
        self,
        service: JobService,
        storage: Storage,
        hosts: EngineHosts,
        work_dir: Path,
        moderation: ModerationPolicy | None = None,
        *,
        assess_quality: bool = True,
        retry: RetryPolicy | None = None,
        idle_poll_seconds: float = 1.0,
    ) -> None:
        self._moderation = moderation or AllowAll()
        self._assess_quality = assess_quality
        self._service = service
        self._storage = storage
        self._hosts = hosts
        self._work_dir = work_dir
        self._retry = retry or RetryPolicy()
        self._queues: dict[str, Any] = {}
        self._dbos_engine: sa.Engine | None = None
        self._dispatch = QueueDispatcher(idle_poll_seconds)
        self._announce: Callable[[str], None] = lambda _queue: None
        self._running: dict[str, str] = {}  # job id -> engine, of the workflows running here
        self._running_lock = threading.Lock()
        self._abandon = threading.Event()  # set: renders here raise Abandoned
        self._workflow = self._register()

    # ---- lifecycle ---------------------------------------------------------------------

    def launch(
        self,
        system_database_url: str,
        executor_id: str,
        *,
        engines: list[str],
        hosted: list[str] | None,
        concurrency: Callable[[str], int] | int,
        poll_seconds: float,
        system_engine: sa.Engine | None = None,
        engine_kwargs: dict[str, Any] | None = None,
        run_migrations: bool = True,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        """Start DBOS and one queue per engine. This process dequeues only from the queues of
        the engines it hosts (`hosted`; None = all, [] = none: an API-only replica), at most
        `concurrency(engine)` jobs of each at once (other queues: `listen_queue`).
        `system_engine`: the job store's engine when the system database is the same
        PostgreSQL database (one connection pool for both); `engine_kwargs` otherwise.
        `announce(queue)`: tells the other processes a queue has work (PostgreSQL NOTIFY)."""
        config: dict[str, Any] = {
            "name": "reelforge",
            "system_database_url": system_database_url,
            "executor_id": executor_id,
            "application_version": __version__,
            "log_level": "WARNING",
            "run_migrations": run_migrations,
            # reelforge waits on no DBOS events, so no connection is kept LISTENing for them.
            "use_listen_notify": False,
            # The poller of DBOS events sleeps this long between looks (it queries nothing while
            # nobody waits, as here) and a stop waits for its sleep: 1 s by default, which every
            # shutdown (and each test app) paid.
            "notification_listener_polling_interval_sec": 0.1,
        }
        if system_database_url.startswith("sqlite"):
            self._dbos_engine = dbos_sqlite_engine(system_database_url)
            config["system_database_engine"] = self._dbos_engine
        elif system_engine is not None:
            config["system_database_engine"] = system_engine
        elif engine_kwargs:
            config["db_engine_kwargs"] = engine_kwargs
        dbos = DBOS(config=config)  # type: ignore[arg-type]
        if not dbos._launched:  # (a second app in one process shares the first one's DBOS)
            # DBOS's queue manager dequeues none of the queues: `self._dispatch` does, for the
            # queues this process hosts, with this process's own settings.
            DBOS.listen_queues([])
            quiet_dbos_before_launch()
            DBOS.launch()
            quiet_dbos_after_launch()
        self._abandon.clear()
        if announce is not None:
            self._announce = announce
        for engine in engines:
            self._queues[engine] = DBOS.register_queue(
                queue_name(engine),
                polling_interval_sec=poll_seconds,
                on_conflict="never_update",  # the row is not read by reelforge's dequeuing
            )
        for engine in engines if hosted is None else hosted:
            n = concurrency(engine) if callable(concurrency) else concurrency
            self._dispatch.listen(self._queues[engine], n)

    def listen_queue(
        self, name: str, concurrency: int | None = None, idle_seconds: float | None = None
    ) -> None:
        """Dequeue another registered DBOS queue in this process (e.g. the batches' queue);
        `concurrency`: at most this many at once here (None: the queue row's own setting);
        `idle_seconds`: how often to look when nothing wakes it (`wake` does)."""
        queue = DBOS.retrieve_queue(name)
        if queue is None:
            raise RuntimeError(f"no DBOS queue {name!r} is registered")
        self._dispatch.listen(queue, concurrency or queue._worker_concurrency, idle_seconds)

    def wake(self, queues: Iterable[str]) -> None:
        """Look at these queues now (another process announced work on them)."""
        self._dispatch.wake(queues)

    def announce(self, engines: Iterable[str]) -> None:
        """Jobs of `engines` were put back on their queues: wake the workers hosting them."""
        for engine in engines:
            self._dispatch.wake([queue_name(engine)])
            self._announce(queue_name(engine))

    def running(self) -> list[str]:
        """The jobs rendering in this process now."""
        with self._running_lock:
            return list(self._running)

    def stop_dequeuing(self) -> None:
        self._dispatch.stop()

    def drain(self, grace_seconds: float, executor_id: str) -> bool:
        """Stop taking jobs; let the ones running finish within `grace_seconds`; abandon the
        rest and put them back on their queues (another worker resumes each from its last
        checkpoint). True when nothing of this process is left pending."""
        self.stop_dequeuing()
        deadline = time.monotonic() + grace_seconds
        if self.running():
            log.info("draining: waiting up to %.0f s for %d job(s): %s", grace_seconds,
                     len(self.running()), ", ".join(self.running()))  # fmt: skip
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self.running()
        if not left:
            return True
        with self._running_lock:
            engines = set(self._running.values())
        log.warning("draining: handing back %d job(s) still running after %.0f s: %s",
                    len(left), grace_seconds, ", ".join(left))  # fmt: skip
        if not self.abandon_running(timeout=15.0):
            log.error("draining: renders did not stop: %s", ", ".join(self.running()))
            return False
        try:
            from reelforge.jobs.fleet import recover_executor

            count = recover_executor(executor_id)
        except Exception:
            log.exception("draining: could not hand the jobs back; the fleet will recover them")
            return False
        log.info("draining: %d job(s) handed back to their queues", count)
        self.announce(e for e in engines if e)
        return True

    def abandon_running(self, timeout: float) -> bool:
        """Make every render running here raise `Abandoned` (the workflow stays pending, its
        checkpoints kept); True once none runs. Renders started later run normally."""
        self._abandon.set()
        deadline = time.monotonic() + timeout
        try:
            while self.running() and time.monotonic() < deadline:
                time.sleep(0.05)
            return not self.running()
        finally:
            self._abandon.clear()

    def shutdown(self) -> None:
        self._dispatch.stop()
        DBOS.destroy(destroy_registry=True)
        if self._dbos_engine is not None:
            self._dbos_engine.dispose()
            self._dbos_engine = None

    def warm_engines(self, names: list[str]) -> None:
        self._hosts.warm(names)

    def close_engines(self) -> None:
        self._hosts.close()

    def enqueue(self, job_id: str, engine: str) -> None:
        queue = self._queues.get(engine)
        if queue is None:
            raise UnknownModel(
                f"engine {engine!r} is not configured in this deployment",
                code=codes.ENGINE_UNAVAILABLE,
                param="model",
            )
        with SetWorkflowID(job_id):
            queue.enqueue(self._workflow, job_id)
        self._dispatch.wake([queue.name])  # this process hosts it: take it now
        try:
            self._announce(queue.name)  # the other processes hosting it look now
        except Exception as exc:  # the job is queued: the workers find it at their next poll
            log.warning("could not announce %s on %s: %s", job_id, queue.name, exc)

    # ---- the workflow ------------------------------------------------------------------

    def _retrying(self, what: str, action: Callable[[], T]) -> T:
        """`action()`, retried through a database or storage outage (`jobs.outages`); when
        this process abandons its jobs meanwhile, `Abandoned` (the step stays unfinished)."""
        return self._retry.run(what, action, stop=self._abandon, on_stop=Abandoned)

    def _register(self) -> Any:
        service, storage = self._service, self._storage
        retrying = self._retrying

        @DBOS.step(name="reelforge.start")
        def start(job_id: str) -> Job | None:
            return retrying(f"start {job_id}", lambda: service.start(job_id))

        @DBOS.step(name="reelforge.intake")
        def intake(job: Job) -> tuple[StoredReference, ...]:
            """The stored references as local files (fetched from object storage if need be)."""
            retrying(f"intake {job.id}",
                     lambda: service.report(job, stage=Stage.INTAKE, progress=1.0))  # fmt: skip
            return retrying(f"intake {job.id}", lambda: self._local(job))

        @DBOS.step(name="reelforge.plan")
        def plan(job: Job, refs: tuple[StoredReference, ...]) -> ShotPlan:
            shot_plan = plan_video(job.prompt, job.seconds, refs)

            def record() -> None:
                seconds = shot_plan.num_frames / shot_plan.fps
                service.set_plan(job.id, shot_plan.to_dict(), seconds)
                service.report(job, stage=Stage.PLAN, progress=3.0)

            retrying(f"plan {job.id}", record)
            return shot_plan

        @DBOS.step(name="reelforge.render")
        def render(
            job: Job, refs: tuple[StoredReference, ...], shot_plan: ShotPlan
        ) -> RenderedFiles:
            """The engine renders and its frames stream into the encoder (one step: the frames
            never touch the disk)."""
            return self._render(job, refs, shot_plan)

        @DBOS.step(name="reelforge.publish")
        def publish(
            job: Job, refs: tuple[StoredReference, ...], shot_plan: ShotPlan, files: RenderedFiles
        ) -> JobOutputs:
            return self._publish(job, refs, shot_plan, files)

        @DBOS.step(name="reelforge.finalize")
        def finalize(job_id: str, outputs: JobOutputs, seconds: float) -> bool:
            return retrying(f"finalize {job_id}",
                            lambda: service.succeed(job_id, outputs, seconds))  # fmt: skip

        @DBOS.step(name="reelforge.assess")
        def assess(
            job: Job, refs: tuple[StoredReference, ...], shot_plan: ShotPlan, files: RenderedFiles
        ) -> None:
            """The quality report of the delivered video, after the job completed (off the
            client's wait; the Video object shows `quality` once it is there)."""
            try:
                if self._assess_quality:
                    report = self._quality(job, refs, shot_plan, files)
                    retrying(f"quality {job.id}", lambda: service.set_quality(job.id, report))
            except Exception:  # a report that cannot be made never touches the delivered video
                log.exception("quality report of %s failed", job.id)
            finally:
                shutil.rmtree(self._work_dir / job.id, ignore_errors=True)

        @DBOS.step(name="reelforge.fail")
        def fail(job_id: str, error: JobError | None, stage: Stage) -> None:
            def record() -> None:
                if error is None:
                    service.mark_canceled(job_id, stage)
                else:
                    service.fail(job_id, error)

            retrying(f"fail {job_id}", record)
            retrying(f"fail {job_id}", lambda: storage.delete_prefix(f"outputs/{job_id}"))
            shutil.rmtree(self._work_dir / job_id, ignore_errors=True)

        @DBOS.workflow(name=WORKFLOW_NAME)
        def run_job(job_id: str) -> str:
            job_id_var.set(job_id)  # every log line of this job carries its id
            self._track(job_id, "")
            try:
                return run_steps(job_id)
            finally:
                self._untrack(job_id)

        def run_steps(job_id: str) -> str:
            clock = StepClock()
            job = clock.lap("start", start(job_id))
            if job is None:
                return "skipped"
            self._track(job_id, job.engine)
            stage = Stage.INTAKE
            try:
                refs = clock.lap("intake", intake(job))
                stage = Stage.PLAN
                shot_plan = clock.lap("plan", plan(job, refs))
                stage = Stage.GENERATE
                files = clock.lap("render", render(job, refs, shot_plan))
                stage = Stage.ENCODE
                outputs = clock.lap("publish", publish(job, refs, shot_plan, files))
                stage = Stage.FINALIZE
                clock.lap("finalize", finalize(job_id, outputs, files.seconds))
                log.info("job steps: %s", clock.summary())
            except EngineCanceled:
                fail(job_id, None, stage)
                return "canceled"
            except Exception as exc:  # the job fails; the worker and other jobs go on
                fail(job_id, job_error(exc, stage), stage)
                return "failed"
            assess(job, refs, shot_plan, files)
            return "succeeded"

        return run_job

    def _track(self, job_id: str, engine: str) -> None:
        """Note a job as running here (with its engine, once known)."""
        with self._running_lock:
            self._running[job_id] = engine

    def _untrack(self, job_id: str) -> None:
        with self._running_lock:
            engine = self._running.pop(job_id, "")
        # A slot is free: take the next job.
        self._dispatch.wake([queue_name(engine)] if engine else self._dispatch.queues)

    def _local(self, job: Job) -> tuple[StoredReference, ...]:
        """The job's references, each with the local copy of its bytes."""
        return tuple(
            r.with_local_path(self._storage.local_path(r.storage_key)) for r in job.references
        )

    def _still_local(
        self, job: Job, refs: tuple[StoredReference, ...]
    ) -> tuple[StoredReference, ...]:
        """The intake step's checkpoint names local copies on the machine that ran it: a job
        resumed on another worker fetches them again."""
        if all(r.local_path is not None and r.local_path.is_file() for r in refs):
            return refs
        return self._retrying(f"intake {job.id}", lambda: self._local(job))

    def _render(
        self, job: Job, refs: tuple[StoredReference, ...], shot_plan: ShotPlan
    ) -> RenderedFiles:
        refs = self._still_local(job, refs)
        request = build_render_request(job, refs, shot_plan, log=JobLog(job.id))
        cancel = CancelWatcher(self._service, job.id, abandon=self._abandon)
        progress = ProgressReporter(self._service, job, Stage.GENERATE, 5.0, 95.0)
        out_dir = self._work_dir / job.id  # deterministic: a re-run overwrites its own files
        return self._hosts.render(
            job.engine, request, out_dir, codec=job.codec, progress=progress, cancel=cancel
        )

    def _quality(
        self,
        job: Job,
        refs: tuple[StoredReference, ...],
        shot_plan: ShotPlan,
        files: RenderedFiles,
    ) -> dict[str, Any]:
        from reelforge.quality import quality_report

        video = files.video
        if not video.is_file():  # rendered on a worker now gone: the published copy
            video = self._storage.local_path(f"outputs/{job.id}/video.{job.codec.container}")
        report = quality_report(
            video, shot_plan, self._still_local(job, refs), width=job.width, height=job.height,
            codec=job.codec.value, generate_audio=job.generate_audio,
        )  # fmt: skip
        return report.to_dict()

    def _publish(
        self,
        job: Job,
        refs: tuple[StoredReference, ...],
        shot_plan: ShotPlan,
        files: RenderedFiles,
    ) -> JobOutputs:
        """Check the rendered files against the output policy and put them in storage."""
        prefix = f"outputs/{job.id}"
        video_key = f"{prefix}/video.{job.codec.container}"  # .mp4, or .mov / .webm with alpha
        outputs = JobOutputs(
            video=video_key,
            thumbnail=f"{prefix}/thumbnail.jpg",
            last_frame=f"{prefix}/last_frame.png",
            spritesheet=f"{prefix}/spritesheet.jpg",
        )
        storage, retrying = self._storage, self._retrying
        if retrying(f"publish {job.id}", lambda: storage.exists(video_key)):
            # Published before a crash: done.
            if not retrying(f"publish {job.id}",
                            lambda: storage.exists(f"{prefix}/spritesheet.jpg")):  # fmt: skip
                outputs = replace(outputs, spritesheet=None)  # published by an older version
            return outputs
        if not all(p.is_file() for p in (files.video, files.thumbnail, files.last_frame)):
            # The rendered files were on a worker that died (another machine): render again.
            files = self._render(job, refs, shot_plan)
        try:
            self._service.report(job, stage=Stage.ENCODE, progress=97.0)
        except Exception as exc:  # progress only
            if not is_transient(exc):
                raise
        enforce_output(self._moderation, files.video, files.thumbnail)
        # The OpenAI-style spritesheet (a grid of frames): made while encoding, else from the MP4.
        sheet = files.spritesheet
        if sheet is None or not sheet.is_file():
            sheet = write_spritesheet(files.video, files.video.with_name("spritesheet.jpg")).path

        def upload() -> None:  # the video last: its presence marks the outputs complete
            storage.put_file(f"{prefix}/spritesheet.jpg", sheet)
            storage.put_file(f"{prefix}/thumbnail.jpg", files.thumbnail)
            storage.put_file(f"{prefix}/last_frame.png", files.last_frame)
            storage.put_file(video_key, files.video)

        retrying(f"publish {job.id}", upload)
        return outputs


def job_error(exc: Exception, stage: Stage) -> JobError:
    """How a failure is stored: our errors as they say; anything else as `generation_failed`
    (retryable), with the traceback in the log."""
    if isinstance(exc, ReelforgeError):
        d = exc.to_dict()
        d["stage"] = d.get("stage") or stage.value
        return JobError.from_dict(d)
    log.error("job failed in %s: %s", stage.value, "".join(traceback.format_exception(exc)))
    return JobError(
        code=codes.GENERATION_FAILED,
        message=f"{type(exc).__name__} during {stage.value}: {exc}",
        stage=stage.value,
        retryable=True,
    )
