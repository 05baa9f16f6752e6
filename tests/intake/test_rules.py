"""rules.py without HTTP: prompt tokens, counts, modes, mentions, per-reference limits, totals."""

from __future__ import annotations

import dataclasses

import pytest

from reelforge.core.references import StoredReference
from reelforge.errors import InvalidRequest, PayloadTooLarge, UnprocessableMedia
from reelforge.intake.limits import Limits
from reelforge.intake.rules import (
    Where,
    check_reference_media,
    check_request_rules,
    check_stored_references,
    count_prompt_tokens,
)
from reelforge.spec import ReferenceInput, ReferenceKind, ReferenceRole

IMAGE, VIDEO, AUDIO = ReferenceKind.IMAGE, ReferenceKind.VIDEO, ReferenceKind.AUDIO
FIRST, LAST, REF = ReferenceRole.FIRST_FRAME, ReferenceRole.LAST_FRAME, ReferenceRole.REFERENCE
LIMITS = Limits()


def inp(kind: ReferenceKind, role: ReferenceRole = REF) -> ReferenceInput:
    return ReferenceInput(kind=kind, role=role, url="https://example.com/x")


def stored(kind: ReferenceKind, **facts: object) -> StoredReference:
    base: dict[str, object] = {
        "kind": kind, "role": REF, "index": 1, "storage_key": "refs/x", "sha256": "x",
        "mime_type": "x/y", "bytes": 1000,
    }  # fmt: skip
    if kind is IMAGE:
        base.update(width=640, height=480)
    elif kind is VIDEO:
        base.update(width=640, height=640, seconds=3.0, fps=24.0)
    else:
        base.update(seconds=3.0)
    base.update(facts)
    return StoredReference(**base)  # type: ignore[arg-type]


def refused(fn: object, *args: object) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        fn(*args)  # type: ignore[operator]
    return info.value


# ---- prompt tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("a red fox", 3),
        ("Hello, world!", 4),
        ("@Image1 waves at [Image 2].", 9),  # @ Image1 waves at [ Image 2 ] .
        ("don't", 3),
        ("snake_case_word 3.14", 4),
        ("猫が走る", 4),
        ("一只猫 runs", 4),
        ("café naïve", 2),
        ("🙂🙂", 2),
        ("  \n\t ", 0),
    ],
)
def test_prompt_tokens_are_counted_simply(text: str, tokens: int) -> None:
    assert count_prompt_tokens(text) == tokens


def test_prompt_at_the_limit_passes_and_one_more_token_fails() -> None:
    check_request_rules("word " * 2000, [], LIMITS)
    err = refused(check_request_rules, "word " * 2000 + "!", [], LIMITS)
    assert (err.code, err.param) == ("invalid_request.prompt_too_long", "prompt")
    assert "2,001 tokens" in err.message and "2,000" in err.message


def test_prompt_characters_bound_even_a_single_huge_word() -> None:
    err = refused(check_request_rules, "a" * 20_001, [], LIMITS)
    assert err.code == "invalid_request.prompt_too_long"
    assert "20,001 characters" in err.message


# ---- counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kinds", "code", "index"),
    [
        ([IMAGE] * 10, "invalid_reference.too_many_images", 9),
        ([IMAGE] + [VIDEO] * 4, "invalid_reference.too_many_videos", 4),
        ([IMAGE] + [AUDIO] * 4, "invalid_reference.too_many_audios", 4),
        ([IMAGE] * 9 + [VIDEO] * 3 + [AUDIO], "invalid_reference.too_many_references", 12),
    ],
)
def test_counts(kinds: list[ReferenceKind], code: str, index: int) -> None:
    err = refused(check_request_rules, "x", [inp(k) for k in kinds], LIMITS)
    assert (err.code, err.param, err.reference_index) == (code, "references", index)


def test_the_most_of_everything_passes() -> None:
    refs = [inp(IMAGE)] * 9 + [inp(VIDEO)] * 3
    check_request_rules("@Image9 @Video3", refs, LIMITS)
    check_request_rules("x", [inp(IMAGE)] * 6 + [inp(VIDEO)] * 3 + [inp(AUDIO)] * 3, LIMITS)


def test_counts_follow_the_limits() -> None:
    limits = dataclasses.replace(LIMITS, max_images=1, max_references=2)
    assert refused(check_request_rules, "x", [inp(IMAGE)] * 2, limits).code.endswith(
        "too_many_images"
    )
    err = refused(check_request_rules, "x", [inp(IMAGE), inp(VIDEO), inp(AUDIO)], limits)
    assert err.code == "invalid_reference.too_many_references"


# ---- modes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("refs", "code", "index"),
    [
        ([inp(IMAGE, FIRST), inp(VIDEO)], "mode_conflict", 1),
        ([inp(IMAGE), inp(IMAGE, FIRST)], "mode_conflict", 0),
        ([inp(IMAGE, FIRST), inp(IMAGE, LAST), inp(AUDIO)], "mode_conflict", 2),
        ([inp(IMAGE, LAST)], "last_frame_without_first_frame", 0),
        ([inp(IMAGE, FIRST), inp(IMAGE, FIRST)], "duplicate_frame_role", 1),
        ([inp(IMAGE, FIRST), inp(IMAGE, LAST), inp(IMAGE, LAST)], "duplicate_frame_role", 2),
        ([inp(VIDEO, FIRST)], "frame_role_kind", 0),
        ([inp(IMAGE, FIRST), inp(AUDIO, LAST)], "frame_role_kind", 1),
    ],
)
def test_modes_are_mutually_exclusive(refs: list[ReferenceInput], code: str, index: int) -> None:
    err = refused(check_request_rules, "x", refs, LIMITS)
    assert err.code == f"invalid_reference.{code}"
    assert (err.param, err.reference_index) == (f"references[{index}]", index)


@pytest.mark.parametrize(
    "refs",
    [
        [inp(IMAGE, FIRST)],
        [inp(IMAGE, FIRST), inp(IMAGE, LAST)],
        [inp(IMAGE, LAST), inp(IMAGE, FIRST)],
        [inp(IMAGE), inp(VIDEO), inp(AUDIO)],
    ],
)
def test_each_mode_on_its_own_passes(refs: list[ReferenceInput]) -> None:
    check_request_rules("x", refs, LIMITS)


# ---- audio needs a picture -------------------------------------------------------------------


def test_audio_needs_an_image_or_a_video() -> None:
    err = refused(check_request_rules, "x", [inp(AUDIO), inp(AUDIO)], LIMITS)
    assert (err.code, err.reference_index) == ("invalid_reference.audio_without_visual", 0)
    check_request_rules("x", [inp(AUDIO), inp(VIDEO)], LIMITS)
    relaxed = dataclasses.replace(LIMITS, audio_requires_visual=False)
    check_request_rules("x", [inp(AUDIO)], relaxed)


# ---- mentions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "named"),
    [
        ("@Image3 jumps", "'@Image3' (@Image3)"),
        ("then [Image 3] jumps", "'[Image 3]' (@Image3)"),
        ("@video2 plays", "@Video2"),
        ("over @Audio1", "@Audio1"),
        ("@Image0 is nobody", "@Image0"),
    ],
)
def test_mentions_of_missing_references_are_refused(prompt: str, named: str) -> None:
    refs = [inp(IMAGE), inp(IMAGE), inp(VIDEO)]
    err = refused(check_request_rules, prompt, refs, LIMITS)
    assert (err.code, err.param, err.reference_index) == ("invalid_request.mention", "prompt", None)
    assert named in err.message


def test_mentions_resolve_by_order_within_kind_and_unmentioned_refs_are_kept() -> None:
    refs = [inp(IMAGE), inp(VIDEO), inp(IMAGE), inp(AUDIO)]
    check_request_rules("@Image2 and [Video 1] over @Audio1", refs, LIMITS)
    check_request_rules("no mentions at all", refs, LIMITS)


# ---- one reference ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "facts", "code", "status"),
    [
        (IMAGE, {"nbytes": 31 * 2**20}, "image_file_too_large", 413),
        (VIDEO, {"nbytes": 51 * 2**20}, "video_file_too_large", 413),
        (AUDIO, {"nbytes": 16 * 2**20}, "audio_file_too_large", 413),
        (IMAGE, {"width": 30000, "height": 30000}, "image_too_many_pixels", 422),
        (IMAGE, {"width": 299, "height": 500}, "image_too_small", 400),
        (IMAGE, {"width": 6001, "height": 4000}, "image_too_large", 400),
        (IMAGE, {"width": 2500, "height": 999}, "image_aspect", 400),
        (IMAGE, {"width": 399, "height": 1000}, "image_aspect", 400),
        (VIDEO, {"seconds": 1.8}, "video_too_short", 400),
        (VIDEO, {"seconds": 15.2}, "video_too_long", 400),
        (VIDEO, {"width": 640, "height": 639}, "video_too_few_pixels", 400),
        (VIDEO, {"width": 1280, "height": 725}, "video_too_many_pixels", 400),
        (VIDEO, {"fps": 20.0}, "video_fps_too_low", 400),
        (VIDEO, {"fps": 61.0}, "video_fps_too_high", 400),
        (AUDIO, {"seconds": 1.5}, "audio_too_short", 400),
        (AUDIO, {"seconds": 16.0}, "audio_too_long", 400),
    ],
)
def test_one_reference_limits(
    kind: ReferenceKind, facts: dict[str, float], code: str, status: int
) -> None:
    with pytest.raises(InvalidRequest) as info:
        check_reference_media(kind, Where("references[2]", 2), LIMITS, **facts)  # type: ignore[arg-type]
    err = info.value
    assert err.code == f"invalid_reference.{code}"
    assert (err.param, err.reference_index, err.http_status) == ("references[2]", 2, status)
    assert err.message.startswith("references[2]: ")


@pytest.mark.parametrize(
    ("kind", "facts"),
    [
        (IMAGE, {"width": 300, "height": 300, "nbytes": 30 * 2**20}),
        (IMAGE, {"width": 6000, "height": 2400}),  # 2.5 exactly
        (IMAGE, {"width": 2400, "height": 6000}),  # 0.4 exactly
        (VIDEO, {"seconds": 2.0, "width": 640, "height": 640, "fps": 24.0}),
        (VIDEO, {"seconds": 15.05, "width": 1112, "height": 834, "fps": 60.0}),
        (VIDEO, {"seconds": 5.0, "width": 1280, "height": 720, "fps": 24000 / 1001}),
        (VIDEO, {"seconds": 5.0, "width": 1280, "height": 720, "fps": 60000 / 1001}),
        (AUDIO, {"seconds": 15.0, "nbytes": 15 * 2**20}),
    ],
)
def test_limits_are_inclusive(kind: ReferenceKind, facts: dict[str, float]) -> None:
    check_reference_media(kind, Where.ref(0), LIMITS, **facts)  # type: ignore[arg-type]


def test_unknown_facts_are_skipped() -> None:
    check_reference_media(IMAGE, Where.ref(0), LIMITS)
    check_reference_media(VIDEO, Where.ref(0), LIMITS)


# ---- totals (after probing) ------------------------------------------------------------------


def test_video_seconds_add_up() -> None:
    refs = [stored(IMAGE), stored(VIDEO, seconds=10.0), stored(VIDEO, seconds=8.0)]
    err = refused(check_stored_references, refs, LIMITS)
    assert (err.code, err.reference_index) == ("invalid_reference.videos_total_too_long", 2)
    assert "10 + 8 = 18 s" in err.message and "15 s together" in err.message
    check_stored_references([stored(VIDEO, seconds=7.5), stored(VIDEO, seconds=7.5)], LIMITS)


def test_video_bytes_add_up() -> None:
    refs = [stored(VIDEO, bytes=30 * 2**20), stored(VIDEO, bytes=30 * 2**20)]
    err = refused(check_stored_references, refs, LIMITS)
    assert err.code == "invalid_reference.videos_total_too_large"
    assert isinstance(err, PayloadTooLarge)


def test_audio_seconds_add_up() -> None:
    refs = [stored(IMAGE), stored(AUDIO, seconds=9.0), stored(AUDIO, seconds=7.0)]
    err = refused(check_stored_references, refs, LIMITS)
    assert (err.code, err.param) == ("invalid_reference.audio_total_too_long", "references[2]")


def test_stored_references_are_checked_one_by_one_too() -> None:
    """A file uploaded before a limit was tightened is refused when it is used."""
    err = refused(check_stored_references, [stored(IMAGE, width=200, height=200)], LIMITS)
    assert err.code == "invalid_reference.image_too_small"
    bomb = refused(check_stored_references, [stored(IMAGE, width=9000, height=9000)], LIMITS)
    assert isinstance(bomb, UnprocessableMedia)
