"""One job on a rank group of two real processes over gloo (`engine_ranks_per_job=2`): rank 0
writes the video once, every rank renders the same request in lockstep, a cancel stops every rank
at the same frame, a rank that dies fails the job as engine.crashed and the next job gets a fresh
group, an error met by every rank is rank 0's, and closing stops every rank.
The refusals are checked without starting one.

The diffusers context-parallel run itself needs GPUs (docs/gpu.md says why); the engine here does
the real collectives a parallel transformer would, at tiny size.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelforge.engines.base import RenderRequest
from reelforge.engines.catalog import ENGINES
from reelforge.engines.diffusion.settings import DiffusionSettings
from reelforge.errors import EngineUnavailable, ReelforgeError
from reelforge.jobs.engine_host import EngineCrashed, EngineHosts
from reelforge.jobs.rank_group import plan_ranks
from reelforge.jobs.render import RenderedFiles
from reelforge.media.types import EngineCanceled
from reelforge.planning.shots import plan_shots
from reelforge.spec import Codec
from tests.fixtures.engines.ranked import ranked_registry

TWO_RANKS = DiffusionSettings(
    engine_ranks_per_job=2, engine_context_parallel="ulysses", engine_device="cpu"
)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rank-reports")


@pytest.fixture(scope="module")
def hosts(reports: Path) -> Iterator[EngineHosts]:
    hosts = EngineHosts(ranked_registry(reports), grace_seconds=lambda _e: 10.0, parallel=TWO_RANKS)
    yield hosts
    hosts.close()


def _request(prompt: str, frames: int, seed: int = 7) -> RenderRequest:
    return RenderRequest(
        prompt=prompt, plan=plan_shots(prompt, frames, 24, 0), width=64, height=48,
        num_frames=frames, seed=seed, generate_audio=False,
    )  # fmt: skip


def _render(
    hosts: EngineHosts,
    request: RenderRequest,
    out: Path,
    progress: list[float] | None = None,
    cancel: threading.Event | None = None,
) -> RenderedFiles:
    return hosts.render(
        "ranked", request, out, codec=Codec.H264,
        progress=(progress if progress is not None else []).append,
        cancel=cancel or threading.Event(),
    )  # fmt: skip


def decode_frames(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _report(reports: Path, prompt: str, rank: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((reports / f"{prompt}-rank{rank}.json").read_text())
    return data


def _rank_processes() -> dict[str, int | None]:
    return {
        p.name: p.pid
        for p in multiprocessing.active_children()
        if p.name.startswith("reelforge-engine-ranked")
    }


def _in_background(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = fn()
        except BaseException as exc:  # the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _wait_until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_rank_0_writes_the_video_of_both_ranks(
    hosts: EngineHosts, reports: Path, tmp_path: Path
) -> None:
    progress: list[float] = []
    files = _render(hosts, _request("first", 12, seed=7), tmp_path / "out", progress)
    frames = decode_frames(files.video)
    assert len(frames) == files.frames == 12
    # Every frame's grey is the sum of both ranks' contributions (1 + 2) x 40.
    assert abs(float(np.mean(frames[-1])) - 120) < 4
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "last_frame.png", "spritesheet.jpg", "thumbnail.jpg", "video.mp4",
    ]  # fmt: skip
    assert progress[-1] == 1.0
    # Rank 1 writes its last frame's line after the all_reduce rank 0's answer may overtake.
    _wait_until(lambda: _report(reports, "first", 1)["frames"] == 12, timeout=5)
    ranks = [_report(reports, "first", r) for r in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1]
    for r in ranks:  # both got the same request and met in the same collectives
        assert (r["world"], r["seed"], r["seed_sum"], r["num_frames"]) == (2, 7, 14, 12)
        assert (r["size"], r["frames"], r["canceled_at"]) == ([64, 48], 12, None)
    assert _rank_processes() == {
        "reelforge-engine-ranked-rank0": ranks[0]["pid"],
        "reelforge-engine-ranked-rank1": ranks[1]["pid"],
    }


def test_cancel_stops_every_rank_at_the_same_frame(
    hosts: EngineHosts, reports: Path, tmp_path: Path
) -> None:
    before = _rank_processes()
    progress: list[float] = []
    cancel = threading.Event()
    thread, outcome = _in_background(
        lambda: _render(hosts, _request("slow-cancel", 60), tmp_path / "c", progress, cancel)
    )
    _wait_until(lambda: progress and progress[-1] >= 0.1)
    t0 = time.monotonic()
    cancel.set()
    thread.join(timeout=10)
    assert isinstance(outcome.get("error"), EngineCanceled)
    assert time.monotonic() - t0 < 2.0
    _wait_until(lambda: _report(reports, "slow-cancel", 1)["canceled_at"] is not None, 5)
    stopped = [_report(reports, "slow-cancel", r)["canceled_at"] for r in (0, 1)]
    assert stopped[0] is not None and stopped[0] == stopped[1] < 60
    assert not (tmp_path / "c" / "video.mp4").exists()
    # The group is still in step: the next job runs on the same processes.
    files = _render(hosts, _request("after-cancel", 6), tmp_path / "next")
    assert len(decode_frames(files.video)) == 6
    assert _rank_processes() == before


def test_a_rank_that_dies_fails_the_job_and_the_next_job_gets_a_new_group(
    hosts: EngineHosts, reports: Path, tmp_path: Path
) -> None:
    progress: list[float] = []
    thread, outcome = _in_background(
        lambda: _render(hosts, _request("slow-kill", 60), tmp_path / "k", progress)
    )
    _wait_until(lambda: progress and progress[-1] >= 0.1)
    old = [_report(reports, "slow-kill", r)["pid"] for r in (0, 1)]
    os.kill(old[1], signal.SIGKILL)
    thread.join(timeout=10)
    error = outcome.get("error")
    assert isinstance(error, EngineCrashed) and error.retryable
    assert "rank 1" in error.message
    assert all(not _pid_alive(pid) for pid in old)  # rank 0 was ended with it
    files = _render(hosts, _request("after-kill", 6, seed=3), tmp_path / "next")
    assert len(decode_frames(files.video)) == 6
    fresh = [_report(reports, "after-kill", r) for r in (0, 1)]
    assert [r["seed_sum"] for r in fresh] == [6, 6]
    assert not {r["pid"] for r in fresh} & set(old)


def test_an_error_on_every_rank_is_rank_0s_and_ends_the_group(
    hosts: EngineHosts, reports: Path, tmp_path: Path
) -> None:
    with pytest.raises(ReelforgeError, match="rank 0 failed on purpose at frame 2") as raised:
        _render(hosts, _request("fail", 12), tmp_path)
    assert (raised.value.code, raised.value.retryable) == ("generation_failed", False)
    # A rank could be left inside a collective after an error: the group is ended.
    pids = [_report(reports, "fail", r)["pid"] for r in (0, 1)]
    assert _rank_processes() == {}
    assert not any(_pid_alive(pid) for pid in pids)


def test_close_stops_every_rank(hosts: EngineHosts, tmp_path: Path) -> None:
    _render(hosts, _request("before-close", 6), tmp_path)  # a new group, after the error
    ranks = [p for p in multiprocessing.active_children() if p.name in _rank_processes()]
    assert len(ranks) == 2
    hosts.close()
    # Rank 0 broadcast the stop: both left their loops and ended cleanly.
    assert [p.exitcode for p in ranks] == [0, 0]
    assert _rank_processes() == {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- refusals -----------------------------------------------------------------------------------


def test_a_group_nothing_would_use_is_refused_when_the_job_starts(
    reports: Path, tmp_path: Path
) -> None:
    settings = TWO_RANKS.model_copy(update={"engine_context_parallel": "none"})
    hosts = EngineHosts(ranked_registry(reports), parallel=settings)
    try:
        with pytest.raises(EngineUnavailable, match="engine_context_parallel='none'"):
            _render(hosts, _request("refused", 6), tmp_path)
        assert _rank_processes() == {}
    finally:
        hosts.close()


def test_refusals_name_the_setting() -> None:
    ranked = ranked_registry(Path("/nonexistent")).entry("ranked")
    with pytest.raises(EngineUnavailable, match="wan-vace engine cannot split a job"):
        plan_ranks(TWO_RANKS, ENGINES["wan-vace"])
    cuda = TWO_RANKS.model_copy(update={"engine_device": "cuda"})
    with pytest.raises(EngineUnavailable, match=r"needs 2 GPUs .* torch sees 0 CUDA"):
        plan_ranks(cuda, ranked)  # the CPU build of torch sees no GPU
    one_gpu = TWO_RANKS.model_copy(update={"engine_device": "cuda:1"})
    with pytest.raises(EngineUnavailable, match="engine_device='cuda:1'"):
        plan_ranks(one_gpu, ranked)
    for listed in ("0,1,2", "1,1"):
        gpus = cuda.model_copy(update={"engine_gpus": listed})
        with pytest.raises(EngineUnavailable, match="name one different GPU per rank"):
            plan_ranks(gpus, ranked)
    chosen = plan_ranks(cuda.model_copy(update={"engine_gpus": "2, 3"}), ranked)
    assert chosen is not None and chosen.gpus == ("2", "3")
    with pytest.raises(EngineUnavailable, match="engine_isolation=process"):
        plan_ranks(TWO_RANKS, ranked, isolation="thread")
    # The preview compositor is not a diffusion engine: it keeps its one process.
    assert plan_ranks(TWO_RANKS, ENGINES["preview"]) is None
    assert plan_ranks(DiffusionSettings(), ranked) is None
    plan = plan_ranks(TWO_RANKS, ranked)
    assert plan is not None and (plan.ranks, plan.gpus) == (2, None)
