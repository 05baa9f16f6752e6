"""Signed, expiring download URLs that work without an auth header."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from pathlib import Path

_SIGNATURE = re.compile(r"[0-9a-f]{40}")


MIN_SECRET_BYTES = 32


def signing_secret(configured: str | None, path: Path) -> bytes:
    """The URL-signing secret: `REELFORGE_SIGNING_KEY` when set (the same on every replica and
    worker, so a link minted by one is honoured by all), else one created once in the data dir.
    """
    if configured is not None:
        secret = configured.encode()
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"REELFORGE_SIGNING_KEY must be at least {MIN_SECRET_BYTES} characters"
            )
        return secret
    return _load_or_create(path)


def _load_or_create(path: Path) -> bytes:
    """Created whole or not at all (written aside, then linked into place), so that two
    processes starting on one data dir never read a half-written secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_bytes(32).hex())
        try:
            os.link(tmp, path)  # fails if another process won: then use its secret
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    secret = bytes.fromhex(path.read_text().strip())
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"{path} holds a signing secret shorter than {MIN_SECRET_BYTES} bytes")
    return secret


class UrlSigner:
    def __init__(self, secret: bytes, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def sign(self, resource: str, now: float | None = None) -> tuple[int, str]:
        """(expires, signature) for `resource` (e.g. "video_123/video")."""
        expires = int((now if now is not None else time.time()) + self.ttl_seconds)
        return expires, self._mac(resource, expires)

    def verify(self, resource: str, expires: int, signature: str, now: float | None = None) -> bool:
        if expires < (now if now is not None else time.time()):
            return False
        if not _SIGNATURE.fullmatch(signature):
            return False
        return hmac.compare_digest(self._mac(resource, expires), signature)

    def _mac(self, resource: str, expires: int) -> str:
        msg = f"{resource}\n{expires}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()[:40]
