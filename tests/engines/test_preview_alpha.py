"""Alpha output: the subjects alone on a transparent background, encoded as ProRes 4444 (.mov)
and VP9 with alpha (.webm), decoded back with the asked size, frame count, pixel format and a
transparent background wherever no subject is."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from reelforge.engines.preview import PreviewEngine
from reelforge.media.alpha import SUFFIX, encode_alpha, read_alpha
from tests.media_helpers import (
    Flag,
    image_ref,
    make_request,
    red_mask,
    studio_figure,
    textured_landscape,
    write_image,
)

W, H, N = 320, 240, 24


@pytest.mark.parametrize(("codec", "pix_fmt"), [("prores_4444", "yuva444p"), ("vp9", "yuv")])
def test_subjects_on_a_transparent_background(tmp_path: Path, codec: str, pix_fmt: str) -> None:
    fig = write_image(tmp_path / "fig.png", studio_figure(480, 360))
    land = write_image(tmp_path / "land.png", textured_landscape(640, 360, avoid_red=True))
    request = make_request(
        "@Image1 bounces in @Image2, slow pan left",
        (image_ref(1, fig), image_ref(2, land)),
        width=W,
        height=H,
        num_frames=N,
    )
    rendering = PreviewEngine().render_alpha(request, lambda _f: None, Flag())
    out = tmp_path / f"out{SUFFIX[codec]}"
    encode_alpha(
        out,
        rendering.frames,
        width=W,
        height=H,
        num_frames=N,
        codec=codec,  # type: ignore[arg-type]
        audio=rendering.audio,
    )
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (W, H)
        assert stream.codec_context.pix_fmt.startswith(pix_fmt)
        assert container.streams.audio
    frames = list(read_alpha(out))
    assert len(frames) == N
    for frame in (frames[0], frames[N // 2], frames[-1]):
        alpha = frame[:, :, 3]
        subject = red_mask(frame[:, :, :3]) & (alpha > 200)
        assert subject.sum() > 0.03 * W * H  # the figure is there, opaque
        # Everything away from the subject is transparent: the plate is not drawn.
        ys, xs = np.nonzero(alpha > 16)
        box = np.zeros_like(alpha, bool)
        box[max(0, ys.min() - 2) : ys.max() + 3, max(0, xs.min() - 2) : xs.max() + 3] = True
        # (VP9's lossy alpha leaves a little ringing: a few levels at most, rare.)
        assert alpha[~box].max() <= 16 and np.percentile(alpha[~box], 99.5) <= 4
        assert (alpha > 16).mean() < 0.5
