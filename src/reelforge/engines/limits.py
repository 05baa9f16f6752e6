"""What an engine accepts, checked at create (before the 202) rather than in the worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reelforge import codes
from reelforge.errors import InvalidReference, InvalidRequest
from reelforge.spec import (
    HOSTED_RESOLUTIONS,
    MAX_SECONDS,
    MIN_SECONDS,
    Codec,
    ReferenceKind,
    Resolution,
)


@dataclass(frozen=True)
class EngineLimits:
    max_images: int = 9
    max_videos: int = 3
    max_audio: int = 3
    # The references the model itself sees at once, when fewer than the kinds add up to: more
    # are accepted, and the job's warnings say that the engine leaves some out.
    model_sees: int | None = None
    # 2160p only where the engine's entry says so (the hosted services stop at 1080p).
    resolutions: tuple[Resolution, ...] = HOSTED_RESOLUTIONS
    min_seconds: int = MIN_SECONDS
    # Past MAX_SECONDS (up to spec.MAX_CONTINUATION_SECONDS) only where the entry says so: the
    # planner continues the clip in more shots with the same subjects and plate.
    max_seconds: int = MAX_SECONDS
    audio_out: bool = True  # the engine (or its soundtrack path) makes audio
    # It renders the subjects alone on a transparent background (`render_alpha`), for the alpha
    # codecs (prores_4444, vp9).
    alpha: bool = False

    @property
    def codecs(self) -> tuple[Codec, ...]:
        return tuple(c for c in Codec if self.alpha or not c.alpha)

    def most(self, kind: ReferenceKind) -> int:
        return {
            ReferenceKind.IMAGE: self.max_images,
            ReferenceKind.VIDEO: self.max_videos,
            ReferenceKind.AUDIO: self.max_audio,
        }[kind]


def check_engine_limits(
    engine: str,
    limits: EngineLimits,
    *,
    kinds: Sequence[ReferenceKind],
    resolution: Resolution,
    seconds: int | None,
    alpha: bool = False,
) -> None:
    """Raise naming the field when the request asks more of `engine` than it takes. `kinds`:
    the kind of each reference in request order (the error points at the first one over)."""
    seen: dict[ReferenceKind, int] = {}
    for index, kind in enumerate(kinds):
        seen[kind] = seen.get(kind, 0) + 1
        most = limits.most(kind)
        if seen[kind] > most:
            got = sum(1 for k in kinds if k is kind)
            raise InvalidReference(
                f"engine {engine} takes at most {most} {kind.value} reference(s); got {got} "
                f"(references[{index}] is one too many)",
                code=codes.too_many(kind.value),
                param="references",
                reference_index=index,
            )
    if resolution not in limits.resolutions:
        allowed = ", ".join(r.value for r in limits.resolutions)
        raise InvalidRequest(
            f"engine {engine} renders {allowed}; resolution {resolution.value} is not one of them",
            code=codes.INVALID_REQUEST_RESOLUTION,
            param="resolution",
        )
    if seconds is not None and not limits.min_seconds <= seconds <= limits.max_seconds:
        raise InvalidRequest(
            f"engine {engine} renders {limits.min_seconds}..{limits.max_seconds} seconds; "
            f"asked {seconds}",
            code=codes.INVALID_REQUEST_SECONDS,
            param="seconds",
        )
    if alpha and not limits.alpha:
        raise InvalidRequest(
            f"engine {engine} cannot render alpha (the subjects on a transparent background); "
            "alpha: true needs an engine whose GET /v1/models entry lists prores_4444 and vp9 "
            "in accepts.codecs (the preview engine does)",
            code=codes.INVALID_REQUEST_ALPHA_UNSUPPORTED,
            param="alpha",
        )


def references_left_out(engine: str, limits: EngineLimits, count: int) -> str | None:
    """What to tell the client when `engine` will not show the model all `count` references."""
    if limits.model_sees is None or count <= limits.model_sees:
        return None
    return (
        f"engine {engine} shows its model at most {limits.model_sees} references at once; "
        f"{count - limits.model_sees} of the {count} given are left out (those the prompt does "
        "not mention first, then the last ones; the job log names them)"
    )
