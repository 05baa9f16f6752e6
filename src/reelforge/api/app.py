"""create_app(settings): the ASGI app and, in its lifespan, every resource it owns."""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from reelforge import __version__
from reelforge.api.admin.routes import router as keys_router
from reelforge.api.ark import ARK_DIALECT, ARK_PREFIX
from reelforge.api.ark.errors import ark_error_body
from reelforge.api.ark.presenter import callback_body as ark_callback_body
from reelforge.api.ark.routes import router as ark_router
from reelforge.api.common.dialect_router import install_dialect
from reelforge.api.eachlabs.presenter import DIALECT as EACHLABS
from reelforge.api.eachlabs.presenter import webhook_builder as eachlabs_webhook
from reelforge.api.eachlabs.routes import router as eachlabs_router
from reelforge.api.errors import install_error_handlers, register_error_renderer
from reelforge.api.files.routes import router as files_router
from reelforge.api.health.metrics import router as metrics_router
from reelforge.api.health.routes import router as health_router
from reelforge.api.runtime import Runtime
from reelforge.api.seed_dialects.seed000 import router as seed000_router
from reelforge.api.seed_dialects.seed001 import router as seed001_router
from reelforge.api.seed_dialects.seed002 import router as seed002_router
from reelforge.api.seed_dialects.seed004 import router as seed004_router
from reelforge.api.usage.routes import router as usage_router
from reelforge.api.videos.routes import router as videos_router
from reelforge.api.videos.webhook_routes import router as webhooks_router
from reelforge.engines.registry import EngineRegistry
from reelforge.intake.references import ReferenceIntake
from reelforge.jobs.engine_host import EngineHosts
from reelforge.jobs.janitor import Janitor
from reelforge.jobs.service import JobService, Lifecycle
from reelforge.jobs.workflow import JobWorkflows
from reelforge.logs import request_id_var
from reelforge.platform.admission import Admission, AdmissionLimits
from reelforge.platform.credits import Credits
from reelforge.platform.keys import KeyRing
from reelforge.platform.metrics import HttpCounters
from reelforge.platform.moderation import open_policy
from reelforge.platform.pricing import PriceTable
from reelforge.platform.webhooks import open_webhooks
from reelforge.settings import Settings
from reelforge.storage.registry import open_storage
from reelforge.storage.signing import UrlSigner, load_or_create_secret
from reelforge.store.database import open_database
from reelforge.store.file_repository import FileRepository
from reelforge.store.job_repository import JobRepository
from reelforge.store.key_repository import KeyRepository

log = logging.getLogger("reelforge")


def build_runtime(settings: Settings, engines: EngineRegistry) -> tuple[Runtime, JobWorkflows]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = open_database(settings.resolved_database_url)
    storage = open_storage(settings.resolved_storage_url)
    signer = UrlSigner(
        load_or_create_secret(settings.signing_key_path), settings.download_url_ttl_seconds
    )
    files = FileRepository(database)
    intake = ReferenceIntake(
        storage, files, settings.limits.to_limits(), allow_private_urls=settings.allow_private_urls
    )
    prices = PriceTable()
    credits = Credits(database, prices)
    admission = Admission(
        credits,
        AdmissionLimits(
            creates_per_minute=settings.creates_per_minute,
            max_active_jobs=settings.max_active_jobs,
            idempotency_ttl_seconds=settings.idempotency_ttl_seconds,
        ),
    )
    service = JobService(
        JobRepository(database),
        intake,
        storage,
        engine_names=engines.names,
        default_model=settings.default_model,
        prices=prices,
        admission=admission,
        moderation=open_policy(settings.moderation_patterns_file),
        lifecycle=Lifecycle(
            execution_expires_after=settings.execution_expires_after_seconds,
            output_retention_seconds=settings.output_retention_seconds,
        ),
    )
    service.add_listener(credits.settle)
    credits.settle_unsettled(service.load)
    webhooks = open_webhooks(settings, database, service.load)
    service.add_listener(webhooks.on_terminal)
    hosts = EngineHosts(
        engines, isolation=settings.engine_isolation, grace_seconds=settings.cancel_grace_seconds
    )
    workflows = JobWorkflows(service, storage, hosts, settings.data_dir / "work")
    service.attach_queue(workflows)
    runtime = Runtime(
        settings=settings, database=database, storage=storage, signer=signer,
        keys=KeyRing(KeyRepository(database), default_balance=settings.default_key_balance),
        files=files, intake=intake, jobs=service, prices=prices, credits=credits,
        webhooks=webhooks,
    )  # fmt: skip
    webhooks.register_body(EACHLABS, eachlabs_webhook(runtime))
    webhooks.register_body(ARK_DIALECT, ark_callback_body(runtime))
    return runtime, workflows


def _announce(settings: Settings, admin_key: str | None) -> None:
    url = settings.resolved_public_url
    lines = [f"reelforge {__version__} serving at {url} (docs: {url}/docs)"]
    if admin_key:
        lines += [
            f"admin API key (shown once, saved to {settings.admin_key_path}):",
            f"  {admin_key}",
        ]
    else:
        lines.append(f"admin API key: see {settings.admin_key_path}")
    print("\n".join(lines), file=sys.stderr, flush=True)


def create_app(settings: Settings, *, engines: EngineRegistry | None = None) -> FastAPI:
    engine_registry = engines or EngineRegistry(settings=settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime, workflows = await asyncio.to_thread(build_runtime, settings, engine_registry)
        for name, reason in (await asyncio.to_thread(engine_registry.check_ready)).items():
            log.error("engine %s is unavailable (its jobs will fail): %s", name, reason)
        preset = settings.bootstrap_key.get_secret_value() if settings.bootstrap_key else None
        admin_key = runtime.keys.bootstrap(settings.admin_key_path, preset)
        if settings.print_admin_key:
            _announce(settings, admin_key)
        await asyncio.to_thread(
            workflows.launch,
            settings.resolved_dbos_database_url,
            settings.executor_id,
            run_workers=settings.run_workers,
            concurrency=settings.worker_concurrency,
            poll_seconds=settings.queue_poll_seconds,
        )
        await asyncio.to_thread(runtime.jobs.reenqueue_unfinished)
        runtime.webhooks.start()
        janitor = Janitor(runtime.jobs, settings.janitor_interval_seconds)
        janitor.start()
        app.state.runtime = runtime
        try:
            yield
        finally:
            await asyncio.to_thread(janitor.stop)
            await asyncio.to_thread(runtime.webhooks.stop)
            await asyncio.to_thread(workflows.shutdown)
            await asyncio.to_thread(workflows.close_engines)
            runtime.database.dispose()

    app = FastAPI(
        title="reelforge",
        version=__version__,
        description="Self-hostable reference-to-video API. Native API under /v1/videos.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    counters = HttpCounters()
    app.state.http_counters = counters

    @app.middleware("http")
    async def request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        rid = request.headers.get("x-request-id") or "req_" + secrets.token_hex(8)
        token = request_id_var.set(rid)
        try:
            response = await call_next(request)
        finally:
            request_id_var.reset(token)
        response.headers["x-request-id"] = rid
        counters.observe(request.method, response.status_code)
        return response

    for router in (
        health_router, metrics_router, videos_router, files_router, keys_router, usage_router,
    ):  # fmt: skip
        app.include_router(router)
    app.include_router(webhooks_router)
    app.include_router(ark_router)
    register_error_renderer(app, ARK_PREFIX, ark_error_body)
    install_dialect(app, eachlabs_router)
    install_dialect(app, seed000_router)
    install_dialect(app, seed001_router)
    install_dialect(app, seed002_router)
    install_dialect(app, seed004_router)
    return app
