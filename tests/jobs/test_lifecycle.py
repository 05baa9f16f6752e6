"""Queued jobs past their deadline expire (no charge); outputs past retention are deleted."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from reelforge.jobs.service import JobService
from tests.conftest import ADMIN_KEY, make_settings, wait_terminal
from tests.fixtures.engines.basic import fixture_registry


def test_expiry_and_retention(tmp_path: Path) -> None:
    # No workers: jobs stay queued, so the deadline is what ends them.
    settings = make_settings(
        tmp_path / "data", run_workers=False, janitor_interval_seconds=3600.0,
        default_key_balance=1.0,
    )  # fmt: skip
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        jobs: JobService = app.state.jobs
        user = client.post("/v1/keys", json={"name": "u", "balance": 1.0}).json()
        h = {"Authorization": f"Bearer {user['key']}"}
        body = {"prompt": "x", "seconds": 1, "size": "854x480", "execution_expires_after": 1}
        vid = client.post("/v1/videos", json=body, headers=h).json()["id"]
        assert client.get("/v1/keys/me", headers=h).json()["balance"] < 1.0  # held
        import time

        time.sleep(1.1)
        assert jobs.expire_overdue() == [vid]
        job = client.get(f"/v1/videos/{vid}", headers=h).json()
        assert job["status"] == "expired" and job["error"]["code"] == "expired.execution"
        assert client.get("/v1/keys/me", headers=h).json()["balance"] == 1.0  # released


def test_outputs_deleted_after_retention(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", output_retention_seconds=1)
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        jobs: JobService = app.state.jobs
        vid = client.post("/v1/videos", json={"prompt": "x", "seconds": 1, "size": "854x480"})
        vid_id = vid.json()["id"]
        done = wait_terminal(client, vid_id)
        assert done["expires_at"] is not None
        import time

        time.sleep(1.1)
        assert jobs.purge_expired_outputs() == [vid_id]
        r = client.get(f"/v1/videos/{vid_id}/content")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found.output_expired"
        assert not (settings.data_dir / "storage" / "outputs" / vid_id).exists()
