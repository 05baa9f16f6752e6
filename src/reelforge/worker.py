"""`reelforge worker --engine NAME`: a process that renders jobs of the named engines and serves
no HTTP (scale mode: API replicas with `REELFORGE_RUN_WORKERS=false` in front, one worker per
GPU behind, all on one PostgreSQL database and one object store)."""

from __future__ import annotations

import logging
import signal
import threading

from reelforge import codes
from reelforge.engines.registry import EngineRegistry
from reelforge.errors import InvalidRequest
from reelforge.runtime import Background, build_runtime
from reelforge.settings import Settings

log = logging.getLogger("reelforge.worker")


def run_worker(settings: Settings, engines: list[str]) -> None:
    if settings.executor_id == "local" and not settings.resolved_database_url.startswith("sqlite"):
        raise InvalidRequest(
            "set REELFORGE_EXECUTOR_ID to a stable id of its own for each worker: recovery after "
            "a crash finds a worker's jobs by it",
            code=codes.INVALID_REQUEST_EXECUTOR_ID,
            param="REELFORGE_EXECUTOR_ID",
        )
    registry = EngineRegistry(settings=settings)
    for name in engines:
        registry.factory(name)  # an unknown engine fails here, before anything starts
    for name, reason in registry.check_ready(engines).items():
        log.error("engine %s is unavailable (not advertised to the API): %s", name, reason)
    runtime = build_runtime(settings, registry)
    background = Background(runtime, hosted_engines=engines)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    background.start()
    log.info("worker %s rendering %s", settings.executor_id, ", ".join(engines))
    try:
        stop.wait()
    finally:
        background.stop()
