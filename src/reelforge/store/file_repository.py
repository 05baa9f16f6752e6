"""Rows of `files`: references uploaded once with `POST /v1/files` and used by id."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import sqlalchemy as sa

from reelforge.store.tables import files


@dataclass(frozen=True)
class FileRecord:
    id: str
    owner_key_id: str
    kind: str
    storage_key: str
    sha256: str
    bytes: int
    mime_type: str
    filename: str | None
    width: int | None
    height: int | None
    seconds: float | None
    fps: float | None
    created_at: float


class FileRepository:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def insert(self, record: FileRecord) -> None:
        with self._engine.begin() as conn:
            conn.execute(files.insert().values(**asdict(record)))

    def get(self, file_id: str, owner_key_id: str) -> FileRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(files).where(files.c.id == file_id, files.c.owner_key_id == owner_key_id)
            ).first()
        return FileRecord(**row._mapping) if row else None

    def delete(self, file_id: str, owner_key_id: str) -> bool:
        with self._engine.begin() as conn:
            res = conn.execute(
                files.delete().where(files.c.id == file_id, files.c.owner_key_id == owner_key_id)
            )
        return res.rowcount == 1
