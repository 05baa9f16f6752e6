"""The one table of engines: for each, how it is built, what settings section it reads, what it
accepts, whether it loads weights (and so how it is checked and how long a cancel may take) and
where it is documented. Adding an engine touches its own module and this table only.

Building an entry's engine is cheap and imports no heavy library: a diffusion engine loads its
model on its first job, and its module imports torch/diffusers lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from reelforge.engines.diffusion.presets import ENGINE_PRESETS
from reelforge.engines.limits import EngineLimits
from reelforge.spec import MAX_CONTINUATION_SECONDS, Resolution

if TYPE_CHECKING:
    from reelforge.engines.base import Engine
    from reelforge.engines.diffusion.settings import DiffusionSettings

EngineBuilder = Callable[[Any], "Engine"]
"""Called with the engine's settings section (None when it needs none); picklable."""


@dataclass(frozen=True)
class EngineEntry:
    name: str
    summary: str
    build: EngineBuilder
    limits: EngineLimits = field(default_factory=EngineLimits)
    weights_setting: str | None = None  # the setting naming its weights; None: needs none
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
        return self.weights_setting is not None


def plain(cls: Callable[[], Engine]) -> EngineBuilder:
    """A builder for an engine that needs no settings (picklable: a partial of a module
    function)."""
    return partial(_build_plain, cls)


def _build_plain(cls: Callable[[], Engine], _section: object) -> Engine:
    return cls()


def _diffusion_details(engine: str) -> dict[str, Any]:
    from reelforge.engines.diffusion.presets import describe

    return describe(engine)


def _preview(_section: object) -> Engine:
    from reelforge.engines.preview.engine import PreviewEngine

    return PreviewEngine()


def _wan_vace(section: DiffusionSettings) -> Engine:
    from reelforge.engines.diffusion import options_from_settings
    from reelforge.engines.diffusion.wan_vace import WanVaceEngine

    return WanVaceEngine(options_from_settings(section, section.engine_wan_vace_model))


def _ltx2(section: DiffusionSettings) -> Engine:
    from reelforge.engines.diffusion import options_from_settings
    from reelforge.engines.diffusion.ltx2 import Ltx2Engine

    return Ltx2Engine(options_from_settings(section, section.engine_ltx2_model))


def _minimax_h3(section: DiffusionSettings) -> Engine:
    from reelforge.engines.diffusion import options_from_settings
    from reelforge.engines.diffusion.minimax_h3 import MiniMaxH3Engine

    return MiniMaxH3Engine(options_from_settings(section, section.engine_minimax_h3_model))


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
        weights_setting="engine_wan_vace_model",
        docs="docs/engines.md#wan-vace",
        details=partial(_diffusion_details, "wan-vace"),
        presets=tuple(ENGINE_PRESETS["wan-vace"]),
    ),
    "ltx2": EngineEntry(
        name="ltx2",
        summary="LTX-2: image and video conditions, joint audio and video",
        build=_ltx2,
        limits=EngineLimits(max_images=9, max_videos=1, max_audio=1),
        weights_setting="engine_ltx2_model",
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
        weights_setting="engine_minimax_h3_model",
        docs="docs/engines.md#minimax-h3",
        details=partial(_diffusion_details, "minimax-h3"),
        presets=tuple(ENGINE_PRESETS["minimax-h3"]),
        context_parallel=True,
    ),
}
