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

from reelforge.errors import AuthenticationFailed, InvalidRequest, NotFound, PermissionDenied
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
                code="invalid_request.scope",
                param="scopes",
            )
        if not name or len(name) > 200:
            raise InvalidRequest("name must be 1..200 characters", param="name")
        key = key or new_key()
        if not key.startswith(KEY_PREFIX) or len(key) < len(KEY_PREFIX) + 32:
            raise InvalidRequest(
                f"a key must start with {KEY_PREFIX!r} followed by at least 32 characters",
                code="invalid_request.key_format",
                param="key",
            )
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
                code="authentication_failed.missing_key",
            )
        record = self._repo.by_hash(hash_key(key))
        if record is None or record.revoked_at is not None:
            raise AuthenticationFailed(
                "invalid or revoked API key", code="authentication_failed.invalid_key"
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
        self.get(key_id)
        self._repo.revoke(key_id, self._clock())
        return self.get(key_id)

    def bootstrap(self, admin_key_path: Path, preset_key: str | None) -> str | None:
        """On an empty store create the admin key (the preset one if given), save it owner-only
        and return it; return None when keys already exist."""
        if self._repo.count() > 0:
            return None
        created = self.create("admin", ALL_SCOPES, key=preset_key, limits=KeyLimits())
        admin_key_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = admin_key_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(created.key + "\n")
        os.replace(tmp, admin_key_path)
        return created.key


def require_scope(record: ApiKeyRecord, scope: Scope) -> None:
    if scope.value not in record.scopes and Scope.ADMIN.value not in record.scopes:
        raise PermissionDenied(
            f"this key lacks the {scope.value!r} scope", code="permission_denied.scope"
        )
