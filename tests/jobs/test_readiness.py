"""Engine readiness at create: checked here for engines this process renders with, decided by the
live workers' advertisements for the others (an API replica in scale mode)."""

from __future__ import annotations

from pathlib import Path

from reelforge.engines.registry import EngineRegistry
from reelforge.jobs.readiness import EngineReadiness
from tests.conftest import make_settings


def _registry(tmp_path: Path) -> EngineRegistry:
    settings = make_settings(
        tmp_path / "data", engine_wan_vace_model=str(tmp_path / "no-such-checkpoint")
    )
    return EngineRegistry(settings=settings)


def test_local_engines_are_checked_here_and_cached(tmp_path: Path) -> None:
    now = [0.0]
    readiness = EngineReadiness(_registry(tmp_path), local=None, ttl=30, clock=lambda: now[0])
    assert readiness.reason("preview") is None
    reason = readiness.reason("wan-vace")
    assert reason is not None and "engine_wan_vace_model" in reason
    (tmp_path / "no-such-checkpoint").mkdir()
    (tmp_path / "no-such-checkpoint" / "model_index.json").write_text("{}")
    assert readiness.reason("wan-vace") == reason  # cached
    now[0] = 31.0
    assert readiness.reason("wan-vace") is None  # weights arrived: ready after the cache


def test_a_replica_follows_the_live_workers(tmp_path: Path) -> None:
    live: set[str] = set()
    now = [0.0]
    readiness = EngineReadiness(
        _registry(tmp_path), local=[], live_engines=lambda: set(live), clock=lambda: now[0]
    )
    # No live worker at all (all restarting): accepted, the job waits in the queue.
    assert readiness.reason("wan-vace") is None
    live.add("preview")
    now[0] += 3  # the live set is read at most every 2 s
    reason = readiness.reason("wan-vace")
    assert reason is not None and "reelforge worker --engine wan-vace" in reason
    assert readiness.reason("preview") is None
    readiness.render_locally(["wan-vace"])  # this process is now a wan-vace worker
    assert readiness.reason("wan-vace") is not None and "engine_wan_vace_model" in str(
        readiness.reason("wan-vace")
    )
