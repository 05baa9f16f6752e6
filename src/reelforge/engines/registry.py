"""The engines this process can run: explicit tables of factories, built lazily, kept warm.

`BUILTIN_ENGINES` need nothing to be built (`preview`). `CONFIGURED_ENGINES` are built from the
Settings (model path, device, dtype, levers): the diffusion engines. They are registered when the
registry is given the settings (`EngineRegistry(settings=settings)`, as `create_app` does).
Building an engine is cheap; a diffusion engine loads its model on its first job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING

from reelforge.engines.base import Engine
from reelforge.errors import ReelforgeError, UnknownModel

if TYPE_CHECKING:
    from reelforge.settings import Settings

EngineFactory = Callable[[], Engine]
ConfiguredFactory = Callable[["Settings"], Engine]


def _preview() -> Engine:
    from reelforge.engines.preview.engine import PreviewEngine

    return PreviewEngine()


def _wan_vace(settings: Settings) -> Engine:
    from reelforge.engines.diffusion import options_from_settings
    from reelforge.engines.diffusion.wan_vace import WanVaceEngine

    return WanVaceEngine(options_from_settings(settings, settings.engine_wan_vace_model))


def _ltx2(settings: Settings) -> Engine:
    from reelforge.engines.diffusion import options_from_settings
    from reelforge.engines.diffusion.ltx2 import Ltx2Engine

    return Ltx2Engine(options_from_settings(settings, settings.engine_ltx2_model))


def _minimax_h3(settings: Settings) -> Engine:
    from reelforge.engines.diffusion import options_from_settings
    from reelforge.engines.diffusion.minimax_h3 import MiniMaxH3Engine

    return MiniMaxH3Engine(options_from_settings(settings, settings.engine_minimax_h3_model))


BUILTIN_ENGINES: dict[str, EngineFactory] = {"preview": _preview}
CONFIGURED_ENGINES: dict[str, ConfiguredFactory] = {
    "wan-vace": _wan_vace,
    "ltx2": _ltx2,
    "minimax-h3": _minimax_h3,
}
# The settings field that names each configured engine's weights.
MODEL_SETTINGS = {
    "wan-vace": "engine_wan_vace_model",
    "ltx2": "engine_ltx2_model",
    "minimax-h3": "engine_minimax_h3_model",
}


def builtin_factories(settings: Settings | None = None) -> dict[str, EngineFactory]:
    """The built-in engines; with settings, the configured (diffusion) engines too."""
    factories = dict(BUILTIN_ENGINES)
    if settings is not None:
        factories.update({name: partial(f, settings) for name, f in CONFIGURED_ENGINES.items()})
    return factories


class EngineRegistry:
    """Engines by name; each is built on first use and then reused (models stay loaded)."""

    def __init__(
        self,
        factories: Mapping[str, EngineFactory] | None = None,
        *,
        settings: Settings | None = None,
    ) -> None:
        self._factories = dict(builtin_factories(settings) if factories is None else factories)
        self._settings = settings
        self._built: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted(self._factories)

    def __contains__(self, name: str) -> bool:
        return name in self._factories

    def factory(self, name: str) -> EngineFactory:
        """The picklable factory of an engine, to build it in a worker process."""
        try:
            return self._factories[name]
        except KeyError:
            raise UnknownModel(
                f"engine {name!r} is not available here; available: {', '.join(self.names())}",
                code="invalid_request.unknown_engine",
                param="model",
            ) from None

    def get(self, name: str) -> Engine:
        with self._lock:
            if name not in self._built:
                self._built[name] = self.factory(name)()
            return self._built[name]

    def in_use(self) -> list[str]:
        """The engines this process is configured to serve: the default model's engine and every
        configured engine whose model setting was set explicitly."""
        if self._settings is None:
            return []
        used = []
        default = self._settings.default_model.partition(":")[0]
        if default in self._factories:
            used.append(default)
        explicit = self._settings.model_fields_set
        used += [n for n, field in MODEL_SETTINGS.items() if field in explicit and n in self]
        return list(dict.fromkeys(used))

    def check_ready(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """Configured (diffusion) engines among `names` (default: `in_use()`) that cannot run
        here, with the reason: a missing extra or missing weights. Cheap: loads no model, and
        never raises (`reelforge serve` logs what it returns at start)."""
        problems: dict[str, str] = {}
        for name in self.in_use() if names is None else names:
            if name not in CONFIGURED_ENGINES or name not in self:
                continue  # built-in engines need no weights
            try:
                check = getattr(self.get(name), "check_ready", None)
                if check is not None:
                    check()
            except ReelforgeError as exc:
                problems[name] = exc.message
            except Exception as exc:  # a broken engine module must not stop the service
                problems[name] = f"{type(exc).__name__}: {exc}"
        return problems
