"""GET /metrics (Prometheus text, `reelforge.platform.metrics`) and GET /version."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from reelforge import __version__
from reelforge.platform.metrics import StoreGauges, render_metrics

router = APIRouter(tags=["health"])


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics of this process",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                     "description": "The Prometheus text exposition format."}},
)  # fmt: skip
def metrics(request: Request) -> Response:
    """This process's counters and histograms, and the store's gauges (queue depth per engine,
    read at most every few seconds); `docs/operations.md` lists them."""
    gauges: StoreGauges | None = getattr(request.app.state, "store_gauges", None)
    body, content_type = render_metrics(gauges)
    return Response(body, media_type=content_type)


@router.get("/version", summary="The version of the service")
def version() -> dict[str, str]:
    """The version of the reelforge package this process runs (also the OpenAPI document's
    `info.version`, and `reelforge --version`)."""
    return {"version": __version__}
