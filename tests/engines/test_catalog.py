"""The engine table: one entry says which weights an engine loads (and which setting names them),
how it checks that it can run, and what it costs; an operator's settings override each without a
field per engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelforge.engines.catalog import ENGINES, EngineEntry, plain
from reelforge.engines.diffusion.settings import DiffusionSettings
from reelforge.engines.preview.engine import PreviewEngine
from reelforge.engines.registry import EngineRegistry
from reelforge.errors import EngineUnavailable
from reelforge.platform.pricing import PriceTable
from reelforge.settings import Settings
from reelforge.spec import Resolution
from tests.conftest import make_settings


def _model_of(registry: EngineRegistry, name: str) -> str:
    return registry.get(name).options.model  # type: ignore[attr-defined]


def test_an_engine_loads_its_table_default_until_the_operator_names_weights() -> None:
    registry = EngineRegistry(settings=DiffusionSettings())
    for name in ("wan-vace", "ltx2", "minimax-h3"):
        assert _model_of(registry, name) == ENGINES[name].weights
    # Nothing named: none of them is "in use", so none is checked at start.
    assert registry.in_use() == []


def test_engine_weights_names_any_engine_and_errors_name_that_setting(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ltx2"
    registry = EngineRegistry(settings=DiffusionSettings(engine_weights={"ltx2": str(missing)}))
    assert _model_of(registry, "ltx2") == str(missing)
    assert registry.in_use() == ["ltx2"]
    reason = registry.check_ready()["ltx2"]
    assert 'engine_weights["ltx2"]' in reason and str(missing) in reason


def test_an_engines_own_variable_wins_over_engine_weights(tmp_path: Path) -> None:
    own, mapped = tmp_path / "own", tmp_path / "mapped"
    section = DiffusionSettings(
        engine_wan_vace_model=str(own), engine_weights={"wan-vace": str(mapped)}
    )
    registry = EngineRegistry(settings=section)
    assert _model_of(registry, "wan-vace") == str(own)
    assert "engine_wan_vace_model" in registry.check_ready()["wan-vace"]


def test_engine_weights_reads_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELFORGE_ENGINE_WEIGHTS", '{"minimax-h3": "/models/h3"}')
    settings = Settings(data_dir=tmp_path)
    assert settings.named_weights("minimax-h3") == "/models/h3"
    assert settings.named_weights("ltx2") is None


def test_engine_weights_refuses_a_name_that_is_no_engine_with_weights() -> None:
    from pydantic import ValidationError

    for wrong in ("ltx-2", "preview"):
        with pytest.raises(ValidationError, match=f"engine_weights names {wrong}: not an engine"):
            DiffusionSettings(engine_weights={wrong: "/models/x"})


def _failing_check(section: object) -> None:
    raise EngineUnavailable("the gizmo extra is not installed")


def test_the_entrys_readiness_check_decides_and_a_broken_one_never_raises() -> None:
    def broken(section: object) -> None:
        raise RuntimeError("module exploded")

    entries = {
        "always": EngineEntry(name="always", summary="", build=plain(PreviewEngine)),
        "needs_gizmo": EngineEntry(
            name="needs_gizmo", summary="", build=plain(PreviewEngine), ready=_failing_check
        ),
        "broken": EngineEntry(name="broken", summary="", build=plain(PreviewEngine), ready=broken),
    }
    problems = EngineRegistry(entries).check_ready(entries)
    assert problems == {
        "needs_gizmo": "the gizmo extra is not installed",
        "broken": "RuntimeError: module exploded",
    }


PRICED = {"480p": 0.01, "720p": 0.02, "1080p": 0.04}


def _runtime_prices(data_dir: Path, **overrides: object) -> tuple[PriceTable, dict[str, float]]:
    """The price table and the listed `priced` prices of a runtime whose table has an engine
    with prices of its own."""
    from reelforge.runtime import build_runtime

    entry = EngineEntry(name="priced", summary="", build=plain(PreviewEngine), prices=PRICED)
    registry = EngineRegistry({"priced": entry, "preview": ENGINES["preview"]})
    runtime = build_runtime(make_settings(data_dir, default_model="priced", **overrides), registry)
    try:
        listed = {m.id: m for m in runtime.directory.all()}
        return runtime.prices, dict(listed["priced"].price_per_second)
    finally:
        runtime.database.dispose()


def test_an_engine_with_prices_of_its_own_is_quoted_and_listed_with_them(tmp_path: Path) -> None:
    prices, listed = _runtime_prices(tmp_path / "data")
    assert prices.per_second("priced", Resolution.P720) == 0.02
    assert prices.per_second("priced:fast", Resolution.P2160) == 0.16  # 4 x its 1080p
    assert prices.cost("priced", Resolution.P480, 5) == 0.05
    assert listed["1080p"] == 0.04
    # An engine without a table of its own keeps the operator's default one.
    default = make_settings(tmp_path).prices["default"]["720p"]
    assert prices.per_second("preview", Resolution.P720) == default


def test_the_operators_table_for_an_engine_wins_over_the_engines_own(tmp_path: Path) -> None:
    operator = {"default": {"480p": 1.0, "720p": 1.0, "1080p": 1.0}}
    prices, _ = _runtime_prices(tmp_path / "a", prices=operator)
    assert prices.per_second("priced", Resolution.P720) == PRICED["720p"]
    assert prices.per_second("preview", Resolution.P720) == 1.0
    operator["priced"] = {"480p": 9.0, "720p": 9.0, "1080p": 9.0}
    prices, listed = _runtime_prices(tmp_path / "b", prices=operator)
    assert prices.per_second("priced", Resolution.P720) == 9.0 and listed["480p"] == 9.0
