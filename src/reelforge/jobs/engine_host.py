"""Engines run in a child process per engine (kept warm between jobs), so that a cancel the
engine ignores, or a crash inside native code, ends that job and never the service.

The parent relays progress, asks the child to stop when the job's cancel token is set, and
terminates it after a grace period if it does not; the next job starts a fresh child.
`isolation="thread"` runs engines in the caller's thread instead (no termination possible).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path

from reelforge import codes
from reelforge.core.job import JobError
from reelforge.engines.base import RenderRequest
from reelforge.engines.registry import EngineFactory, EngineRegistry
from reelforge.errors import JobFailed, ReelforgeError
from reelforge.jobs.outages import Abandoned
from reelforge.jobs.render import RenderedFiles, render_video
from reelforge.logs import inherit_logging
from reelforge.media.types import CancelToken, EngineCanceled, ProgressCallback
from reelforge.spec import Codec

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
    ) -> None:
        self._registry = registry
        self._isolation = isolation
        self._grace = grace_seconds  # per engine: how long it may ignore a cancel
        self._hosts: dict[str, _ProcessHost] = {}
        self._lock = threading.Lock()

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
            engine = self._registry.get(engine_name)
            return render_video(
                engine, request, out_dir, codec=codec, progress=progress, cancel=cancel
            )
        host = self._host(engine_name)
        return host.render(request, out_dir, codec=codec, progress=progress, cancel=cancel)

    def _host(self, engine_name: str) -> _ProcessHost:
        with self._lock:
            host = self._hosts.get(engine_name)
            if host is None:
                host = _ProcessHost(
                    engine_name, self._registry.factory(engine_name), self._grace(engine_name)
                )
                self._hosts[engine_name] = host
            return host

    def warm(self, engine_names: list[str]) -> None:
        """Start the engines' processes now, in the background, so that the first job does not
        wait for a process start and the engine's imports (it builds the engine; a diffusion
        engine still loads its weights on its first job)."""
        if self._isolation == "thread":
            return
        for name in engine_names:
            host = self._host(name)
            threading.Thread(target=host.warm, name=f"warm-{name}", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            hosts, self._hosts = list(self._hosts.values()), {}
        for host in hosts:
            host.close()


class _ProcessHost:
    """One child process hosting one engine; one job at a time."""

    def __init__(self, name: str, factory: EngineFactory, grace: float) -> None:
        self._name = name
        self._factory = factory
        self._grace = grace
        self._lock = threading.Lock()  # one job at a time per child
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self._cancel: MpEvent | None = None
        self._closing = False

    def warm(self) -> None:
        if self._lock.acquire(blocking=False):  # a job already holds it: nothing to warm
            try:
                if not self._closing:
                    self._ensure()
            finally:
                self._lock.release()

    def _ensure(self) -> tuple[BaseProcess, Connection, MpEvent]:
        if self._proc is None or not self._proc.is_alive():
            ctx = mp.get_context("spawn")
            parent_conn, child_conn = ctx.Pipe()
            cancel = ctx.Event()
            proc = ctx.Process(
                target=_child_main,
                args=(child_conn, cancel, self._factory, os.getpid()),
                name=f"reelforge-engine-{self._name}",
                daemon=True,
            )
            proc.start()
            child_conn.close()
            self._proc, self._conn, self._cancel = proc, parent_conn, cancel
        assert self._proc is not None and self._conn is not None and self._cancel is not None
        return self._proc, self._conn, self._cancel

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
            proc, conn, cancel_event = self._ensure()
            cancel_event.clear()
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
                            raise _error_from(payload)
                    elif not proc.is_alive():
                        raise self._crashed(proc)
                    # Checked on every pass, also while progress messages keep arriving.
                    if cancel_deadline is None and cancel.is_set():
                        cancel_event.set()
                        cancel_deadline = time.monotonic() + self._grace
                    if cancel_deadline is not None and time.monotonic() > cancel_deadline:
                        log.warning("engine %s ignored cancel for %.1f s: terminating its "
                                    "process", self._name, self._grace)  # fmt: skip
                        raise EngineCanceled()
            except (EOFError, OSError):
                if self._closing:
                    raise WorkerShuttingDown() from None
                raise self._crashed(proc) from None
            finally:
                # Any other way out (cancel ignored, a failing progress callback, shutdown)
                # leaves the child mid-job: kill it, so that the next job never reads this
                # job's late messages.
                if not answered:
                    self._kill()

    def _crashed(self, proc: BaseProcess) -> EngineCrashed:
        proc.join(timeout=1)
        code = proc.exitcode
        self._kill()
        return EngineCrashed(
            f"the {self._name} engine process ended unexpectedly (exit code {code})",
            stage="generate",
        )

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if proc is not None and proc.is_alive():
            proc.terminate()
            proc.join(timeout=2)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=2)

    def close(self) -> None:
        """Stop the child now, also mid-job (without waiting for the render to end): the job's
        workflow stays pending and is resumed by this worker's restart or by the fleet."""
        self._closing = True
        if self._lock.acquire(blocking=False):
            try:
                if self._conn is not None:
                    with contextlib.suppress(OSError):
                        self._conn.send(("stop", None, None, None))
                self._kill()
            finally:
                self._lock.release()
        else:
            proc = self._proc
            if proc is not None and proc.is_alive():
                proc.terminate()


def _error_from(error: JobError) -> ReelforgeError:
    err = ReelforgeError(error.message, code=error.code)
    err.param = error.param
    err.reference_index = error.reference_index
    err.stage = error.stage or "generate"
    err.retryable = error.retryable
    return err


class _ChildCancel:
    """Set when the parent asks, or when the parent is gone (an orphan must not keep writing)."""

    def __init__(self, event: MpEvent, parent_pid: int) -> None:
        self._event = event
        self._parent_pid = parent_pid

    def is_set(self) -> bool:
        return self._event.is_set() or os.getppid() != self._parent_pid


class _ProgressPipe:
    """Sends progress to the parent every half percent (not every frame)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._last = -1.0

    def __call__(self, fraction: float) -> None:
        if fraction - self._last >= 0.005 or fraction >= 1.0:
            self._last = fraction
            self._conn.send(("progress", fraction))


def _child_main(conn: Connection, cancel: MpEvent, factory: EngineFactory, parent_pid: int) -> None:
    inherit_logging()  # JSON lines like the parent's (a spawned process starts unconfigured)
    engine = factory()
    token = _ChildCancel(cancel, parent_pid)
    while True:
        try:
            kind, request, out_dir, codec = conn.recv()
        except (EOFError, OSError):
            return
        if kind == "stop":
            return
        progress = _ProgressPipe(conn)
        try:
            files = render_video(
                engine, request, Path(out_dir), codec=Codec(codec), progress=progress,
                cancel=token,
            )  # fmt: skip
            conn.send(("done", {
                "video": files.video, "thumbnail": files.thumbnail,
                "last_frame": files.last_frame, "seconds": files.seconds, "frames": files.frames,
                "spritesheet": files.spritesheet,
            }))  # fmt: skip
        except EngineCanceled:
            conn.send(("canceled", None))
        except ReelforgeError as exc:
            conn.send(("error", JobError.from_dict(exc.to_dict())))
        except Exception as exc:
            conn.send(("error", JobError(
                code=codes.GENERATION_FAILED, message=f"{type(exc).__name__}: {exc}",
                stage="generate", retryable=True,
            )))  # fmt: skip
