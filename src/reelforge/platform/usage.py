"""Usage per key: billed seconds and cost of succeeded jobs, grouped by day, model or end user."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa

from reelforge.store.tables import jobs

GroupBy = Literal["day", "model", "end_user_id"]


class UsageReports:
    """`GET /v1/usage` reads through this (routes never hold the database)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def for_key(
        self, key_id: str, *, group_by: GroupBy, start: float, end: float
    ) -> list[dict[str, Any]]:
        return usage_report(self._engine, key_id, group_by=group_by, start=start, end=end)


def usage_report(
    engine: sa.Engine, key_id: str, *, group_by: GroupBy, start: float, end: float
) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                jobs.c.created_at, jobs.c.model, jobs.c.end_user_id, jobs.c.status,
                jobs.c.output_seconds, jobs.c.cost,
            ).where(
                jobs.c.owner_key_id == key_id,
                jobs.c.created_at >= start,
                jobs.c.created_at < end,
            )
        ).all()  # fmt: skip
    groups: dict[str, dict[str, Any]] = {}
    for r in rows:
        m = r._mapping
        if group_by == "day":
            label = _day(m["created_at"])
        elif group_by == "model":
            label = m["model"]
        else:
            label = m["end_user_id"] or ""
        g = groups.setdefault(
            label,
            {group_by: label, "videos": 0, "succeeded": 0, "failed": 0, "canceled": 0,
             "billed_seconds": 0.0, "cost": 0.0},
        )  # fmt: skip
        g["videos"] += 1
        if m["status"] == "succeeded":
            g["succeeded"] += 1
            g["billed_seconds"] += float(m["output_seconds"] or 0.0)
            g["cost"] = round(g["cost"] + float(m["cost"] or 0.0), 4)
        elif m["status"] in ("failed", "canceled"):
            g[m["status"]] += 1
    return [groups[k] for k in sorted(groups)]


def _day(ts: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d")
