"""API keys: admin routes and /v1/keys/me."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from reelforge.api.deps import AdminKey, AnyKey, RuntimeDep
from reelforge.platform.keys import DEFAULT_SCOPES
from reelforge.store.key_repository import ApiKeyRecord

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_SCOPES))


def key_object(rec: ApiKeyRecord) -> dict[str, Any]:
    return {
        "id": rec.id,
        "object": "api_key",
        "name": rec.name,
        "scopes": list(rec.scopes),
        "created_at": int(rec.created_at),
        "last_used_at": int(rec.last_used_at) if rec.last_used_at else None,
        "revoked_at": int(rec.revoked_at) if rec.revoked_at else None,
    }


@router.post("", summary="Create an API key (admin)")
def create_key(body: KeyCreate, runtime: RuntimeDep, _admin: AdminKey) -> dict[str, Any]:
    created = runtime.keys.create(body.name, tuple(body.scopes))
    return {**key_object(created.record), "key": created.key,
            "webhook_secret": created.record.webhook_secret}  # fmt: skip


@router.get("", summary="List API keys (admin)")
def list_keys(runtime: RuntimeDep, _admin: AdminKey) -> dict[str, Any]:
    return {"object": "list", "data": [key_object(k) for k in runtime.keys.list_all()]}


@router.get("/me", summary="The calling key")
def me(key: AnyKey) -> dict[str, Any]:
    return {**key_object(key), "webhook_secret": key.webhook_secret,
            "limits": None, "balance": None}  # fmt: skip


@router.delete("/{key_id}", summary="Revoke an API key (admin)")
def revoke_key(key_id: str, runtime: RuntimeDep, _admin: AdminKey) -> dict[str, Any]:
    return key_object(runtime.keys.revoke(key_id))
