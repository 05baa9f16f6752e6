"""Credits: a balance per key (NULL = unlimited), a hold placed at create from the quote,
settled when the job ends (released, then the actual cost charged on success only).

Every change of balance is a ledger row, so `initial + sum(ledger.amount) == balance` always.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa

from reelforge import codes
from reelforge.core.job import Job, JobStatus
from reelforge.errors import InsufficientCredits, InvalidRequest, NotFound
from reelforge.platform.pricing import PriceTable
from reelforge.store.tables import api_keys, jobs, ledger

DAY = 86_400


def day_start(now: float) -> float:
    return now - now % DAY


# Built once: every create writes a ledger entry (statements cost more to build than to run).
_LEDGER_ENTRY = ledger.insert()
_ADD_TO_BALANCE = (
    api_keys.update()
    .where(api_keys.c.id == sa.bindparam("key_id"), api_keys.c.balance.is_not(None))
    .values(balance=api_keys.c.balance + sa.bindparam("amount"))
)


class Credits:
    def __init__(
        self, engine: sa.Engine, prices: PriceTable, clock: Callable[[], float] = time.time
    ) -> None:
        self._engine = engine
        self._prices = prices
        self._clock = clock

    # ---- inside the admission transaction ---------------------------------------------

    def hold(
        self,
        conn: sa.Connection,
        key_row: sa.RowMapping,
        job_id: str,
        amount: float,
        *,
        dry_run: bool = False,
    ) -> None:
        """Refuse with 402 when the balance or today's budget cannot cover `amount`; else hold
        it. Runs in the caller's write-locked transaction."""
        now = self._clock()
        balance, budget = key_row["balance"], key_row["daily_budget"]
        if balance is not None and balance + 1e-9 < amount:
            raise InsufficientCredits(
                f"this request is quoted at {amount:.4f} {self._prices.currency}; the key's "
                f"balance is {balance:.4f}",
                code=codes.INSUFFICIENT_CREDITS_BALANCE,
            )
        if budget is not None:
            spent = -float(
                conn.execute(
                    sa.select(sa.func.coalesce(sa.func.sum(ledger.c.amount), 0.0)).where(
                        ledger.c.key_id == key_row["id"],
                        ledger.c.kind.in_(("hold", "release", "charge")),
                        ledger.c.created_at >= day_start(now),
                    )
                ).scalar_one()
            )
            if spent + amount > budget + 1e-9:
                raise InsufficientCredits(
                    f"this request is quoted at {amount:.4f}; {spent:.4f} of the key's daily "
                    f"budget of {budget:.4f} is already used",
                    code=codes.INSUFFICIENT_CREDITS_DAILY_BUDGET,
                )
        if not dry_run:
            self._entry(conn, key_row["id"], job_id, "hold", -amount, now)

    # ---- when a job ends -----------------------------------------------------------------

    def settle(self, job: Job) -> None:
        """Release the hold; charge the actual seconds if the job succeeded. Idempotent: a job
        is settled once (its hold is zeroed in the same transaction)."""
        now = self._clock()
        cost = 0.0
        if job.status is JobStatus.SUCCEEDED:
            cost = self._prices.cost(
                job.resolved.label, job.resolution, float(job.output_seconds or 0.0)
            )
            if job.hold_amount:
                cost = min(cost, job.hold_amount)  # never more than the client was quoted
        with self._engine.connect().execution_options(immediate=True) as conn, conn.begin():
            moved = conn.execute(
                jobs.update()
                .where(jobs.c.id == job.id, jobs.c.hold_amount == job.hold_amount)
                .where(jobs.c.status.in_([s.value for s in (JobStatus.SUCCEEDED,
                       JobStatus.FAILED, JobStatus.CANCELED, JobStatus.EXPIRED)]))
                .values(hold_amount=0.0, cost=cost)
            ).rowcount  # fmt: skip
            if moved != 1 or (job.hold_amount == 0.0 and cost == 0.0):
                return
            if job.hold_amount:
                self._entry(conn, job.owner_key_id, job.id, "release", job.hold_amount, now)
            if cost:
                self._entry(conn, job.owner_key_id, job.id, "charge", -cost, now)

    def job_ended(self, job: Job) -> None:
        """`jobs.ports.Notifier`: a job that ended is settled."""
        self.settle(job)

    def job_progressed(self, job: Job) -> None:
        """`jobs.ports.Notifier`: progress costs nothing."""

    def settle_unsettled(self, load: Callable[[str], Job]) -> int:
        """Settle terminal jobs whose hold is still open (the process died in between)."""
        terminal = [s.value for s in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED,
                                      JobStatus.EXPIRED)]  # fmt: skip
        with self._engine.connect() as conn:
            ids = conn.execute(
                sa.select(jobs.c.id).where(jobs.c.status.in_(terminal), jobs.c.hold_amount > 0)
            ).scalars().all()  # fmt: skip
        for job_id in ids:
            self.settle(load(job_id))
        return len(ids)

    # ---- admin ---------------------------------------------------------------------------

    def top_up(self, key_id: str, amount: float) -> float | None:
        if amount <= 0:
            raise InvalidRequest("amount must be positive", param="amount")
        with self._engine.connect().execution_options(immediate=True) as conn, conn.begin():
            row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).first()
            if row is None:
                raise NotFound(f"no API key {key_id!r}", param="id")
            if row._mapping["balance"] is None:
                raise InvalidRequest(
                    "this key has an unlimited balance; set a balance first",
                    code=codes.INVALID_REQUEST_UNLIMITED_BALANCE, param="amount",
                )  # fmt: skip
            self._entry(conn, key_id, None, "topup", amount, self._clock())
            return float(
                conn.execute(sa.select(api_keys.c.balance).where(api_keys.c.id == key_id))
                .scalar_one()
            )  # fmt: skip

    def entries(self, key_id: str) -> list[dict[str, object]]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(ledger).where(ledger.c.key_id == key_id).order_by(ledger.c.id)
            ).all()
        return [dict(r._mapping) for r in rows]

    def _entry(
        self, conn: sa.Connection, key_id: str, job_id: str | None, kind: str, amount: float,
        now: float,
    ) -> None:  # fmt: skip
        conn.execute(
            _LEDGER_ENTRY,
            {"key_id": key_id, "job_id": job_id, "kind": kind, "amount": amount, "created_at": now},
        )
        conn.execute(_ADD_TO_BALANCE, {"key_id": key_id, "amount": amount})
