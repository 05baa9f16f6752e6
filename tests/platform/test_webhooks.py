"""Webhooks per Standard Webhooks, end to end: a real uvicorn receiver on 127.0.0.1, the real
app (SQLite, DBOS, fixture engines), signatures checked with the `standardwebhooks` library."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from reelforge.api.app import create_app
from reelforge.settings import Settings
from reelforge.store.database import open_database
from reelforge.store.webhook_repository import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookEvent,
    WebhookRepository,
)
from tests.conftest import ADMIN_KEY, make_settings, wait_for, wait_terminal
from tests.fixtures.engines.basic import fixture_registry
from tests.live import free_port

# Retries 50 ms apart, a loop that looks every 50 ms: a whole retry story in well under a second.
FAST: dict[str, Any] = {
    "webhook_retry_schedule": (0.05,),
    "webhook_poll_seconds": 0.05,
    "webhook_timeout_seconds": 3.0,
}
BODY = {"prompt": "x", "seconds": 1, "size": "854x480"}


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


class Receiver:
    """A real HTTP server in a thread that records every request and answers the scripted
    statuses first, then `default`."""

    def __init__(self, script: list[int] | None = None, default: int = 200) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.script = list(script or [])
        self.default = default
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        with self._lock:
            status = self.script.pop(0) if self.script else self.default
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            self.requests.append(Received(headers, body, status))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def start(self) -> Receiver:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, "receiver did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)

    def wait(self, count: int, timeout: float = 15) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"got {len(self.requests)} of {count} requests"
            time.sleep(0.02)
        return list(self.requests)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@contextmanager
def running_app(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
        yield c


@pytest.fixture
def webhook_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", allow_private_urls=True, **FAST)


@pytest.fixture
def client(webhook_settings: Settings) -> Iterator[TestClient]:
    with running_app(webhook_settings) as c:
        yield c


def _create(client: TestClient, url: str | None, **fields: Any) -> str:
    r = client.post("/v1/videos", json={**BODY, **fields, "webhook_url": url})
    assert r.status_code == 202, r.text
    vid: str = r.json()["id"]
    return vid


def _secret(client: TestClient) -> str:
    secret: str = client.get("/v1/keys/me").json()["webhook_secret"]
    assert secret.startswith("whsec_")
    return secret


def _log(client: TestClient, vid: str) -> list[dict[str, Any]]:
    r = client.get(f"/v1/videos/{vid}/webhooks")
    assert r.status_code == 200, r.text
    data: list[dict[str, Any]] = r.json()["data"]
    return data


def _wait_log(
    client: TestClient, vid: str, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 15
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        log = _log(client, vid)
        if until(log):
            return log
        assert time.monotonic() < deadline, log
        time.sleep(0.03)


def _settled(log: list[dict[str, Any]]) -> bool:
    return bool(log) and all(e["status"] in ("succeeded", "failed") for e in log)


def test_completed_event_is_signed_per_standard_webhooks(
    client: TestClient, receiver: Receiver
) -> None:
    vid = _create(client, receiver.url)
    assert wait_terminal(client, vid)["status"] == "completed"
    [req] = receiver.wait(1)
    event = Webhook(_secret(client)).verify(req.body, req.headers)
    assert req.headers["webhook-id"] == event["id"] and event["id"].startswith("evt_")
    assert abs(int(req.headers["webhook-timestamp"]) - time.time()) < 30
    assert req.headers["webhook-signature"].startswith("v1,")
    assert req.headers["content-type"] == "application/json"
    assert event["type"] == "video.completed"
    data = event["data"]
    assert (data["id"], data["status"], data["engine"], data["error"]) == (
        vid,
        "completed",
        "ok",
        None,
    )
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "QUJD" * 8).verify(req.body, req.headers)

    [logged] = _wait_log(client, vid, _settled)
    assert logged["id"] == event["id"] and logged["type"] == event["type"]
    assert logged["status"] == "succeeded"
    assert logged["payload"] == event
    [delivery] = logged["deliveries"]
    assert delivery["attempt_count"] == 1
    assert [a["status_code"] for a in delivery["attempts"]] == [200]


def test_500_three_times_then_200_gives_four_attempts_with_one_id(
    client: TestClient, receiver: Receiver
) -> None:
    receiver.script = [500, 500, 500]
    vid = _create(client, receiver.url)
    wait_terminal(client, vid)
    requests = receiver.wait(4)
    secret = _secret(client)
    ids = {r.headers["webhook-id"] for r in requests}
    assert len(ids) == 1
    assert {r.body for r in requests} == {requests[0].body}  # the same bytes each time
    for r in requests:
        Webhook(secret).verify(r.body, r.headers)

    [logged] = _wait_log(client, vid, _settled)
    assert logged["id"] in ids and logged["status"] == "succeeded"
    [delivery] = logged["deliveries"]
    assert delivery["attempt_count"] == 4
    attempts = delivery["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4]
    assert [a["status_code"] for a in attempts] == [500, 500, 500, 200]
    assert [a["succeeded"] for a in attempts] == [False, False, False, True]
    assert attempts[0]["error"]["code"] == "webhook.http_status"
    time.sleep(0.3)
    assert len(receiver.requests) == 4  # nothing after the success


def test_restart_between_attempts_loses_no_delivery(tmp_path: Path) -> None:
    receiver = Receiver()  # its port is known but nothing listens yet: the receiver is down
    slower = {**FAST, "webhook_retry_schedule": (0.3,), "webhook_max_attempts": 100}
    settings = make_settings(tmp_path / "data", allow_private_urls=True, **slower)
    with running_app(settings) as first:
        vid = _create(first, receiver.url)
        wait_terminal(first, vid)
        log = _wait_log(first, vid, lambda log: bool(log and log[0]["deliveries"][0]["attempts"]))
        event_id = log[0]["id"]
    before = _log_after_restart_attempts(settings, vid)
    assert before >= 1

    receiver.start()
    try:
        with running_app(settings) as second:
            [req] = receiver.wait(1)
            assert req.headers["webhook-id"] == event_id
            Webhook(_secret(second)).verify(req.body, req.headers)
            [logged] = _wait_log(second, vid, _settled)
    finally:
        receiver.stop()
    assert logged["id"] == event_id and logged["status"] == "succeeded"
    [delivery] = logged["deliveries"]
    attempts = delivery["attempts"]
    assert len(attempts) >= before + 1
    assert [a["attempt"] for a in attempts] == list(range(1, len(attempts) + 1))
    assert all(a["error"]["code"] == "webhook.connection_failed" for a in attempts[:-1])
    assert attempts[-1]["status_code"] == 200
    assert len(receiver.requests) == 1


def _log_after_restart_attempts(settings: Settings, vid: str) -> int:
    """Attempts recorded while the first app ran (read straight from the store)."""
    engine = open_database(settings.resolved_database_url)
    try:
        [event] = WebhookRepository(engine).log(vid)
        [delivery] = event.deliveries
        assert delivery.delivery.status is DeliveryStatus.PENDING
        return len(delivery.attempts)
    finally:
        engine.dispose()


def test_event_missed_by_a_crash_is_created_on_the_next_start(tmp_path: Path) -> None:
    """The process died between the job's status change and storing its event."""
    settings = make_settings(tmp_path / "data", allow_private_urls=True, **FAST)
    receiver = Receiver().start()
    try:
        with running_app(settings) as first:
            vid = _create(first, receiver.url)
            wait_terminal(first, vid)
            receiver.wait(1)
            first_id = _wait_log(first, vid, _settled)[0]["id"]
        engine = open_database(settings.resolved_database_url)
        with engine.begin() as conn:  # forget the event, as if it had never been stored
            for table in ("webhook_attempts", "webhook_deliveries", "webhook_events"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
        engine.dispose()
        with running_app(settings) as second:
            requests = receiver.wait(2)
            [logged] = _wait_log(second, vid, _settled)
    finally:
        receiver.stop()
    assert requests[1].headers["webhook-id"] == logged["id"] != first_id
    assert logged["type"] == "video.completed" and logged["status"] == "succeeded"


def test_canceled_job_fires_video_canceled(client: TestClient, receiver: Receiver) -> None:
    vid = _create(client, receiver.url, model="slow_with_progress", seconds=5)
    wait_for(client, vid, lambda b: b["status"] == "in_progress")
    assert client.post(f"/v1/videos/{vid}/cancel").status_code == 200
    assert wait_terminal(client, vid)["status"] == "canceled"
    [req] = receiver.wait(1)
    event = Webhook(_secret(client)).verify(req.body, req.headers)
    assert event["type"] == "video.canceled"
    assert event["data"]["status"] == "canceled"
    assert event["data"]["error"]["code"] == "canceled"


def test_failed_job_fires_video_failed(client: TestClient, receiver: Receiver) -> None:
    vid = _create(client, receiver.url, model="fails_in_run")
    assert wait_terminal(client, vid)["status"] == "failed"
    [req] = receiver.wait(1)
    event = Webhook(_secret(client)).verify(req.body, req.headers)
    assert event["type"] == "video.failed"
    assert event["data"]["status"] == "failed"
    assert "failed on purpose" in event["data"]["error"]["message"]


def test_private_and_metadata_targets_are_refused_and_logged(tmp_path: Path) -> None:
    """An address written into the URL that can never be reached is a 400 at create; a name
    is checked by the SSRF-safe fetcher at every attempt (DNS can change), and a refused
    address fails the delivery at once, logged."""
    receiver = Receiver().start()
    settings = make_settings(tmp_path / "data", allow_private_urls=False, **FAST)
    try:
        with running_app(settings) as client:
            for url, reason in (
                (receiver.url, "loopback"),
                ("http://169.254.169.254/latest/meta-data/", "metadata"),
                ("ftp://example.com/hook", "only http"),
            ):
                r = client.post("/v1/videos", json={**BODY, "webhook_url": url})
                assert r.status_code == 400, url
                err = r.json()["error"]
                assert err["code"] == "invalid_request.url" and err["param"] == "webhook_url"
                assert reason in err["message"], err
            vid = _create(client, "http://localhost:9/hook")
            wait_terminal(client, vid)
            [logged] = _wait_log(client, vid, _settled)
            assert logged["status"] == "failed"
            [delivery] = logged["deliveries"]
            [attempt] = delivery["attempts"]  # no retry
            assert attempt["status_code"] is None
            assert attempt["error"]["code"] == "webhook.url_forbidden_address"
            assert "not retried" in attempt["error"]["message"]
            assert "loopback" in attempt["error"]["message"]
    finally:
        receiver.stop()
    assert receiver.requests == []


def test_metadata_address_refused_even_when_private_urls_are_allowed(
    client: TestClient,
) -> None:
    r = client.post(
        "/v1/videos", json={**BODY, "webhook_url": "http://169.254.169.254/latest/meta-data/"}
    )
    assert r.status_code == 400
    assert "metadata" in r.json()["error"]["message"]


def test_redeliver_sends_the_same_event_again(client: TestClient, receiver: Receiver) -> None:
    vid = _create(client, receiver.url)
    wait_terminal(client, vid)
    [first] = receiver.wait(1)
    [logged] = _wait_log(client, vid, _settled)

    r = client.post(f"/v1/videos/{vid}/webhooks/{logged['id']}/redeliver")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending" and r.json()["event_id"] == logged["id"]
    second = receiver.wait(2)[1]
    assert second.headers["webhook-id"] == first.headers["webhook-id"] == logged["id"]
    assert second.body == first.body
    Webhook(_secret(client)).verify(second.body, second.headers)
    [logged] = _wait_log(
        client, vid, lambda log: [d["status"] for d in log[0]["deliveries"]] == ["succeeded"] * 2
    )
    assert len(logged["deliveries"]) == 2

    unknown = client.post(f"/v1/videos/{vid}/webhooks/evt_nope/redeliver")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found.webhook_event"


def test_log_and_redeliver_belong_to_the_videos_owner(
    client: TestClient, receiver: Receiver
) -> None:
    vid = _create(client, receiver.url)
    plain = _create(client, None)
    wait_terminal(client, vid)
    wait_terminal(client, plain)
    [logged] = _wait_log(client, vid, _settled)
    assert _log(client, plain) == []

    other = client.post("/v1/keys", json={"name": "someone else"}).json()["key"]
    headers = {"Authorization": f"Bearer {other}"}
    assert client.get(f"/v1/videos/{vid}/webhooks", headers=headers).status_code == 404
    r = client.post(f"/v1/videos/{vid}/webhooks/{logged['id']}/redeliver", headers=headers)
    assert r.status_code == 404
    anonymous = client.get(f"/v1/videos/{vid}/webhooks", headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_two_dispatchers_never_claim_the_same_attempt(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        repo = WebhookRepository(engine)
        event = WebhookEvent(
            id="evt_1",
            job_id="video_1",
            owner_key_id="key_1",
            type="video.completed",
            url="http://example.invalid/",
            payload="{}",
            created_at=100.0,
        )
        assert repo.insert_event(event, "whd_1")
        assert not repo.insert_event(dataclasses.replace(event, id="evt_2"), "whd_2")
        assert repo.due(100.0, 10) == ["whd_1"]
        assert repo.claim("whd_1", "a", 100.0, lease_until=170.0) is not None
        assert repo.claim("whd_1", "b", 100.0, lease_until=170.0) is None  # held by "a"
        assert repo.due(150.0, 10) == []
        # "a" died: after its lease "b" takes over, and "a" can no longer record anything
        assert repo.due(171.0, 10) == ["whd_1"]
        assert repo.claim("whd_1", "b", 171.0, lease_until=241.0) is not None
        attempt = WebhookAttempt("whd_1", 1, 171.0, 5, 200, None, None, True)
        assert not repo.finish(attempt, "a", DeliveryStatus.SUCCEEDED, None, 172.0)
        assert repo.finish(attempt, "b", DeliveryStatus.SUCCEEDED, None, 172.0)
        [log] = repo.log("video_1")
        [delivery] = log.deliveries
        assert delivery.delivery.status is DeliveryStatus.SUCCEEDED
        assert [a.attempt for a in delivery.attempts] == [1]
    finally:
        engine.dispose()


def test_progress_events_when_asked_for(client: TestClient, receiver: Receiver) -> None:
    vid = _create(
        client, receiver.url, model="slow_with_progress", seconds=2, webhook_progress=True
    )
    assert wait_terminal(client, vid)["status"] == "completed"
    received = receiver.wait(5)
    secret = _secret(client)
    bodies = []
    for request in received:
        Webhook(secret).verify(request.body, request.headers)
        bodies.append(json.loads(request.body))
    progress = sorted(b["data"]["progress"] for b in bodies if b["type"] == "video.progress")
    assert progress == [0, 25, 50, 75]
    assert [b["type"] for b in bodies].count("video.completed") == 1
    assert len({r.headers["webhook-id"] for r in received}) == 5


def test_no_progress_events_unless_asked(client: TestClient, receiver: Receiver) -> None:
    vid = _create(client, receiver.url, model="slow_with_progress", seconds=2)
    wait_terminal(client, vid)
    [only] = receiver.wait(1)
    time.sleep(0.3)
    assert len(receiver.requests) == 1
    assert json.loads(only.body)["type"] == "video.completed"
