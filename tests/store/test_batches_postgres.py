"""Server-side batches on PostgreSQL: the batch tables (migration 0007), the admission loop's
guarded updates and the budget check, the same as on SQLite."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from tests.conftest import ADMIN_KEY, make_settings
from tests.fixtures.engines.basic import fixture_registry
from tests.postgres import postgres_url

pytestmark = pytest.mark.postgres
__all__ = ["postgres_url"]

ITEM = {"prompt": "a paper boat", "seconds": 1, "size": "854x480"}


def test_a_batch_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    settings = make_settings(
        tmp_path / "data", database_url=postgres_url, engine_isolation="thread",
        max_active_jobs=2,
    )  # fmt: skip
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        quote = client.post("/v1/videos/quote", json=ITEM).json()["cost"]
        body = {
            "requests": [{**ITEM, "custom_id": "t", "seed": 7, "n": 3}, {**ITEM, "custom_id": "u"}],
            "max_cost": 3.5 * quote,
        }
        first = client.post("/v1/batches", json=body, headers={"Idempotency-Key": "pg-b"})
        assert first.status_code == 202, first.text
        batch_id = first.json()["id"]
        again = client.post("/v1/batches", json=body, headers={"Idempotency-Key": "pg-b"})
        assert again.json()["id"] == batch_id
        deadline = time.monotonic() + 60
        while (batch := client.get(f"/v1/batches/{batch_id}").json())["status"] != "completed":
            assert time.monotonic() < deadline, batch
            time.sleep(0.2)
        assert [i["status"] for i in batch["items"]] == ["completed"] * 3 + ["skipped"]
        assert batch["items"][3]["error"]["code"] == "skipped.budget"
        assert batch["items"][0]["seed"] == 7
        assert batch["usage"]["cost"] == pytest.approx(3 * quote)
        assert client.get("/v1/batches").json()["data"][0]["id"] == batch_id
        lines = client.get(f"/v1/batches/{batch_id}/results").text.splitlines()
        assert len(lines) == 4
    assert not (settings.data_dir / "reelforge.db").exists()
