"""Native API: /v1/batches (docs/api/batches.md)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from reelforge import codes
from reelforge.api.batches.wire import BatchCreateRequest, BatchRequestItem
from reelforge.api.common.openapi import inline_schema
from reelforge.api.common.strict_fields import Fields, check_fields
from reelforge.api.deps import BatchesDep, GenerateKey, OptionsDep, ReadKey, ViewsDep, WebhooksDep
from reelforge.api.videos.fields import NATIVE_FIELDS
from reelforge.api.videos.mapping import spec_from_fields
from reelforge.api.videos.webhook_routes import event_object
from reelforge.errors import InvalidRequest, PayloadTooLarge, ReelforgeError
from reelforge.jobs.batch_items import BatchRequest, BatchSnapshot, within
from reelforge.jobs.batch_items import BatchRequestItem as ParsedItem
from reelforge.jobs.views import JobViews
from reelforge.presenters.batches import batch_item, batch_object, batch_summary

router = APIRouter(prefix="/v1/batches", tags=["batches"])

BATCH_FIELDS = Fields.of(BatchCreateRequest.model_fields)
ITEM_FIELDS = Fields.of(
    BatchRequestItem.model_fields, hints={k: v for k, v in NATIVE_FIELDS.hints.items() if k != "n"}
)
_ITEM_ONLY = ("custom_id", "n")

_CREATE_BODY = {
    "requestBody": {
        "content": {"application/json": {"schema": inline_schema(BatchCreateRequest)}},
        "required": True,
    }
}


def parse_batch(data: Any, default_model: str) -> BatchRequest:
    """The JSON body -> a BatchRequest; each request through the native create's adapter
    (`spec_from_fields`), its errors naming the item (`requests[3].resolutoin`)."""
    if not isinstance(data, dict):
        raise InvalidRequest("request body must be a JSON object", param="body")
    check_fields(data, BATCH_FIELDS)
    raw = data.get("requests")
    if not isinstance(raw, list):
        raise InvalidRequest(
            "requests is required: a list of native create requests",
            code=codes.INVALID_REQUEST_MISSING_PARAMETER if raw is None else None,
            param="requests",
        )
    items = [_item(fields, i, default_model) for i, fields in enumerate(raw)]
    max_cost = data.get("max_cost")
    if (
        isinstance(max_cost, bool)
        or not isinstance(max_cost, int | float | None)
        or (max_cost is not None and not math.isfinite(max_cost))
    ):
        raise InvalidRequest(
            f"max_cost is {max_cost!r}; it must be a number",
            code=codes.INVALID_REQUEST_MAX_COST, param="max_cost",
        )  # fmt: skip
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise InvalidRequest(
            "metadata must be a map of strings", code=codes.INVALID_REQUEST_METADATA,
            param="metadata",
        )  # fmt: skip
    webhook_url = data.get("webhook_url")
    if webhook_url is not None and not isinstance(webhook_url, str):
        raise InvalidRequest(
            "webhook_url must be an http(s) URL", code=codes.INVALID_REQUEST_URL,
            param="webhook_url",
        )  # fmt: skip
    item_webhooks = data.get("item_webhooks")
    if item_webhooks is not None and not isinstance(item_webhooks, bool):
        raise InvalidRequest("item_webhooks must be true or false", param="item_webhooks")
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return BatchRequest(
        requests=tuple(items),
        max_cost=float(max_cost) if max_cost is not None else None,
        metadata={str(k): v for k, v in metadata.items()},
        webhook_url=webhook_url or None,
        item_webhooks=bool(item_webhooks),
        fingerprint=hashlib.sha256(canonical.encode()).hexdigest(),
    )


def _item(fields: Any, i: int, default_model: str) -> ParsedItem:
    where = f"requests[{i}]"
    if not isinstance(fields, dict):
        raise InvalidRequest(f"{where} must be an object (a native create request)", param=where)
    check_fields(fields, ITEM_FIELDS, f"{where}.")
    custom_id = fields.get("custom_id")
    if custom_id is None:
        custom_id = str(i)
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 255:
        raise InvalidRequest(
            f"{where}.custom_id must be a string of 1..255 characters",
            code=codes.INVALID_REQUEST_BATCH_CUSTOM_ID, param=f"{where}.custom_id",
        )  # fmt: skip
    n = fields.get("n")
    if n is None:
        n = 1
    if isinstance(n, bool) or not isinstance(n, int):
        raise InvalidRequest(
            f"{where}.n is {n!r}; it must be a whole number of takes",
            code=codes.INVALID_REQUEST_BATCH_TAKES, param=f"{where}.n",
        )  # fmt: skip
    native = {k: v for k, v in fields.items() if k not in _ITEM_ONLY}
    try:
        spec = spec_from_fields(native, [], default_model=default_model)
    except ReelforgeError as exc:
        raise within(exc, where) from None
    return ParsedItem(custom_id=custom_id, spec=spec, n=n)


def _views(views: JobViews, snapshot: BatchSnapshot) -> dict[str, Any]:
    return {v.job.id: v for v in views.views(list(snapshot.jobs.values()))}


@router.post("", status_code=202, openapi_extra=_CREATE_BODY, summary="Create a batch")
async def create_batch(
    request: Request, options: OptionsDep, batches: BatchesDep, views: ViewsDep, key: GenerateKey
) -> JSONResponse:
    """Every request is checked as `POST /v1/videos` checks it before anything is stored; the
    batch then admits its items one by one as the key's limits (and `max_cost`) allow."""
    length = request.headers.get("content-length")
    if length and int(length) > options.max_request_bytes:
        raise PayloadTooLarge(
            f"request body is {length} bytes; at most {options.max_request_bytes}"
        )
    body = await request.body()
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(
            f"request body is not valid JSON: {exc}", code=codes.INVALID_REQUEST_JSON,
            param="body",
        ) from exc  # fmt: skip
    idem = request.headers.get("idempotency-key")

    def create() -> dict[str, Any]:
        parsed = parse_batch(data, options.default_model)
        batch = batches.create(key.id, parsed, idempotency_key=idem)
        snapshot = batches.snapshot(key.id, batch.id)
        return batch_object(snapshot, _views(views, snapshot))

    return JSONResponse(await asyncio.to_thread(create), status_code=202)


@router.get("", summary="List batches")
def list_batches(
    batches: BatchesDep,
    key: ReadKey,
    after: str | None = None,
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    """The key's batches, newest first, without their items; page on with `after=last_id`."""
    page, has_more = batches.list_page(key.id, limit=limit, after=after)
    data = [batch_summary(s) for s in page]
    return {
        "object": "list",
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


@router.get("/{batch_id}", summary="Retrieve a batch with every item")
def get_batch(batch_id: str, batches: BatchesDep, views: ViewsDep, key: ReadKey) -> JSONResponse:
    snapshot = batches.snapshot(key.id, batch_id)
    headers = {} if snapshot.batch.status.is_terminal else {"openai-poll-after-ms": "1000"}
    return JSONResponse(batch_object(snapshot, _views(views, snapshot)), headers=headers)


@router.get("/{batch_id}/results", summary="The batch's items as JSON Lines")
def batch_results(
    batch_id: str, batches: BatchesDep, views: ViewsDep, key: ReadKey
) -> StreamingResponse:
    """One line per item, in order: its status, video, seed, cost, error and download links
    (the same object as `items[]` of the batch)."""
    snapshot = batches.snapshot(key.id, batch_id)
    by_job = _views(views, snapshot)

    def lines() -> Iterator[bytes]:
        for item in snapshot.items:
            yield (json.dumps(batch_item(snapshot, item, by_job)) + "\n").encode()

    return StreamingResponse(
        lines(),
        media_type="application/jsonl",
        headers={"Content-Disposition": f'attachment; filename="{batch_id}.jsonl"'},
    )


@router.post("/{batch_id}/cancel", summary="Cancel a batch: pending items skipped, jobs canceled")
def cancel_batch(
    batch_id: str, batches: BatchesDep, views: ViewsDep, key: GenerateKey
) -> dict[str, Any]:
    snapshot = batches.cancel(key.id, batch_id)
    return batch_object(snapshot, _views(views, snapshot))


@router.get("/{batch_id}/webhooks", summary="The batch's webhook event and delivery attempts")
def batch_webhooks(
    batch_id: str, batches: BatchesDep, webhooks: WebhooksDep, key: ReadKey
) -> dict[str, Any]:
    batches.get(key.id, batch_id)  # 404 for an unknown batch or another key's
    return {"object": "list", "data": [event_object(e) for e in webhooks.log(batch_id)]}
