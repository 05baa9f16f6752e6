"""Admission of a new job, in the same write-locked transaction that inserts it: idempotency,
creates per minute, jobs active at once, credit hold. No race lets an extra job through, also
across API processes sharing one database (SQLite: BEGIN IMMEDIATE; PostgreSQL: the key's row
is locked FOR UPDATE)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from reelforge import codes
from reelforge.core.admission import AdmissionTicket
from reelforge.core.job import ACTIVE
from reelforge.errors import Conflict, NotFound, RateLimited
from reelforge.platform.credits import Credits
from reelforge.store.tables import api_keys, idempotency_keys, jobs

# The statements of every create, built once (building them cost more than running them).
_KEY = sa.select(api_keys).where(api_keys.c.id == sa.bindparam("key_id"))
_KEY_LOCKED = _KEY.with_for_update()
_CREATED_SINCE = (
    sa.select(sa.func.count())
    .select_from(jobs)
    .where(jobs.c.owner_key_id == sa.bindparam("key_id"), jobs.c.created_at > sa.bindparam("since"))
)
_ACTIVE = (
    sa.select(sa.func.count())
    .select_from(jobs)
    .where(
        jobs.c.owner_key_id == sa.bindparam("key_id"), jobs.c.status.in_([s.value for s in ACTIVE])
    )
)


@dataclass(frozen=True)
class AdmissionLimits:
    creates_per_minute: int = 100
    max_active_jobs: int = 10
    idempotency_ttl_seconds: int = 24 * 3600


class Admission:
    def __init__(
        self,
        engine: sa.Engine,
        credits: Credits,
        limits: AdmissionLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._credits = credits
        self._limits = limits
        self._clock = clock

    def check(self, ticket: AdmissionTicket) -> Callable[[sa.Connection], str | None]:
        def admit(conn: sa.Connection) -> str | None:
            return self._admit(conn, ticket)

        return admit

    def precheck(self, ticket: AdmissionTicket) -> str | None:
        """The same checks without the lock and without writing, run before the request's
        references are fetched: a refused or replayed request costs no downloads. (The locked
        check at insert still decides.) `ticket.hold_amount` < 0 skips the credit check (the
        price is not known yet)."""
        with self._engine.connect() as conn:
            return self._admit(conn, ticket, dry_run=True)

    def _admit(
        self, conn: sa.Connection, t: AdmissionTicket, *, dry_run: bool = False
    ) -> str | None:
        now = self._clock()
        key_row = conn.execute(_KEY if dry_run else _KEY_LOCKED, {"key_id": t.key_id}).first()
        if key_row is None:
            raise NotFound("the API key no longer exists")
        key = key_row._mapping
        if t.idempotency_key is not None:
            replay = self._replay(conn, t, now, dry_run=dry_run)
            if replay is not None:
                return replay
        per_minute = key["creates_per_minute"] or self._limits.creates_per_minute
        recent = conn.execute(_CREATED_SINCE, {"key_id": t.key_id, "since": now - 60}).scalar_one()
        if recent >= per_minute:
            window = (jobs.c.owner_key_id == t.key_id, jobs.c.created_at > now - 60)
            # The create that has to leave the one-minute window before another fits.
            oldest = conn.execute(
                sa.select(jobs.c.created_at).where(*window)
                .order_by(jobs.c.created_at.desc()).offset(per_minute - 1).limit(1)
            ).scalar_one()  # fmt: skip
            retry = max(1, math.ceil(oldest + 60 - now))
            raise RateLimited(
                f"this key may create {per_minute} videos per minute; retry in {retry} s",
                retry_after=retry, code=codes.RATE_LIMITED_CREATES_PER_MINUTE,
            )  # fmt: skip
        max_active = key["max_active_jobs"] or self._limits.max_active_jobs
        active = conn.execute(_ACTIVE, {"key_id": t.key_id}).scalar_one()
        if active >= max_active:
            raise RateLimited(
                f"this key has {active} videos queued or running; at most {max_active} at once",
                retry_after=5, code=codes.RATE_LIMITED_CONCURRENCY,
            )  # fmt: skip
        if dry_run:
            if t.hold_amount >= 0:
                self._credits.hold(conn, key, t.job_id, t.hold_amount, dry_run=True)
            return None
        self._credits.hold(conn, key, t.job_id, t.hold_amount)
        if t.idempotency_key is not None:
            conn.execute(
                idempotency_keys.insert().values(
                    key_id=t.key_id, idempotency_key=t.idempotency_key,
                    request_hash=t.request_hash, job_id=t.job_id, created_at=now,
                )
            )  # fmt: skip
        return None

    def _replay(
        self, conn: sa.Connection, t: AdmissionTicket, now: float, *, dry_run: bool = False
    ) -> str | None:
        where = (
            idempotency_keys.c.key_id == t.key_id,
            idempotency_keys.c.idempotency_key == t.idempotency_key,
        )
        row = conn.execute(sa.select(idempotency_keys).where(*where)).first()
        if row is None:
            return None
        m = row._mapping
        if m["created_at"] < now - self._limits.idempotency_ttl_seconds:
            if not dry_run:
                conn.execute(idempotency_keys.delete().where(*where))
            return None
        if m["request_hash"] != t.request_hash:
            raise Conflict(
                f"Idempotency-Key {t.idempotency_key!r} was used with a different request "
                f"(job {m['job_id']}); use a new key for a new request",
                code=codes.CONFLICT_IDEMPOTENCY_KEY, param="Idempotency-Key",
            )  # fmt: skip
        return str(m["job_id"])
