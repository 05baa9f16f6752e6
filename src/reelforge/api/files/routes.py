"""/v1/files: upload a reference once, use it many times by id."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from reelforge import codes
from reelforge.api.deps import FilesDep, GenerateKey, IntakeDep, OptionsDep, ReadKey
from reelforge.errors import InvalidRequest, NotFound, PayloadTooLarge
from reelforge.store.file_repository import FileRecord

router = APIRouter(prefix="/v1/files", tags=["files"])


def file_object(rec: FileRecord) -> dict[str, Any]:
    return {
        "id": rec.id,
        "object": "file",
        "bytes": rec.bytes,
        "mime_type": rec.mime_type,
        "kind": rec.kind,
        "filename": rec.filename,
        "width": rec.width,
        "height": rec.height,
        "seconds": rec.seconds,
        "fps": rec.fps,
        "sha256": rec.sha256,
        "created_at": int(rec.created_at),
    }


@router.post("", summary="Upload a reference file (multipart field `file`)")
async def upload_file(
    request: Request, options: OptionsDep, intake: IntakeDep, key: GenerateKey
) -> dict[str, Any]:
    length = request.headers.get("content-length")
    limit = options.max_request_bytes
    if length and int(length) > limit:
        raise PayloadTooLarge(f"upload is {length} bytes; at most {limit}", param="file")
    form = await request.form(max_files=1)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InvalidRequest("multipart field 'file' is required", param="file")
    data = await upload.read()
    declared = form.get("kind")
    rec = await asyncio.to_thread(
        intake.upload,
        key.id,
        data,
        declared_kind=declared if isinstance(declared, str) and declared else None,
        mime_type=upload.content_type,
        filename=upload.filename,
    )
    return file_object(rec)


@router.get("/{file_id}", summary="Describe an uploaded file")
def get_file(file_id: str, files: FilesDep, key: ReadKey) -> dict[str, Any]:
    rec = files.get(file_id, key.id)
    if rec is None:
        raise NotFound(f"no file {file_id!r}", code=codes.NOT_FOUND_FILE, param="id")
    return file_object(rec)


@router.delete("/{file_id}", summary="Forget an uploaded file")
def delete_file(file_id: str, files: FilesDep, key: GenerateKey) -> dict[str, Any]:
    if not files.delete(file_id, key.id):
        raise NotFound(f"no file {file_id!r}", code=codes.NOT_FOUND_FILE, param="id")
    return {"id": file_id, "object": "file.deleted", "deleted": True}
