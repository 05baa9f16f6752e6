"""Uploads of local reference files: `POST /v1/files` once per content (by SHA-256, through
the client's `FileCache`, checking once that the server still has a remembered file), and
the body of a create or quote with every local path replaced by its `file_id`.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reelforge.client.errors import ReelforgeAPIError
from reelforge.client.files import FileCache
from reelforge.client.instructions import Call, Once, Op, PathLike, UploadPart
from reelforge.client.options import create_body, reference_list
from reelforge.client.types import FileObject


def upload_file(path: PathLike, cache: FileCache) -> Op[FileObject]:
    """`POST /v1/files` once per content: the same bytes (by SHA-256) give the file id
    already known, after checking once that the server still has it."""
    p = Path(path)
    digest = cache.digest(p)
    found: FileObject = yield Once(f"upload:{digest}", lambda: _upload_once(p, digest, cache))
    return found


def _upload_once(path: Path, digest: str, cache: FileCache) -> Op[FileObject]:
    file_id, verified = cache.lookup(digest)
    if file_id is not None:
        if verified:
            return FileObject(file_id, None, None, None, path.name, digest, {"id": file_id})
        try:
            response = yield Call("GET", f"/v1/files/{file_id}")
        except ReelforgeAPIError as exc:
            if exc.status_code != 404:
                raise
            cache.forget(digest)
        else:
            known = FileObject.from_json(response.json())
            if known.sha256 in (None, digest):
                cache.verified(digest)
                return known
            cache.forget(digest)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = yield Call("POST", "/v1/files", upload=UploadPart(path, "file", mime))
    uploaded = FileObject.from_json(response.json())
    cache.remember(digest, uploaded)
    return uploaded


def resolve_references(refs: list[dict[str, Any]], cache: FileCache) -> Op[list[dict]]:
    """Every `{"path": ...}` reference uploaded and named by `file_id` instead."""
    out = []
    for ref in refs:
        if "path" in ref:
            ref = dict(ref)
            uploaded = yield from upload_file(ref.pop("path"), cache)
            ref["file_id"] = uploaded.id
        out.append(ref)
    return out


def request_body(prompt: str, options: Mapping[str, Any], cache: FileCache) -> Op[dict]:
    refs = yield from resolve_references(reference_list(options), cache)
    return create_body(prompt, options, refs)
