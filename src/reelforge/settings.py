"""Typed settings, built once in `main()` / `create_app(settings)` and passed down.

Every name is read from the environment with the `REELFORGE_` prefix (e.g. `REELFORGE_DATA_DIR`).
Nothing here runs at import time.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reelforge.engines.diffusion.settings import DiffusionSettings
from reelforge.intake.limits import LimitsSettings
from reelforge.platform.pricing import DEFAULT_PRICES
from reelforge.storage.settings import StorageSettings


class Settings(DiffusionSettings, StorageSettings, BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REELFORGE_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Path("./data")
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL of the job store; default SQLite in data_dir"
    )
    dbos_database_url: str | None = Field(
        default=None,
        description="URL of the durable-execution system database; default a SQLite file "
        "beside the job store, or the job store itself when it is PostgreSQL",
    )
    storage_url: str | None = Field(
        default=None,
        description="where outputs and references live: file:///dir or s3://bucket/prefix; "
        "default data_dir/storage (docs/storage.md)",
    )
    public_url: str | None = Field(
        default=None, description="base of the URLs handed out; default http://host:port"
    )
    bootstrap_key: SecretStr | None = None
    signing_key: SecretStr | None = Field(
        default=None,
        description="secret for signed download links (32+ characters); set the same value "
        "on every API replica and worker; default: one created in data_dir",
    )
    allow_private_urls: bool = False
    default_model: str = "preview"
    model_aliases: dict[str, str] = Field(
        default_factory=dict,
        description='JSON map of model names clients send to "engine" or "engine:preset", '
        "tried before the built-in hosted model ids (which map to DEFAULT_MODEL)",
    )

    run_workers: bool = Field(default=True, description="run job workers inside the API process")
    worker_concurrency: int = Field(
        default=1, ge=1, description="jobs of one engine this process renders at once"
    )
    engine_concurrency: dict[str, int] = Field(
        default_factory=dict,
        description='JSON {"<engine>": n}: WORKER_CONCURRENCY for some engines only; a setting '
        "of this process alone (no other process can change it)",
    )
    executor_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$",
        description="this process's id in the fleet (recovery finds a process's jobs by it); "
        "unique per process. Default: `local` on SQLite; on PostgreSQL "
        "<hostname>-<role>[-<slot>], role `api`, `serve` or `worker-<engines>` "
        "(docs/scale-mode.md)",
    )
    slot: int | None = Field(
        default=None,
        ge=0,
        description="tells apart processes of one role on one host (one worker per GPU): "
        "appended to the default executor id",
    )
    engine_isolation: Literal["process", "thread"] = Field(
        default="process",
        description="process: each engine runs in a child process that a cancel it ignores, "
        "or a crash, cannot take down the service; thread: in the worker thread",
    )
    quality_reports: bool = Field(
        default=True,
        description="measure every delivered video against its plan after it completes "
        "(`quality` on the Video object; about a tenth of the render's CPU)",
    )
    prewarm_engines: bool = Field(
        default=True,
        description="start the process of each engine this process renders with at start, so "
        "the first job does not wait for it",
    )
    cancel_grace_seconds: float = Field(
        default=1.0, gt=0, description="how long an engine may ignore a cancel before it is killed"
    )
    diffusion_cancel_grace_seconds: float = Field(
        default=60.0,
        gt=0,
        description="the same for diffusion engines: one denoising step can take seconds, and a "
        "killed engine process has to load its model again",
    )
    worker_heartbeat_seconds: float = Field(
        default=2.0,
        gt=0,
        description="how often a process beats its heartbeat and looks for dead ones",
    )
    dead_worker_seconds: float = Field(
        default=15.0,
        gt=0,
        description="a process whose last heartbeat is this old (and whose executor lease is "
        "free: never one still alive) is gone; its jobs are back on their queues by then",
    )
    executor_claim_seconds: float = Field(
        default=30.0,
        ge=0,
        description="how long a starting process waits for a previous process with its "
        "executor id (a pod still stopping) to let go of the id before refusing to start",
    )
    queue_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        description="how often an idle worker looks at its queues when nothing wakes it (a "
        "create wakes the workers of its engine at once: in-process, or by PostgreSQL NOTIFY; "
        "on SQLite, a worker in another process than the API finds jobs at this pace)",
    )
    drain_seconds: float = Field(
        default=25.0,
        ge=0,
        description="at SIGTERM, how long the renders in progress may take to finish; then "
        "they are handed back and resume from their last checkpoint on another worker",
    )
    worker_health_port: int = Field(
        default=8001,
        ge=0,
        le=65535,
        description="`reelforge worker` answers /healthz and /readyz on HOST:this port; 0: off",
    )
    db_pool_size: int = Field(
        default=3,
        ge=1,
        description="PostgreSQL connections a process keeps open (the job store and the "
        "durable queue share them; one more holds the executor lease)",
    )
    db_max_overflow: int = Field(
        default=10, ge=0, description="connections opened beyond DB_POOL_SIZE under load"
    )
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    migrate_on_start: bool = Field(
        default=True,
        description="serve and worker bring the schema up to date at start, one process at a "
        "time (a PostgreSQL advisory lock); false: they wait for `reelforge migrate`",
    )
    schema_wait_seconds: float = Field(
        default=300.0,
        ge=0,
        description="with MIGRATE_ON_START=false, how long a process waits for the schema",
    )
    transient_retry_seconds: float = Field(
        default=120.0,
        ge=0,
        description="how long a job step retries a database or storage outage before the job fails",
    )
    transient_backoff_seconds: float = Field(
        default=0.5, gt=0, description="first wait between retries of an outage (doubling)"
    )
    transient_backoff_max_seconds: float = Field(
        default=5.0, gt=0, description="longest wait between retries of an outage"
    )
    readiness_timeout_seconds: float = Field(
        default=3.0, gt=0, description="/readyz: each dependency check answers within this"
    )

    creates_per_minute: int = Field(default=100, ge=1, description="per key, unless the key says")
    max_active_jobs: int = Field(default=10, ge=1, description="queued or running, per key")
    idempotency_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    moderation_patterns_file: Path | None = Field(
        default=None, description="regular expressions refused in prompts; none = allow all"
    )
    prices: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {"default": dict(DEFAULT_PRICES)},
        description='per output second: {"<engine>" or "default": {"480p", "720p", "1080p", '
        '"2160p"}}; without "2160p" a table prices it at 4 x its "1080p"',
    )
    price_currency: str = "USD"
    default_key_balance: float | None = Field(
        default=None,
        description="credits of a new key; None = unlimited (single-user installs)",
    )

    execution_expires_after_seconds: int | None = Field(
        default=48 * 3600, description="a job still queued after this becomes expired"
    )
    output_retention_seconds: int | None = Field(
        default=7 * 24 * 3600, description="files of a finished video are deleted after this"
    )
    janitor_interval_seconds: float = Field(default=30.0, gt=0)

    download_url_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    max_request_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    print_admin_key: bool = Field(default=True, description="print the admin key on first start")
    limits: LimitsSettings = Field(
        default_factory=LimitsSettings,
        description="reference and prompt limits, e.g. REELFORGE_LIMITS__MAX_IMAGES=5 "
        "(docs/api/limits.md)",
    )

    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="per delivery attempt")
    webhook_max_attempts: int = Field(default=10, ge=1, description="then the delivery fails")
    webhook_retry_schedule: tuple[float, ...] = Field(
        default=(5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 50400.0, 72000.0, 86400.0),
        min_length=1,
        description="seconds to wait after failed attempt 1, 2, ...; the last repeats "
        "(Standard Webhooks' schedule by default)",
    )
    webhook_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        description="how often the delivery loop looks for due retries (a new event wakes it "
        "at once)",
    )
    webhook_concurrency: int = Field(default=4, ge=1, description="deliveries in flight")

    @model_validator(mode="after")
    def _check_fleet_timing(self) -> Settings:
        if self.worker_heartbeat_seconds * 2 > self.dead_worker_seconds:
            raise ValueError("DEAD_WORKER_SECONDS must be at least twice WORKER_HEARTBEAT_SECONDS")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'reelforge.db').resolve()}"

    @property
    def resolved_dbos_database_url(self) -> str:
        if self.dbos_database_url:
            return self.dbos_database_url
        if self.resolved_database_url.startswith("sqlite"):
            return f"sqlite:///{(self.data_dir / 'dbos.sqlite').resolve()}"
        return self.resolved_database_url

    @property
    def resolved_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return f"file://{(self.data_dir / 'storage').resolve()}"

    @property
    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def scale_mode(self) -> bool:
        """The job store is a shared server (PostgreSQL), not a file of this machine."""
        return not self.resolved_database_url.startswith("sqlite")

    def executor_for(self, role: str) -> str:
        """This process's executor id: EXECUTOR_ID, else `local` on SQLite (one machine), else
        `<hostname>-<role>[-<slot>]`: stable across restarts of the same pod or host, distinct
        between the roles and slots of one host."""
        if self.executor_id:
            return self.executor_id
        if not self.scale_mode:
            return "local"
        host = re.sub(r"[^a-z0-9.-]+", "-", socket.gethostname().lower()).strip("-.") or "host"
        name = f"{host}-{role}" + (f"-{self.slot}" if self.slot is not None else "")
        return name[:200]

    def concurrency_for(self, engine: str) -> int:
        return max(1, int(self.engine_concurrency.get(engine, self.worker_concurrency)))

    @property
    def admin_key_path(self) -> Path:
        return self.data_dir / "admin_key"

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / "signing_key"
