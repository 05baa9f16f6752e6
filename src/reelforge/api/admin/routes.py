"""API keys: admin routes and /v1/keys/me."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from reelforge.api.deps import AdminKey, AnyKey, CreditsDep, KeysDep, OptionsDep
from reelforge.platform.keys import DEFAULT_SCOPES, KeyLimits, Scope
from reelforge.store.key_repository import ApiKeyRecord

router = APIRouter(prefix="/v1/keys", tags=["keys"])

MAX_CREDITS = 1e12  # any balance, budget or top-up above it is a typo
MAX_RATE = 1_000_000  # creates per minute, active jobs


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_SCOPES))
    balance: float | None = Field(
        None, ge=0, le=MAX_CREDITS, description="credits; omit for the server default"
    )
    unlimited: bool = Field(False, description="no balance: the key is never refused for credits")
    daily_budget: float | None = Field(None, ge=0, le=MAX_CREDITS)
    # Stored as 32-bit integers (PostgreSQL INTEGER): bounded well inside them.
    creates_per_minute: int | None = Field(None, ge=1, le=MAX_RATE)
    max_active_jobs: int | None = Field(None, ge=1, le=MAX_RATE)


class TopUp(BaseModel):
    amount: float = Field(gt=0, le=MAX_CREDITS)


def key_object(rec: ApiKeyRecord) -> dict[str, Any]:
    return {
        "id": rec.id,
        "object": "api_key",
        "name": rec.name,
        "scopes": list(rec.scopes),
        "created_at": int(rec.created_at),
        "last_used_at": int(rec.last_used_at) if rec.last_used_at else None,
        "revoked_at": int(rec.revoked_at) if rec.revoked_at else None,
        "balance": rec.balance,
        "daily_budget": rec.daily_budget,
    }


@router.post("", summary="Create an API key (admin)")
def create_key(
    body: KeyCreate, keys: KeysDep, options: OptionsDep, _admin: AdminKey
) -> dict[str, Any]:
    limits = None
    if (
        body.unlimited
        or body.balance is not None
        or body.daily_budget is not None
        or (body.creates_per_minute or body.max_active_jobs)
    ):
        balance = None if body.unlimited else body.balance
        if balance is None and not body.unlimited:
            balance = options.default_key_balance
        limits = KeyLimits(
            balance=balance,
            daily_budget=body.daily_budget,
            creates_per_minute=body.creates_per_minute,
            max_active_jobs=body.max_active_jobs,
        )
    created = keys.create(body.name, tuple(body.scopes), limits=limits)
    return {**key_object(created.record), "key": created.key,
            "webhook_secret": created.record.webhook_secret}  # fmt: skip


@router.get("", summary="List API keys (admin)")
def list_keys(keys: KeysDep, _admin: AdminKey) -> dict[str, Any]:
    return {"object": "list", "data": [key_object(k) for k in keys.list_all()]}


@router.get("/me", summary="The calling key")
def me(key: AnyKey, options: OptionsDep) -> dict[str, Any]:
    limits = {
        "creates_per_minute": key.creates_per_minute or options.creates_per_minute,
        "max_active_jobs": key.max_active_jobs or options.max_active_jobs,
        "daily_budget": key.daily_budget,
    }
    # The webhook secret signs the webhooks of the jobs a key creates: only a key that can
    # create jobs (and so set webhook URLs), or an admin, may read it.
    manages_webhooks = Scope.GENERATE.value in key.scopes or Scope.ADMIN.value in key.scopes
    secret = key.webhook_secret if manages_webhooks else None
    return {**key_object(key), "webhook_secret": secret, "limits": limits}


@router.post("/{key_id}/credits", summary="Add credits to a key (admin)")
def top_up(key_id: str, body: TopUp, credits: CreditsDep, _admin: AdminKey) -> dict[str, Any]:
    balance = credits.top_up(key_id, body.amount)
    return {"id": key_id, "balance": balance}


@router.get("/{key_id}/ledger", summary="Every change of a key's balance (admin)")
def key_ledger(key_id: str, keys: KeysDep, credits: CreditsDep, _admin: AdminKey) -> dict[str, Any]:
    keys.get(key_id)
    return {"object": "list", "data": credits.entries(key_id)}


@router.delete("/{key_id}", summary="Revoke an API key (admin)")
def revoke_key(key_id: str, keys: KeysDep, _admin: AdminKey) -> dict[str, Any]:
    return key_object(keys.revoke(key_id))
