"""`reelforge worker --engine NAME`: a process that renders jobs of the named engines (scale
mode: API replicas with `REELFORGE_RUN_WORKERS=false` in front, one worker per GPU behind, all
on one PostgreSQL database and one object store).

It serves no API, only `/healthz` and `/readyz` (for the orchestrator's probes) and `/metrics`
(Prometheus) on `HOST:WORKER_HEALTH_PORT`. SIGTERM (or SIGINT) drains it: it takes no more
jobs, lets the renders in progress finish within `DRAIN_SECONDS`, hands the others back to
their queues, and exits.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reelforge.engines.registry import EngineRegistry
from reelforge.errors import InvalidRequest
from reelforge.jobs.health import HealthProbe
from reelforge.platform.metrics import StoreGauges, render_metrics
from reelforge.runtime import Background, build_runtime
from reelforge.settings import Settings

log = logging.getLogger("reelforge.worker")


class HealthServer:
    """A tiny HTTP listener: `/healthz` 200 while the process runs; `/readyz` 200 once the
    worker is started and its database, storage and executor lease are fine, 503 otherwise
    (also while it drains)."""

    def __init__(self, host: str, port: int) -> None:
        self.probe: HealthProbe | None = None
        self.gauges: StoreGauges | None = None  # set once the store is open
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    self._answer(200, {"status": "ok"})
                elif path == "/readyz":
                    probe = outer.probe
                    if probe is None:
                        self._answer(503, {"status": "starting", "checks": {}})
                        return
                    ok, checks = probe.ready()
                    status = "ok" if ok else "unavailable"
                    self._answer(200 if ok else 503, {"status": status, "checks": checks})
                elif path == "/metrics":  # this process's metrics (docs/operations.md)
                    data, content_type = render_metrics(outer.gauges)
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    self._answer(404, {"error": "not found"})

            def _answer(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # probes are not news
                pass

        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise InvalidRequest(
                f"cannot listen on {host}:{port} for health checks: {exc.strerror or exc} (set "
                "REELFORGE_WORKER_HEALTH_PORT to a free port, or 0 for none)",
                param="REELFORGE_WORKER_HEALTH_PORT",
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="reelforge-health", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def run_worker(
    settings: Settings, engines: list[str], registry: EngineRegistry | None = None
) -> None:
    registry = registry or EngineRegistry(settings=settings)
    for name in engines:
        registry.factory(name)  # an unknown engine fails here, before anything starts
    health = (
        HealthServer(settings.host, settings.worker_health_port)
        if settings.worker_health_port
        else None
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if health is not None:
        health.start()
    try:
        for name, reason in registry.check_ready(engines).items():
            log.error("engine %s is unavailable (not advertised to the API): %s", name, reason)
        runtime = build_runtime(settings, registry)
        background = Background(runtime, hosted_engines=engines)
        if health is not None:
            health.gauges = StoreGauges(runtime.database, engines)
        try:
            background.start()
            if health is not None:
                health.probe = background.health
            log.info("worker %s rendering %s", background.executor_id, ", ".join(engines))
            stop.wait()
            log.info("worker %s stopping", background.executor_id)
        finally:
            background.stop()
    finally:
        if health is not None:
            health.stop()
