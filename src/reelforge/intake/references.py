"""Turn the references a client named into stored, probed references.

Each reference is fetched or decoded once, checked against what the client declared (kind, MIME
type, file name), probed (`probe.py`) and checked against the limits (`rules.py`). Only when the
whole request passed are the bytes stored, under their content hash (`refs/<sha256>`), so
identical bytes are stored once however often they are sent and a refused request leaves nothing
behind. Probe results are remembered per content hash, so a reference reused across a batch is
neither written nor decoded again.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from reelforge import codes
from reelforge.core.references import StoredReference
from reelforge.errors import (
    InvalidReference,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    UnprocessableMedia,
)
from reelforge.intake.fetch import FetchPolicy, ReferenceTooLarge, SafeFetcher
from reelforge.intake.formats import (
    SNIFF_BYTES,
    MediaFormat,
    declared_by_filename,
    declared_by_mime,
)
from reelforge.intake.limits import Limits
from reelforge.intake.local import content_key
from reelforge.intake.probe import ProbeResult, check_format, probe, sniff_kind
from reelforge.intake.rules import (
    Where,
    check_bytes,
    check_counts,
    check_reference_media,
    check_totals,
    reference_error,
)
from reelforge.intake.sources import decode_base64, decode_data_uri, file_id_of, looks_like_url
from reelforge.spec import ReferenceInput, ReferenceKind, ReferenceRole
from reelforge.storage.base import Storage
from reelforge.store.file_repository import FileRecord, FileRepository

__all__ = ["ReferenceIntake", "check_counts"]

PROBE_CACHE_SIZE = 2048


class ReferenceIntake:
    def __init__(
        self,
        storage: Storage,
        files: FileRepository,
        limits: Limits,
        *,
        allow_private_urls: bool = False,
    ) -> None:
        self._storage = storage
        self._files = files
        self.limits = limits
        self._allow_private_urls = allow_private_urls
        self._probed: OrderedDict[tuple[str, ReferenceKind], ProbeResult] = OrderedDict()
        self._lock = threading.Lock()

    # ---- public -----------------------------------------------------------------------

    def upload(
        self,
        owner_key_id: str,
        data: bytes,
        *,
        declared_kind: str | None,
        mime_type: str | None,
        filename: str | None,
    ) -> FileRecord:
        """`POST /v1/files`: check and store a reference once, to be used by id."""
        kind = sniff_kind(data[:16])
        if declared_kind is not None:
            try:
                kind = ReferenceKind(declared_kind)
            except ValueError:
                raise InvalidRequest(
                    f"kind is {declared_kind!r}; allowed: image, video, audio", param="kind"
                ) from None
        if kind is None:
            raise UnprocessableMedia(  # 422, as create answers `invalid_reference.format`
                "file is not a recognised image (PNG, JPEG, WebP, BMP, TIFF, GIF), video "
                "(MP4, MOV) or audio (MP3, WAV) file",
                code=codes.INVALID_REFERENCE_FORMAT,
                param="file",
            )
        stored = self.store_bytes(
            data, kind, param="file", index=None, mime_type=mime_type, filename=filename
        )
        rec = FileRecord(
            id="file_" + secrets.token_hex(12), owner_key_id=owner_key_id, kind=kind.value,
            storage_key=stored.storage_key, sha256=stored.sha256, bytes=stored.bytes,
            mime_type=stored.mime_type, filename=filename, width=stored.width,
            height=stored.height, seconds=stored.seconds, fps=stored.fps,
            created_at=time.time(),
        )  # fmt: skip
        self._files.insert(rec)
        return rec

    def check_callback_url(self, url: object, *, param: str) -> None:
        """A webhook or callback URL, checked at create so a bad one is a 400 now rather than
        a silent delivery failure later."""
        if not isinstance(url, str) or not url.strip():
            raise InvalidRequest(f"{param} must be an http(s) URL", code=codes.INVALID_REQUEST_URL,
                                 param=param)  # fmt: skip
        policy = FetchPolicy(allow_private=self._allow_private_urls)
        try:
            SafeFetcher(policy).check_target(url, param=param)
        except InvalidReference as exc:
            raise InvalidRequest(
                f"{param}: {exc.message}", code=codes.INVALID_REQUEST_URL, param=param
            ) from None

    def ingest(self, owner_key_id: str, refs: Sequence[ReferenceInput]) -> list[StoredReference]:
        """Resolve, probe and check every reference in order (each against its kind's limits
        and the totals as it comes); store them once all passed. The caller has checked the
        request's own rules first (`rules.check_request_rules`: counts, modes, mentions)."""
        if not refs:
            return []
        stored: list[StoredReference] = []
        per_kind: dict[ReferenceKind, int] = {}
        with tempfile.TemporaryDirectory(prefix="reelforge-intake-") as tmp:
            pending: dict[str, Path] = {}
            for i, ref in enumerate(refs):
                where = Where.ref(i)
                found = self._reference(owner_key_id, ref, where, Path(tmp), pending)
                per_kind[ref.kind] = per_kind.get(ref.kind, 0) + 1
                stored.append(replace(found, role=ref.role, index=per_kind[ref.kind]))
                check_reference_media(
                    found.kind, where, self.limits, nbytes=found.bytes, width=found.width,
                    height=found.height, seconds=found.seconds, fps=found.fps,
                )  # fmt: skip
                check_totals(stored, self.limits)  # before fetching the next one
            self._commit(pending)
        return stored

    def check_files(self, owner_key_id: str, refs: Sequence[ReferenceInput]) -> None:
        """Refuse a reference given by file id that this key does not have, or of another
        kind, as `ingest` would, without fetching or storing anything (a batch checks every
        item's files before it is stored)."""
        for i, ref in enumerate(refs):
            value = ref.file_id or ref.url
            file_id = file_id_of(value) if ref.data is None and value else None
            if file_id is not None:
                self._from_file(owner_key_id, file_id, ref.kind, Where.ref(i))

    def by_content(self, owner_key_id: str, refs: Sequence[ReferenceInput]) -> list[ReferenceInput]:
        """`refs` with each uploaded file this key has named by its content hash instead of its
        id (`file_id="sha256:..."`), so that an idempotent retry that uploaded the same bytes
        again (a new file id) is the same request. Nothing is fetched; other references as they
        are."""
        named: list[ReferenceInput] = []
        for ref in refs:
            value = ref.file_id or ref.url
            file_id = file_id_of(value) if ref.data is None and value else None
            rec = self._files.get(file_id, owner_key_id) if file_id is not None else None
            named.append(
                replace(ref, file_id="sha256:" + rec.sha256, url=None) if rec is not None else ref
            )
        return named

    def store_bytes(
        self,
        data: bytes,
        kind: ReferenceKind,
        *,
        param: str,
        index: int | None,
        mime_type: str | None = None,
        filename: str | None = None,
    ) -> StoredReference:
        """Probe `data` as `kind`, check it against the limits and store it under its content
        hash (uploads through `POST /v1/files`)."""
        with tempfile.TemporaryDirectory(prefix="reelforge-intake-") as tmp:
            pending: dict[str, Path] = {}
            ref = self._from_bytes(
                data, kind, Where(param, index), Path(tmp), pending,
                mime_type=mime_type, filename=filename,
            )  # fmt: skip
            self._commit(pending)
        return ref

    # ---- resolving --------------------------------------------------------------------

    def _reference(
        self,
        owner_key_id: str,
        ref: ReferenceInput,
        where: Where,
        tmp: Path,
        pending: dict[str, Path],
    ) -> StoredReference:
        mime, filename = ref.mime_type, ref.filename
        if ref.data is not None:
            data = ref.data
        else:
            value = ref.file_id or ref.url
            if not value:
                raise reference_error(
                    codes.INVALID_REFERENCE_MISSING_SOURCE, "it has no url, file_id or data", where
                )
            file_id = file_id_of(value)
            if file_id is not None:
                return self._from_file(owner_key_id, file_id, ref.kind, where)
            if value.startswith("data:"):
                data, uri_mime = decode_data_uri(value, param=where.param, index=where.index)
                mime = uri_mime or mime
            elif looks_like_url(value):
                data = self._fetch(value, ref.kind, where)
            else:
                data = decode_base64(value, param=where.param, index=where.index)
        return self._from_bytes(
            data, ref.kind, where, tmp, pending, mime_type=mime, filename=filename
        )

    def _from_file(
        self, owner_key_id: str, file_id: str, kind: ReferenceKind, where: Where
    ) -> StoredReference:
        rec = self._files.get(file_id, owner_key_id)
        if rec is None:
            raise NotFound(
                f"{where.param} names {file_id}, which does not exist",
                code=codes.INVALID_REFERENCE_FILE_NOT_FOUND, param=where.param,
                reference_index=where.index,
            )  # fmt: skip
        if rec.kind != kind.value:
            raise reference_error(
                codes.INVALID_REFERENCE_KIND_MISMATCH,
                f"given as {kind.value}, but {file_id} is a {rec.kind}",
                where,
            )
        return StoredReference(
            kind=kind, role=ReferenceRole.REFERENCE, index=0, storage_key=rec.storage_key,
            sha256=rec.sha256, mime_type=rec.mime_type, bytes=rec.bytes, width=rec.width,
            height=rec.height, seconds=rec.seconds, fps=rec.fps,
        )  # fmt: skip

    def _from_bytes(
        self,
        data: bytes,
        kind: ReferenceKind,
        where: Where,
        tmp: Path,
        pending: dict[str, Path],
        *,
        mime_type: str | None,
        filename: str | None,
    ) -> StoredReference:
        if not data:
            raise reference_error(
                codes.INVALID_REFERENCE_EMPTY, "the file is empty (0 bytes)", where
            )
        check_bytes(kind, where, len(data), self.limits)
        fmt = check_format(data[:SNIFF_BYTES], kind, where, self.limits)
        _check_declared(fmt, where, mime_type, filename)
        sha = hashlib.sha256(data).hexdigest()
        key = content_key(sha)
        info = self._cached(sha, kind)
        if info is None:
            path = tmp / sha
            path.write_bytes(data)
            info = probe(path, kind, param=where.param, index=where.index, limits=self.limits)
            self._remember(sha, kind, info)
            pending.setdefault(key, path)
        elif key not in pending and not self._storage.exists(key):
            path = tmp / sha
            path.write_bytes(data)
            pending[key] = path
        check_reference_media(
            kind, where, self.limits, nbytes=len(data), width=info.width, height=info.height,
            seconds=info.seconds, fps=info.fps,
        )  # fmt: skip
        return StoredReference(
            kind=kind, role=ReferenceRole.REFERENCE, index=0, storage_key=key, sha256=sha,
            mime_type=info.mime_type, bytes=len(data), width=info.width, height=info.height,
            seconds=info.seconds, fps=info.fps,
        )  # fmt: skip

    def _fetch(self, url: str, kind: ReferenceKind, where: Where) -> bytes:
        limit = {
            ReferenceKind.IMAGE: self.limits.max_image_bytes,
            ReferenceKind.VIDEO: self.limits.max_video_bytes,
            ReferenceKind.AUDIO: self.limits.max_audio_bytes,
        }[kind]
        policy = FetchPolicy(
            allow_private=self._allow_private_urls,
            max_bytes=limit,
            connect_timeout=min(5.0, self.limits.fetch_timeout_seconds),
            total_timeout=self.limits.fetch_timeout_seconds,
            max_redirects=self.limits.max_redirects,
        )
        try:
            fetched = SafeFetcher(policy).fetch(url, param=where.param, reference_index=where.index)
        except ReferenceTooLarge as exc:
            raise PayloadTooLarge(
                f"{exc.message}; a {kind.value} may be at most {limit:,} bytes",
                code=codes.file_too_large(kind.value), param=where.param,
                reference_index=where.index,
            ) from exc  # fmt: skip
        return fetched.data

    # ---- probe cache and storage ------------------------------------------------------

    def _cached(self, sha: str, kind: ReferenceKind) -> ProbeResult | None:
        with self._lock:
            info = self._probed.get((sha, kind))
            if info is not None:
                self._probed.move_to_end((sha, kind))
            return info

    def _remember(self, sha: str, kind: ReferenceKind, info: ProbeResult) -> None:
        with self._lock:
            self._probed[(sha, kind)] = info
            while len(self._probed) > PROBE_CACHE_SIZE:
                self._probed.popitem(last=False)

    def _commit(self, pending: dict[str, Path]) -> None:
        for key, path in pending.items():
            if not self._storage.exists(key):
                self._storage.put_file(key, path)


def _check_declared(
    fmt: MediaFormat, where: Where, mime_type: str | None, filename: str | None
) -> None:
    """What the client declared must agree with the bytes (the bytes decide what a file is)."""
    by_mime = declared_by_mime(mime_type)
    if by_mime is not None and not by_mime.same_as(fmt):
        raise reference_error(
            codes.INVALID_REFERENCE_MIME_MISMATCH,
            f"declared as {mime_type}, but the bytes are {fmt.name} ({fmt.mime})",
            where,
        )
    by_name = declared_by_filename(filename)
    if by_name is not None and not by_name.same_as(fmt):
        raise reference_error(
            codes.INVALID_REFERENCE_EXTENSION_MISMATCH,
            f"the file is named {filename!r} ({by_name.name}), but the bytes are {fmt.name}",
            where,
        )
