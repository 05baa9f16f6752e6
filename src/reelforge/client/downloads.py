"""Downloads of a video's files (`GET /v1/videos/{id}/content`): streamed into a `.part`
file beside the target and renamed into place when whole, resumed with `Range` after a
broken connection (also by a later call, from the `.part` left behind).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from reelforge.client.errors import ReelforgeAPIError, ReelforgeConnectionError
from reelforge.client.instructions import Call, NextChunk, Op, OpenStream, PathLike, Sleep
from reelforge.client.retry import RetryPolicy


def part_path(target: Path, video_id: str, variant: str) -> Path:
    """Where a download grows until it is whole; named by video and variant, so it is only
    ever resumed with the same bytes (a finished video's files never change)."""
    return target.with_name(f".{target.name}.{video_id}.{variant}.part")


def download(video_id: str, path: PathLike, variant: str, policy: RetryPolicy) -> Op[Path]:
    """Stream `GET /v1/videos/{id}/content?variant=` into a `.part` file beside `path` and
    rename it into place, so `path` never holds a partial file. A broken connection resumes
    with `Range` where it stopped (also in a later call, from the `.part` left behind)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(target, video_id, variant)
    failures, reached = 0, -1
    while True:
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        call = Call("GET", f"/v1/videos/{video_id}/content", params={"variant": variant},
                    headers=headers)  # fmt: skip
        try:
            response = yield OpenStream(call)
        except ReelforgeAPIError as exc:
            if exc.status_code == 416 and offset:
                part.unlink(missing_ok=True)  # a stale or overlong part: start over
                continue
            raise
        expected = _expected_size(response, offset)
        if response.status_code != 206:
            offset = 0  # the server sent the whole file
        try:
            with part.open("r+b" if offset else "wb") as out:
                out.seek(offset)
                out.truncate()
                while True:
                    chunk = yield NextChunk()
                    if not chunk:
                        break
                    out.write(chunk)
            size = part.stat().st_size
            if expected is not None and size < expected:
                raise httpx.RemoteProtocolError(f"download ended at {size} of {expected} bytes")
        except httpx.TransportError as exc:
            size = part.stat().st_size if part.exists() else 0
            failures = 1 if size > reached else failures + 1  # count breaks without progress
            reached = max(reached, size)
            if failures > policy.max_retries:
                raise ReelforgeConnectionError(
                    f"download of {video_id} {variant} broke {failures} times: {exc}"
                ) from exc
            yield Sleep(policy.delay(failures, exc))
            continue
        part.replace(target)
        return target


def _expected_size(response: httpx.Response, offset: int) -> int | None:
    if response.status_code == 206:
        total = response.headers.get("content-range", "").rpartition("/")[2]
        if total.isdigit():
            return int(total)
        length = response.headers.get("content-length")
        return offset + int(length) if length and length.isdigit() else None
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() else None
