"""Each engine's own limits, checked at create from the engine table (before any fetch)."""

from __future__ import annotations

import pytest

from reelforge.engines.catalog import ENGINES
from reelforge.engines.limits import check_engine_limits, references_left_out
from reelforge.errors import InvalidReference, InvalidRequest
from reelforge.spec import ReferenceKind, Resolution

IMG, VID, AUD = ReferenceKind.IMAGE, ReferenceKind.VIDEO, ReferenceKind.AUDIO


def _check(engine: str, kinds: list[ReferenceKind], seconds: int | None = 5) -> None:
    check_engine_limits(
        engine, ENGINES[engine].limits, kinds=kinds, resolution=Resolution.P720, seconds=seconds
    )


@pytest.mark.parametrize(
    ("engine", "kinds", "code", "index"),
    [
        ("wan-vace", [IMG, VID, VID], "invalid_reference.too_many_videos", 2),
        ("ltx2", [AUD, IMG, AUD], "invalid_reference.too_many_audios", 2),
        ("preview", [IMG] * 10, "invalid_reference.too_many_images", 9),
    ],
)
def test_an_engine_refuses_more_than_it_takes(
    engine: str, kinds: list[ReferenceKind], code: str, index: int
) -> None:
    with pytest.raises(InvalidReference) as caught:
        _check(engine, kinds)
    assert caught.value.code == code
    assert caught.value.param == "references" and caught.value.reference_index == index


def test_references_past_what_the_model_sees_are_a_warning_not_a_refusal() -> None:
    limits = ENGINES["minimax-h3"].limits
    _check("minimax-h3", [IMG] * 9 + [VID] * 3 + [AUD] * 3)  # accepted
    message = references_left_out("minimax-h3", limits, 15)
    assert message is not None and "3 of the 15" in message
    assert references_left_out("minimax-h3", limits, 12) is None
    assert references_left_out("preview", ENGINES["preview"].limits, 15) is None


def test_within_the_limits_passes() -> None:
    _check("minimax-h3", [IMG] * 9 + [VID] * 3)
    _check("wan-vace", [IMG] * 9 + [VID] + [AUD] * 3, seconds=None)


def test_seconds_out_of_an_engine_range() -> None:
    with pytest.raises(InvalidRequest) as caught:
        _check("preview", [IMG], seconds=99)
    assert caught.value.param == "seconds"
