"""A list of videos costs the same number of database statements whatever its length (issue 10:
"a list is one query"): one for the page of jobs and one for the queue positions of those still
queued, never one per video. Counted on the real app's job store (real SQLite) with workers off,
so that every job stays queued and has a queue position to look up."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from tests.conftest import ADMIN_KEY, job_repository, make_settings
from tests.fixtures.engines.basic import fixture_registry

ON_JOBS = re.compile(r"\bFROM jobs\b", re.IGNORECASE)
LISTS = ["/v1/videos", "/openai/v1/videos"]


class Statements:
    """Every statement run on one engine while counting, from any thread."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self.seen: list[str] = []

    def _record(self, conn: object, cursor: object, statement: str, *args: object) -> None:
        with self._lock:
            self.seen.append(statement)

    def __enter__(self) -> Statements:
        sa.event.listen(self._engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self._engine, "before_cursor_execute", self._record)

    def on_jobs(self) -> list[str]:
        return [s for s in self.seen if ON_JOBS.search(s)]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "data", run_workers=False, max_active_jobs=50)
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
        yield c


def _create(client: TestClient, n: int) -> None:
    for i in range(n):
        r = client.post("/v1/videos", json={"prompt": f"a red square {i}", "seconds": 1})
        assert r.status_code in (200, 201, 202), r.text


def _list(client: TestClient, path: str, **params: str) -> tuple[dict[str, Any], Statements]:
    with Statements(job_repository(client)._engine) as counted:
        r = client.get(path, params={"limit": "100", **params})
    assert r.status_code == 200, r.text
    return r.json(), counted


@pytest.mark.parametrize("path", LISTS)
def test_a_list_of_twelve_costs_what_a_list_of_three_costs(client: TestClient, path: str) -> None:
    _create(client, 3)
    short, counted_short = _list(client, path)
    _create(client, 9)
    long, counted_long = _list(client, path)

    assert len(short["data"]) == 3 and len(long["data"]) == 12
    # every item is queued, so the page's queue positions were looked up (the native object
    # shows them)
    assert all(v["status"] == "queued" for v in long["data"])
    if path == "/v1/videos":
        assert sorted(v["queue_position"] for v in long["data"]) == list(range(12))
    assert len(counted_long.seen) == len(counted_short.seen), counted_long.seen
    # the page of jobs and their queue positions: two statements on the jobs table
    assert len(counted_long.on_jobs()) == 2, counted_long.on_jobs()


@pytest.mark.parametrize("path", LISTS)
def test_a_page_after_a_cursor_adds_one_statement_for_the_cursor(
    client: TestClient, path: str
) -> None:
    _create(client, 12)
    first, _ = _list(client, path, limit="4")
    cursor = str(first["last_id"])
    page, counted = _list(client, path, limit="100", after=cursor)
    assert len(page["data"]) == 8
    # the cursor's job, the page after it, the positions of that page
    assert len(counted.on_jobs()) == 3, counted.on_jobs()
