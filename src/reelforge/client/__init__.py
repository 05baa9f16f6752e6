"""The Python SDK of the native reelforge API (`/v1/...`), over httpx: `Client` (sync) and
`AsyncClient` (asyncio), with the same methods.

    from reelforge import Client

    with Client("http://127.0.0.1:8000", api_key="rf_...") as rf:
        q = rf.quote("slow orbit around @Image1", images=["mug.png"], seconds=5)
        video = rf.create_video("slow orbit around @Image1", images=["mug.png"], seconds=5)
        video = rf.wait(video.id, on_progress=lambda v: print(v.status, v.progress))
        rf.download(video.id, "mug.mp4")

- Local reference files are uploaded once (`POST /v1/files`), de-duplicated by SHA-256
  (`FileCache`; give it a path to keep it across processes) and named by `file_id`.
- Every create carries an `Idempotency-Key` (a fresh one unless given), so a create retried
  after a lost answer finds its job instead of making a second one.
- Connection errors, timeouts, 408, 429 (after its `Retry-After`) and 5xx are retried with
  exponential backoff and jitter (tenacity; `RetryPolicy`), unless `x-should-retry: false`.
- `wait` and `events` follow the server-sent event stream and fall back to polling (with
  backoff) when it is not there or keeps breaking; `download` streams to disk and resumes
  with `Range`; `iter_videos` follows the pages.

The logic is written once (sans-I/O: the operations indexed in `protocol.py`, yielding the
`instructions.py`) and carried out by `sync.py` and `aio.py`.
Errors: `errors.py` (`ReelforgeClientError` is the root).
"""

from reelforge.client.aio import AsyncClient
from reelforge.client.base import DEFAULT_BASE_URL
from reelforge.client.batches import BatchRequest
from reelforge.client.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InsufficientCreditsError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReelforgeAPIError,
    ReelforgeClientError,
    ReelforgeConnectionError,
    ServerError,
    WaitTimeout,
)
from reelforge.client.files import FileCache
from reelforge.client.options import CreateOptions, RequestOptions
from reelforge.client.retry import RetryPolicy
from reelforge.client.sync import Client
from reelforge.client.types import (
    TERMINAL_STATUSES,
    Batch,
    BatchItem,
    BatchList,
    FileObject,
    Model,
    Quote,
    Usage,
    Video,
    VideoEvent,
    VideoList,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "TERMINAL_STATUSES",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchItem",
    "BatchList",
    "BatchRequest",
    "Client",
    "ConflictError",
    "CreateOptions",
    "FileCache",
    "FileObject",
    "InsufficientCreditsError",
    "Model",
    "NotFoundError",
    "PermissionDeniedError",
    "Quote",
    "RateLimitError",
    "ReelforgeAPIError",
    "ReelforgeClientError",
    "ReelforgeConnectionError",
    "RequestOptions",
    "RetryPolicy",
    "ServerError",
    "Usage",
    "Video",
    "VideoEvent",
    "VideoList",
    "WaitTimeout",
]
