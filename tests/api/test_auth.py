"""Keys: 401 without or with a wrong key, one key never sees another's jobs (404)."""

from __future__ import annotations

import stat

from fastapi.testclient import TestClient

from reelforge.settings import Settings
from tests.conftest import ADMIN_KEY


def test_missing_and_wrong_key_get_401(client: TestClient) -> None:
    bare = TestClient(client.app)
    assert bare.get("/v1/videos").status_code == 401
    r = bare.get("/v1/videos", headers={"Authorization": "Bearer rf_wrong"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "authentication_failed.invalid_key"


def test_all_three_header_forms_work(client: TestClient) -> None:
    bare = TestClient(client.app)
    for headers in (
        {"Authorization": f"Bearer {ADMIN_KEY}"},
        {"Authorization": f"Key {ADMIN_KEY}"},
        {"X-API-Key": ADMIN_KEY},
    ):
        assert bare.get("/v1/videos", headers=headers).status_code == 200


def test_other_key_cannot_see_job(client: TestClient) -> None:
    created = client.post("/v1/keys", json={"name": "alice"}).json()
    assert created["key"].startswith("rf_") and created["webhook_secret"].startswith("whsec_")
    vid = client.post("/v1/videos", json={"prompt": "x", "seconds": 1, "size": "854x480"}).json()[
        "id"
    ]
    alice = {"Authorization": f"Bearer {created['key']}"}
    assert client.get(f"/v1/videos/{vid}", headers=alice).status_code == 404
    assert client.get("/v1/videos", headers=alice).json()["data"] == []
    assert client.get("/v1/keys", headers=alice).status_code == 403
    client.delete(f"/v1/keys/{created['id']}")
    assert client.get("/v1/videos", headers=alice).status_code == 401


def test_admin_key_file_is_owner_only_and_key_not_stored_plain(
    client: TestClient, settings: Settings
) -> None:
    mode = stat.S_IMODE(settings.admin_key_path.stat().st_mode)
    assert mode == 0o600
    assert settings.admin_key_path.read_text().strip() == ADMIN_KEY
    db = (settings.data_dir / "reelforge.db").read_bytes()
    assert ADMIN_KEY.encode() not in db


def test_health_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/v1/videos" in spec["paths"]


def test_metrics_exposes_jobs_and_http_counters(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    assert "reelforge_queue_depth" in text
    assert 'reelforge_http_requests_total{method="GET",status="200"}' in text
