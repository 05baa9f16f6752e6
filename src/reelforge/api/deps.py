"""FastAPI dependencies: the runtime and the authenticated key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from reelforge.platform.keys import Scope, require_scope
from reelforge.runtime import Runtime
from reelforge.store.key_repository import ApiKeyRecord


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def key_from_headers(request: Request) -> str | None:
    """Accepted everywhere: `Authorization: Bearer <key>`, `Authorization: Key <key>`,
    `X-API-Key: <key>`."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "key") and value.strip():
            return value.strip()
    return request.headers.get("x-api-key") or None


def current_key(
    request: Request, runtime: Annotated[Runtime, Depends(get_runtime)]
) -> ApiKeyRecord:
    record = runtime.keys.authenticate(key_from_headers(request))
    request.state.key_id = record.id
    return record


def _scoped(scope: Scope) -> Callable[[ApiKeyRecord], ApiKeyRecord]:
    def dependency(key: Annotated[ApiKeyRecord, Depends(current_key)]) -> ApiKeyRecord:
        require_scope(key, scope)
        return key

    return dependency


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ReadKey = Annotated[ApiKeyRecord, Depends(_scoped(Scope.READ))]
GenerateKey = Annotated[ApiKeyRecord, Depends(_scoped(Scope.GENERATE))]
AdminKey = Annotated[ApiKeyRecord, Depends(_scoped(Scope.ADMIN))]
AnyKey = Annotated[ApiKeyRecord, Depends(current_key)]
