"""Response bodies of the native platform routes: files, keys, usage, webhooks, health."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_FILE_ID = "file_0123456789abcdef0123456789abcdef"
_KEY_ID = "key_0123456789abcdef"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FileObject(_Open):
    """An uploaded reference; use it as `file_id` or `asset://<id>`."""

    id: str = Field(description="The file's id.", examples=[_FILE_ID])
    object: Literal["file"] = Field(description="Always `file`.")
    bytes: int = Field(description="Size in bytes.", examples=[48213])
    mime_type: str | None = Field(description="Detected media type.", examples=["image/png"])
    kind: str | None = Field(description="image, video or audio.", examples=["image"])
    filename: str | None = Field(description="The uploaded file's name.", examples=["cat.png"])
    width: int | None = Field(description="Pixels (images and videos).", examples=[1024])
    height: int | None = Field(description="Pixels (images and videos).", examples=[768])
    seconds: float | None = Field(description="Length (videos and audio).")
    fps: float | None = Field(description="Frame rate (videos).")
    sha256: str | None = Field(description="SHA-256 of the bytes.")
    created_at: int = Field(description="Unix seconds.", examples=[1764643200])


class Deleted(_Open):
    """The object is gone."""

    id: str = Field(description="Its id.", examples=[_FILE_ID])
    object: str = Field(description="`<kind>.deleted`.", examples=["file.deleted"])
    deleted: bool = Field(description="Always true.", examples=[True])


class ApiKey(_Open):
    """An API key (never its secret, except once at creation)."""

    id: str = Field(description="The key's id.", examples=[_KEY_ID])
    object: Literal["api_key"] = Field(description="Always `api_key`.")
    name: str = Field(description="Its name.", examples=["ci"])
    scopes: list[str] = Field(description="read, generate, admin.", examples=[["read", "generate"]])
    created_at: int = Field(description="Unix seconds.", examples=[1764643200])
    last_used_at: int | None = Field(description="Unix seconds of its last request.")
    revoked_at: int | None = Field(description="Unix seconds; null while valid.")
    balance: float | None = Field(description="Credits left; null: unlimited.", examples=[100.0])
    daily_budget: float | None = Field(description="Credits per UTC day; null: no cap.")


class ApiKeyCreated(ApiKey):
    """The new key, with its secret: shown this once."""

    key: str = Field(
        description="The secret to send as `Authorization: Bearer`.", examples=["rf_" + "x" * 40]
    )
    webhook_secret: str | None = Field(description="Signs the webhooks of its jobs.")


class KeyLimits(_Open):
    creates_per_minute: int = Field(description="Creates per minute.", examples=[10])
    max_active_jobs: int = Field(description="Queued and running jobs at once.", examples=[4])
    daily_budget: float | None = Field(description="Credits per UTC day; null: no cap.")


class KeyMe(ApiKey):
    """The calling key, with its limits."""

    webhook_secret: str | None = Field(
        description="Signs the webhooks of its jobs (null for a read-only key)."
    )
    limits: KeyLimits = Field(description="The limits that apply to it.")


class ApiKeyList(_Open):
    object: Literal["list"] = Field(description="Always `list`.")
    data: list[ApiKey] = Field(description="Every key.")


class Balance(_Open):
    id: str = Field(description="The key's id.", examples=[_KEY_ID])
    balance: float | None = Field(description="Credits after the top-up.", examples=[150.0])


class LedgerEntry(_Open):
    id: int = Field(description="Entry number.", examples=[1])
    key_id: str = Field(description="The key.", examples=[_KEY_ID])
    job_id: str | None = Field(description="The video it concerns, if any.")
    kind: str = Field(
        description="What changed the balance (hold, settle, release, top_up).", examples=["top_up"]
    )
    amount: float = Field(description="Credits added (negative: taken).", examples=[50.0])
    created_at: float = Field(description="Unix seconds.", examples=[1764643200.5])


class Ledger(_Open):
    object: Literal["list"] = Field(description="Always `list`.")
    data: list[LedgerEntry] = Field(description="Oldest first.")


class UsageRow(_Open):
    """One group (a day, a model, ...)."""

    day: str | None = Field(
        None, description="The UTC day (group_by=day).", examples=["2026-12-02"]
    )
    model: str | None = Field(None, description="The model (group_by=model).")
    end_user_id: str | None = Field(None, description="The end user (group_by=end_user_id).")
    videos: int = Field(description="Videos created.", examples=[4])
    succeeded: int = Field(description="Of them, completed.", examples=[3])
    failed: int = Field(description="Of them, failed.", examples=[0])
    canceled: int = Field(description="Of them, canceled.", examples=[1])
    billed_seconds: float = Field(description="Seconds billed.", examples=[25])
    cost: float = Field(description="Cost in `currency`.", examples=[1.75])


class UsageReport(_Open):
    """The calling key's usage between `start` and `end`."""

    object: Literal["usage"] = Field(description="Always `usage`.")
    group_by: str = Field(description="How `data` is grouped.", examples=["day"])
    start: int = Field(description="Unix seconds.", examples=[1762051200])
    end: int = Field(description="Unix seconds.", examples=[1764643200])
    currency: str = Field(description="Currency of the costs.", examples=["USD"])
    data: list[UsageRow] = Field(description="One row per group.")
    total_cost: float = Field(description="Sum of `cost`.", examples=[1.75])
    total_billed_seconds: float = Field(description="Sum of `billed_seconds`.", examples=[25])


class WebhookAttempt(_Open):
    attempt: int = Field(description="1, 2, ...", examples=[1])
    started_at: float = Field(description="Unix seconds.")
    duration_ms: int | None = Field(description="How long the receiver took.")
    status_code: int | None = Field(description="The receiver's HTTP status.", examples=[200])
    succeeded: bool = Field(description="Whether it was a 2xx.")
    error: dict[str, Any] | None = Field(description="`{code, message}` of a failed attempt.")


class WebhookDelivery(_Open):
    """One delivery of an event (a redelivery is a new one)."""

    id: str = Field(description="The delivery's id.")
    object: Literal["webhook_delivery"] = Field(description="Always `webhook_delivery`.")
    event_id: str = Field(description="The event delivered.")
    status: str = Field(description="pending, succeeded or failed.", examples=["succeeded"])
    attempt_count: int = Field(description="Attempts so far.", examples=[1])
    next_attempt_at: float | None = Field(description="Unix seconds of the next retry.")
    created_at: int | None = Field(description="Unix seconds.")
    completed_at: int | None = Field(description="Unix seconds.")
    attempts: list[WebhookAttempt] = Field(description="Each attempt.")


class WebhookEvent(_Open):
    id: str = Field(description="The event's id (`webhook-id`).")
    object: Literal["webhook_event"] = Field(description="Always `webhook_event`.")
    type: str = Field(
        description="video.completed, video.failed, ...", examples=["video.completed"]
    )
    url: str = Field(description="Where it is delivered.")
    created_at: int | None = Field(description="Unix seconds.")
    status: str | None = Field(description="Its latest delivery's status.")
    payload: dict[str, Any] = Field(description="The body sent.")
    deliveries: list[WebhookDelivery] = Field(description="Each delivery.")


class WebhookEvents(_Open):
    object: Literal["list"] = Field(description="Always `list`.")
    data: list[WebhookEvent] = Field(description="The video's events, oldest first.")


class Health(_Open):
    """The process answers."""

    status: str = Field(description="`ok`.", examples=["ok"])


class Version(_Open):
    """The version of the service (pyproject's, as installed)."""

    version: str = Field(description="The reelforge version this process runs.", examples=["0.1.0"])


class Ready(_Open):
    """Whether the database and the storage answer (503 when not)."""

    status: str = Field(description="`ok` or `unavailable`.", examples=["ok"])
    checks: dict[str, str] = Field(
        description="Each dependency: `ok` or the error.",
        examples=[{"database": "ok", "storage": "ok"}],
    )


class ModelReferences(_Open):
    image: int = Field(description="Most reference images.", examples=[9])
    video: int = Field(description="Most reference videos.", examples=[3])
    audio: int = Field(description="Most reference audio clips.", examples=[3])
    model_sees: int | None = Field(
        None,
        description="References the engine's model sees at once, when fewer than the kinds add "
        "up to: more are accepted, and the job's warnings name `engine.references_left_out`.",
        examples=[12],
    )


class ModelSeconds(_Open):
    min: float = Field(description="Shortest length.", examples=[1])
    max: float = Field(
        description="Longest length (past 15 s by planned continuation).", examples=[15]
    )
    auto: bool = Field(description='Whether "auto" is accepted.', examples=[True])


class ModelAccepts(_Open):
    references: ModelReferences = Field(description="Reference counts per kind.")
    resolutions: list[str] = Field(
        description="Resolutions it renders.", examples=[["480p", "720p"]]
    )
    aspect_ratios: list[str] = Field(description="Aspect ratios.", examples=[["16:9", "9:16"]])
    seconds: ModelSeconds = Field(description="Lengths.")
    audio_in: bool = Field(description="Whether it takes reference audio.")
    audio_out: bool = Field(description="Whether it renders a soundtrack.")
    codecs: list[str] = Field(
        description="Output codecs (prores_4444 and vp9: with alpha only).",
        examples=[["h264", "h265"]],
    )
    alpha: bool = Field(
        False, description="Whether it renders the subjects on a transparent background."
    )


class ModelPricing(_Open):
    per_second: dict[str, float] = Field(
        description="Price per second, per resolution.", examples=[{"720p": 0.07}]
    )
    currency: str = Field(description="Currency.", examples=["USD"])


class ModelObject(_Open):
    """An engine, engine:preset, alias or hosted model id, and whether it can render now."""

    id: str = Field(description="The name to send as `model`.", examples=["preview"])
    object: Literal["model"] = Field(description="Always `model`.")
    owned_by: str = Field(description="Always `reelforge`.")
    kind: str = Field(description="engine, preset, alias or hosted id.", examples=["engine"])
    engine: str = Field(description="The engine it resolves to.", examples=["preview"])
    preset: str | None = Field(None, description="The preset, if any.")
    ready: bool = Field(description="Whether creates for it are accepted now.")
    reason: str | None = Field(None, description="Why not, and what to do.")
    summary: str | None = Field(None, description="What it is.")
    docs: str | None = Field(None, description="Where it is documented.")
    accepts: ModelAccepts = Field(description="What a request for it may ask.")
    pricing: ModelPricing = Field(description="Its prices.")
    details: dict[str, Any] | None = Field(None, description="Engine-specific facts.")


class ModelList(_Open):
    object: Literal["list"] = Field(description="Always `list`.")
    data: list[ModelObject] = Field(description="Every engine, preset and alias.")
