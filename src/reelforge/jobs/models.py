"""Job, its status enum and the written state machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reelforge.intake.stored import StoredReference
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


@dataclass(frozen=True)
class JobOutputs:
    """Storage keys of what a succeeded job delivered (deterministic per job id)."""

    video: str | None = None
    thumbnail: str | None = None
    last_frame: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"video": self.video, "thumbnail": self.thumbnail, "last_frame": self.last_frame}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> JobOutputs:
        d = d or {}
        return cls(
            video=d.get("video"), thumbnail=d.get("thumbnail"), last_frame=d.get("last_frame")
        )


@dataclass(frozen=True)
class Job:
    id: str
    owner_key_id: str
    status: JobStatus
    stage: Stage
    progress: float  # 0..100
    model: str
    engine: str
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
    error: dict[str, Any] | None = None
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
