"""A `ModelInfo` as the `model` object of `GET /v1/models` (OpenAI's list shape, with what a
Seedance client needs to know before it pays)."""

from __future__ import annotations

from typing import Any

from reelforge.jobs.directory import ModelInfo
from reelforge.spec import AspectRatio


def model_object(info: ModelInfo) -> dict[str, Any]:
    limits = info.limits
    return {
        "id": info.id,
        "object": "model",
        "owned_by": "reelforge",
        "kind": info.kind,
        "engine": info.resolved.engine,
        "preset": info.resolved.preset,
        "ready": info.ready,
        "reason": info.reason,
        "summary": info.summary,
        "docs": info.docs,
        "accepts": {
            "references": {
                "image": limits.max_images,
                "video": limits.max_videos,
                "audio": limits.max_audio,
                "model_sees": limits.model_sees,
            },
            "resolutions": [r.value for r in limits.resolutions],
            "aspect_ratios": [a.value for a in AspectRatio],
            "seconds": {"min": limits.min_seconds, "max": limits.max_seconds, "auto": True},
            "audio_in": limits.max_audio > 0,
            "audio_out": limits.audio_out,
            "codecs": [c.value for c in limits.codecs],
            "alpha": limits.alpha,
        },
        "pricing": {
            "per_second": dict(info.price_per_second),
            "currency": info.currency,
        },
        **({"details": dict(info.details)} if info.details else {}),
    }
