"""Prices per output second, per engine and resolution (defaults from seed 003; the operator
sets its own with `REELFORGE_PRICES`, a JSON map `{"<engine>|default": {"480p": 0.1, ...}}`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reelforge.spec import HOSTED_RESOLUTIONS, Resolution

# 2160p (4 x the pixels of 1080p) at 4 x its price.
DEFAULT_PRICES: dict[str, float] = {"480p": 0.1412, "720p": 0.3024, "1080p": 0.685, "2160p": 2.74}
UHD_FACTOR = 4.0  # a table without "2160p" prices it at this times its "1080p"


@dataclass(frozen=True)
class PriceTable:
    """`per_engine["default"]` applies to engines without a table of their own."""

    per_engine: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: {"default": dict(DEFAULT_PRICES)}
    )
    currency: str = "USD"

    def __post_init__(self) -> None:
        for engine, table in self.per_engine.items():
            missing = [r.value for r in HOSTED_RESOLUTIONS if r.value not in table]
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
        prices = table or self.per_engine["default"]
        if resolution.value not in prices and resolution is Resolution.P2160:
            return round(prices[Resolution.P1080.value] * UHD_FACTOR, 4)
        return prices[resolution.value]

    def cost(self, engine: str, resolution: Resolution, seconds: float) -> float:
        return round(self.per_second(engine, resolution) * seconds, 4)
