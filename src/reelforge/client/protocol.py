"""What the SDK does, written once for the sync and the async client (sans-I/O): the index of
its operations, which `Client` and `AsyncClient` (`sync.py`, `aio.py`) reach as `ops.<name>`.

Each operation is a generator that yields instructions (`Call`, `OpenStream`, `NextChunk`,
`Sleep`, `Emit`, `Once`: `instructions.py`) and receives their results; the drivers only
carry the instructions out, with httpx and `time.sleep` or with httpx's async client and
`asyncio.sleep`. The operations live by concept: request options and bodies (`options.py`),
uploads (`uploads.py`), videos (`videos.py`), waiting by event stream or polling
(`events.py`), resumable downloads (`downloads.py`), the account (`account.py`) and batches
(`batches.py`); the retry policy is `retry.py`. Nothing is written twice.
"""

from __future__ import annotations

from reelforge.client.account import json_call, models, usage
from reelforge.client.batches import (
    BatchRequest,
    batch_results,
    cancel_batch,
    create_batch,
    get_batch,
    list_batches,
    wait_batch,
)
from reelforge.client.downloads import download, part_path
from reelforge.client.events import POLL_AFTER_HEADER, WaitOptions, video_events
from reelforge.client.options import (
    URL_PREFIXES,
    CreateOptions,
    RequestOptions,
    create_body,
    is_url,
    new_idempotency_key,
    reference_list,
)
from reelforge.client.uploads import request_body, resolve_references, upload_file
from reelforge.client.videos import (
    cancel_video,
    create_video,
    delete_video,
    get_video,
    iter_videos,
    list_videos,
    quote,
)

__all__ = [
    "POLL_AFTER_HEADER", "URL_PREFIXES", "BatchRequest", "CreateOptions", "RequestOptions",
    "WaitOptions", "batch_results", "cancel_batch", "cancel_video", "create_batch", "create_body",
    "create_video", "delete_video", "download", "get_batch", "get_video", "is_url", "iter_videos",
    "json_call", "list_batches", "list_videos", "models", "new_idempotency_key", "part_path",
    "quote", "reference_list", "request_body", "resolve_references", "upload_file", "usage",
    "video_events", "wait_batch",
]  # fmt: skip
