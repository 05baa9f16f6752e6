"""Server-side batches (`/v1/batches`, docs/api/batches.md): `BatchRequest`, create (local
files uploaded first, once each; an `Idempotency-Key`), get, list, cancel, the results
(JSON Lines) and waiting by polling until the batch is done.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reelforge.client.errors import WaitTimeout
from reelforge.client.events import WaitOptions
from reelforge.client.files import FileCache
from reelforge.client.instructions import Call, Emit, Op, Sleep
from reelforge.client.options import RequestOptions, new_idempotency_key
from reelforge.client.types import Batch, BatchItem, BatchList
from reelforge.client.uploads import request_body


class BatchRequest(RequestOptions, total=False):
    """One request of a server-side batch: `prompt`, the create options (local files are
    uploaded first, once each), and `custom_id` and `n` (takes, each with its own seed)."""

    custom_id: str | None
    prompt: str
    n: int | None


def create_batch(
    requests: Sequence[Mapping[str, Any]],
    cache: FileCache,
    *,
    max_cost: float | None = None,
    metadata: Mapping[str, str] | None = None,
    webhook_url: str | None = None,
    item_webhooks: bool | None = None,
    idempotency_key: str | None = None,
) -> Op[Batch]:
    items = []
    for req in requests:
        options = dict(req)
        prompt = options.pop("prompt")
        extra = {k: options.pop(k) for k in ("custom_id", "n") if k in options}
        body = yield from request_body(prompt, options, cache)
        items.append({**{k: v for k, v in extra.items() if v is not None}, **body})
    payload: dict[str, Any] = {"requests": items}
    for name, value in (
        ("max_cost", max_cost), ("webhook_url", webhook_url), ("item_webhooks", item_webhooks),
        ("metadata", dict(metadata) if metadata is not None else None),
    ):  # fmt: skip
        if value is not None:
            payload[name] = value
    key = idempotency_key or new_idempotency_key()
    response = yield Call("POST", "/v1/batches", json=payload, headers={"Idempotency-Key": key})
    return Batch.from_json(response.json())


def get_batch(batch_id: str) -> Op[Batch]:
    response = yield Call("GET", f"/v1/batches/{batch_id}")
    return Batch.from_json(response.json())


def list_batches(limit: int = 20, after: str | None = None) -> Op[BatchList]:
    params: dict[str, Any] = {"limit": limit, **({"after": after} if after else {})}
    response = yield Call("GET", "/v1/batches", params=params)
    return BatchList.from_json(response.json())


def cancel_batch(batch_id: str) -> Op[Batch]:
    response = yield Call("POST", f"/v1/batches/{batch_id}/cancel")
    return Batch.from_json(response.json())


def batch_results(batch_id: str) -> Op[list[BatchItem]]:
    """`GET /v1/batches/{id}/results`: one item object per line (JSON Lines)."""
    response = yield Call("GET", f"/v1/batches/{batch_id}/results", headers={"Accept": "*/*"})
    return [
        BatchItem.from_json(json.loads(line)) for line in response.text.splitlines() if line.strip()
    ]


def wait_batch(batch_id: str, opts: WaitOptions, clock: Callable[[], float]) -> Op[Batch]:
    """Poll the batch until it is `completed` or `canceled`, emitting it at each change of
    its counts; raises `WaitTimeout` past `opts.timeout`."""
    deadline = None if opts.timeout is None else clock() + opts.timeout
    unchanged, last = 0, None
    while True:
        batch = yield from get_batch(batch_id)
        state = (batch.status, tuple(sorted(batch.request_counts.items())))
        if state != last:
            unchanged, last = 0, state
            yield Emit(batch)
        else:
            unchanged += 1
        if batch.is_terminal:
            return batch
        delay = min(opts.max_poll_interval, opts.poll_interval * opts.backoff**unchanged)
        if deadline is not None:
            left = deadline - clock()
            if left <= 0:
                raise WaitTimeout(batch, opts.timeout or 0.0)
            delay = min(delay, left)
        yield Sleep(delay)
