"""Rows of `api_keys`. Webhook secrets are stored sealed when the repository has a
`SecretBox` (`store/secret_box.py`), and opened as rows are read."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from reelforge.store.secret_box import PREFIX as SEALED_PREFIX
from reelforge.store.secret_box import SecretBox
from reelforge.store.tables import api_keys

ADMIN_SCOPE = "admin"


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    name: str
    scopes: tuple[str, ...]
    webhook_secret: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None
    balance: float | None = None  # None = unlimited
    daily_budget: float | None = None
    creates_per_minute: int | None = None  # None = the server default
    max_active_jobs: int | None = None


def _record(row: sa.Row[tuple[object, ...]], box: SecretBox | None = None) -> ApiKeyRecord:
    m = row._mapping
    secret = m["webhook_secret"]
    return ApiKeyRecord(
        id=m["id"],
        name=m["name"],
        scopes=tuple(m["scopes"]),
        webhook_secret=box.open(secret, context=m["id"]) if box is not None else secret,
        created_at=m["created_at"],
        last_used_at=m["last_used_at"],
        revoked_at=m["revoked_at"],
        balance=m["balance"],
        daily_budget=m["daily_budget"],
        creates_per_minute=m["creates_per_minute"],
        max_active_jobs=m["max_active_jobs"],
    )


# Every authenticated request looks its key up: the statement is built once.
_BY_HASH = sa.select(api_keys).where(api_keys.c.key_hash == sa.bindparam("key_hash"))


class KeyRepository:
    def __init__(self, engine: sa.Engine, box: SecretBox | None = None) -> None:
        self._engine = engine
        self._box = box

    def _seal(self, record: ApiKeyRecord) -> str:
        secret = record.webhook_secret
        return self._box.seal(secret, context=record.id) if self._box is not None else secret

    def insert(self, record: ApiKeyRecord, key_hash: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    id=record.id,
                    name=record.name,
                    key_hash=key_hash,
                    scopes=list(record.scopes),
                    webhook_secret=self._seal(record),
                    created_at=record.created_at,
                    balance=record.balance,
                    daily_budget=record.daily_budget,
                    creates_per_minute=record.creates_per_minute,
                    max_active_jobs=record.max_active_jobs,
                )
            )

    def count(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(api_keys)).scalar_one())

    def by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(_BY_HASH, {"key_hash": key_hash}).first()
        return _record(row, self._box) if row else None

    def by_id(self, key_id: str) -> ApiKeyRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).first()
        return _record(row, self._box) if row else None

    def all(self) -> list[ApiKeyRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at)).all()
        return [_record(r, self._box) for r in rows]

    def touch(self, key_id: str, now: float) -> None:
        with self._engine.begin() as conn:
            conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=now))

    def revoke(self, key_id: str, now: float, *, keep_an_admin: bool = False) -> bool | None:
        """Revoke an active key: True; False when it is not active. With `keep_an_admin`,
        None (nothing changed) when it is the last active admin key; the check and the update
        are one transaction holding the write lock (SQLite) or the admin rows (PostgreSQL), so
        two admins revoking each other at once cannot both succeed."""
        with self._engine.connect() as conn:
            conn = conn.execution_options(immediate=True)  # BEGIN IMMEDIATE on SQLite
            with conn.begin():
                if keep_an_admin:
                    active = sa.select(api_keys.c.id, api_keys.c.scopes).where(
                        api_keys.c.revoked_at.is_(None)
                    )
                    if conn.dialect.name == "postgresql":
                        active = active.with_for_update()
                    admins = {row.id for row in conn.execute(active) if ADMIN_SCOPE in row.scopes}
                    if admins == {key_id}:
                        return None
                res = conn.execute(
                    api_keys.update()
                    .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
        return res.rowcount > 0

    def seal_plain_secrets(self) -> int:
        """Seal webhook secrets stored before sealing existed; the number sealed."""
        if self._box is None:
            return 0
        sealed = 0
        with self._engine.begin() as conn:
            rows = conn.execute(sa.select(api_keys.c.id, api_keys.c.webhook_secret)).all()
            for row in rows:
                if row.webhook_secret.startswith(SEALED_PREFIX):
                    continue
                conn.execute(
                    api_keys.update()
                    .where(api_keys.c.id == row.id, api_keys.c.webhook_secret == row.webhook_secret)
                    .values(webhook_secret=self._box.seal(row.webhook_secret, context=row.id))
                )
                sealed += 1
        return sealed
