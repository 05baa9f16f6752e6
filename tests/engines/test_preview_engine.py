"""The preview engine end to end: real pictures on disk, the real compositor, the real encoder,
and checks on the decoded MP4."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from reelforge.engines.base import Engine, RenderRequest
from reelforge.engines.preview import PreviewEngine
from reelforge.errors import InvalidReference, InvalidRequest
from reelforge.media.decode import load_audio
from reelforge.media.encode import EncodeResult, encode_mp4
from reelforge.media.probe import probe_media
from reelforge.media.types import EngineCanceled
from reelforge.planning.shots import plan_shots
from reelforge.spec import AspectRatio, Codec, Resolution, output_size
from tests.media_helpers import (
    Flag,
    audio_ref,
    best_template_score,
    decode_frames,
    figure_mask,
    image_ref,
    make_request,
    red_mask,
    studio_figure,
    textured_landscape,
    unrelated_image,
    video_packets,
    video_ref,
    write_image,
    write_test_video,
    write_tone_wav,
)


@pytest.fixture
def figure(tmp_path: Path) -> Path:
    return write_image(tmp_path / "figure.png", studio_figure(640, 480))


@pytest.fixture
def landscape(tmp_path: Path) -> Path:
    return write_image(tmp_path / "land.jpg", textured_landscape(1024, 576, avoid_red=True))


def render(
    request: RenderRequest, path: Path, codec: Codec = Codec.H264, cancel: Flag | None = None
) -> EncodeResult:
    engine = PreviewEngine()
    token = cancel or Flag()
    rendering = engine.render(request, lambda _f: None, token)
    return encode_mp4(
        path,
        rendering.frames,
        width=request.width,
        height=request.height,
        fps=request.fps,
        num_frames=request.num_frames,
        codec=codec,
        audio=rendering.audio,
        cancel=token,
    )


def test_is_an_engine() -> None:
    engine: Engine = PreviewEngine()
    assert engine.name == "preview"


@pytest.mark.parametrize(
    ("resolution", "aspect"),
    [
        (Resolution.P480, AspectRatio.R16_9),
        (Resolution.P480, AspectRatio.R9_16),
        (Resolution.P480, AspectRatio.R1_1),
        (Resolution.P480, AspectRatio.R21_9),
        (Resolution.P720, AspectRatio.R4_3),
    ],
)
def test_output_has_the_asked_size_rate_and_length(
    tmp_path: Path, figure: Path, landscape: Path, resolution: Resolution, aspect: AspectRatio
) -> None:
    width, height = output_size(resolution, aspect)
    request = make_request(
        "@Image1 walks in @Image2, zoom in",
        (image_ref(1, figure), image_ref(2, landscape)),
        width=width,
        height=height,
        num_frames=30,
    )
    render(request, tmp_path / "out.mp4")
    info = probe_media(tmp_path / "out.mp4")
    assert (info.width, info.height) == (width, height)
    assert info.fps == 24.0 and info.frame_count == 30
    assert info.duration == pytest.approx(30 / 24, abs=1e-3)
    assert info.has_audio and info.audio_codec == "aac" and info.audio_channels == 2
    assert info.sample_rate == 48_000
    frames = decode_frames(tmp_path / "out.mp4")
    assert len(frames) == 30 and frames[0].shape == (height, width, 3)


def test_frames_themselves_are_exact(figure: Path) -> None:
    request = make_request(
        "@Image1, pan left", (image_ref(1, figure),), width=480, height=854, num_frames=7
    )
    seen: list[float] = []
    rendering = PreviewEngine().render(request, seen.append, Flag())
    frames = list(rendering.frames)
    assert len(frames) == 7
    assert all(f.shape == (854, 480, 3) and f.dtype == np.uint8 for f in frames)
    assert seen == [(i + 1) / 7 for i in range(7)]


def test_h265_with_audio_and_silent_when_asked(tmp_path: Path, figure: Path) -> None:
    request = make_request("@Image1 on a windy hill", (image_ref(1, figure),), num_frames=24)
    render(request, tmp_path / "a.mp4", codec=Codec.H265)
    info = probe_media(tmp_path / "a.mp4")
    assert (info.video_codec, info.codec_tag, info.audio_codec) == ("hevc", "hvc1", "aac")

    silent = make_request(
        "@Image1 on a windy hill", (image_ref(1, figure),), num_frames=24, generate_audio=False
    )
    assert PreviewEngine().render(silent, lambda _f: None, Flag()).audio is None
    render(silent, tmp_path / "b.mp4")
    assert not probe_media(tmp_path / "b.mp4").has_audio


def test_reference_audio_is_the_soundtrack(tmp_path: Path, figure: Path) -> None:
    tone = write_tone_wav(tmp_path / "tone.wav", seconds=0.6, rate=44_100, hz=440.0)
    request = make_request(
        "@Image1 sings to @Audio1", (image_ref(1, figure), audio_ref(1, tone)), num_frames=36
    )
    render(request, tmp_path / "out.mp4")
    track = load_audio(tmp_path / "out.mp4")
    # Looped from 0.6 s to the video's 1.5 s (the decoder adds up to one AAC frame of padding).
    assert 1.5 <= track.seconds <= 1.5 + 1024 / 48_000
    spectrum = np.abs(np.fft.rfft(track.samples[0]))
    peak_hz = float(np.argmax(spectrum)) * track.sample_rate / track.samples.shape[1]
    assert abs(peak_hz - 440.0) < 5.0
    rms_db = 20 * np.log10(float(np.sqrt(np.mean(track.samples**2))))
    assert -23.0 < rms_db < -17.0  # normalised to about -20 dBFS


def test_every_image_appears_and_an_unrelated_one_does_not(
    tmp_path: Path, figure: Path, landscape: Path
) -> None:
    # A second subject that is not a studio shot: the figure pasted onto other texture.
    other_bg = textured_landscape(640, 480, seed=9, avoid_red=True)
    mask = figure_mask(640, 480)[:, :, None] > 0
    blue_figure = studio_figure(640, 480)[:, :, ::-1]  # same figure, blue
    busy = write_image(tmp_path / "busy.png", np.where(mask, blue_figure, other_bg))
    request = make_request(
        "@Image1 and @Image3 stand in @Image2, static",
        (image_ref(1, figure), image_ref(2, landscape), image_ref(3, busy)),
        num_frames=6,
    )
    frames = list(PreviewEngine().render(request, lambda _f: None, Flag()).frames)
    frame = frames[3]

    body = studio_figure(640, 480)[250:390, 270:370]  # inside the figure's body
    blue_body = blue_figure[250:390, 270:370]
    land = textured_landscape(1024, 576, avoid_red=True)[150:420, 300:720]
    stripes = unrelated_image(400, 300)
    heights = tuple(np.linspace(0.1, 0.9, 33))
    assert best_template_score(frame, body, heights) > 0.6
    assert best_template_score(frame, blue_body, heights) > 0.6
    assert best_template_score(frame, land, heights) > 0.6
    assert best_template_score(frame, stripes, heights) < 0.35


def test_single_landscape_fills_the_frame(tmp_path: Path, landscape: Path) -> None:
    request = make_request(
        "a slow static view of @Image1",
        (image_ref(1, landscape),),
        width=640,
        height=360,
        num_frames=3,
    )
    frames = list(PreviewEngine().render(request, lambda _f: None, Flag()).frames)
    source = cv2.resize(
        textured_landscape(1024, 576, avoid_red=True), (640, 360), interpolation=cv2.INTER_AREA
    )
    diff = np.abs(frames[0].astype(int) - source.astype(int)).mean()
    assert diff < 6.0  # the picture itself, full frame
    assert not red_mask(frames[0]).any()


def test_single_studio_shot_is_cut_out_over_its_own_backdrop(figure: Path) -> None:
    request = make_request(
        "@Image1, static", (image_ref(1, figure),), width=640, height=480, num_frames=2
    )
    frame = next(PreviewEngine().render(request, lambda _f: None, Flag()).frames)
    red = red_mask(frame) > 0
    assert 0.05 < red.mean() < 0.4  # the figure is there
    # The flat grey studio is gone: a generated backdrop, varied and not the original grey.
    corners = np.concatenate([frame[:40, :40].reshape(-1, 3), frame[:40, -40:].reshape(-1, 3)])
    assert np.abs(corners.astype(int) - (155, 155, 155)).mean() > 10


def test_no_references_gives_a_seeded_prompt_coloured_backdrop() -> None:
    def first(prompt: str, seed: int) -> np.ndarray:
        request = make_request(prompt, width=480, height=480, num_frames=2, seed=seed)
        return next(PreviewEngine().render(request, lambda _f: None, Flag()).frames)

    sunset, night = first("a desert sunset", 1), first("a city at night", 1)
    assert sunset[..., 0].mean() > sunset[..., 2].mean() + 20
    assert night.mean() < sunset.mean() - 40
    assert np.array_equal(first("a quiet scene", 5), first("a quiet scene", 5))
    assert not np.array_equal(first("a quiet scene", 5), first("a quiet scene", 6))


def test_reference_video_loops_as_the_plate(tmp_path: Path, figure: Path) -> None:
    clip = write_test_video(tmp_path / "clip.mp4", 320, 240, frames=10, fps=30)
    request = make_request(
        "@Image1 dances, static",
        (image_ref(1, figure), video_ref(1, clip)),
        width=640,
        height=480,
        num_frames=20,
    )
    frames = list(PreviewEngine().render(request, lambda _f: None, Flag()).frames)
    assert len(frames) == 20
    assert (red_mask(frames[0]) > 0).mean() > 0.05
    # The clip plays (frames differ) and loops (10 frames at 30 fps last 8 output frames).
    assert not np.array_equal(frames[0], frames[3])
    assert np.array_equal(frames[0], frames[8])


def test_same_request_same_bytes(tmp_path: Path, figure: Path, landscape: Path) -> None:
    # Image 3 is a subject on a busy background, so GrabCut (seeded) runs too.
    busy = textured_landscape(640, 480, seed=3, avoid_red=True)
    busy_figure = write_image(
        tmp_path / "busy.png",
        np.where(figure_mask(640, 480)[:, :, None] > 0, studio_figure(640, 480), busy),
    )
    refs = (image_ref(1, landscape), image_ref(2, figure), image_ref(3, busy_figure))
    request = make_request(
        "@Image2 and @Image3 in @Image1 at sunset, orbit left", refs, num_frames=24, seed=11
    )
    a = render(request, tmp_path / "a.mp4")
    b = render(request, tmp_path / "b.mp4")
    assert video_packets(a.path) == video_packets(b.path)
    assert a.path.read_bytes() == b.path.read_bytes()


def test_cancel_mid_render_leaves_no_file(tmp_path: Path, figure: Path) -> None:
    request = make_request("@Image1, zoom in", (image_ref(1, figure),), num_frames=48)
    token = Flag(after=20)
    with pytest.raises(EngineCanceled):
        render(request, tmp_path / "out.mp4", cancel=token)
    assert not (tmp_path / "out.mp4").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_cancel_before_the_first_frame(figure: Path) -> None:
    request = make_request("@Image1", (image_ref(1, figure),), num_frames=4)
    with pytest.raises(EngineCanceled):
        PreviewEngine().render(request, lambda _f: None, Flag(after=0))


def _with(request: RenderRequest, **changes: object) -> RenderRequest:
    from dataclasses import replace

    return replace(request, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"width": 853}, "invalid_request.size"),
        ({"height": 8}, "invalid_request.size"),
        ({"width": 8192}, "invalid_request.size"),
        ({"fps": 0}, "invalid_request.fps"),
        ({"num_frames": 0}, "invalid_request.seconds"),
        ({"num_frames": 60 * 24 + 1}, "invalid_request.seconds"),  # 60 s: continuation
        ({"num_frames": 25}, "invalid_request.plan"),
    ],
)
def test_check_inputs_rejects_bad_values(
    figure: Path, changes: dict[str, object], code: str
) -> None:
    request = _with(make_request("@Image1", (image_ref(1, figure),)), **changes)
    with pytest.raises(InvalidRequest) as info:
        PreviewEngine().check_inputs(request)
    assert info.value.code == code


def test_check_inputs_rejects_bad_references(tmp_path: Path, figure: Path) -> None:
    engine = PreviewEngine()
    missing = make_request("@Image1", (image_ref(1, tmp_path / "nope.png"),))
    with pytest.raises(InvalidReference):
        engine.check_inputs(missing)
    twice = make_request("@Image1", (image_ref(1, figure), image_ref(1, figure)))
    with pytest.raises(InvalidRequest, match="@Image1"):
        engine.check_inputs(twice)
    dangling = _with(
        make_request("@Image2 waves", (image_ref(1, figure),)),
        plan=plan_shots("@Image2 waves", 24, 24, 2),
    )
    with pytest.raises(InvalidRequest, match="@Image2"):
        engine.check_inputs(dangling)
