"""Idempotency, rate limits, concurrency limits and credits, through the HTTP API."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from reelforge.platform.moderation import Verdict
from tests.conftest import ADMIN_KEY, make_settings, wait_terminal
from tests.fixtures.engines.basic import fixture_registry
from tests.intake.media import image_bytes

BODY = {"prompt": "x", "seconds": 1, "size": "854x480"}


def _new_key(client: TestClient, **limits: Any) -> dict[str, str]:
    created = client.post("/v1/keys", json={"name": "user", **limits}).json()
    return {"Authorization": f"Bearer {created['key']}", "_id": created["id"]}


def _headers(key: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in key.items() if not k.startswith("_")}


def test_concurrent_creates_with_one_idempotency_key_give_one_job(client: TestClient) -> None:
    headers = {"Idempotency-Key": "same-request-1"}

    def create(_: int) -> tuple[int, str]:
        r = client.post("/v1/videos", json=BODY, headers=headers)
        return r.status_code, r.json()["id"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(create, range(20)))
    assert {status for status, _ in results} == {202}
    assert len({vid for _, vid in results}) == 1
    assert len(client.get("/v1/videos").json()["data"]) == 1
    wait_terminal(client, results[0][1])


def test_same_idempotency_key_with_other_body_is_409(client: TestClient) -> None:
    headers = {"Idempotency-Key": "k2"}
    first = client.post("/v1/videos", json=BODY, headers=headers)
    assert first.status_code == 202
    again = client.post("/v1/videos", json=BODY, headers=headers)
    assert again.json()["id"] == first.json()["id"]
    other = client.post("/v1/videos", json={**BODY, "prompt": "y"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "conflict.idempotency_key"
    assert other.headers["x-should-retry"] == "false"
    wait_terminal(client, first.json()["id"])


def test_a_retry_that_uploaded_the_same_file_again_is_the_same_request(
    client: TestClient,
) -> None:
    """An SDK that lost its file cache uploads the reference again (a new file id) before it
    retries the create with the same Idempotency-Key: the same bytes are the same request."""
    png = image_bytes()
    ids = [
        client.post("/v1/files", files={"file": ("a.png", png, "image/png")}).json()["id"]
        for _ in range(2)
    ]
    assert ids[0] != ids[1]
    headers = {"Idempotency-Key": "reuploaded"}

    def create(file_id: str, prompt: str = "@Image1 waves") -> Any:
        body = {**BODY, "prompt": prompt, "references": [{"type": "image", "file_id": file_id}]}
        return client.post("/v1/videos", json=body, headers=headers)

    first = create(ids[0])
    assert first.status_code == 202
    again = create(ids[1])
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    other = create(ids[1], prompt="@Image1 jumps")
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflict.idempotency_key"
    assert len(client.get("/v1/videos").json()["data"]) == 1
    wait_terminal(client, first.json()["id"])


def test_fifteen_concurrent_creates_on_a_key_limited_to_ten(client: TestClient) -> None:
    key = _new_key(client, max_active_jobs=10, unlimited=True)
    body = {**BODY, "seconds": 5, "model": "slow_with_progress"}

    def create(_: int) -> Any:
        return client.post("/v1/videos", json=body, headers=_headers(key))

    with ThreadPoolExecutor(max_workers=15) as pool:
        responses = list(pool.map(create, range(15)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [202] * 10 + [429] * 5
    refused = [r for r in responses if r.status_code == 429]
    assert all(r.json()["error"]["code"] == "rate_limited.concurrency" for r in refused)
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    for r in responses:
        if r.status_code == 202:
            client.post(f"/v1/videos/{r.json()['id']}/cancel", headers=_headers(key))
    for r in responses:
        if r.status_code == 202:
            assert (
                wait_terminal(client, r.json()["id"], headers=_headers(key))["status"] == "canceled"
            )


def test_creates_per_minute(client: TestClient) -> None:
    key = _new_key(client, creates_per_minute=2, unlimited=True)
    ids = []
    for _ in range(2):
        r = client.post("/v1/videos", json=BODY, headers=_headers(key))
        assert r.status_code == 202
        ids.append(r.json()["id"])
    r = client.post("/v1/videos", json=BODY, headers=_headers(key))
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limited.creates_per_minute"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    for vid in ids:
        wait_terminal(client, vid, headers=_headers(key))


def test_credits_hold_settle_and_ledger(client: TestClient) -> None:
    key = _new_key(client, balance=2.0)
    h = _headers(key)
    price_720 = 0.3024
    quote = client.post("/v1/videos/quote", json={**BODY, "seconds": 2, "size": "1280x720"},
                        headers=h).json()  # fmt: skip
    assert quote["cost"] == round(price_720 * 2, 4)

    ok = client.post("/v1/videos", json={**BODY, "seconds": 2, "size": "1280x720"}, headers=h)
    assert ok.status_code == 202
    failed = client.post(
        "/v1/videos", json={**BODY, "size": "1280x720", "model": "fails_in_run"}, headers=h
    )
    canceled = client.post(
        "/v1/videos",
        json={**BODY, "seconds": 3, "size": "1280x720", "model": "slow_with_progress"},
        headers=h,
    )
    assert failed.status_code == 202 and canceled.status_code == 202
    # Holds: 0.6048 + 0.3024 + 0.9072 = 1.8144 of 2.0; the next 1 s 720p (0.3024) is refused.
    refused = client.post("/v1/videos", json={**BODY, "size": "1280x720"}, headers=h)
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "insufficient_credits.balance"
    client.post(f"/v1/videos/{canceled.json()['id']}/cancel", headers=h)

    done = wait_terminal(client, ok.json()["id"], headers=h)
    assert done["status"] == "completed"
    assert done["usage"]["cost"] == round(price_720 * 2, 4)
    assert wait_terminal(client, failed.json()["id"], headers=h)["status"] == "failed"
    assert wait_terminal(client, canceled.json()["id"], headers=h)["status"] == "canceled"

    me = client.get("/v1/keys/me", headers=h).json()
    assert abs(me["balance"] - (2.0 - price_720 * 2)) < 1e-9
    ledger = client.get(f"/v1/keys/{key['_id']}/ledger").json()["data"]
    assert abs(sum(e["amount"] for e in ledger) - (me["balance"] - 2.0)) < 1e-9
    kinds = sorted(e["kind"] for e in ledger)
    assert kinds == ["charge"] + ["hold"] * 3 + ["release"] * 3

    usage = client.get("/v1/usage", params={"group_by": "model"}, headers=h).json()
    by_model = {row["model"]: row for row in usage["data"]}
    assert by_model["ok"]["billed_seconds"] == 2.0
    assert by_model["fails_in_run"]["failed"] == 1
    assert usage["total_cost"] == round(price_720 * 2, 4)

    topped = client.post(f"/v1/keys/{key['_id']}/credits", json={"amount": 5})
    assert abs(topped.json()["balance"] - (me["balance"] + 5)) < 1e-9


def test_moderation_patterns_refuse_prompt_without_charge(tmp_path: Path) -> None:
    patterns = tmp_path / "patterns.txt"
    patterns.write_text("# operator's list\nforbidden\\s+thing\n")
    settings = make_settings(tmp_path / "data", moderation_patterns_file=patterns)
    with TestClient(
        create_app(settings, engines=fixture_registry()),
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ) as c:
        r = c.post("/v1/videos", json={**BODY, "prompt": "a Forbidden  thing on a hill"})
        assert r.status_code == 400
        err = r.json()["error"]
        assert err["code"] == "moderation.input.text" and err["param"] == "prompt"
        assert c.get("/v1/videos").json()["data"] == []
        ok = c.post("/v1/videos", json=BODY)
        assert ok.status_code == 202
        wait_terminal(c, ok.json()["id"])


def test_daily_budget_refuses_beyond_todays_spend(client: TestClient) -> None:
    key = _new_key(client, unlimited=True, daily_budget=0.5)
    h = _headers(key)
    first = client.post("/v1/videos", json={**BODY, "size": "1280x720"}, headers=h)  # 0.3024
    assert first.status_code == 202
    second = client.post("/v1/videos", json={**BODY, "size": "1280x720"}, headers=h)
    assert second.status_code == 402
    assert second.json()["error"]["code"] == "insufficient_credits.daily_budget"
    wait_terminal(client, first.json()["id"], headers=h)


class _RefuseOutputs:
    def check_prompt(self, prompt: str) -> Verdict | None:
        return None

    def check_reference(self, kind: str, sha256: str) -> Verdict | None:
        return None

    def check_output(self, video: Path, thumbnail: Path) -> Verdict | None:
        assert video.stat().st_size > 0 and thumbnail.stat().st_size > 0
        return Verdict(rule="no outputs today")


def test_output_moderation_fails_the_job_without_charge(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    app = create_app(settings, engines=fixture_registry(), moderation=_RefuseOutputs())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
        key = _new_key(c, balance=1.0)
        vid = c.post("/v1/videos", json=BODY, headers=_headers(key)).json()["id"]
        done = wait_terminal(c, vid, headers=_headers(key))
        assert done["status"] == "failed"
        assert done["error"]["code"] == "moderation.output"
        assert done["error"]["stage"] == "encode"
        assert c.get(f"/v1/videos/{vid}/content", headers=_headers(key)).status_code == 404
        assert c.get("/v1/keys/me", headers=_headers(key)).json()["balance"] == 1.0
