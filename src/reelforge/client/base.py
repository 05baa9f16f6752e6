"""What the sync and the async client share besides the operations: configuration (base URL,
key, headers, retry policy, upload cache) and the httpx arguments of one request."""

from __future__ import annotations

import os
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx

from reelforge.client.errors import ReelforgeAPIError, ReelforgeConnectionError
from reelforge.client.events import WaitOptions
from reelforge.client.files import FileCache
from reelforge.client.instructions import Call, Emit, PathLike
from reelforge.client.retry import RetryPolicy

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
try:
    from importlib.metadata import version as _version

    USER_AGENT = f"reelforge-python/{_version('reelforge')}"
except Exception:  # pragma: no cover - not installed as a distribution
    USER_AGENT = "reelforge-python"


@dataclass
class Done:
    """The end of a driven operation and its value."""

    value: Any


Step = Emit | Done


class BaseClient:
    """Configuration of a client. `api_key` defaults to `$REELFORGE_API_KEY`, `base_url` to
    `$REELFORGE_URL` (else http://127.0.0.1:8000; a trailing `/v1` is accepted). `file_cache`
    is a `FileCache` or the path of its JSON file (default: in memory, for this client)."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = 60.0,
        *,
        max_retries: int = 3,
        retry_policy: RetryPolicy | None = None,
        file_cache: FileCache | PathLike | None = None,
    ) -> None:
        base = (base_url or os.environ.get("REELFORGE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.base_url = base.removesuffix("/v1")
        key = api_key if api_key is not None else os.environ.get("REELFORGE_API_KEY")
        self.headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        self.timeout = timeout
        self.policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.files = file_cache if isinstance(file_cache, FileCache) else FileCache(file_cache)

    def _policy_for(self, call: Call) -> RetryPolicy:
        if call.retry:
            return self.policy
        return RetryPolicy(max_retries=0)

    @staticmethod
    def _wait_options(poll_interval: float, timeout: float | None, stream: bool) -> WaitOptions:
        return WaitOptions(poll_interval=poll_interval, timeout=timeout, stream=stream)

    def _request_args(self, call: Call, stack: ExitStack) -> dict[str, Any]:
        """httpx arguments of `call`; an upload's file is opened on `stack` (once per
        attempt, so that a retry sends the file from its start)."""
        args: dict[str, Any] = {"params": call.params, "headers": call.headers}
        if call.json is not None:
            args["json"] = call.json
        if call.timeout is not None:
            args["timeout"] = httpx.Timeout(call.timeout)
        if call.upload is not None:
            fh = stack.enter_context(call.upload.path.open("rb"))
            args["files"] = {call.upload.field: (call.upload.path.name, fh, call.upload.mime_type)}
        return args

    def _connection_error(self, call: Call, exc: httpx.TransportError) -> ReelforgeConnectionError:
        what = (
            "cannot reach"
            if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            else ("lost the connection to")
        )
        return ReelforgeConnectionError(
            f"{what} {self.base_url} ({call.method} {call.path}): {type(exc).__name__}: {exc}"
        )

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        if response.is_error:
            raise ReelforgeAPIError.from_response(response)
