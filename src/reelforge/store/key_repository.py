"""Rows of `api_keys`."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from reelforge.store.tables import api_keys


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


def _record(row: sa.Row[tuple[object, ...]]) -> ApiKeyRecord:
    m = row._mapping
    return ApiKeyRecord(
        id=m["id"],
        name=m["name"],
        scopes=tuple(m["scopes"]),
        webhook_secret=m["webhook_secret"],
        created_at=m["created_at"],
        last_used_at=m["last_used_at"],
        revoked_at=m["revoked_at"],
        balance=m["balance"],
        daily_budget=m["daily_budget"],
        creates_per_minute=m["creates_per_minute"],
        max_active_jobs=m["max_active_jobs"],
    )


class KeyRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def insert(self, record: ApiKeyRecord, key_hash: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    id=record.id,
                    name=record.name,
                    key_hash=key_hash,
                    scopes=list(record.scopes),
                    webhook_secret=record.webhook_secret,
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
            row = conn.execute(sa.select(api_keys).where(api_keys.c.key_hash == key_hash)).first()
        return _record(row) if row else None

    def by_id(self, key_id: str) -> ApiKeyRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).first()
        return _record(row) if row else None

    def all(self) -> list[ApiKeyRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at)).all()
        return [_record(r) for r in rows]

    def touch(self, key_id: str, now: float) -> None:
        with self._engine.begin() as conn:
            conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=now))

    def revoke(self, key_id: str, now: float) -> bool:
        with self._engine.begin() as conn:
            res = conn.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        return res.rowcount > 0
