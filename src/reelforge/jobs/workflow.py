"""The durable job workflow on DBOS Transact: intake -> plan -> generate -> encode -> finalize.

Each step is checkpointed in the DBOS system database. A process killed mid-job recovers the
workflow on its next start (same executor id) and re-runs only the unfinished step. Steps write
under deterministic keys (`work/<job>/`, `outputs/<job>/`) and end with guarded status updates,
so a re-run never produces a second output.

DBOS keeps one process-wide instance and registry; `JobWorkflows` registers its functions on a
fresh registry per app (with stable names, so recovery finds them after a restart) and destroys
it on shutdown, so tests can build one app after another in one process.
"""

from __future__ import annotations

import logging
import shutil
import time
import traceback
from pathlib import Path
from typing import Any

from dbos import DBOS, SetWorkflowID

from reelforge import __version__
from reelforge.engines.base import DecodedReference, RenderRequest
from reelforge.errors import ReelforgeError, UnknownModel
from reelforge.intake.stored import StoredReference
from reelforge.jobs.engine_host import EngineHosts, JobLog
from reelforge.jobs.models import Job, JobOutputs, Stage
from reelforge.jobs.render import plan_video
from reelforge.jobs.service import JobService
from reelforge.logs import job_id_var
from reelforge.media.types import EngineCanceled
from reelforge.planning.serialize import plan_from_dict
from reelforge.platform.moderation import AllowAll, ModerationPolicy, enforce_output
from reelforge.storage.base import Storage

log = logging.getLogger("reelforge.worker")


def queue_name(engine: str) -> str:
    """Each engine has its own queue, so a GPU worker listens only to the engines it hosts."""
    return f"reelforge-jobs-{engine}"


WORKFLOW_NAME = "reelforge.job"


class CancelWatcher:
    """Cancel token for one job: the in-process flag at once, the database every 0.25 s."""

    def __init__(self, service: JobService, job_id: str, interval: float = 0.25) -> None:
        self._service = service
        self._job_id = job_id
        self._interval = interval
        self._next_check = 0.0
        self._set = False

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._set and now >= self._next_check:
            self._next_check = now + self._interval
            self._set = self._service.cancel_requested(self._job_id)
        return self._set


class ProgressReporter:
    """Writes progress at most every 0.5 s or 2 points, so the store is not hammered per frame."""

    def __init__(self, service: JobService, job: Job, stage: Stage, lo: float, hi: float) -> None:
        self._service, self._job_id, self._stage = service, job.id, stage
        self._announce = job.webhook_progress
        self._lo, self._hi = lo, hi
        self._last_value = -1.0
        self._last_time = 0.0

    def __call__(self, fraction: float) -> None:
        value = self._lo + (self._hi - self._lo) * max(0.0, min(fraction, 1.0))
        now = time.monotonic()
        if value - self._last_value >= 2.0 or now - self._last_time >= 0.5 or fraction >= 1.0:
            self._last_value, self._last_time = value, now
            self._service.report(
                self._job_id, stage=self._stage, progress=value, announce=self._announce
            )


class JobWorkflows:
    def __init__(
        self,
        service: JobService,
        storage: Storage,
        hosts: EngineHosts,
        work_dir: Path,
        moderation: ModerationPolicy | None = None,
    ) -> None:
        self._moderation = moderation or AllowAll()
        self._service = service
        self._storage = storage
        self._hosts = hosts
        self._work_dir = work_dir
        self._queues: dict[str, Any] = {}
        self._workflow = self._register()

    # ---- lifecycle ---------------------------------------------------------------------

    def launch(
        self,
        system_database_url: str,
        executor_id: str,
        *,
        engines: list[str],
        hosted: list[str] | None,
        concurrency: int,
        poll_seconds: float,
    ) -> None:
        """Start DBOS and one queue per engine. This process dequeues only from the queues of
        the engines it hosts (`hosted`; None = all, [] = none: an API-only replica)."""
        DBOS(
            config={
                "name": "reelforge",
                "system_database_url": system_database_url,
                "executor_id": executor_id,
                "application_version": __version__,
                "log_level": "WARNING",
            }
        )
        DBOS.launch()
        for engine in engines:
            runs_here = hosted is None or engine in hosted
            self._queues[engine] = DBOS.register_queue(
                queue_name(engine),
                worker_concurrency=concurrency if runs_here else 0,
                polling_interval_sec=poll_seconds,
            )

    @staticmethod
    def shutdown() -> None:
        DBOS.destroy(destroy_registry=True)

    def close_engines(self) -> None:
        self._hosts.close()

    def enqueue(self, job_id: str, engine: str) -> None:
        queue = self._queues.get(engine)
        if queue is None:
            raise UnknownModel(
                f"engine {engine!r} is not configured in this deployment",
                code="engine.unavailable",
                param="model",
            )
        with SetWorkflowID(job_id):
            queue.enqueue(self._workflow, job_id)

    # ---- the workflow ------------------------------------------------------------------

    def _register(self) -> Any:
        service, storage = self._service, self._storage

        @DBOS.step(name="reelforge.intake")
        def intake(job_id: str) -> list[dict[str, Any]]:
            job = service.load(job_id)
            service.report(job_id, stage=Stage.INTAKE, progress=1.0, announce=job.webhook_progress)
            for ref in job.references:
                storage.local_path(ref.storage_key)  # raises if a stored reference is missing
            return [r.to_dict() for r in job.references]

        @DBOS.step(name="reelforge.plan")
        def plan(job_id: str) -> dict[str, Any]:
            job = service.load(job_id)
            refs = self._decoded(job)
            shot_plan = plan_video(job.prompt, job.seconds, refs)
            service.set_plan(job_id, shot_plan.to_dict(), shot_plan.num_frames / shot_plan.fps)
            service.report(job_id, stage=Stage.PLAN, progress=3.0)
            return shot_plan.to_dict()

        @DBOS.step(name="reelforge.generate")
        def generate(job_id: str) -> dict[str, Any]:
            return self._generate(job_id)

        @DBOS.step(name="reelforge.encode")
        def encode(job_id: str, files: dict[str, Any]) -> dict[str, Any]:
            return self._publish(job_id, files)

        @DBOS.step(name="reelforge.finalize")
        def finalize(job_id: str, outputs: dict[str, Any], seconds: float) -> bool:
            moved = service.succeed(job_id, JobOutputs.from_dict(outputs), seconds)
            shutil.rmtree(self._work_dir / job_id, ignore_errors=True)
            return moved

        @DBOS.step(name="reelforge.fail")
        def fail(job_id: str, error: dict[str, Any], canceled: bool, stage: str) -> None:
            if canceled:
                service.mark_canceled(job_id, Stage(stage))
            else:
                service.fail(job_id, error)
            storage.delete_prefix(f"outputs/{job_id}")
            shutil.rmtree(self._work_dir / job_id, ignore_errors=True)

        @DBOS.step(name="reelforge.start")
        def start(job_id: str) -> bool:
            return service.start(job_id) is not None

        @DBOS.workflow(name=WORKFLOW_NAME)
        def run_job(job_id: str) -> str:
            job_id_var.set(job_id)  # every log line of this job carries its id
            if not start(job_id):
                return "skipped"
            stage = Stage.INTAKE
            try:
                intake(job_id)
                stage = Stage.PLAN
                plan(job_id)
                stage = Stage.GENERATE
                files = generate(job_id)
                stage = Stage.ENCODE
                outputs = encode(job_id, files)
                stage = Stage.FINALIZE
                finalize(job_id, outputs, float(files["seconds"]))
                return "succeeded"
            except EngineCanceled:
                fail(job_id, {}, True, stage.value)
                return "canceled"
            except Exception as exc:  # the job fails; the worker and other jobs go on
                fail(job_id, _error_dict(exc, stage), False, stage.value)
                return "failed"

        return run_job

    def _decoded(self, job: Job) -> tuple[DecodedReference, ...]:
        return tuple(
            _decoded_ref(r, self._storage.local_path(r.storage_key)) for r in job.references
        )

    def _generate(self, job_id: str) -> dict[str, Any]:
        job = self._service.load(job_id)
        assert job.plan is not None
        shot_plan = plan_from_dict(job.plan)
        request = RenderRequest(
            prompt=job.prompt,
            plan=shot_plan,
            width=job.width,
            height=job.height,
            num_frames=shot_plan.num_frames,
            fps=job.fps,
            seed=job.seed,
            generate_audio=job.generate_audio,
            references=self._decoded(job),
            log=JobLog(job_id),
            preset=job.engine.partition(":")[2] or "default",
        )
        cancel = CancelWatcher(self._service, job_id)
        progress = ProgressReporter(self._service, job, Stage.GENERATE, 5.0, 95.0)
        out_dir = self._work_dir / job_id  # deterministic: a re-run overwrites its own files
        files = self._hosts.render(
            job.engine.split(":", 1)[0], request, out_dir,
            codec=job.codec, progress=progress, cancel=cancel,
        )  # fmt: skip
        return {
            "video": str(files.video),
            "thumbnail": str(files.thumbnail),
            "last_frame": str(files.last_frame),
            "seconds": files.seconds,
        }

    def _publish(self, job_id: str, files: dict[str, Any]) -> dict[str, Any]:
        outputs = JobOutputs(
            video=f"outputs/{job_id}/video.mp4",
            thumbnail=f"outputs/{job_id}/thumbnail.jpg",
            last_frame=f"outputs/{job_id}/last_frame.png",
        )
        assert outputs.video is not None
        if self._storage.exists(outputs.video):  # published before a crash: done
            return outputs.to_dict()
        if not all(Path(files[name]).is_file() for name in ("video", "thumbnail", "last_frame")):
            # The rendered files were on a worker that died (another machine): render again.
            files = self._generate(job_id)
        self._service.report(job_id, stage=Stage.ENCODE, progress=97.0)
        enforce_output(self._moderation, Path(files["video"]), Path(files["thumbnail"]))
        for name in ("thumbnail", "last_frame", "video"):  # the video last: it marks complete
            self._storage.put_file(getattr(outputs, name), Path(files[name]))
        return outputs.to_dict()


def _decoded_ref(ref: StoredReference, path: Path) -> DecodedReference:
    return DecodedReference(
        kind=ref.kind, role=ref.role, index=ref.index, path=path,
        width=ref.width, height=ref.height, seconds=ref.seconds, fps=ref.fps,
    )  # fmt: skip


def _error_dict(exc: Exception, stage: Stage) -> dict[str, Any]:
    if isinstance(exc, ReelforgeError):
        d = exc.to_dict()
        d["stage"] = d.get("stage") or stage.value
        return d
    log.error("job failed in %s: %s", stage.value, "".join(traceback.format_exception(exc)))
    return {
        "code": "generation_failed",
        "message": f"{type(exc).__name__} during {stage.value}: {exc}",
        "stage": stage.value,
        "param": None,
        "reference_index": None,
        "retryable": True,
    }
