"""Prices per output second by resolution (defaults from seed 003; the operator sets its own)."""

from __future__ import annotations

from dataclasses import dataclass, field

from reelforge.spec import Resolution

DEFAULT_PRICES = {Resolution.P480: 0.1412, Resolution.P720: 0.3024, Resolution.P1080: 0.685}


@dataclass(frozen=True)
class PriceTable:
    per_second: dict[Resolution, float] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    currency: str = "USD"

    def cost(self, resolution: Resolution, seconds: float) -> float:
        return round(self.per_second[resolution] * seconds, 4)
