"""What `GET /v1/models` lists: every engine and every model name that resolves to one, ready or
not and why, what each accepts and what it costs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reelforge.core.job import ResolvedModel
from reelforge.engines.catalog import EngineEntry
from reelforge.engines.limits import EngineLimits
from reelforge.engines.models import SEEDANCE_ALIASES
from reelforge.errors import ReelforgeError
from reelforge.jobs.ports import Pricing
from reelforge.jobs.submissions import ModelCatalog
from reelforge.spec import Resolution


@dataclass(frozen=True)
class ModelInfo:
    id: str
    kind: str  # "engine" | "alias"
    resolved: ResolvedModel
    ready: bool
    reason: str | None
    summary: str
    docs: str
    limits: EngineLimits
    price_per_second: Mapping[str, float]
    currency: str
    details: Mapping[str, Any] = field(default_factory=dict)


class ModelDirectory:
    def __init__(
        self,
        models: ModelCatalog,
        entry: Callable[[str], EngineEntry],
        pricing: Pricing,
        per_second: Callable[[str, Resolution], float],
    ) -> None:
        self._models = models
        self._entry = entry
        self._pricing = pricing
        self._per_second = per_second

    def all(self) -> list[ModelInfo]:
        """Every engine, then the operator's aliases, then the hosted model ids (Seedance, Ark,
        fal, each::labs, OpenAI names) that resolve here."""
        infos = [self._info(name, "engine", ResolvedModel(name)) for name in self._engine_names()]
        names = [*self._models.aliases, *SEEDANCE_ALIASES]
        for name in dict.fromkeys(names):
            try:
                resolved = self._models.resolve(name)
            except ReelforgeError:
                continue  # an alias whose engine is not configured here
            infos.append(self._info(name, "alias", resolved))
        return infos

    def get(self, model_id: str) -> ModelInfo:
        """One model by the name a client sends (engine, `engine:preset` or alias)."""
        resolved = self._models.resolve(model_id)
        kind = "engine" if model_id.partition(":")[0] in self._engine_names() else "alias"
        return self._info(model_id, kind, resolved)

    def _engine_names(self) -> list[str]:
        return self._models.engine_names()

    def _info(self, model_id: str, kind: str, resolved: ResolvedModel) -> ModelInfo:
        entry = self._entry(resolved.engine)
        reason = self._models.unavailable(resolved.engine)
        return ModelInfo(
            id=model_id,
            kind=kind,
            resolved=resolved,
            ready=reason is None,
            reason=reason,
            summary=entry.summary,
            docs=entry.docs,
            limits=entry.limits,
            price_per_second={
                r.value: self._per_second(resolved.label, r) for r in entry.limits.resolutions
            },
            currency=self._pricing.currency,
            details=entry.details() if entry.details is not None else {},
        )
