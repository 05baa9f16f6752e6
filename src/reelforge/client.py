"""A small synchronous SDK for the native reelforge API (`/v1/videos`), over httpx.

    with Client(api_key="rf_...") as client:
        video = client.create_video("A red fox runs through snow @Image1", images=["fox.png"])
        video = client.wait(video.id, on_progress=lambda v: print(v.progress))
        client.download(video.id, "fox.mp4")

Local files are uploaded first with `POST /v1/files` and then named by `file_id` in a JSON
create request. Every non-2xx answer raises `ReelforgeAPIError`; network failures raise the
underlying `httpx.TransportError`.

    ReelforgeClientError
    ├── ReelforgeAPIError   the server answered with an error (status_code, code, message, param)
    └── WaitTimeout         `Client.wait` ran past its timeout (also a `TimeoutError`)
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "DEFAULT_BASE_URL",
    "TERMINAL_STATUSES",
    "Client",
    "ReelforgeAPIError",
    "ReelforgeClientError",
    "Video",
    "VideoList",
    "WaitTimeout",
]

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
TERMINAL_STATUSES = frozenset({"completed", "failed", "canceled", "expired"})
POLL_AFTER_HEADER = "openai-poll-after-ms"

PathLike = str | os.PathLike[str]


class ReelforgeClientError(Exception):
    """Base of every error this module raises itself."""


class ReelforgeAPIError(ReelforgeClientError):
    """The server answered with an HTTP error and `{"error": {code, message, param, type}}`."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        param: str | None = None,
        *,
        type: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.message = message
        self.param = param
        self.type = type
        self.request_id = request_id
        self.retry_after = retry_after

    @classmethod
    def from_response(cls, response: httpx.Response) -> ReelforgeAPIError:
        code, message, param, type_ = f"http_{response.status_code}", "", None, None
        try:
            body = response.json()
        except ValueError:
            body = None
        err = body.get("error", body) if isinstance(body, dict) else None
        if isinstance(err, dict):
            code = str(err.get("code") or code)
            message = str(err.get("message") or err.get("detail") or "")
            param = err.get("param")
            type_ = err.get("type")
        if not message:
            message = response.text.strip()[:500] or response.reason_phrase
        retry_after: float | None = None
        with contextlib.suppress(ValueError):
            retry_after = float(response.headers.get("retry-after", ""))
        return cls(
            response.status_code,
            code,
            message,
            param if isinstance(param, str) else None,
            type=type_ if isinstance(type_, str) else None,
            request_id=response.headers.get("x-request-id"),
            retry_after=retry_after,
        )


class WaitTimeout(ReelforgeClientError, TimeoutError):
    """`Client.wait` gave up; `video` is the last state seen."""

    def __init__(self, video: Video, timeout: float) -> None:
        super().__init__(f"{video.id} still {video.status} after {timeout:g}s")
        self.video = video


@dataclass(frozen=True)
class Video:
    """The native Video object; fields not named here are in `raw`."""

    id: str
    status: str
    progress: float
    stage: str | None
    model: str | None
    engine: str | None
    seconds: int | str | None
    size: str | None
    error: dict[str, Any] | None
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Video:
        error = data.get("error")
        return cls(
            id=str(data["id"]),
            status=str(data.get("status") or ""),
            progress=float(data.get("progress") or 0),
            stage=data.get("stage"),
            model=data.get("model"),
            engine=data.get("engine"),
            seconds=data.get("seconds"),
            size=data.get("size"),
            error=dict(error) if isinstance(error, Mapping) else None,
            raw=dict(data),
        )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class VideoList:
    """One cursor page of `GET /v1/videos`; pass `last_id` as `after` while `has_more`."""

    data: list[Video]
    has_more: bool
    first_id: str | None
    last_id: str | None


class Client:
    """Synchronous client of one reelforge server. Use as a context manager or call `close()`.

    `transport` and `sleep` are seams for tests (an `httpx.MockTransport`, a fake clock).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        timeout: float | None = 60.0,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        base = base_url.rstrip("/")
        base = base.removesuffix("/v1")  # accept OpenAI-style base URLs too
        headers = {"Accept": "application/json", "User-Agent": "reelforge-python"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=base, headers=headers, timeout=timeout, transport=transport
        )
        self._sleep = sleep
        self._clock = clock

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.is_error:
            raise ReelforgeAPIError.from_response(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        return response.json() if response.content else None

    # -- files ------------------------------------------------------------------------------

    def upload_file(self, path: PathLike) -> dict[str, Any]:
        """`POST /v1/files`; returns the file object (`id` is `file_...`)."""
        p = Path(path)
        mime = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        with p.open("rb") as fh:
            data: dict[str, Any] = self._json(
                "POST", "/v1/files", files={"file": (p.name, fh, mime)}
            )
        return data

    # -- videos -----------------------------------------------------------------------------

    def create_video(
        self,
        prompt: str,
        *,
        model: str | None = None,
        seconds: int | str | None = None,
        resolution: str | None = None,
        aspect_ratio: str | None = None,
        size: str | None = None,
        images: Sequence[PathLike] = (),
        videos: Sequence[PathLike] = (),
        audios: Sequence[PathLike] = (),
        references: Sequence[Mapping[str, Any]] | None = None,
        generate_audio: bool | None = None,
        seed: int | None = None,
        codec: str | None = None,
        idempotency_key: str | None = None,
        webhook_url: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Video:
        """`POST /v1/videos`. Reference order (which defines `@Image1`, `@Video1`, ...):
        `images`, `videos`, `audios` as local files, then `references` as given. A reference
        dict may carry `"path"` instead of `url`/`file_id`/`data`; that file is uploaded first.
        """
        refs: list[dict[str, Any]] = [
            {"type": kind, "path": p}
            for kind, paths in (("image", images), ("video", videos), ("audio", audios))
            for p in paths
        ]
        refs.extend(dict(r) for r in references or ())
        for ref in refs:
            if "path" in ref:
                ref["file_id"] = self.upload_file(ref.pop("path"))["id"]
        body: dict[str, Any] = {
            "prompt": prompt,
            "model": model,
            "seconds": seconds,
            "resolution": resolution,
            "aspect_ratio": aspect_ratio,
            "size": size,
            "references": refs or None,
            "generate_audio": generate_audio,
            "seed": seed,
            "codec": codec,
            "webhook_url": webhook_url,
            "metadata": dict(metadata) if metadata is not None else None,
        }
        body = {k: v for k, v in body.items() if v is not None}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return Video.from_json(self._json("POST", "/v1/videos", json=body, headers=headers))

    def get_video(self, video_id: str) -> Video:
        return self._get_video(video_id)[0]

    def _get_video(self, video_id: str) -> tuple[Video, float | None]:
        response = self._request("GET", f"/v1/videos/{video_id}")
        poll_after: float | None = None
        with contextlib.suppress(ValueError):
            poll_after = float(response.headers.get(POLL_AFTER_HEADER, "")) / 1000.0
        return Video.from_json(response.json()), poll_after

    def list_videos(
        self, limit: int = 20, after: str | None = None, status: str | None = None
    ) -> VideoList:
        params: dict[str, str | int] = {"limit": limit}
        if after:
            params["after"] = after
        if status:
            params["status"] = status
        page = self._json("GET", "/v1/videos", params=params)
        return VideoList(
            data=[Video.from_json(v) for v in page.get("data", [])],
            has_more=bool(page.get("has_more")),
            first_id=page.get("first_id"),
            last_id=page.get("last_id"),
        )

    def cancel_video(self, video_id: str) -> Video:
        return Video.from_json(self._json("POST", f"/v1/videos/{video_id}/cancel"))

    def delete_video(self, video_id: str) -> None:
        self._request("DELETE", f"/v1/videos/{video_id}")

    def wait(
        self,
        video_id: str,
        poll_interval: float = 1.0,
        timeout: float | None = None,
        on_progress: Callable[[Video], None] | None = None,
    ) -> Video:
        """Poll until the job is terminal and return it (whatever its status: check
        `video.status`). Sleeps for the server's `openai-poll-after-ms` hint when it sends one,
        else `poll_interval`. Raises `WaitTimeout` after `timeout` seconds."""
        deadline = None if timeout is None else self._clock() + timeout
        while True:
            video, poll_after = self._get_video(video_id)
            if on_progress is not None:
                on_progress(video)
            if video.is_terminal:
                return video
            delay = poll_interval if poll_after is None else poll_after
            if deadline is not None:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    raise WaitTimeout(video, timeout or 0.0)
                delay = min(delay, remaining)
            self._sleep(max(delay, 0.0))

    def download(self, video_id: str, path: PathLike, variant: str = "video") -> Path:
        """Stream `GET /v1/videos/{id}/content?variant=` into a temporary file beside `path`
        and rename it into place, so `path` never holds a partial file."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=".part"
        )
        tmp = Path(tmp_name)
        try:
            with (
                os.fdopen(fd, "wb") as out,
                self._http.stream(
                    "GET",
                    f"/v1/videos/{video_id}/content",
                    params={"variant": variant},
                    headers={"Accept": "*/*"},
                    follow_redirects=True,
                ) as response,
            ):
                if response.is_error:
                    response.read()
                    raise ReelforgeAPIError.from_response(response)
                for chunk in response.iter_bytes():
                    out.write(chunk)
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target

    # -- keys (admin) -----------------------------------------------------------------------

    def create_key(self, name: str, scopes: Sequence[str] | None = None) -> dict[str, Any]:
        """`POST /v1/keys` (admin): `{id, key, name, scopes, webhook_secret}`; `key` is shown
        only here."""
        body: dict[str, Any] = {"name": name}
        if scopes:
            body["scopes"] = list(scopes)
        data: dict[str, Any] = self._json("POST", "/v1/keys", json=body)
        return data

    def models(self) -> list[dict[str, Any]]:
        """`GET /v1/models`: every engine and model name, ready or not and why, what each
        accepts and its price per second."""
        data: list[dict[str, Any]] = self._json("GET", "/v1/models").get("data", [])
        return data

    def list_keys(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self._json("GET", "/v1/keys").get("data", [])
        return data

    def revoke_key(self, key_id: str) -> None:
        self._request("DELETE", f"/v1/keys/{key_id}")

    def me(self) -> dict[str, Any]:
        """`GET /v1/keys/me`: the calling key's id, name, scopes, limits and webhook secret."""
        data: dict[str, Any] = self._json("GET", "/v1/keys/me")
        return data
