"""Past the hosted limits in the preview engine (issue 16 item 6): a long clip's memory does not
grow with its length (frames stream into the encoder; measured with tracemalloc, which sees
numpy's buffers), 2160p has the exact 4K sizes of every ratio, and its price comes from the
pricing table."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import av

from reelforge.core.references import StoredReference
from reelforge.engines.base import RenderRequest
from reelforge.engines.preview import PreviewEngine
from reelforge.jobs.render import plan_video, render_video
from reelforge.platform.pricing import DEFAULT_PRICES, PriceTable
from reelforge.spec import AspectRatio, Codec, Resolution, output_size, parse_size
from tests.media_helpers import (
    Flag,
    image_ref,
    studio_figure,
    textured_landscape,
    write_image,
)

W, H = 256, 144


def _peak_of(seconds: int, folder: Path, refs: tuple[StoredReference, ...]) -> tuple[int, Path]:
    prompt = "@Image1 enters from the left in @Image2, slow pan left"
    plan = plan_video(prompt, seconds, refs)
    request = RenderRequest(
        prompt=prompt, plan=plan, width=W, height=H, num_frames=plan.num_frames,
        references=refs, generate_audio=False,
    )  # fmt: skip
    tracemalloc.start()
    try:
        files = render_video(
            PreviewEngine(), request, folder / f"s{seconds}", codec=Codec.H264,
            progress=lambda _f: None, cancel=Flag(),
        )  # fmt: skip
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, files.video


def test_memory_stays_flat_with_the_clip_length(tmp_path: Path) -> None:
    fig = write_image(tmp_path / "fig.png", studio_figure(480, 360))
    land = write_image(tmp_path / "land.png", textured_landscape(640, 360, avoid_red=True))
    refs = (image_ref(1, fig), image_ref(2, land))
    short, _ = _peak_of(5, tmp_path, refs)
    long, video = _peak_of(20, tmp_path, refs)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert sum(1 for p in container.demux(stream) if p.size) == 20 * 24
    # 4x the frames, continued in two parts: the peak of Python-visible memory (frames, plates,
    # cut-outs) stays put (one 256x144 frame is 110 kB; holding the clip would be 53 MB).
    assert long <= short * 1.25 + 4_000_000, (short, long)


def test_2160p_sizes_are_the_short_side_times_the_ratio() -> None:
    expected = {
        AspectRatio.R16_9: (3840, 2160), AspectRatio.R9_16: (2160, 3840),
        AspectRatio.R4_3: (2880, 2160), AspectRatio.R3_4: (2160, 2880),
        AspectRatio.R1_1: (2160, 2160), AspectRatio.R21_9: (5040, 2160),
    }  # fmt: skip
    for aspect, size in expected.items():
        assert output_size(Resolution.P2160, aspect) == size
        assert parse_size(f"{size[0]}x{size[1]}") == (Resolution.P2160, aspect)


def test_2160p_is_priced_from_the_table_or_at_four_times_1080p() -> None:
    table = PriceTable()
    assert table.per_second("preview", Resolution.P2160) == DEFAULT_PRICES["2160p"]
    operator = PriceTable({"default": {"480p": 0.1, "720p": 0.2, "1080p": 0.5}})
    assert operator.per_second("preview", Resolution.P2160) == 2.0
    assert operator.cost("preview", Resolution.P2160, 3) == 6.0
