"""The engines this process can run, from the table in `engines.catalog`: built lazily, kept
warm. Engines that load weights are available only when the registry is given the settings
(`EngineRegistry(settings=settings)`, as `create_app` does)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING

from reelforge import codes
from reelforge.engines.base import Engine
from reelforge.engines.catalog import ENGINES, EngineEntry
from reelforge.engines.limits import EngineLimits
from reelforge.errors import ReelforgeError, UnknownModel

if TYPE_CHECKING:
    from reelforge.engines.diffusion.settings import DiffusionSettings

EngineFactory = Callable[[], Engine]


def available_entries(settings: DiffusionSettings | None) -> dict[str, EngineEntry]:
    """The table's engines; those that load weights only with settings."""
    return {n: e for n, e in ENGINES.items() if settings is not None or not e.loads_weights}


class EngineRegistry:
    """Engines by name; each is built on first use and then reused (models stay loaded)."""

    def __init__(
        self,
        entries: Mapping[str, EngineEntry] | None = None,
        *,
        settings: DiffusionSettings | None = None,
    ) -> None:
        self._entries = dict(available_entries(settings) if entries is None else entries)
        self._settings = settings
        self._built: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def entry(self, name: str) -> EngineEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownModel(
                f"engine {name!r} is not available here; available: {', '.join(self.names())}",
                code=codes.INVALID_REQUEST_UNKNOWN_ENGINE,
                param="model",
            ) from None

    def follows_plan(self, name: str) -> bool:
        return name in self and self.entry(name).follows_plan

    def presets(self, name: str) -> tuple[str, ...]:
        return self.entry(name).presets if name in self else ()

    def limits(self, name: str) -> EngineLimits:
        return self.entry(name).limits

    def factory(self, name: str) -> EngineFactory:
        """The picklable factory of an engine, to build it in a worker process."""
        return partial(self.entry(name).build, self._settings)

    def get(self, name: str) -> Engine:
        with self._lock:
            if name not in self._built:
                self._built[name] = self.factory(name)()
            return self._built[name]

    def in_use(self) -> list[str]:
        """The engines this process is configured to serve: the default model's engine and every
        engine whose weights setting was set explicitly."""
        if self._settings is None:
            return []
        used = []
        default = getattr(self._settings, "default_model", "").partition(":")[0]
        if default in self._entries:
            used.append(default)
        used += [
            n
            for n, e in self._entries.items()
            if e.loads_weights and self._settings.named_weights(n) is not None
        ]
        return list(dict.fromkeys(used))

    def price_tables(self) -> dict[str, dict[str, float]]:
        """The engines' own prices (`EngineEntry.prices`), by engine name."""
        return {n: dict(e.prices) for n, e in self._entries.items() if e.prices is not None}

    def check_ready(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """Engines among `names` (default: `in_use()`) that cannot run here, with the reason (a
        missing extra, missing weights) from their entry's `ready` check. Cheap: loads no model,
        and never raises (`reelforge serve` logs what it returns at start)."""
        problems: dict[str, str] = {}
        for name in self.in_use() if names is None else names:
            ready = self._entries[name].ready if name in self else None
            if ready is None:
                continue
            try:
                ready(self._settings)
            except ReelforgeError as exc:
                problems[name] = exc.message
            except Exception as exc:  # a broken engine module must not stop the service
                problems[name] = f"{type(exc).__name__}: {exc}"
        return problems
