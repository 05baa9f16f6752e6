"""The composition root: everything one service process owns, built from Settings, started and
stopped as one. `create_app` (the API) and `reelforge worker` (workers only) both use it."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from reelforge import codes
from reelforge.engines.registry import EngineRegistry
from reelforge.errors import InvalidRequest
from reelforge.intake.references import ReferenceIntake
from reelforge.jobs.batches import QUEUE_NAME as BATCH_QUEUE
from reelforge.jobs.batches import BatchService
from reelforge.jobs.directory import ModelDirectory
from reelforge.jobs.engine_host import EngineHosts
from reelforge.jobs.fleet import Fleet, announce_queue, open_lease
from reelforge.jobs.health import HealthProbe
from reelforge.jobs.janitor import Janitor
from reelforge.jobs.notifications import WebhookEvents
from reelforge.jobs.outages import RetryPolicy
from reelforge.jobs.readiness import EngineReadiness, fleet_engines
from reelforge.jobs.service import JobService, Lifecycle
from reelforge.jobs.submissions import ModelCatalog, Submissions
from reelforge.jobs.views import JobViews
from reelforge.jobs.workflow import JobWorkflows
from reelforge.platform.admission import Admission, AdmissionLimits
from reelforge.platform.credits import Credits
from reelforge.platform.keys import KeyRing
from reelforge.platform.moderation import ModerationPolicy, open_policy
from reelforge.platform.pricing import PriceTable
from reelforge.platform.webhooks import WebhookConfig, WebhookDispatcher, open_webhooks
from reelforge.presenters.batches import batch_event_body
from reelforge.presenters.webhook_bodies import WEBHOOK_BODIES
from reelforge.settings import Settings
from reelforge.storage.base import Storage
from reelforge.storage.registry import open_storage
from reelforge.storage.signing import UrlSigner, signing_secret
from reelforge.store.batch_repository import BatchRepository
from reelforge.store.database import PoolOptions, open_database
from reelforge.store.file_repository import FileRepository
from reelforge.store.job_repository import JobRepository
from reelforge.store.key_repository import KeyRepository
from reelforge.store.secret_box import SecretBox

log = logging.getLogger("reelforge")


@dataclass
class Runtime:
    settings: Settings
    database: sa.Engine
    storage: Storage
    signer: UrlSigner
    keys: KeyRing
    files: FileRepository
    intake: ReferenceIntake
    jobs: JobService
    submissions: Submissions
    views: JobViews
    prices: PriceTable
    credits: Credits
    webhooks: WebhookDispatcher
    readiness: EngineReadiness
    models: ModelCatalog
    directory: ModelDirectory
    events: WebhookEvents
    workflows: JobWorkflows
    engines: EngineRegistry
    batches: BatchService


def build_runtime(
    settings: Settings, engines: EngineRegistry, moderation: ModerationPolicy | None = None
) -> Runtime:
    """Open the store and storage and wire the services; nothing runs yet (see `Background`).
    `moderation` replaces the policy the settings describe (for operators embedding reelforge
    with a policy of their own)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = open_database(
        settings.resolved_database_url,
        pool=pool_options(settings),
        migrate_schema=settings.migrate_on_start,
        schema_wait_seconds=settings.schema_wait_seconds,
    )
    storage = open_storage(settings.resolved_storage_url, settings, settings.data_dir / "cache")
    configured = settings.signing_key.get_secret_value() if settings.signing_key else None
    secret = signing_secret(configured, settings.signing_key_path)
    signer = UrlSigner(secret, settings.download_url_ttl_seconds)
    secret_box = SecretBox.from_signing_secret(secret)  # webhook secrets at rest
    files = FileRepository(database)
    intake = ReferenceIntake(
        storage, files, settings.limits.to_limits(), allow_private_urls=settings.allow_private_urls
    )
    # The operator's table for an engine wins over the engine's own; "default" prices the rest.
    prices = PriceTable({**engines.price_tables(), **settings.prices}, settings.price_currency)
    credits = Credits(database, prices)
    admission = Admission(
        database,
        credits,
        AdmissionLimits(
            creates_per_minute=settings.creates_per_minute,
            max_active_jobs=settings.max_active_jobs,
            idempotency_ttl_seconds=settings.idempotency_ttl_seconds,
        ),
    )
    moderation = moderation or open_policy(settings.moderation_patterns_file)
    lifecycle = Lifecycle(
        execution_expires_after=settings.execution_expires_after_seconds,
        output_retention_seconds=settings.output_retention_seconds,
    )
    store = JobRepository(database)
    service = JobService(store, storage, notifiers=[credits], lifecycle=lifecycle)
    readiness = EngineReadiness(
        engines,
        local=None if settings.run_workers else [],
        live_engines=fleet_engines(database, settings.dead_worker_seconds),
    )
    models = ModelCatalog(
        engine_names=engines.names,
        limits=engines.limits,
        presets=engines.presets,
        follows_plan=engines.follows_plan,
        default_model=settings.default_model,
        aliases=settings.model_aliases,
        unavailable=readiness.reason,
    )
    submissions = Submissions(
        store, service, intake, models, prices, moderation,
        admission=admission, lifecycle=lifecycle,
    )  # fmt: skip
    views = JobViews(store, signer, prices, settings.resolved_public_url)
    directory = ModelDirectory(models, engines.entry, prices, prices.per_second)
    credits.settle_unsettled(service.load)
    webhooks = open_webhooks(
        WebhookConfig(
            timeout_seconds=settings.webhook_timeout_seconds,
            max_attempts=settings.webhook_max_attempts,
            retry_schedule=tuple(settings.webhook_retry_schedule),
            poll_seconds=settings.webhook_poll_seconds,
            concurrency=settings.webhook_concurrency,
        ),
        database,
        allow_private_urls=settings.allow_private_urls,
        secret_box=secret_box,
    )
    events = WebhookEvents(
        webhooks, views, service.load, bodies=WEBHOOK_BODIES, clock=service.clock
    )
    webhooks.set_sweep(events.recover_missed)
    service.add_notifier(events)

    def grace(engine: str) -> float:
        if engines.entry(engine).loads_weights:
            return settings.diffusion_cancel_grace_seconds
        return settings.cancel_grace_seconds

    hosts = EngineHosts(
        engines, isolation=settings.engine_isolation, grace_seconds=grace, parallel=settings
    )
    workflows = JobWorkflows(
        service, storage, hosts, settings.data_dir / "work", moderation,
        assess_quality=settings.quality_reports,
        retry=RetryPolicy(
            total_seconds=settings.transient_retry_seconds,
            initial=settings.transient_backoff_seconds,
            maximum=settings.transient_backoff_max_seconds,
        ),
        idle_poll_seconds=settings.queue_poll_seconds,
    )  # fmt: skip
    service.attach_queue(workflows)
    batches = BatchService(
        BatchRepository(database), submissions, service, intake,
        events=webhooks, event_body=batch_event_body, currency=prices.currency,
    )  # fmt: skip
    service.add_notifier(batches)  # a job that ends frees a slot: the batches look again
    return Runtime(
        settings=settings, database=database, storage=storage, signer=signer,
        keys=KeyRing(KeyRepository(database, secret_box),
                     default_balance=settings.default_key_balance),
        files=files, intake=intake, jobs=service, submissions=submissions, views=views,
        prices=prices, credits=credits, webhooks=webhooks, workflows=workflows, engines=engines,
        readiness=readiness, models=models, directory=directory,
        events=events, batches=batches,
    )  # fmt: skip


def pool_options(settings: Settings) -> PoolOptions:
    return PoolOptions(
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connect_timeout=settings.db_connect_timeout_seconds,
        application_name=f"reelforge/{os.getpid()}",
    )


def _exit_now(why: str) -> None:
    """Leave at once, without draining: this process's jobs are no longer its own. Status 75
    (EX_TEMPFAIL): the orchestrator starts it again, and the new process recovers whatever is
    still pending under its id."""
    logging.getLogger("reelforge").critical("%s: exiting", why)
    logging.shutdown()
    os._exit(75)


class Background:
    """The running parts of a process: its place in the fleet (executor lease and heartbeat),
    the durable queue (and its workers, for the engines this process hosts), webhook delivery
    and the lifecycle janitor."""

    def __init__(self, runtime: Runtime, *, hosted_engines: list[str] | None) -> None:
        self._runtime = runtime
        self._hosted = hosted_engines
        settings = runtime.settings
        self.health = HealthProbe(
            runtime.database, runtime.storage, timeout=settings.readiness_timeout_seconds
        )
        self._janitor = Janitor(
            runtime.jobs,
            runtime.settings.janitor_interval_seconds,
            repairs=[
                lambda: runtime.credits.settle_unsettled(runtime.jobs.load),
                runtime.events.recover_missed,
                runtime.batches.resume_unfinished,  # a batch whose workflow stopped on an error
            ],
        )
        self._fleet: Fleet | None = None
        # `reelforge worker --engine X` names its engines: it renders whatever RUN_WORKERS says
        # (an env file shared with API replicas must not silence it).
        self._runs_workers = hosted_engines is not None or runtime.settings.run_workers
        if hosted_engines is not None:
            role = "worker-" + "+".join(hosted_engines)
        else:
            role = "serve" if self._runs_workers else "api"
        self.executor_id = settings.executor_for(role)

    def start(self) -> None:
        settings = self._runtime.settings
        database, workflows = self._runtime.database, self._runtime.workflows
        if settings.scale_mode and self.executor_id == "local":
            raise InvalidRequest(
                "REELFORGE_EXECUTOR_ID=local is the one-machine id; on PostgreSQL each process "
                "needs its own (leave it unset for <hostname>-<role>[-<slot>])",
                code=codes.INVALID_REQUEST_EXECUTOR_ID,
                param="REELFORGE_EXECUTOR_ID",
            )
        # The lease first: only the one live holder of an id recovers that id's workflows.
        self._fleet = Fleet(
            database,
            self.executor_id,
            [],
            lease=open_lease(
                settings.resolved_database_url,
                settings.data_dir,
                self.executor_id,
                pool_options(settings),
            ),
            heartbeat_seconds=settings.worker_heartbeat_seconds,
            dead_after_seconds=settings.dead_worker_seconds,
            on_wake=workflows.wake,
            on_recovered=workflows.announce,
            # Declared dead while cut off: its jobs went to other workers, and jobs it took
            # since are its own; a restart sorts them out (DBOS recovers the latter).
            on_fenced=lambda: _exit_now("declared dead while cut off from the database"),
            # Two processes must never run under one id (each would recover the other's jobs).
            on_replaced=lambda: _exit_now("executor id taken over by another process"),
        )
        self._fleet.claim(settings.executor_claim_seconds)
        fleet = self._fleet
        self.health.add_state("executor", lambda: fleet.lease_problem())
        shared = settings.scale_mode and (
            settings.resolved_dbos_database_url == settings.resolved_database_url
        )
        engines = self._runtime.engines
        renders = self._hosted if self._hosted is not None else engines.names()
        # Engines that cannot render here (an extra or weights missing) are not advertised,
        # and `serve` does not take their jobs (a GPU worker of the fleet may).
        unready = engines.check_ready(renders) if self._runs_workers else {}
        hosted: list[str] = []
        if self._runs_workers:
            hosted = (
                renders if self._hosted is not None else [e for e in renders if e not in unready]
            )
        workflows.launch(
            settings.resolved_dbos_database_url,
            self.executor_id,
            engines=engines.names(),
            hosted=hosted,
            concurrency=settings.concurrency_for,
            poll_seconds=settings.queue_poll_seconds,
            system_engine=database if shared else None,
            engine_kwargs={  # a system database of its own: a pool of the same size
                "pool_size": settings.db_pool_size,
                "max_overflow": settings.db_max_overflow,
                "pool_pre_ping": False,  # a ping per checkout is most of an idle process's load
            },
            run_migrations=settings.migrate_on_start or not settings.scale_mode,
            announce=(lambda queue: announce_queue(database, queue))
            if settings.scale_mode
            else None,
        )
        self._runtime.jobs.reenqueue_unfinished()
        self._runtime.batches.launch(settings.queue_poll_seconds)
        if self._hosted is None:  # the API's processes run the batches (workers do not)
            # Batches are enqueued without a wake-up: looked for every second.
            workflows.listen_queue(BATCH_QUEUE, idle_seconds=min(1.0, settings.queue_poll_seconds))
        if self._runs_workers and settings.prewarm_engines:
            default = settings.default_model.partition(":")[0]
            in_use = [default, *engines.in_use()] if default in engines else engines.in_use()
            warm = self._hosted if self._hosted is not None else in_use
            self._runtime.workflows.warm_engines(list(dict.fromkeys(warm)))
        if self._runs_workers:
            self._runtime.readiness.render_locally(renders)
            # Advertised to API replicas: only the engines that can render here.
            self._fleet.advertise([e for e in renders if e not in unready])
        self._fleet.start()
        self._runtime.webhooks.start()
        self._janitor.start()
        self._runtime.batches.open()  # batches admit items once the process has started

    def drain(self) -> bool:
        """Stop taking jobs and let those running here finish within DRAIN_SECONDS (scale
        mode; on one machine they are handed back at once and resume at the next start); hand
        the rest back to their queues. True when nothing of this process is left pending."""
        self.health.draining = True
        workflows = self._runtime.workflows
        if not self._runs_workers:
            workflows.stop_dequeuing()
            return True
        settings = self._runtime.settings
        grace = settings.drain_seconds if settings.scale_mode else 0.0
        return workflows.drain(grace, self.executor_id)

    def stop(self) -> None:
        """Drain, then stop everything, also after a start that failed half-way; one part
        failing to stop does not keep the others running."""
        if self._fleet is not None:
            try:
                if not self.drain():
                    log.warning("stopping with jobs still pending: the fleet recovers them")
            except Exception:
                log.exception("draining failed; the fleet recovers what is left pending")
        fleet = self._fleet
        steps: list[Callable[[], object]] = [
            self._runtime.batches.stop,
            self._janitor.stop,
            self._runtime.webhooks.stop,
            self._runtime.workflows.shutdown,
            self._runtime.workflows.close_engines,
            self.health.close,
            self._runtime.database.dispose,
        ]
        if fleet is not None:
            steps.insert(5, fleet.stop)
        for step in steps:
            began = time.monotonic()
            try:
                step()
            except Exception:
                log.exception("stopping %s failed", getattr(step, "__qualname__", step))
            if time.monotonic() - began > 2.0:
                log.info("stopping %s took %.1f s", getattr(step, "__qualname__", step),
                         time.monotonic() - began)  # fmt: skip
