"""Storage backends by URL scheme (explicit registry, no discovery)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from reelforge.storage.base import Storage
from reelforge.storage.local import LocalStorage
from reelforge.storage.settings import StorageSettings


def _local(url: str, settings: StorageSettings, cache_dir: Path) -> Storage:
    return LocalStorage(Path(urlparse(url).path))


def _s3(url: str, settings: StorageSettings, cache_dir: Path) -> Storage:
    try:
        from reelforge.storage.s3 import S3Options, S3Storage, parse_s3_url
    except ImportError as exc:  # boto3 is an optional extra
        raise ValueError(
            f"storage URL {url!r} needs boto3: pip install 'reelforge[s3]' ({exc})"
        ) from exc
    bucket, prefix = parse_s3_url(url)
    secret = settings.s3_secret_access_key
    options = S3Options(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret is not None else None,
        addressing_style=settings.s3_addressing_style,
        presign_downloads=settings.s3_presign_downloads,
        public_endpoint_url=settings.s3_public_endpoint_url,
    )
    return S3Storage(bucket, prefix, cache_dir / "s3", options)


BACKENDS: dict[str, Callable[[str, StorageSettings, Path], Storage]] = {"file": _local, "s3": _s3}


def open_storage(url: str, settings: StorageSettings, cache_dir: Path) -> Storage:
    """The storage named by `url`; `cache_dir` holds local copies of remote objects."""
    scheme = urlparse(url).scheme or "file"
    try:
        factory = BACKENDS[scheme]
    except KeyError:
        raise ValueError(
            f"storage URL scheme {scheme!r} is not supported (known: {sorted(BACKENDS)})"
        ) from None
    return factory(url, settings, cache_dir)
