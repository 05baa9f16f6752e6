"""Secrets at rest: the webhook secrets in `api_keys` are stored sealed (AES-256-GCM), never in
plain text, so a copy of the database alone does not let anyone forge a key's webhooks.

The sealing key is derived (HKDF-SHA256) from the URL-signing secret, which lives beside the
database but not in it: `REELFORGE_SIGNING_KEY` on every replica and worker, or
`<data_dir>/signing_key` (owner-only) in embedded mode. One secret to distribute, and every
process that can mint download links can also sign webhooks. Changing the signing secret makes
the stored webhook secrets unreadable: keep it, or create new keys after a change.

    box = SecretBox.from_signing_secret(secret)
    stored = box.seal("whsec_...")      # "sealed1:<base64url(nonce | ciphertext | tag)>"
    box.open(stored)                     # "whsec_..."; a value without the prefix (a row from
                                         # before sealing) is returned as it is
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "sealed1:"
_INFO = b"reelforge: webhook secrets at rest, v1"
_NONCE_BYTES = 12


class SecretBoxError(ValueError):
    """A sealed value that this key cannot open (another signing secret, or tampered)."""


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a SecretBox key is 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def from_signing_secret(cls, secret: bytes) -> SecretBox:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
        return cls(hkdf.derive(secret))

    def seal(self, plain: str, *, context: str = "") -> str:
        """`context` (e.g. the key id) is bound to the value: a sealed secret copied onto
        another row does not open there."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(self, stored: str, *, context: str = "") -> str:
        if not stored.startswith(PREFIX):
            return stored  # stored before sealing existed
        raw = stored[len(PREFIX) :]
        try:
            data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            plain = self._aead.decrypt(data[:_NONCE_BYTES], data[_NONCE_BYTES:], context.encode())
        except Exception as exc:  # InvalidTag, binascii.Error
            raise SecretBoxError(
                "a stored webhook secret cannot be opened with this signing secret "
                "(REELFORGE_SIGNING_KEY or <data_dir>/signing_key changed?)"
            ) from exc
        return plain.decode()
