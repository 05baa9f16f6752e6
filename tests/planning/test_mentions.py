from __future__ import annotations

from reelforge.planning.mentions import find_mentions, iter_mentions
from reelforge.spec import ReferenceKind

IMAGE, VIDEO, AUDIO = ReferenceKind.IMAGE, ReferenceKind.VIDEO, ReferenceKind.AUDIO


def test_at_mentions_in_order_case_insensitive() -> None:
    prompt = "@image2 dances with @IMAGE1 to @Audio1 in the style of @Video3"
    assert find_mentions(prompt) == [(IMAGE, 2), (IMAGE, 1), (AUDIO, 1), (VIDEO, 3)]


def test_ark_bracket_mentions() -> None:
    prompt = "[Image 1] walks through [image2], music from [Audio 1], motion like [Video 1]"
    assert find_mentions(prompt) == [(IMAGE, 1), (IMAGE, 2), (AUDIO, 1), (VIDEO, 1)]


def test_both_styles_deduplicated_first_appearance_kept() -> None:
    prompt = "@Image1 meets [Image 2]; then [Image 1] waves at @image2 and @Image1 again"
    assert find_mentions(prompt) == [(IMAGE, 1), (IMAGE, 2)]


def test_not_mentions() -> None:
    assert find_mentions("email me at bob@example.com, image 1 of 3, @Imagex, [Image]") == []


def test_multi_digit_index_and_positions() -> None:
    mentions = iter_mentions("see @Image12.")
    assert [(m.kind, m.index, m.label) for m in mentions] == [(IMAGE, 12, "Image12")]
    assert "see @Image12."[mentions[0].start : mentions[0].end] == "@Image12"
