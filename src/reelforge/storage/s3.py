"""Storage on an S3-compatible object store (AWS S3, MinIO, Ceph RGW, R2, ...), for scale mode.

Objects live at `s3://bucket/prefix/<key>`. Puts are atomic: S3 shows an object only once its
PUT, or its multipart upload, has completed. Engines and probing need files, so `local_path`
downloads into a cache on this machine (`<cache_dir>/<bucket>/<prefix>/<key>`, written to a
temporary file and renamed) and reuses a cached copy while its size matches the object's. Keys
never change content once written (references are named by their SHA-256, outputs by job id), so
the size check is there for a re-upload after a failed run, not for general coherence.

`download_url` hands out presigned GET URLs, so clients download from the store directly instead
of through the API.
"""

from __future__ import annotations

import mimetypes
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlparse

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from reelforge.errors import InvalidRequest, NotFound
from reelforge.storage.base import check_key

MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # the longest a SigV4 presigned URL may live
_DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{1,254}$")


@dataclass(frozen=True)
class S3Options:
    """How to reach the store. Credentials and region left as None come from the standard AWS
    chain (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`, `~/.aws/*`, instance or pod roles)."""

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    addressing_style: Literal["auto", "path", "virtual"] = "auto"
    presign_downloads: bool = True
    # Where clients reach the store, when that differs from `endpoint_url` (e.g. the service
    # talks to http://minio:9000 inside a cluster, clients download from https://media.example).
    public_endpoint_url: str | None = None
    multipart_threshold: int = 64 * 1024 * 1024
    multipart_chunksize: int = 16 * 1024 * 1024


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix"); the prefix may be empty."""
    parsed = urlparse(url)
    bucket = parsed.netloc
    if parsed.scheme != "s3" or not _BUCKET.match(bucket) or ".." in bucket:
        raise ValueError(f"storage URL {url!r} is not s3://bucket[/prefix]")
    prefix = parsed.path.strip("/")
    if prefix:
        try:
            check_key(prefix)
        except InvalidRequest:
            raise ValueError(f"storage URL {url!r} has an invalid prefix {prefix!r}") from None
    return bucket, prefix


class S3Storage:
    def __init__(
        self, bucket: str, prefix: str, cache_dir: Path, options: S3Options | None = None
    ) -> None:
        self.options = options or S3Options()
        if (self.options.access_key_id is None) != (self.options.secret_access_key is None):
            raise ValueError("set both the S3 access key id and the secret access key, or neither")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.cache_dir = (cache_dir / bucket / self.prefix).resolve()
        session = boto3.session.Session(
            aws_access_key_id=self.options.access_key_id,
            aws_secret_access_key=self.options.secret_access_key,
            region_name=self.options.region,
        )
        self._client: Any = self._make_client(session, self.options.endpoint_url)
        # Presigned links are signed for the host clients will use: SigV4 covers the host.
        self._presigner: Any = (
            self._make_client(session, self.options.public_endpoint_url)
            if self.options.public_endpoint_url
            else self._client
        )
        self._transfer = TransferConfig(
            multipart_threshold=self.options.multipart_threshold,
            multipart_chunksize=self.options.multipart_chunksize,
        )

    def _make_client(self, session: Any, endpoint_url: str | None) -> Any:
        return session.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": self.options.addressing_style},
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
                # Checksums only where S3 requires them: many S3-compatible servers refuse the
                # streaming-trailer checksums that botocore otherwise adds to every PUT.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    @property
    def client(self) -> Any:
        """The boto3 S3 client (for operators' scripts and tests)."""
        return self._client

    def object_key(self, key: str) -> str:
        """The bucket key of storage key `key` (validated)."""
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    # ---- Storage ------------------------------------------------------------------------

    def put_file(self, key: str, source: Path) -> None:
        """One PUT, or a multipart upload past `multipart_threshold`; either way the object
        appears whole or not at all."""
        self._client.upload_file(
            str(source), self.bucket, self.object_key(key),
            ExtraArgs={"ContentType": _content_type(key)}, Config=self._transfer,
        )  # fmt: skip

    def put_bytes(self, key: str, data: bytes) -> None:
        self._client.put_object(
            Bucket=self.bucket, Key=self.object_key(key), Body=data, ContentType=_content_type(key)
        )

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except NotFound:
            return False
        return True

    def open_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The object's bytes, streamed; a missing key raises NotFound here, not on iteration."""
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]
        except ClientError as exc:
            raise _translated(exc, key) from exc
        return _iter_body(body, chunk_size)

    def local_path(self, key: str) -> Path:
        """The object as a file in the local cache, downloaded when absent or of another size.
        Raises NotFound when the object is gone, even if a cached copy remains."""
        size = int(self._head(key)["ContentLength"])
        dest = self.cache_dir / key
        try:
            if dest.is_file() and dest.stat().st_size == size:
                return dest
        except FileNotFoundError:  # removed by a concurrent cache clean-up
            pass
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=dest.suffix)
        os.close(fd)
        try:
            self._client.download_file(
                self.bucket, self.object_key(key), tmp, Config=self._transfer
            )
            os.replace(tmp, dest)
        except ClientError as exc:
            raise _translated(exc, key) from exc
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return dest

    def size(self, key: str) -> int:
        return int(self._head(key)["ContentLength"])

    def delete_prefix(self, prefix: str) -> None:
        """Delete the object `prefix` and every object under `prefix/` (not `prefix` + other
        characters: `outputs/job_1` leaves `outputs/job_10` alone), and their cached copies."""
        base = prefix.rstrip("/")
        root = self.object_key(base)
        doomed = [root]
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{root}/"
        )
        for page in pages:
            doomed.extend(obj["Key"] for obj in page.get("Contents", ()))
        for start in range(0, len(doomed), _DELETE_BATCH):
            batch = doomed[start : start + _DELETE_BATCH]
            answer = self._client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise OSError(
                    f"could not delete {len(answer['Errors'])} object(s) under {prefix!r}: "
                    f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                )
        cached = self.cache_dir / base
        if cached.is_dir():
            shutil.rmtree(cached, ignore_errors=True)
        else:
            cached.unlink(missing_ok=True)

    def download_url(
        self, key: str, expires_seconds: int, filename: str, media_type: str
    ) -> str | None:
        """A presigned GET URL that serves the object as an attachment named `filename`, or
        None when presigned downloads are turned off (the API then serves the file itself)."""
        if not self.options.presign_downloads:
            return None
        url: str = self._presigner.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self.object_key(key),
                "ResponseContentType": media_type,
                "ResponseContentDisposition": _attachment(filename),
            },
            ExpiresIn=max(1, min(int(expires_seconds), MAX_PRESIGN_SECONDS)),
        )
        return url

    # ---- helpers ------------------------------------------------------------------------

    def _head(self, key: str) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = self._client.head_object(
                Bucket=self.bucket, Key=self.object_key(key)
            )
        except ClientError as exc:
            raise _translated(exc, key) from exc
        return answer


def _iter_body(body: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()


def _translated(exc: ClientError, key: str) -> Exception:
    code = str(exc.response.get("Error", {}).get("Code"))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _MISSING or (status == 404 and code != "NoSuchBucket"):
        return NotFound(f"no object {key!r}")
    return exc


def _content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def _attachment(filename: str) -> str:
    quoted = quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'
