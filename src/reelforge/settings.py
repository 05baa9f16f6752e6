"""Typed settings, built once in `main()` / `create_app(settings)` and passed down.

Every name is read from the environment with the `REELFORGE_` prefix (e.g. `REELFORGE_DATA_DIR`).
Nothing here runs at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REELFORGE_", extra="ignore")

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
        default=None, description="where outputs and references live; default data_dir/storage"
    )
    public_url: str | None = Field(
        default=None, description="base of the URLs handed out; default http://host:port"
    )
    bootstrap_key: SecretStr | None = None
    allow_private_urls: bool = False
    default_model: str = "preview"

    run_workers: bool = Field(default=True, description="run job workers inside the API process")
    worker_concurrency: int = Field(default=1, ge=1)
    executor_id: str = Field(default="local", description="stable id of this worker process")
    queue_poll_seconds: float = Field(default=0.2, gt=0)

    download_url_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    max_request_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    print_admin_key: bool = Field(default=True, description="print the admin key on first start")

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
    def admin_key_path(self) -> Path:
        return self.data_dir / "admin_key"

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / "signing_key"
