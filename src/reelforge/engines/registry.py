"""The engines this process can run: an explicit table of factories, built lazily, kept warm."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

from reelforge.engines.base import Engine
from reelforge.errors import UnknownModel

EngineFactory = Callable[[], Engine]


def _preview() -> Engine:
    from reelforge.engines.preview.engine import PreviewEngine

    return PreviewEngine()


BUILTIN_ENGINES: dict[str, EngineFactory] = {"preview": _preview}


class EngineRegistry:
    """Engines by name; each is built on first use and then reused (models stay loaded)."""

    def __init__(self, factories: Mapping[str, EngineFactory] | None = None) -> None:
        self._factories = dict(BUILTIN_ENGINES if factories is None else factories)
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
            raise self._unknown(name) from None

    def _unknown(self, name: str) -> UnknownModel:
        return UnknownModel(
            f"engine {name!r} is not available here; available: {', '.join(self.names())}",
            code="invalid_request.unknown_engine",
            param="model",
        )

    def get(self, name: str) -> Engine:
        with self._lock:
            if name not in self._built:
                self._built[name] = self.factory(name)()
            return self._built[name]
