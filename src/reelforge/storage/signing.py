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


def load_or_create_secret(path: Path) -> bytes:
    """The server's URL-signing secret, created once and kept owner-only in the data dir."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret.hex())
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
