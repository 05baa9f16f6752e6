"""The processes that host one engine: one process, or a *rank group* of N processes (one GPU
each) that render every job together (`engine_ranks_per_job`; docs/gpu.md, "Context
parallelism").

A rank group is N spawned processes joined in a `torch.distributed` process group (NCCL on GPUs,
gloo on CPUs) before the engine is built, so that `enable_context_parallel` finds the group when
the model loads. Each rank sees exactly one GPU (`CUDA_VISIBLE_DEVICES`, set before torch starts
CUDA), which it calls cuda:0. Rank 0 is the only rank that talks to the engine host: it receives
each job on its pipe and broadcasts it to the other ranks, every rank calls the same
`engine.render` with the same request, rank 0 encodes and writes the files (`render_video`) and
relays progress, the other ranks consume their frames and drop them. A stop is broadcast too.

Whatever breaks the ranks' lockstep ends the group: the host terminates every rank when one of
them ends, when rank 0 answers an error (a rank may be left inside a collective), or when a
cancel is ignored; the next job starts a fresh group.
"""

from __future__ import annotations

import importlib.util
import logging
import multiprocessing as mp
import os
import pickle
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from reelforge.engines.base import Rendering, RenderRequest, discard_log
from reelforge.engines.diffusion.loading import INSTALL_HINT, import_torch
from reelforge.engines.registry import EngineFactory
from reelforge.errors import EngineUnavailable
from reelforge.jobs.engine_child import ChildCancel, Message, child_main, receive, serve
from reelforge.logs import inherit_logging
from reelforge.media.types import CancelToken, EngineCanceled, ProgressCallback
from reelforge.spec import Codec

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event as MpEvent

    from reelforge.engines.base import Engine
    from reelforge.engines.catalog import EngineEntry
    from reelforge.engines.diffusion.settings import DiffusionSettings

log = logging.getLogger("reelforge.engine_host")

IDLE: Message = ("idle", None, None, None)
# How long a rank may wait in a collective for the others (loading weights, rank 0 encoding) before
# the group gives up; rank 0 broadcasts an "idle" message while it waits for a job, so waiting for
# work never comes near it.
RANK_TIMEOUT_SECONDS = 1800.0
RANK_ERROR_EXIT = 70  # a rank whose render (or start) raised; EX_SOFTWARE


@dataclass(frozen=True)
class RankPlan:
    ranks: int
    gpus: tuple[str, ...] | None = None  # each rank's CUDA_VISIBLE_DEVICES; None: CPU ranks
    timeout_seconds: float = RANK_TIMEOUT_SECONDS


def plan_ranks(
    settings: DiffusionSettings | None, entry: EngineEntry, isolation: str = "process"
) -> RankPlan | None:
    """How many processes render one job of `entry`'s engine (None: one), or EngineUnavailable
    naming the setting when the group could not work."""
    n = settings.engine_ranks_per_job if settings is not None else 1
    if settings is None or n <= 1:
        return None
    if not entry.context_parallel and not entry.loads_weights:
        return None  # the preview compositor: not a diffusion engine, one process as always
    setting = f"engine_ranks_per_job={n}"
    if not entry.context_parallel:
        raise EngineUnavailable(
            f"{setting}: the {entry.name} engine cannot split a job across processes (its "
            "transformer has no context-parallel plan in diffusers); serve it from a worker "
            "with engine_ranks_per_job=1"
        )
    if settings.engine_context_parallel == "none":
        raise EngineUnavailable(
            f"{setting} with engine_context_parallel='none': nothing would use the other ranks; "
            "set engine_context_parallel=ulysses or ring"
        )
    if isolation != "process":
        raise EngineUnavailable(f"{setting} needs engine_isolation=process")
    if importlib.util.find_spec("torch") is None:  # the ranks need torch.distributed
        raise EngineUnavailable(f"{setting} needs torch: {INSTALL_HINT}")
    device = settings.engine_device
    if not device.startswith("cuda"):
        return RankPlan(n)
    torch = import_torch()
    if device not in ("cuda", "cuda:0"):
        raise EngineUnavailable(
            f"{setting} with engine_device={device!r}: each rank sees only its own GPU, as "
            "cuda:0; set engine_device=cuda and choose the GPUs with engine_gpus"
        )
    if settings.engine_gpus:  # the operator's choice; a rank without its GPU refuses to load
        gpus = tuple(g.strip() for g in settings.engine_gpus.split(",") if g.strip())
        if len(gpus) != n or len(set(gpus)) != n:
            raise EngineUnavailable(
                f"{setting} with engine_gpus={settings.engine_gpus!r}: name one different GPU "
                "per rank"
            )
        return RankPlan(n, gpus)
    visible = int(torch.cuda.device_count())
    if n > visible:
        raise EngineUnavailable(
            f"{setting} needs {n} GPUs (one per rank); torch sees {visible} CUDA device(s)"
        )
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [g.strip() for g in listed.split(",")] if listed else [str(i) for i in range(visible)]
    return RankPlan(n, tuple(ids[:n]))


class EngineProcesses:
    """The started processes of one engine host; `conn` is the pipe to the only process (or to
    rank 0), `cancel` the job's cancel flag, shared by every rank."""

    def __init__(self, name: str, factory: EngineFactory, plan: RankPlan | None) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child_conn = ctx.Pipe()
        self.cancel = ctx.Event()
        self.ranks = plan.ranks if plan is not None else 1
        self._name = name
        self._procs: list[BaseProcess] = []
        targets: list[tuple[Callable[..., None], tuple[Any, ...]]]
        if plan is None:
            targets = [(child_main, (child_conn, self.cancel, factory, os.getpid()))]
            names = [f"reelforge-engine-{name}"]
        else:
            built = pickle.dumps(factory)  # unpickled in the rank once its GPU is set
            port = _free_port()
            targets = [
                (_rank_main, (rank, plan, port, child_conn if rank == 0 else None, self.cancel,
                              built, os.getpid()))
                for rank in range(plan.ranks)
            ]  # fmt: skip
            names = [f"reelforge-engine-{name}-rank{rank}" for rank in range(plan.ranks)]
        for (target, args), proc_name in zip(targets, names, strict=True):
            proc = ctx.Process(target=target, args=args, name=proc_name, daemon=True)
            proc.start()
            self._procs.append(proc)
        child_conn.close()

    @property
    def keeps_after_error(self) -> bool:
        """A single process serves the next job after an error; a group may have a rank left
        inside a collective, so it is ended."""
        return self.ranks == 1

    @property
    def answer_wait(self) -> float:
        """How long rank 0 may still answer once another rank has ended (its error, raised at
        the same point, is the job's)."""
        return 0.0 if self.ranks == 1 else 0.5

    @property
    def stop_grace(self) -> float:
        """How long an idle group may take to end by itself after a stop (rank 0 broadcasts it;
        each rank leaves the process group cleanly); a single process is terminated at once."""
        return 0.0 if self.ranks == 1 else 5.0

    def failure(self, wait: float = 0.0, *, errors: bool = True) -> str | None:
        """Why the engine cannot go on: a process ended (waiting up to `wait` seconds for one
        to); None while every process runs. `errors=False` passes over ranks that ended on an
        error of their own render: rank 0, which met the same error, answers it."""
        deadline = time.monotonic() + wait
        while True:
            for rank, proc in enumerate(self._procs):
                if proc.is_alive() or (not errors and proc.exitcode == RANK_ERROR_EXIT):
                    continue
                if self.ranks == 1:
                    return f"the {self._name} engine process ended unexpectedly (exit code " \
                           f"{proc.exitcode})"  # fmt: skip
                how = "failed (its error is in the log)" if proc.exitcode == RANK_ERROR_EXIT \
                    else f"ended unexpectedly (exit code {proc.exitcode})"  # fmt: skip
                return f"rank {rank} of the {self._name} engine's rank group {how}; the next " \
                       "job starts a new group"  # fmt: skip
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def terminate(self) -> None:
        """From another thread, mid-job: terminate every process without waiting."""
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()

    def stop(self, grace: float = 0.0) -> None:
        """Close the pipe (a process, or rank 0 and through its broadcast every rank, leaves its
        loop when it reads the end), give the processes `grace` seconds to end by themselves,
        then terminate them (and kill what does not end in 2 s)."""
        self.conn.close()
        deadline = time.monotonic() + grace
        for proc in self._procs:
            proc.join(timeout=max(0.0, deadline - time.monotonic()))
        self.terminate()
        for proc in self._procs:
            proc.join(timeout=2)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=2)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- inside a rank ------------------------------------------------------------------------------


def _rank_main(
    rank: int,
    plan: RankPlan,
    port: int,
    conn: Connection | None,
    cancel: MpEvent,
    built: bytes,
    parent_pid: int,
) -> None:
    # No LOCAL_RANK: libraries take it for a device index, and each rank sees only cuda:0.
    os.environ.update(
        RANK=str(rank), WORLD_SIZE=str(plan.ranks), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    for name in ("LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        os.environ.pop(name, None)
    if plan.gpus is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = plan.gpus[rank]  # before torch starts CUDA
    inherit_logging()
    try:
        torch = import_torch()
        dist = torch.distributed
        timeout = timedelta(seconds=plan.timeout_seconds)
        if plan.gpus is not None and torch.cuda.is_available():
            torch.cuda.set_device(0)
            dist.init_process_group("nccl", timeout=timeout)
            control = dist.new_group(backend="gloo", timeout=timeout)  # jobs and cancel: CPU
        else:
            dist.init_process_group("gloo", timeout=timeout)
            control = None  # the default group
        engine = pickle.loads(built)()  # after the group exists: the model finds it on load
        token = CollectiveCancel(ChildCancel(cancel, parent_pid), control)
        if conn is not None:
            messages = _leader_messages(conn, control, min(30.0, plan.timeout_seconds / 4))
            serve(conn, _LeaderEngine(engine, token), _NEVER, messages)
        else:
            _follow(engine, token, control)
        dist.destroy_process_group()
    except Exception:
        # Rank 0 answers a render's errors itself (serve); this is a broken rank: it ends, and
        # the host, which watches every rank, fails the job and ends the group.
        log.exception("rank %d of an engine's rank group failed", rank)
        logging.shutdown()
        os._exit(RANK_ERROR_EXIT)
    logging.shutdown()
    os._exit(0)  # stopped: skip tearing the interpreter down with torch loaded (seconds)


class CollectiveCancel:
    """A cancel token whose `is_set()` is a collective: the MAX of every rank's own flag.

    Every rank runs the same engine code on the same request, so every rank checks its token at
    the same points in the same order (per denoising step, per frame); these all_reduces pair up
    and give every rank the same answer, so all of them leave the pipeline at the same step. A
    rank that left alone would leave the others waiting in its next collective.
    """

    def __init__(self, local: CancelToken, group: Any) -> None:
        self._local = local
        self._group = group

    def is_set(self) -> bool:
        import torch

        flag = torch.tensor([1 if self._local.is_set() else 0], dtype=torch.int32)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX, group=self._group)
        return bool(flag.item())


class _Never:
    """Rank 0's encoder token: the encoder runs on rank 0 only, so a collective there would have
    no partner; the engine (collective token) is the one that stops a job."""

    def is_set(self) -> bool:
        return False


_NEVER = _Never()


class _LeaderEngine:
    """Rank 0's engine: `render_video` hands it the encoder's token; it renders with the group's
    collective one."""

    def __init__(self, engine: Engine, cancel: CollectiveCancel) -> None:
        self.name = engine.name
        self._engine = engine
        self._cancel = cancel
        alpha = getattr(engine, "render_alpha", None)
        if alpha is not None:
            self.render_alpha = _with_cancel(alpha, cancel)

    def check_inputs(self, request: RenderRequest) -> None:
        self._engine.check_inputs(request)

    def render(
        self, request: RenderRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> Rendering:
        return self._engine.render(request, progress, self._cancel)


def _with_cancel(
    render: Callable[..., Rendering], cancel: CancelToken
) -> Callable[[RenderRequest, ProgressCallback, CancelToken], Rendering]:
    return lambda request, progress, _cancel: render(request, progress, cancel)


def _broadcast(message: Message | None, group: Any) -> Message:
    import torch

    box: list[Any] = [message]
    torch.distributed.broadcast_object_list(box, src=0, group=group)
    result: Message = box[0]
    return result


def _leader_messages(conn: Connection, group: Any, interval: float) -> Callable[[], Message]:
    """Rank 0's next job: from the pipe, broadcast to every rank; "idle" while none comes."""

    def next_message() -> Message:
        try:
            while not conn.poll(interval):
                _broadcast(IDLE, group)
        except (EOFError, OSError):
            pass  # receive() reads the closed pipe as a stop
        return _broadcast(receive(conn), group)

    return next_message


def _follow(engine: Engine, cancel: CollectiveCancel, group: Any) -> None:
    """A rank other than 0: join each job's render as `render_video` runs it on rank 0, and drop
    the frames. An error other than a cancel ends this rank (see `_rank_main`)."""
    while True:
        kind, request, _out_dir, codec = _broadcast(None, group)
        if kind == "idle":
            continue
        if kind != "render":
            return
        request = replace(request, log=discard_log)  # the job's log lines come from rank 0
        try:
            engine.check_inputs(request)
            render = getattr(engine, "render_alpha", None) if Codec(codec).alpha else engine.render
            if render is None:  # rank 0 answers the job's error (no alpha); the group ends
                continue
            for _frame in render(request, _quiet, cancel).frames:
                pass
        except EngineCanceled:
            continue


def _quiet(_fraction: float) -> None:
    """Progress of the ranks other than 0: rank 0 relays the job's."""
