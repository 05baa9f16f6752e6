"""create_app(settings): the ASGI app and, in its lifespan, every resource it owns."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from reelforge import __version__
from reelforge.api.admin.routes import router as keys_router
from reelforge.api.ark import ARK_PREFIX
from reelforge.api.ark.errors import ark_error_body
from reelforge.api.ark.routes import router as ark_router
from reelforge.api.batches.routes import router as batches_router
from reelforge.api.body_guard import BodyGuard
from reelforge.api.body_limit import BodyLimit
from reelforge.api.common.dialect_router import install_dialect
from reelforge.api.common.docs import install_docs
from reelforge.api.common.openapi import install_openapi
from reelforge.api.deps import Downloads, HttpOptions, install_services
from reelforge.api.eachlabs.routes import router as eachlabs_router
from reelforge.api.errors import install_error_handlers, register_error_renderer
from reelforge.api.files.routes import router as files_router
from reelforge.api.health.metrics import router as metrics_router
from reelforge.api.health.routes import router as health_router
from reelforge.api.models.routes import router as models_router
from reelforge.api.openai.routes import router as openai_router
from reelforge.api.request_context import RequestContext
from reelforge.api.seed_dialects.seed000 import router as seed000_router
from reelforge.api.seed_dialects.seed001 import router as seed001_router
from reelforge.api.seed_dialects.seed002 import router as seed002_router
from reelforge.api.seed_dialects.seed004 import router as seed004_router
from reelforge.api.usage.routes import router as usage_router
from reelforge.api.videos.routes import router as videos_router
from reelforge.api.videos.webhook_routes import router as webhooks_router
from reelforge.api.web.routes import router as web_router
from reelforge.engines.registry import EngineRegistry
from reelforge.errors import InvalidRequest
from reelforge.logs import install_access_log_redaction, json_logging
from reelforge.platform.keys import check_key_format
from reelforge.platform.metrics import StoreGauges
from reelforge.platform.moderation import ModerationPolicy
from reelforge.platform.usage import UsageReports
from reelforge.runtime import Background, build_runtime
from reelforge.settings import Settings
from reelforge.storage.signing import MIN_SECRET_BYTES
from reelforge.store.database import private_dir, private_file, secure_sqlite_file

log = logging.getLogger("reelforge")


def _announce(settings: Settings, generated_key: str | None) -> None:
    """The start line; the admin key itself only when reelforge generated it (an operator's
    `REELFORGE_BOOTSTRAP_KEY` is never echoed)."""
    url = settings.resolved_public_url
    lines = [f"reelforge {__version__} serving at {url} (playground: {url}/, docs: {url}/docs)"]
    if generated_key:
        lines += [
            f"admin API key (shown once, saved to {settings.admin_key_path}):",
            f"  {generated_key}",
        ]
    elif settings.bootstrap_key:
        lines.append("admin API key: the one in REELFORGE_BOOTSTRAP_KEY")
    else:
        lines.append(f"admin API key: see {settings.admin_key_path}")
    if json_logging():  # one JSON line like every other; WARNING: no LOG_LEVEL hides the key
        log.warning("\n".join(lines), extra={"url": url, "version": __version__})
    else:
        print("\n".join(lines), file=sys.stderr, flush=True)


def check_settings(settings: Settings) -> None:
    """What start-up would trip on, checked before anything is created or printed; raises
    `InvalidRequest` with one line to show (`reelforge serve` exits with it)."""
    if settings.bootstrap_key is not None:
        check_key_format(settings.bootstrap_key.get_secret_value(), param="REELFORGE_BOOTSTRAP_KEY")
    if settings.signing_key is not None:
        n = len(settings.signing_key.get_secret_value().encode())
        if n < MIN_SECRET_BYTES:
            raise InvalidRequest(
                f"REELFORGE_SIGNING_KEY is {n} bytes; at least {MIN_SECRET_BYTES}",
                param="REELFORGE_SIGNING_KEY",
            )


def _private_files(settings: Settings) -> None:
    """Owner-only data: the data directory 0700, the SQLite files (the job store and DBOS's)
    0600 before SQLite creates them, whatever the umask."""
    private_dir(settings.data_dir)
    secure_sqlite_file(settings.resolved_dbos_database_url)
    secure_sqlite_file(settings.resolved_database_url)


def create_app(
    settings: Settings,
    *,
    engines: EngineRegistry | None = None,
    moderation: ModerationPolicy | None = None,
) -> FastAPI:
    engine_registry = engines or EngineRegistry(settings=settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_settings(settings)
        await asyncio.to_thread(_private_files, settings)
        runtime = await asyncio.to_thread(build_runtime, settings, engine_registry, moderation)
        background = Background(runtime, hosted_engines=None)
        try:
            install_access_log_redaction()
            for name, reason in (await asyncio.to_thread(engine_registry.check_ready)).items():
                log.error("engine %s is unavailable (creates for it are refused): %s", name, reason)
            preset = settings.bootstrap_key.get_secret_value() if settings.bootstrap_key else None
            admin_key = runtime.keys.bootstrap(settings.admin_key_path, preset)
            for path in (settings.admin_key_path, settings.signing_key_path):
                private_file(path)  # written 0600; tightened if an older version left it open
            if settings.print_admin_key:
                _announce(settings, admin_key if preset is None else None)
            await asyncio.to_thread(background.start)
            install_services(
                app.state,
                options=HttpOptions(
                    max_request_bytes=settings.max_request_bytes,
                    default_model=settings.default_model,
                    default_key_balance=settings.default_key_balance,
                    creates_per_minute=settings.creates_per_minute,
                    max_active_jobs=settings.max_active_jobs,
                ),
                jobs=runtime.jobs, submissions=runtime.submissions, views=runtime.views,
                keys=runtime.keys, intake=runtime.intake, files=runtime.files,
                credits=runtime.credits, prices=runtime.prices, webhooks=runtime.webhooks,
                downloads=Downloads(runtime.storage, runtime.signer),
                usage=UsageReports(runtime.database),
                health=background.health,
                models=runtime.directory, batches=runtime.batches,
            )  # fmt: skip
            # /metrics: the store's gauges (queue depth per engine), read at most every 5 s
            app.state.store_gauges = StoreGauges(runtime.database, engine_registry.names)
            yield
        finally:
            await asyncio.to_thread(background.stop)

    app = FastAPI(
        title="reelforge",
        version=__version__,
        description="Self-hostable reference-to-video API. Native API under /v1/videos.",
        lifespan=lifespan,
        docs_url=None,  # served from local assets by install_docs (no CDN)
        redoc_url=None,
    )
    install_docs(app)
    install_openapi(app)
    install_error_handlers(app)
    # BodyGuard inside BodyLimit: every body is capped, then checked whole before any route.
    app.add_middleware(
        BodyGuard, max_bytes=settings.max_request_bytes, max_depth=settings.limits.max_json_depth
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    # Outermost of the app's own: the request id (logs, access line, x-request-id) and metrics.
    app.add_middleware(RequestContext)

    for router in (
        health_router, metrics_router, videos_router, files_router, keys_router, usage_router,
        models_router, batches_router,
    ):  # fmt: skip
        app.include_router(router)
    app.include_router(webhooks_router)
    app.include_router(web_router)  # `/`: the playground and gallery (reelforge/web/)
    app.include_router(openai_router)  # /openai/v1/videos: OpenAI's codes and defaults
    app.include_router(ark_router)
    register_error_renderer(app, ARK_PREFIX, ark_error_body)
    install_dialect(app, eachlabs_router)
    install_dialect(app, seed000_router)
    install_dialect(app, seed001_router)
    install_dialect(app, seed002_router)
    install_dialect(app, seed004_router)
    return app
