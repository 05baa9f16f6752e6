"""/healthz (the process answers) and /readyz (the database and the object store answer, each
within READINESS_TIMEOUT_SECONDS; the process holds its executor lease and is not draining)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from reelforge.api.deps import HealthDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(health: HealthDep) -> JSONResponse:
    ok, checks = await asyncio.to_thread(health.ready)
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        status_code=200 if ok else 503)  # fmt: skip
