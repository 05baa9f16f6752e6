"""The fields of a job every outward view shares (the native Video object, webhook events)."""

from __future__ import annotations

from typing import Any

from reelforge.jobs.models import Job


def _ts(value: float | None) -> int | None:
    return int(value) if value else None


def video_fields(job: Job) -> dict[str, Any]:
    seconds = job.output_seconds or job.seconds
    return {
        "id": job.id,
        "object": "video",
        "model": job.model,
        "engine": job.engine,
        "created_at": int(job.created_at),
        "started_at": _ts(job.started_at),
        "completed_at": _ts(job.completed_at),
        "seconds": str(int(seconds)) if seconds else "auto",
        "size": f"{job.width}x{job.height}",
        "resolution": job.resolution.value,
        "aspect_ratio": job.aspect_ratio.value,
        "fps": job.fps,
        "seed": job.seed,
        "generate_audio": job.generate_audio,
        "codec": job.codec.value,
        "error": job.error,
        "metadata": job.metadata,
        "end_user_id": job.end_user_id,
    }
