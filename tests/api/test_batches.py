"""Server-side batches (`/v1/batches`) end to end on one real app (SQLite, DBOS, fixture engines
rendered in the worker thread): strict fields naming the request, takes with derived seeds,
items waiting under the key's concurrency limit, `max_cost`, cancel, idempotency, listing,
results as JSON Lines and the signed `batch.completed` event at a real HTTP receiver."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from reelforge.api.app import create_app
from reelforge.jobs.batch_items import derive_seed
from tests.api.test_response_schemas import Checker
from tests.conftest import ADMIN_KEY, make_settings
from tests.fixtures.engines.basic import fixture_registry
from tests.platform.test_webhooks import Receiver

ITEM = {"prompt": "a paper boat", "seconds": 1, "size": "854x480"}
MAX_ACTIVE = 2


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path_factory.mktemp("batches") / "data",
        max_active_jobs=MAX_ACTIVE,
        worker_concurrency=2,
        engine_isolation="thread",
        allow_private_urls=True,
        webhook_poll_seconds=0.05,
    )
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
        yield c


def _create(client: TestClient, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    r = client.post("/v1/batches", json=body, headers=headers)
    assert r.status_code == 202, r.text
    batch: dict[str, Any] = r.json()
    return batch


def _wait(client: TestClient, batch_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        batch: dict[str, Any] = client.get(f"/v1/batches/{batch_id}").json()
        if batch["status"] in ("completed", "canceled"):
            return batch
        assert time.monotonic() < deadline, batch
        time.sleep(0.2)


def _refused(client: TestClient, body: Any) -> dict[str, Any]:
    r = client.post("/v1/batches", json=body)
    assert r.status_code == 400, r.text
    error: dict[str, Any] = r.json()["error"]
    return error


def test_a_bad_request_refuses_the_batch_naming_it(client: TestClient) -> None:
    before = client.get("/v1/batches").json()["data"]
    typo = {"requests": [ITEM, ITEM, ITEM, {**ITEM, "resolutoin": "480p"}]}
    error = _refused(client, typo)
    assert error["code"] == "invalid_request.unknown_parameter"
    assert error["param"] == "requests[3].resolutoin"
    assert "did you mean 'resolution'" in error["message"]
    nested = {"requests": [{**ITEM, "references": [{"type": "image", "urll": "x"}]}]}
    assert _refused(client, nested)["param"] == "requests[0].references[0].urll"
    value = _refused(client, {"requests": [ITEM, {**ITEM, "seconds": 99}]})
    assert (value["code"], value["param"]) == ("invalid_request.seconds", "requests[1].seconds")
    top = _refused(client, {"requests": [ITEM], "max_costs": 3})
    assert (top["code"], top["param"]) == ("invalid_request.unknown_parameter", "max_costs")
    cases = [
        ({"requests": []}, "invalid_request.batch_empty", "requests"),
        ({"requests": [{**ITEM, "custom_id": "a"}, {**ITEM, "custom_id": "a"}]},
         "invalid_request.batch_custom_id", "requests[1].custom_id"),
        ({"requests": [{**ITEM, "n": 0}]}, "invalid_request.batch_takes", "requests[0].n"),
        ({"requests": [{**ITEM, "n": 600}, {**ITEM, "n": 600}]},
         "invalid_request.batch_too_large", "requests"),
        ({"requests": [ITEM], "max_cost": -1}, "invalid_request.max_cost", "max_cost"),
        ({"requests": [ITEM], "max_cost": "5"}, "invalid_request.max_cost", "max_cost"),
        ({"requests": [ITEM], "item_webhooks": True}, "invalid_request", "item_webhooks"),
        ({"requests": [ITEM], "webhook_url": "ftp://x"}, "invalid_request.url", "webhook_url"),
    ]  # fmt: skip
    for body, code, param in cases:
        error = _refused(client, body)
        assert (error["code"], error["param"]) == (code, param), (body, error)
    missing = [{"type": "image", "file_id": "file_0123456789abcdef0123456789abcdef"}]
    r = client.post("/v1/batches", json={"requests": [ITEM, {**ITEM, "references": missing}]})
    assert r.json()["error"]["code"] == "invalid_reference.file_not_found"
    assert r.json()["error"]["param"] == "requests[1].references[0]"
    raw = '{"requests": [{"prompt": "x"}], "max_cost": 1e999}'  # inf: not an amount
    r = client.post("/v1/batches", content=raw, headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]["param"]) == (400, "max_cost")
    assert client.get("/v1/batches").json()["data"] == before  # nothing was stored


def test_takes_wait_for_slots_and_complete_with_their_seeds(client: TestClient) -> None:
    body = {
        "requests": [{**ITEM, "custom_id": "ab", "seed": 42, "n": 4}, {**ITEM, "custom_id": "x"}],
        "metadata": {"campaign": "spring"},
    }
    created = _create(client, body)
    assert created["status"] == "in_progress"
    assert [i["status"] for i in created["items"]] == ["pending"] * 5
    seeds = [42, derive_seed(42, 1), derive_seed(42, 2), derive_seed(42, 3)]
    assert [i["seed"] for i in created["items"][:4]] == seeds
    assert len(set(seeds)) == 4
    assert [(i["custom_id"], i["take"]) for i in created["items"]] == [
        ("ab", 0), ("ab", 1), ("ab", 2), ("ab", 3), ("x", 0)
    ]  # fmt: skip

    # Five items over a limit of two at once: they wait in the batch, none is refused.
    batch = _wait(client, created["id"])
    assert batch["status"] == "completed", batch
    assert batch["request_counts"]["completed"] == 5
    assert batch["metadata"] == {"campaign": "spring"}
    for item in batch["items"]:
        assert item["status"] == "completed" and item["error"] is None, item
        video = client.get(f"/v1/videos/{item['video_id']}").json()
        assert video["seed"] == item["seed"]
        assert item["cost"] == video["usage"]["cost"] > 0
    assert len({i["video_id"] for i in batch["items"]}) == 5
    assert batch["usage"]["cost"] == pytest.approx(sum(i["cost"] for i in batch["items"]))
    download = client.get(batch["items"][0]["urls"]["video"], headers={"Authorization": ""})
    assert download.status_code == 200 and download.content[4:8] == b"ftyp"

    results = client.get(f"/v1/batches/{created['id']}/results")
    assert results.status_code == 200
    assert results.headers["content-type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in results.text.splitlines()]
    assert [(r["custom_id"], r["take"], r["status"]) for r in lines] == [
        (i["custom_id"], i["take"], "completed") for i in batch["items"]
    ]
    assert all(r["urls"]["video"] for r in lines)

    r = client.post(f"/v1/batches/{created['id']}/cancel")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict.not_cancelable")


def test_max_cost_stops_admission_and_the_rest_are_skipped(client: TestClient) -> None:
    quote = client.post("/v1/videos/quote", json=ITEM).json()["cost"]
    max_cost = 2.5 * quote
    body = {"requests": [{**ITEM, "custom_id": f"p{i}"} for i in range(6)], "max_cost": max_cost}
    batch = _wait(client, _create(client, body)["id"])
    statuses = [i["status"] for i in batch["items"]]
    assert statuses == ["completed"] * 2 + ["skipped"] * 4, statuses
    assert {i["error"]["code"] for i in batch["items"][2:]} == {"skipped.budget"}
    assert all(i["video_id"] is None and i["cost"] == 0 for i in batch["items"][2:])
    assert batch["usage"]["cost"] == pytest.approx(2 * quote)
    assert batch["usage"]["cost"] <= max_cost
    assert batch["request_counts"]["skipped"] == 4


def test_cancel_skips_pending_items_and_cancels_running_ones(client: TestClient) -> None:
    slow = {**ITEM, "model": "slow_with_progress", "seconds": 15}
    body = {"requests": [{**slow, "custom_id": f"c{i}"} for i in range(4)]}
    created = _create(client, body)
    deadline = time.monotonic() + 20
    while client.get(f"/v1/batches/{created['id']}").json()["request_counts"]["in_progress"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    r = client.post(f"/v1/batches/{created['id']}/cancel")
    assert r.status_code == 200, r.text
    assert r.json()["status"] in ("canceling", "canceled")
    batch = _wait(client, created["id"], timeout=20)
    assert batch["status"] == "canceled"
    by_status = {i["status"] for i in batch["items"]}
    assert by_status <= {"canceled", "skipped"}, batch["items"]
    admitted = [i for i in batch["items"] if i["video_id"]]
    assert 1 <= len(admitted) <= MAX_ACTIVE
    for item in batch["items"]:
        if item["video_id"] is None:
            assert item["error"]["code"] == "skipped.canceled"
        else:
            assert item["status"] == "canceled" and item["cost"] == 0
    assert batch["usage"]["cost"] == 0
    again = client.post(f"/v1/batches/{created['id']}/cancel")
    assert (again.status_code, again.json()["status"]) == (200, "canceled")


def test_idempotency_key_gives_the_same_batch_and_no_new_job(client: TestClient) -> None:
    body = {"requests": [{**ITEM, "custom_id": "i0"}, {**ITEM, "custom_id": "i1"}]}
    first = _create(client, body, **{"Idempotency-Key": "batch-idem-1"})
    again = _create(client, body, **{"Idempotency-Key": "batch-idem-1"})
    assert again["id"] == first["id"]
    r = client.post("/v1/batches", json={"requests": [ITEM]}, headers={"Idempotency-Key":
                    "batch-idem-1"})  # fmt: skip
    assert (r.status_code, r.json()["error"]["code"]) == (409, "conflict.idempotency_key")
    batch = _wait(client, first["id"])
    assert [i["status"] for i in batch["items"]] == ["completed", "completed"]
    ids = {i["video_id"] for i in batch["items"]}
    videos = client.get("/v1/videos", params={"limit": 100}).json()["data"]
    assert ids <= {v["id"] for v in videos}
    assert _create(client, body, **{"Idempotency-Key": "batch-idem-1"})["id"] == first["id"]
    after = client.get("/v1/videos", params={"limit": 100}).json()["data"]
    assert [v["id"] for v in after] == [v["id"] for v in videos]  # (links are signed anew)


def test_list_pages_with_a_cursor_and_hides_other_keys_batches(client: TestClient) -> None:
    page = client.get("/v1/batches", params={"limit": 2}).json()
    assert page["object"] == "list" and len(page["data"]) == 2 and page["has_more"]
    assert "items" not in page["data"][0]
    rest = client.get("/v1/batches", params={"after": page["last_id"], "limit": 100}).json()
    ids = [b["id"] for b in page["data"] + rest["data"]]
    assert len(ids) == len(set(ids)) >= 4
    created = [b["created_at"] for b in page["data"] + rest["data"]]
    assert created == sorted(created, reverse=True)
    other = client.post("/v1/keys", json={"name": "other", "unlimited": True}).json()["key"]
    h = {"Authorization": f"Bearer {other}"}
    assert client.get("/v1/batches", headers=h).json()["data"] == []
    r = client.get(f"/v1/batches/{ids[0]}", headers=h)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found.batch")


def test_batch_completed_is_sent_once_signed(client: TestClient, tmp_path: Path) -> None:
    receiver = Receiver().start()
    try:
        body = {
            "requests": [{**ITEM, "custom_id": "w0"}, {**ITEM, "custom_id": "w1"}],
            "webhook_url": receiver.url,
            "item_webhooks": True,
        }
        batch = _wait(client, _create(client, body)["id"])
        got = receiver.wait(3)  # two video.completed, one batch.completed
        time.sleep(0.3)
        got = list(receiver.requests)
        secret = client.get("/v1/keys/me").json()["webhook_secret"]
        events = [Webhook(secret).verify(r.body, r.headers) for r in got]  # raises if unsigned
        types = sorted(e["type"] for e in events)
        assert types == ["batch.completed", "video.completed", "video.completed"], types
        done = next(e for e in events if e["type"] == "batch.completed")
        assert done["data"]["id"] == batch["id"] and done["data"]["status"] == "completed"
        assert done["data"]["request_counts"]["completed"] == 2
        log = client.get(f"/v1/batches/{batch['id']}/webhooks").json()["data"]
        assert [(e["type"], e["status"]) for e in log] == [("batch.completed", "succeeded")]
    finally:
        receiver.stop()


def test_every_answer_matches_the_openapi_document(client: TestClient) -> None:
    checker = Checker(client.get("/openapi.json").json())
    check = checker.check
    body = {"requests": [{**ITEM, "custom_id": "doc", "n": 2}], "metadata": {"a": "b"}}
    created = check(client.post("/v1/batches", json=body)).json()
    check(client.get(f"/v1/batches/{created['id']}"))
    _wait(client, created["id"])
    check(client.get(f"/v1/batches/{created['id']}"))
    check(client.get("/v1/batches", params={"limit": 2}))
    check(client.get(f"/v1/batches/{created['id']}/results"))
    check(client.get(f"/v1/batches/{created['id']}/webhooks"))
    check(client.post(f"/v1/batches/{created['id']}/cancel"))  # 409
    check(client.get("/v1/batches/batch_nope"))  # 404
    check(client.post("/v1/batches", json={"requests": [{**ITEM, "sized": "x"}]}))  # 400
    assert len(checker.checked) == 9
