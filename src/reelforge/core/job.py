"""A job record, its status enum, the written state machine and the typed parts of a job
(its resolved model and its error)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reelforge.core.references import StoredReference
from reelforge.spec import AspectRatio, Codec, Resolution


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.EXPIRED})

# queued -> running -> succeeded | failed | canceled; queued -> canceled | expired | failed
# (failed while queued: the worker could not even start it). Terminal states never change.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset(
        {JobStatus.RUNNING, JobStatus.CANCELED, JobStatus.EXPIRED, JobStatus.FAILED}
    ),
    JobStatus.RUNNING: frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
    JobStatus.EXPIRED: frozenset(),
}


def can_transition(src: JobStatus, dst: JobStatus) -> bool:
    return dst in TRANSITIONS[src]


class Stage(StrEnum):
    QUEUED = "queued"
    INTAKE = "intake"
    PLAN = "plan"
    GENERATE = "generate"
    ENCODE = "encode"
    FINALIZE = "finalize"
    DONE = "done"


class IllegalTransition(RuntimeError):
    """A status change the written state machine forbids: a bug in the caller, never a client
    error. Raised explicitly (not an `assert`), so it also holds under `python -O`."""

    def __init__(self, src: JobStatus, dst: JobStatus) -> None:
        super().__init__(f"a job cannot go from {src.value} to {dst.value}")
        self.src, self.dst = src, dst


def check_transition(sources: frozenset[JobStatus] | set[JobStatus], dst: JobStatus) -> None:
    """Raise `IllegalTransition` unless every status in `sources` may move to `dst`."""
    for src in sorted(sources):
        if not can_transition(src, dst):
            raise IllegalTransition(src, dst)


@dataclass(frozen=True)
class ResolvedModel:
    """The engine that renders a job and its preset, resolved once at create."""

    engine: str
    preset: str = "default"  # "fast" | "pro" | "default" (or an engine's own preset)

    @property
    def label(self) -> str:
        """`engine` or `engine:preset`: how it is stored, priced and shown."""
        return self.engine if self.preset == "default" else f"{self.engine}:{self.preset}"

    @classmethod
    def parse(cls, label: str) -> ResolvedModel:
        engine, _, preset = label.partition(":")
        return cls(engine, preset or "default")


@dataclass(frozen=True)
class JobError:
    """Why a job ended without a video, as every dialect reports it."""

    code: str
    message: str
    stage: str | None = None
    param: str | None = None
    reference_index: int | None = None
    retryable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "stage": self.stage,
            "param": self.param,
            "reference_index": self.reference_index,
            "retryable": self.retryable,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JobError:
        return cls(
            code=str(d.get("code") or "generation_failed"),
            message=str(d.get("message") or ""),
            stage=d.get("stage"),
            param=d.get("param"),
            reference_index=d.get("reference_index"),
            retryable=bool(d.get("retryable")),
        )


@dataclass(frozen=True)
class JobWarning:
    """A part of the request that was accepted but not honoured as asked, said to the client."""

    code: str
    message: str
    param: str | None = None
    span: tuple[int, int] | None = None  # characters of the prompt it is about

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "param": self.param,
            "span": list(self.span) if self.span else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JobWarning:
        span = d.get("span")
        return cls(
            code=str(d["code"]),
            message=str(d["message"]),
            param=d.get("param"),
            span=(int(span[0]), int(span[1])) if span else None,
        )


@dataclass(frozen=True)
class JobOutputs:
    """Storage keys of what a succeeded job delivered (deterministic per job id)."""

    video: str | None = None
    thumbnail: str | None = None
    last_frame: str | None = None
    spritesheet: str | None = None  # None for jobs published before spritesheets existed

    def to_dict(self) -> dict[str, Any]:
        return {
            "video": self.video,
            "thumbnail": self.thumbnail,
            "last_frame": self.last_frame,
            "spritesheet": self.spritesheet,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> JobOutputs:
        d = d or {}
        return cls(
            video=d.get("video"),
            thumbnail=d.get("thumbnail"),
            last_frame=d.get("last_frame"),
            spritesheet=d.get("spritesheet"),
        )


@dataclass(frozen=True)
class Job:
    id: str
    owner_key_id: str
    status: JobStatus
    stage: Stage
    progress: float  # 0..100
    model: str  # the model name the client sent (or the default)
    resolved: ResolvedModel
    prompt: str
    seconds: int | None  # as asked; None = auto until planned
    resolution: Resolution
    aspect_ratio: AspectRatio
    width: int
    height: int
    fps: int
    seed: int
    generate_audio: bool
    codec: Codec
    return_last_frame: bool
    references: tuple[StoredReference, ...]
    created_at: float
    updated_at: float
    started_at: float | None = None
    completed_at: float | None = None
    expires_at: float | None = None
    error: JobError | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    end_user_id: str | None = None
    webhook_url: str | None = None
    plan: dict[str, Any] | None = None
    outputs: JobOutputs = field(default_factory=JobOutputs)
    cancel_requested: bool = False
    output_seconds: float | None = None  # duration actually delivered
    deleted: bool = False
    dialect: str = "native"
    webhook_progress: bool = False
    execution_deadline: float | None = None  # a job still queued then becomes `expired`
    hold_amount: float = 0.0  # credits held at create, settled when the job ends
    cost: float = 0.0  # what the job was charged (only when it succeeded)
    warnings: tuple[JobWarning, ...] = ()  # what the request asked that was not done as asked
    remixed_from: str | None = None  # the job whose references and settings this one reuses
    # The quality report of the delivered video (`reelforge.quality`), measured just after the
    # job completed; None before, or when it could not be measured.
    quality: dict[str, Any] | None = None

    @property
    def engine(self) -> str:
        """The engine's registry name (the queue and the host that render it)."""
        return self.resolved.engine
