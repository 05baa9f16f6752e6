"""The same service on PostgreSQL: jobs, the durable queue, and admission across two API
processes sharing one database."""

from __future__ import annotations

import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from tests.conftest import ADMIN_KEY, make_settings, wait_terminal
from tests.fixtures.engines.basic import fixture_registry
from tests.live import free_port, start_service
from tests.postgres import postgres_url

pytestmark = pytest.mark.postgres
__all__ = ["postgres_url"]


def test_job_lifecycle_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    settings = make_settings(tmp_path / "data", database_url=postgres_url)
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        r = client.post("/v1/videos", json={"prompt": "x", "seconds": 1, "size": "854x480"},
                        headers={"Idempotency-Key": "pg-1"})  # fmt: skip
        assert r.status_code == 202
        again = client.post("/v1/videos", json={"prompt": "x", "seconds": 1, "size": "854x480"},
                            headers={"Idempotency-Key": "pg-1"})  # fmt: skip
        assert again.json()["id"] == r.json()["id"]
        done = wait_terminal(client, r.json()["id"])
        assert done["status"] == "completed"
        assert client.get(f"/v1/videos/{done['id']}/content").status_code == 200
        page = client.get("/v1/videos").json()
        assert [v["id"] for v in page["data"]] == [done["id"]]
    assert not (settings.data_dir / "reelforge.db").exists()


def _serve(data_dir: Path, port: int, database_url: str, executor: str) -> subprocess.Popen[bytes]:
    return start_service(
        data_dir, port, DATABASE_URL=database_url, DEFAULT_MODEL="slow_with_progress",
        EXECUTOR_ID=executor, ENGINE_ISOLATION="thread",
    )  # fmt: skip


def test_concurrency_limit_holds_across_two_api_processes(
    tmp_path: Path, postgres_url: str
) -> None:
    ports = [free_port(), free_port()]
    # Both processes share the database and the storage directory, as replicas would.
    procs = [
        _serve(tmp_path / "data", ports[0], postgres_url, "api-a"),
    ]
    try:
        procs.append(_serve(tmp_path / "data", ports[1], postgres_url, "api-b"))
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        key = httpx.post(
            f"http://127.0.0.1:{ports[0]}/v1/keys",
            headers=admin,
            json={"name": "limited", "max_active_jobs": 10, "unlimited": True},
        )
        headers = {"Authorization": f"Bearer {key.json()['key']}"}
        body = {"prompt": "x", "seconds": 5, "size": "854x480"}

        def create(i: int) -> httpx.Response:
            return httpx.post(f"http://127.0.0.1:{ports[i % 2]}/v1/videos", json=body,
                              headers=headers, timeout=30)  # fmt: skip

        with ThreadPoolExecutor(max_workers=15) as pool:
            responses = list(pool.map(create, range(15)))
        assert sorted(r.status_code for r in responses) == [202] * 10 + [429] * 5
        for r in responses:
            if r.status_code == 202:
                httpx.post(f"http://127.0.0.1:{ports[0]}/v1/videos/{r.json()['id']}/cancel",
                           headers=headers)  # fmt: skip
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
