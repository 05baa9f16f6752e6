"""Server-side batches on a real service process (`tests/fixtures/serve.py`, the preview engine):
30 items in two keys' batches, each key allowed 3 videos at once, the service killed (SIGKILL)
mid-batch and started again. Every item completes once: no item lost, no job or charge twice,
and each batch's `batch.completed` reaches a real receiver once, signed with its key's secret."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook

from tests.live import AUTH, free_port, start_service
from tests.platform.test_webhooks import Receiver

ITEM = {"prompt": "a paper boat drifts down a rainy street, slow dolly in", "seconds": 1,
        "resolution": "480p", "aspect_ratio": "16:9", "generate_audio": False}  # fmt: skip
SIZES = {"a": 20, "b": 10}
MAX_ACTIVE = 3


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    return start_service(
        data_dir, port, DEFAULT_MODEL="preview", WORKER_CONCURRENCY="2",
        ALLOW_PRIVATE_URLS="true", QUALITY_REPORTS="false", WEBHOOK_POLL_SECONDS="0.05",
    )  # fmt: skip


def _batches(
    base: str, keys: dict[str, dict[str, Any]], ids: dict[str, str], *, items: bool = False
) -> dict[str, Any]:
    """Each key's batch: the list's summary while polling (no items: cheap for the service),
    the whole object with `items`."""
    out = {}
    for name, batch_id in ids.items():
        if items:
            out[name] = httpx.get(f"{base}/v1/batches/{batch_id}", headers=_auth(keys[name])).json()
        else:
            page = httpx.get(f"{base}/v1/batches", params={"limit": 1}, headers=_auth(keys[name]))
            out[name] = page.json()["data"][0]
            assert out[name]["id"] == batch_id
    return out


def _auth(key: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['key']}"}


def _wait(base: str, keys: dict[str, Any], ids: dict[str, str], done: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        batches = _batches(base, keys, ids)
        if done(batches):
            return batches
        assert time.monotonic() < deadline, {n: b["request_counts"] for n, b in batches.items()}
        time.sleep(0.3)


def test_sigkill_mid_batch_loses_no_item_and_duplicates_none(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    receiver = Receiver().start()
    proc = _start(data_dir, port)
    try:
        keys: dict[str, dict[str, Any]] = {}
        for name in SIZES:
            r = httpx.post(f"{base}/v1/keys", headers=AUTH, json={
                "name": name, "unlimited": True, "max_active_jobs": MAX_ACTIVE})  # fmt: skip
            assert r.status_code == 200, r.text
            keys[name] = r.json()
        bodies = {
            name: {
                "requests": [{**ITEM, "custom_id": f"{name}{i}"} for i in range(size)],
                "webhook_url": receiver.url,
                "metadata": {"key": name},
            }
            for name, size in SIZES.items()
        }
        ids: dict[str, str] = {}
        for name, body in bodies.items():
            headers = {**_auth(keys[name]), "Idempotency-Key": f"batch-{name}"}
            r = httpx.post(f"{base}/v1/batches", json=body, headers=headers)
            assert r.status_code == 202, r.text
            ids[name] = r.json()["id"]

        def started(batches: dict[str, Any]) -> bool:
            counts = [b["request_counts"] for b in batches.values()]
            return sum(c["completed"] for c in counts) >= 8 and all(
                c["queued"] + c["in_progress"] <= MAX_ACTIVE for c in counts
            )

        _wait(base, keys, ids, started, timeout=90)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

        proc = _start(data_dir, port)
        _wait(
            base, keys, ids,
            lambda bs: all(b["status"] == "completed" for b in bs.values()), timeout=120,
        )  # fmt: skip
        ended = _batches(base, keys, ids, items=True)
        for name, batch in ended.items():
            key = keys[name]
            assert batch["request_counts"]["completed"] == SIZES[name], batch["request_counts"]
            items = batch["items"]
            assert [i["custom_id"] for i in items] == [f"{name}{i}" for i in range(SIZES[name])]
            assert all(i["status"] == "completed" and i["error"] is None for i in items)
            # One video per item, and the key has no other.
            videos = httpx.get(
                f"{base}/v1/videos", params={"limit": 100}, headers=_auth(key)
            ).json()["data"]  # fmt: skip
            assert sorted(v["id"] for v in videos) == sorted(i["video_id"] for i in items)
            # One charge per video, and the batch's cost is their sum.
            ledger = httpx.get(f"{base}/v1/keys/{key['id']}/ledger", headers=AUTH).json()["data"]
            charges = [e for e in ledger if e["kind"] == "charge"]
            assert sorted(e["job_id"] for e in charges) == sorted(i["video_id"] for i in items)
            total = -sum(e["amount"] for e in charges)
            assert abs(total - batch["usage"]["cost"]) < 1e-6
            # The results, one JSON line per item.
            lines = httpx.get(f"{base}/v1/batches/{batch['id']}/results", headers=_auth(key))
            results = [json.loads(line) for line in lines.text.splitlines()]
            assert [r["video_id"] for r in results] == [i["video_id"] for i in items]
            # The same create again (same Idempotency-Key) is the same batch after the restart.
            headers = {**_auth(key), "Idempotency-Key": f"batch-{name}"}
            again = httpx.post(f"{base}/v1/batches", json=bodies[name], headers=headers)
            assert again.json()["id"] == batch["id"]

        receiver.wait(2, timeout=15)
        time.sleep(0.5)  # a duplicate would arrive within this
        assert len(receiver.requests) == 2, [r.body[:80] for r in receiver.requests]
        seen = {}
        for request in receiver.requests:
            owner = next(
                n for n, b in ended.items() if b["id"].encode() in request.body
            )  # fmt: skip
            event = Webhook(keys[owner]["webhook_secret"]).verify(request.body, request.headers)
            assert event["type"] == "batch.completed"
            assert event["data"]["request_counts"]["completed"] == SIZES[owner]
            seen[owner] = event["data"]["id"]
        assert seen == ids
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        receiver.stop()
