"""The one table of engines: for each, how it is built, what settings section it reads, what it
accepts, which weights it loads by default (and so whether it is checked at start and how long a
cancel may take), how it checks that it can run here, what it costs and where it is documented.
Adding an engine touches its own module and this table only: an operator points it at other
weights with `REELFORGE_ENGINE_WEIGHTS='{"<name>": "<hub id or directory>"}'` and prices it with
`REELFORGE_PRICES`, neither of which needs a field per engine.

Building an entry's engine is cheap and imports no heavy library: a diffusion engine loads its
model on its first job, and its module imports torch/diffusers lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from reelforge.engines.diffusion.presets import ENGINE_PRESETS
from reelforge.engines.limits import EngineLimits
from reelforge.spec import MAX_CONTINUATION_SECONDS, Resolution

if TYPE_CHECKING:
    from reelforge.engines.base import Engine
    from reelforge.engines.diffusion.loading import DiffusionOptions
    from reelforge.engines.diffusion.settings import DiffusionSettings

EngineBuilder = Callable[[Any], "Engine"]
"""Called with the engine's settings section (None when it needs none); picklable."""

ReadinessCheck = Callable[[Any], None]
"""Called with the engine's settings section: raises `EngineUnavailable` naming what is missing
(an extra, the weights). Cheap: loads no model. Run at start and, cached, at create."""


@dataclass(frozen=True)
class EngineEntry:
    name: str
    summary: str
    build: EngineBuilder
    limits: EngineLimits = field(default_factory=EngineLimits)
    # The weights it loads when the operator names none (hub id or directory); None: it loads
    # none, so it is offered without settings and needs no start-up check.
    weights: str | None = None
    ready: ReadinessCheck | None = None  # None: it can always run
    # Its own price per output second by resolution ("480p".."2160p"); None: the operator's
    # "default" table. An operator's table for the engine (`REELFORGE_PRICES`) wins over it.
    prices: Mapping[str, float] | None = None
    docs: str = "docs/engines.md"
    # It renders the planner's shot plan (camera moves, cuts), so what the planner leaves out of
    # the prompt is said on the job; a diffusion engine reads the prompt's text itself.
    follows_plan: bool = False
    # Preset names of its own, besides fast/pro/default (`ltx2:two_stage`).
    presets: tuple[str, ...] = ()
    # Its presets and levers as plain data, for `GET /v1/models` (None: it has none).
    details: Callable[[], dict[str, Any]] | None = None
    # One job can run on a group of processes (`engine_ranks_per_job`): its transformer has a
    # context-parallel plan (`engines/diffusion/parallel.py`).
    context_parallel: bool = False

    @property
    def loads_weights(self) -> bool:
        return self.weights is not None


def plain(cls: Callable[[], Engine]) -> EngineBuilder:
    """A builder for an engine that needs no settings (picklable: a partial of a module
    function)."""
    return partial(_build_plain, cls)


def _build_plain(cls: Callable[[], Engine], _section: object) -> Engine:
    return cls()


def weights_of(section: DiffusionSettings, engine: str) -> str:
    """The weights `engine` loads: those the operator named, else the table's default."""
    named = section.named_weights(engine)
    if named is not None:
        return named
    default = ENGINES[engine].weights
    if default is None:
        raise ValueError(f"engine {engine} loads no weights")
    return default


def _diffusion_options(section: DiffusionSettings, engine: str) -> DiffusionOptions:
    from reelforge.engines.diffusion import options_from_settings

    return options_from_settings(
        section, weights_of(section, engine), section.weights_setting(engine)
    )


def _ready_when_built(build: EngineBuilder, section: object) -> None:
    """The readiness check of an engine whose instance knows it (`check_ready()`); building one
    is cheap (a diffusion engine loads its model on its first job)."""
    build(section).check_ready()  # type: ignore[attr-defined]


def _diffusion_details(engine: str) -> dict[str, Any]:
    from reelforge.engines.diffusion.presets import describe

    return describe(engine)


def _preview(_section: object) -> Engine:
    from reelforge.engines.preview.engine import PreviewEngine

    return PreviewEngine()


def _wan_vace(section: DiffusionSettings) -> Engine:
    from reelforge.engines.diffusion.wan_vace import WanVaceEngine

    return WanVaceEngine(_diffusion_options(section, "wan-vace"))


def _ltx2(section: DiffusionSettings) -> Engine:
    from reelforge.engines.diffusion.ltx2 import Ltx2Engine

    return Ltx2Engine(_diffusion_options(section, "ltx2"))


def _minimax_h3(section: DiffusionSettings) -> Engine:
    from reelforge.engines.diffusion.minimax_h3 import MiniMaxH3Engine

    return MiniMaxH3Engine(_diffusion_options(section, "minimax-h3"))


ENGINES: dict[str, EngineEntry] = {
    "preview": EngineEntry(
        name="preview",
        summary="CPU compositor that animates the references (not a generative model)",
        build=_preview,
        # 2160p, up to 60 s by planned continuation, and alpha output (render_alpha).
        limits=EngineLimits(
            resolutions=tuple(Resolution), max_seconds=MAX_CONTINUATION_SECONDS, alpha=True
        ),
        docs="docs/engines.md#preview",
        follows_plan=True,
    ),
    "wan-vace": EngineEntry(
        name="wan-vace",
        summary="Wan2.1/2.2 VACE: multi-reference images, one control video; audio from the "
        "references or a text-to-audio model",
        build=_wan_vace,
        limits=EngineLimits(max_images=9, max_videos=1, max_audio=3),
        weights="Wan-AI/Wan2.1-VACE-1.3B-diffusers",
        ready=partial(_ready_when_built, _wan_vace),
        docs="docs/engines.md#wan-vace",
        details=partial(_diffusion_details, "wan-vace"),
        presets=tuple(ENGINE_PRESETS["wan-vace"]),
    ),
    "ltx2": EngineEntry(
        name="ltx2",
        summary="LTX-2: image and video conditions, joint audio and video",
        build=_ltx2,
        limits=EngineLimits(max_images=9, max_videos=1, max_audio=1),
        weights="Lightricks/LTX-2.5-Diffusers",
        ready=partial(_ready_when_built, _ltx2),
        docs="docs/engines.md#ltx2",
        details=partial(_diffusion_details, "ltx2"),
        presets=tuple(ENGINE_PRESETS["ltx2"]),
        context_parallel=True,
    ),
    "minimax-h3": EngineEntry(
        name="minimax-h3",
        summary="MiniMax-H3 ref2va: 9 images, 3 videos, 3 audio in; video with stereo audio out",
        build=_minimax_h3,
        # 9 / 3 / 3 of each kind; the model itself sees 12 at once (the rest: a warning).
        limits=EngineLimits(max_images=9, max_videos=3, max_audio=3, model_sees=12),
        weights="MiniMaxAI/MiniMax-H3",
        ready=partial(_ready_when_built, _minimax_h3),
        docs="docs/engines.md#minimax-h3",
        details=partial(_diffusion_details, "minimax-h3"),
        presets=tuple(ENGINE_PRESETS["minimax-h3"]),
        context_parallel=True,
    ),
}
