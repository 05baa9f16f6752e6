"""GET /metrics in the Prometheus text format."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from reelforge.api.deps import DatabaseDep
from reelforge.platform.metrics import HttpCounters, job_metrics, webhook_metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request, database: DatabaseDep) -> PlainTextResponse:
    counters: HttpCounters = request.app.state.http_counters
    lines = job_metrics(database) + webhook_metrics(database) + counters.lines()
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
