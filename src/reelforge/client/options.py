"""The options of a create or quote (`RequestOptions`, `CreateOptions`) and the JSON body
they make: the references in order (local paths until uploaded, URLs as given), the fields
sent, and the `Idempotency-Key` made when none is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

from reelforge.client.instructions import PathLike

URL_PREFIXES = ("http://", "https://", "data:", "asset://")


class RequestOptions(TypedDict, total=False):
    """The fields of a create or quote besides `prompt` (docs/api/native.md). `images`,
    `videos` and `audios` are local paths or URLs (`https://`, `data:`, `asset://file_...`);
    local files are uploaded once (by content hash) and named by `file_id`. Their order, then
    `references`', defines `@Image1`, `@Video1`, `@Audio1`. A `references` item is
    `{"type": "image"|"video"|"audio", "url"|"file_id"|"path": ..., "role": ...}`. `None`
    means absent (the server's default)."""

    model: str | None
    seconds: int | str | None
    resolution: str | None
    aspect_ratio: str | None
    size: str | None
    images: Sequence[PathLike] | None
    videos: Sequence[PathLike] | None
    audios: Sequence[PathLike] | None
    references: Sequence[Mapping[str, Any]] | None
    generate_audio: bool | None
    seed: int | None
    codec: str | None
    alpha: bool | None
    return_last_frame: bool | None
    webhook_url: str | None
    webhook_progress: bool | None
    metadata: Mapping[str, str] | None
    end_user_id: str | None
    execution_expires_after: int | None


class CreateOptions(RequestOptions, total=False):
    """`RequestOptions` and the `Idempotency-Key` (one is made when none is given, so that a
    create retried after a lost answer never makes a second job)."""

    idempotency_key: str | None


_BODY_FIELDS = (
    "model", "seconds", "resolution", "aspect_ratio", "size", "generate_audio", "seed",
    "codec", "alpha", "return_last_frame", "webhook_url", "webhook_progress", "end_user_id",
    "execution_expires_after",
)  # fmt: skip


def new_idempotency_key() -> str:
    return "rf-" + uuid.uuid4().hex


def is_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(URL_PREFIXES)


def reference_list(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The references in order: `images`, `videos`, `audios` (paths or URLs), then
    `references` as given. Local paths stay as `{"path": ...}` until uploaded."""
    refs: list[dict[str, Any]] = []
    for kind, key in (("image", "images"), ("video", "videos"), ("audio", "audios")):
        for item in options.get(key) or ():
            source = "url" if is_url(item) else "path"
            refs.append({"type": kind, source: item if source == "url" else Path(item)})
    refs.extend(dict(r) for r in options.get("references") or ())
    return refs


def create_body(prompt: str, options: Mapping[str, Any], refs: list[dict[str, Any]]) -> dict:
    """The JSON body of a create or quote (nothing `None` is sent)."""
    unknown = set(options) - set(CreateOptions.__annotations__)
    if unknown:
        raise TypeError(f"unknown request option(s): {', '.join(sorted(unknown))}")
    body: dict[str, Any] = {"prompt": prompt}
    body.update({k: options[k] for k in _BODY_FIELDS if options.get(k) is not None})
    if refs:
        body["references"] = refs
    if options.get("metadata") is not None:
        body["metadata"] = dict(options["metadata"])
    return body
