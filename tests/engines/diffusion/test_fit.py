"""The frame, rate and size rules every diffusion engine's output goes through."""

from __future__ import annotations

import numpy as np
import pytest

from reelforge.engines.diffusion.fit import (
    LTX2_FRAMES,
    MINIMAX_H3_FRAMES,
    WAN_FRAMES,
    fit_frame,
    generation_size,
    match_colour,
    native_frames_for,
    retime_indices,
    split_frames,
)


@pytest.mark.parametrize(
    ("rule", "asked", "snapped"),
    [
        (WAN_FRAMES, 1, 5),
        (WAN_FRAMES, 16, 17),
        (WAN_FRAMES, 80, 81),
        (LTX2_FRAMES, 24, 25),
        (LTX2_FRAMES, 121, 121),
        (LTX2_FRAMES, 122, 129),
        (MINIMAX_H3_FRAMES, 24, 124),
        (MINIMAX_H3_FRAMES, 125, 141),
        (MINIMAX_H3_FRAMES, 345, 345),
    ],
)
def test_frame_rules_snap_up(rule, asked, snapped) -> None:  # type: ignore[no-untyped-def]
    assert rule.snap(asked) == snapped
    assert (snapped - rule.offset) % rule.period == 0


def test_windows_and_limits() -> None:
    assert (WAN_FRAMES.window, LTX2_FRAMES.window, MINIMAX_H3_FRAMES.window) == (81, 257, 345)
    with pytest.raises(ValueError, match="window"):
        MINIMAX_H3_FRAMES.snap(346)  # 362 frames would be 15.08 s: past the model's ceiling


def test_wan_16fps_covers_24fps_output_and_retimes_exactly() -> None:
    for seconds in (1, 5):
        n = seconds * 24
        native = native_frames_for(n, 16, WAN_FRAMES)
        idx = retime_indices(n, 16, native)
        assert len(idx) == n and max(idx) < native
        assert idx == sorted(idx) and idx[0] == 0
    assert native_frames_for(120, 16, WAN_FRAMES) == 81  # a 5 s clip is one 81-frame call
    assert retime_indices(6, 16, 17) == [0, 0, 1, 2, 2, 3]  # 2:3 cadence, no blending


@pytest.mark.parametrize(
    ("size", "multiple", "cap", "expected"),
    [
        ((1280, 720), 16, 480, (848, 480)),
        ((854, 480), 32, 512, (864, 480)),
        ((720, 1280), 32, 768, (704, 1280)),
        ((854, 480), 16, 32, (64, 32)),
        ((1920, 1080), 32, 768, (1376, 768)),
    ],
)
def test_generation_size_keeps_aspect_on_the_grid(size, multiple, cap, expected) -> None:  # type: ignore[no-untyped-def]
    w, h = generation_size(*size, multiple=multiple, max_short_edge=cap)
    assert (w, h) == expected
    assert w % multiple == 0 and h % multiple == 0


def test_generation_size_respects_max_pixels() -> None:
    w, h = generation_size(1920, 1080, multiple=32, max_short_edge=1080, max_pixels=768 * 1344)
    assert w * h <= 768 * 1344 * 1.05 and w % 32 == 0 and h % 32 == 0


@pytest.mark.parametrize(
    ("src", "dst"),
    [((64, 32), (854, 480)), ((848, 480), (854, 480)), ((704, 1280), (720, 1280)),
     ((100, 100), (30, 60))],
)  # fmt: skip
def test_fit_frame_gives_exact_size(src: tuple[int, int], dst: tuple[int, int]) -> None:
    frame = np.random.default_rng(0).integers(0, 255, (src[1], src[0], 3), dtype=np.uint8)
    out = fit_frame(frame, *dst)
    assert out.shape == (dst[1], dst[0], 3) and out.dtype == np.uint8


def test_match_colour_pulls_a_drifted_chunk_back() -> None:
    rng = np.random.default_rng(1)
    first = rng.integers(60, 200, (4, 24, 32, 3), dtype=np.uint8)
    drifted = np.clip(first.astype(int) + 40, 0, 255).astype(np.uint8)
    fixed = match_colour(drifted, first)
    assert (
        abs(float(fixed.mean()) - float(first.mean()))
        < abs(float(drifted.mean()) - float(first.mean())) / 3
    )


def test_split_frames() -> None:
    assert split_frames(120, 120, 108) == [120]
    assert split_frames(144, 120, 108) == [120, 24]
    assert split_frames(360, 120, 108) == [120, 108, 108, 24]
    assert sum(split_frames(361, 257, 240)) == 361
