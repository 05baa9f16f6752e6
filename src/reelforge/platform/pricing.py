"""Prices per output second, per engine and resolution (defaults from seed 003; the operator
sets its own with `REELFORGE_PRICES`, a JSON map `{"<engine>|default": {"480p": 0.1, ...}}`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reelforge.spec import Resolution

DEFAULT_PRICES: dict[str, float] = {"480p": 0.1412, "720p": 0.3024, "1080p": 0.685}


@dataclass(frozen=True)
class PriceTable:
    """`per_engine["default"]` applies to engines without a table of their own."""

    per_engine: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: {"default": dict(DEFAULT_PRICES)}
    )
    currency: str = "USD"

    def __post_init__(self) -> None:
        for engine, table in self.per_engine.items():
            missing = [r.value for r in Resolution if r.value not in table]
            if missing:
                raise ValueError(f"prices for {engine!r} lack {', '.join(missing)}")
            if any(price < 0 for price in table.values()):
                raise ValueError(f"prices for {engine!r} must not be negative")
        if "default" not in self.per_engine:
            raise ValueError('prices need a "default" table')

    def per_second(self, engine: str, resolution: Resolution) -> float:
        """`engine` may carry a preset (`wan-vace:fast`): the table of `wan-vace:fast`, then of
        `wan-vace`, then the default one."""
        base = engine.partition(":")[0]
        table = self.per_engine.get(engine) or self.per_engine.get(base)
        return (table or self.per_engine["default"])[resolution.value]

    def cost(self, engine: str, resolution: Resolution, seconds: float) -> float:
        return round(self.per_second(engine, resolution) * seconds, 4)
