"""What one create asks to be admitted (rate limits, active jobs, idempotency, credit hold)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AdmissionTicket:
    key_id: str
    job_id: str
    hold_amount: float  # < 0: the price is not known yet (skip the credit check)
    idempotency_key: str | None = None
    request_hash: str | None = None
