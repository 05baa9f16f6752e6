"""Turn the references a client named into stored, probed references.

Each reference is fetched or decoded once, probed, and stored under its content hash
(`refs/<sha256>`), so identical bytes are stored once however often they are sent.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from pathlib import Path

from reelforge.errors import InvalidReference, NotFound, PayloadTooLarge
from reelforge.intake.limits import Limits
from reelforge.intake.probe import ProbeResult, probe, sniff_kind
from reelforge.intake.sources import decode_base64, decode_data_uri, file_id_of, looks_like_url
from reelforge.jobs.models import StoredReference
from reelforge.spec import ReferenceInput, ReferenceKind, ReferenceRole
from reelforge.storage.base import Storage
from reelforge.store.file_repository import FileRepository

_KIND_LIMIT = {
    ReferenceKind.IMAGE: ("max_images", "too_many_images"),
    ReferenceKind.VIDEO: ("max_videos", "too_many_videos"),
    ReferenceKind.AUDIO: ("max_audios", "too_many_audios"),
}


def check_counts(refs: Sequence[ReferenceInput], limits: Limits) -> None:
    """Counts per modality and in all (API.md 'Limits')."""
    if len(refs) > limits.max_references:
        raise InvalidReference(
            f"{len(refs)} references given; at most {limits.max_references} in all",
            code="invalid_reference.too_many_references",
            param="references",
        )
    for kind, (attr, code) in _KIND_LIMIT.items():
        n = sum(1 for r in refs if r.kind is kind)
        limit = getattr(limits, attr)
        if n > limit:
            raise InvalidReference(
                f"{n} {kind.value} references given; at most {limit}",
                code=f"invalid_reference.{code}",
                param="references",
            )


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

    def ingest(self, owner_key_id: str, refs: Sequence[ReferenceInput]) -> list[StoredReference]:
        check_counts(refs, self.limits)
        stored: list[StoredReference] = []
        per_kind: dict[ReferenceKind, int] = {}
        for i, ref in enumerate(refs):
            param = f"references[{i}]"
            data, stored_ref = self._resolve(owner_key_id, ref, param=param, index=i)
            per_kind[ref.kind] = per_kind.get(ref.kind, 0) + 1
            if stored_ref is None:
                assert data is not None
                stored_ref = self.store_bytes(data, ref.kind, param=param, index=i)
            stored.append(
                StoredReference(
                    **{
                        **stored_ref.to_dict(),
                        "kind": ref.kind,
                        "role": ref.role,
                        "index": per_kind[ref.kind],
                    }
                )
            )
        return stored

    def store_bytes(
        self, data: bytes, kind: ReferenceKind, *, param: str, index: int
    ) -> StoredReference:
        """Probe `data` as `kind` and store it under its content hash."""
        self._check_size(len(data), kind, param=param, index=index)
        sniffed = sniff_kind(data[:16])
        if sniffed is not None and sniffed is not kind:
            raise InvalidReference(
                f"{param} was given as {kind.value} but its bytes are {sniffed.value}",
                code="invalid_reference.kind_mismatch", param=param, reference_index=index,
            )  # fmt: skip
        sha = hashlib.sha256(data).hexdigest()
        key = f"refs/{sha}"
        with tempfile.TemporaryDirectory(prefix="reelforge-intake-") as tmp:
            path = Path(tmp) / "ref"
            path.write_bytes(data)
            info = probe(path, kind, param=param, index=index)
            if not self._storage.exists(key):
                self._storage.put_file(key, path)
        return _stored(kind, key, sha, len(data), info)

    def _resolve(
        self, owner_key_id: str, ref: ReferenceInput, *, param: str, index: int
    ) -> tuple[bytes | None, StoredReference | None]:
        if ref.data is not None:
            return ref.data, None
        value = ref.file_id or ref.url
        if not value:
            raise InvalidReference(
                f"{param} has no url, file_id or data", code="invalid_reference.missing_source",
                param=param, reference_index=index,
            )  # fmt: skip
        file_id = file_id_of(value)
        if file_id is not None:
            rec = self._files.get(file_id, owner_key_id)
            if rec is None:
                raise NotFound(
                    f"{param} names {file_id}, which does not exist",
                    code="invalid_reference.file_not_found", param=param, reference_index=index,
                )  # fmt: skip
            if rec.kind != ref.kind.value:
                raise InvalidReference(
                    f"{param} names {file_id}, a {rec.kind} file, as {ref.kind.value}",
                    code="invalid_reference.kind_mismatch", param=param, reference_index=index,
                )  # fmt: skip
            return None, StoredReference(
                kind=ref.kind, role=ref.role, index=0, storage_key=rec.storage_key,
                sha256=rec.sha256, mime_type=rec.mime_type, bytes=rec.bytes, width=rec.width,
                height=rec.height, seconds=rec.seconds, fps=rec.fps,
            )  # fmt: skip
        if value.startswith("data:"):
            return decode_data_uri(value, param=param, index=index)[0], None
        if looks_like_url(value):
            return self._fetch(value, param=param, index=index), None
        return decode_base64(value, param=param, index=index), None

    def _fetch(self, url: str, *, param: str, index: int) -> bytes:
        from reelforge.intake.fetch import FetchPolicy, SafeFetcher

        policy = FetchPolicy(
            allow_private=self._allow_private_urls,
            max_bytes=max(self.limits.max_image_bytes, self.limits.max_video_bytes_total),
            connect_timeout=5.0,
            total_timeout=self.limits.fetch_timeout_seconds,
            max_redirects=self.limits.max_redirects,
        )
        return SafeFetcher(policy).fetch(url, param=param, reference_index=index).data

    def _check_size(self, n: int, kind: ReferenceKind, *, param: str, index: int) -> None:
        limit = {
            ReferenceKind.IMAGE: self.limits.max_image_bytes,
            ReferenceKind.VIDEO: self.limits.max_video_bytes_total,
            ReferenceKind.AUDIO: self.limits.max_audio_bytes,
        }[kind]
        if n > limit:
            raise PayloadTooLarge(
                f"{param} is {n} bytes; a {kind.value} may be at most {limit} bytes",
                code=f"invalid_reference.{kind.value}_too_large", param=param,
                reference_index=index,
            )  # fmt: skip


def _stored(kind: ReferenceKind, key: str, sha: str, n: int, info: ProbeResult) -> StoredReference:
    return StoredReference(
        kind=kind, role=ReferenceRole.REFERENCE, index=0, storage_key=key, sha256=sha,
        mime_type=info.mime_type, bytes=n, width=info.width, height=info.height,
        seconds=info.seconds, fps=info.fps,
    )  # fmt: skip
