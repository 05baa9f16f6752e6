"""API keys: creation, hashing, authentication, the first-start admin key.

Keys are `rf_` + 43 URL-safe random characters; only their SHA-256 is stored (they carry 256 bits
of entropy, so a slow password hash adds nothing).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from reelforge import codes
from reelforge.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    NotFound,
    PermissionDenied,
)
from reelforge.store.key_repository import ApiKeyRecord, KeyRepository

KEY_PREFIX = "rf_"


class Scope(StrEnum):
    GENERATE = "generate"
    READ = "read"
    ADMIN = "admin"


ALL_SCOPES = (Scope.GENERATE.value, Scope.READ.value, Scope.ADMIN.value)
DEFAULT_SCOPES = (Scope.GENERATE.value, Scope.READ.value)


@dataclass(frozen=True)
class KeyLimits:
    balance: float | None = None  # None = unlimited
    daily_budget: float | None = None
    creates_per_minute: int | None = None
    max_active_jobs: int | None = None


@dataclass(frozen=True)
class CreatedKey:
    record: ApiKeyRecord
    key: str  # shown once


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def check_key_format(key: str, *, param: str = "key") -> None:
    """`rf_` followed by at least 32 characters (API.md); raises `InvalidRequest` naming it."""
    if not key.startswith(KEY_PREFIX) or len(key) < len(KEY_PREFIX) + 32:
        raise InvalidRequest(
            f"a key must start with {KEY_PREFIX!r} followed by at least 32 characters "
            f"(this one has {max(len(key) - len(KEY_PREFIX), 0)})",
            code=codes.INVALID_REQUEST_KEY_FORMAT,
            param=param,
        )


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class KeyRing:
    def __init__(
        self,
        repo: KeyRepository,
        *,
        default_balance: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repo = repo
        self._default_balance = default_balance
        self._clock = clock

    def create(
        self,
        name: str,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        key: str | None = None,
        *,
        limits: KeyLimits | None = None,
    ) -> CreatedKey:
        limits = limits or KeyLimits(balance=self._default_balance)
        bad = [s for s in scopes if s not in ALL_SCOPES]
        if bad:
            raise InvalidRequest(
                f"unknown scope {bad[0]!r}; known scopes: {', '.join(ALL_SCOPES)}",
                code=codes.INVALID_REQUEST_SCOPE,
                param="scopes",
            )
        if not name or len(name) > 200:
            raise InvalidRequest("name must be 1..200 characters", param="name")
        key = key or new_key()
        check_key_format(key)
        record = ApiKeyRecord(
            id="key_" + secrets.token_hex(8),
            name=name,
            scopes=tuple(dict.fromkeys(scopes)),
            webhook_secret=new_webhook_secret(),
            created_at=self._clock(),
            last_used_at=None,
            revoked_at=None,
            balance=limits.balance,
            daily_budget=limits.daily_budget,
            creates_per_minute=limits.creates_per_minute,
            max_active_jobs=limits.max_active_jobs,
        )
        self._repo.insert(record, hash_key(key))
        return CreatedKey(record=record, key=key)

    def authenticate(self, key: str | None) -> ApiKeyRecord:
        if not key:
            raise AuthenticationFailed(
                "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                code=codes.AUTHENTICATION_FAILED_MISSING_KEY,
            )
        record = self._repo.by_hash(hash_key(key))
        if record is None or record.revoked_at is not None:
            raise AuthenticationFailed(
                "invalid or revoked API key", code=codes.AUTHENTICATION_FAILED_INVALID_KEY
            )
        now = self._clock()
        # Write last-use at most once a minute per key: auth must not hit the writer lock.
        if record.last_used_at is None or now - record.last_used_at > 60:
            self._repo.touch(record.id, now)
        return record

    def list_all(self) -> list[ApiKeyRecord]:
        return self._repo.all()

    def get(self, key_id: str) -> ApiKeyRecord:
        record = self._repo.by_id(key_id)
        if record is None:
            raise NotFound(f"no API key {key_id!r}", param="id")
        return record

    def revoke(self, key_id: str) -> ApiKeyRecord:
        """Revoke a key; the last active admin key cannot be (409 `conflict.last_admin_key`):
        nothing could create another one over the API afterwards."""
        self.get(key_id)
        if self._repo.revoke(key_id, self._clock(), keep_an_admin=True) is None:
            raise Conflict(
                f"{key_id} is the last active admin key; revoking it would leave no key that "
                "can manage keys. Create another admin key first (POST /v1/keys with "
                'scopes ["admin"], or `reelforge keys create --admin` on the server)',
                code=codes.CONFLICT_LAST_ADMIN_KEY,
                param="id",
            )
        return self.get(key_id)

    def bootstrap(self, admin_key_path: Path, preset_key: str | None) -> str | None:
        """On an empty store create the admin key (the preset one if given), save it owner-only
        and return it; return None when keys already exist."""
        self._repo.seal_plain_secrets()
        if self._repo.count() > 0:
            return None
        try:
            created = self.create("admin", ALL_SCOPES, key=preset_key, limits=KeyLimits())
        except IntegrityError:
            # API replicas starting together with one BOOTSTRAP_KEY: another stored it first.
            if preset_key is None or self._repo.by_hash(hash_key(preset_key)) is None:
                raise
            return None
        save_admin_key(admin_key_path, created.key)
        return created.key


def save_admin_key(path: Path, key: str) -> None:
    """Write `key` to `path` whole, readable by the owner only (0600 whatever the umask)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(key + "\n")
    os.replace(tmp, path)


def require_scope(record: ApiKeyRecord, scope: Scope) -> None:
    if scope.value not in record.scopes and Scope.ADMIN.value not in record.scopes:
        raise PermissionDenied(
            f"this key lacks the {scope.value!r} scope", code=codes.PERMISSION_DENIED_SCOPE
        )
