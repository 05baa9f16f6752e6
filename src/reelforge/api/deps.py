"""FastAPI dependencies: the narrow services a route needs, and the authenticated key.

The app's lifespan puts each service on `app.state` (`install_services`); a route names only
what it uses (`JobsDep`, `SubmissionsDep`, `ViewsDep`, ...), never the whole runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from reelforge.intake.references import ReferenceIntake
from reelforge.jobs.batches import BatchService
from reelforge.jobs.directory import ModelDirectory
from reelforge.jobs.health import HealthProbe
from reelforge.jobs.service import JobService
from reelforge.jobs.submissions import Submissions
from reelforge.jobs.views import JobViews
from reelforge.platform.credits import Credits
from reelforge.platform.keys import KeyRing, Scope, require_scope
from reelforge.platform.pricing import PriceTable
from reelforge.platform.usage import UsageReports
from reelforge.platform.webhooks import WebhookDispatcher
from reelforge.storage.base import Storage
from reelforge.storage.signing import UrlSigner
from reelforge.store.file_repository import FileRepository
from reelforge.store.key_repository import ApiKeyRecord


@dataclass(frozen=True)
class HttpOptions:
    """The few settings routes read."""

    max_request_bytes: int
    default_model: str
    default_key_balance: float | None
    creates_per_minute: int
    max_active_jobs: int


@dataclass(frozen=True)
class Downloads:
    """Where a finished video's files are served from, and the signer of their links."""

    storage: Storage
    signer: UrlSigner


T = TypeVar("T")


def _service(name: str, _kind: type[T]) -> Callable[[Request], T]:
    def dependency(request: Request) -> T:
        value: T = getattr(request.app.state, name)
        return value

    dependency.__name__ = f"get_{name}"
    return dependency


def install_services(state: Any, **services: object) -> None:
    """Put each named service on `app.state` for the dependencies below."""
    for name, service in services.items():
        setattr(state, name, service)


OptionsDep = Annotated[HttpOptions, Depends(_service("options", HttpOptions))]
JobsDep = Annotated[JobService, Depends(_service("jobs", JobService))]
SubmissionsDep = Annotated[Submissions, Depends(_service("submissions", Submissions))]
ViewsDep = Annotated[JobViews, Depends(_service("views", JobViews))]
KeysDep = Annotated[KeyRing, Depends(_service("keys", KeyRing))]
IntakeDep = Annotated[ReferenceIntake, Depends(_service("intake", ReferenceIntake))]
FilesDep = Annotated[FileRepository, Depends(_service("files", FileRepository))]
CreditsDep = Annotated[Credits, Depends(_service("credits", Credits))]
PricesDep = Annotated[PriceTable, Depends(_service("prices", PriceTable))]
WebhooksDep = Annotated[WebhookDispatcher, Depends(_service("webhooks", WebhookDispatcher))]
DownloadsDep = Annotated[Downloads, Depends(_service("downloads", Downloads))]
ModelsDep = Annotated[ModelDirectory, Depends(_service("models", ModelDirectory))]
BatchesDep = Annotated[BatchService, Depends(_service("batches", BatchService))]
UsageDep = Annotated[UsageReports, Depends(_service("usage", UsageReports))]
HealthDep = Annotated[HealthProbe, Depends(_service("health", HealthProbe))]


def key_from_headers(request: Request) -> str | None:
    """Accepted everywhere: `Authorization: Bearer <key>`, `Authorization: Key <key>`,
    `X-API-Key: <key>`."""
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "key") and value.strip():
            return value.strip()
    return request.headers.get("x-api-key") or None


def current_key(request: Request, keys: KeysDep) -> ApiKeyRecord:
    record = keys.authenticate(key_from_headers(request))
    request.state.key_id = record.id
    return record


def _scoped(scope: Scope) -> Callable[[ApiKeyRecord], ApiKeyRecord]:
    def dependency(key: Annotated[ApiKeyRecord, Depends(current_key)]) -> ApiKeyRecord:
        require_scope(key, scope)
        return key

    return dependency


ReadKey = Annotated[ApiKeyRecord, Depends(_scoped(Scope.READ))]
GenerateKey = Annotated[ApiKeyRecord, Depends(_scoped(Scope.GENERATE))]
AdminKey = Annotated[ApiKeyRecord, Depends(_scoped(Scope.ADMIN))]
AnyKey = Annotated[ApiKeyRecord, Depends(current_key)]
