"""GET /v1/usage: what the calling key used, per day, model or end user."""

from __future__ import annotations

import math
import time
from typing import Any

from fastapi import APIRouter, Query

from reelforge.api.deps import PricesDep, ReadKey, UsageDep
from reelforge.errors import InvalidRequest
from reelforge.platform.usage import GroupBy

router = APIRouter(prefix="/v1/usage", tags=["usage"])


@router.get("", summary="Usage of the calling key")
def usage(
    reports: UsageDep,
    prices: PricesDep,
    key: ReadKey,
    group_by: GroupBy = "day",
    start: float | None = Query(None, description="unix seconds; default 30 days ago"),
    end: float | None = Query(None, description="unix seconds; default now"),
) -> dict[str, Any]:
    for name, value in (("start", start), ("end", end)):
        if value is not None and not math.isfinite(value):
            raise InvalidRequest(f"{name} must be a finite number of unix seconds", param=name)
    end_ts = end if end is not None else time.time() + 1
    start_ts = start if start is not None else end_ts - 30 * 86_400
    data = reports.for_key(key.id, group_by=group_by, start=start_ts, end=end_ts)
    return {
        "object": "usage",
        "group_by": group_by,
        "start": int(start_ts),
        "end": int(end_ts),
        "currency": prices.currency,
        "data": data,
        "total_cost": round(sum(d["cost"] for d in data), 4),
        "total_billed_seconds": sum(d["billed_seconds"] for d in data),
    }
