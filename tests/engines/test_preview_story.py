"""What a viewer sees of the plan's story, measured on the rendered frames (and, where the
encoder matters, on the decoded MP4): cuts where the plan puts them, transitions, given first
and last frames, cuts on the music's beats, subject actions, letterbox, smart reframing, a
reference video's camera motion, looks, and dialogue over the bed."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from reelforge.core.references import StoredReference
from reelforge.engines.base import RenderRequest
from reelforge.engines.preview import PreviewEngine
from reelforge.errors import InvalidRequest
from reelforge.jobs.render import plan_video
from reelforge.media.beats import analyse_beats
from reelforge.media.decode import load_audio
from reelforge.media.encode import encode_mp4
from reelforge.media.types import EngineCanceled
from reelforge.planning.model import Action, CameraMove, Look, Transition
from reelforge.spec import Codec, ReferenceRole
from tests.media_helpers import (
    CancelAfter,
    Flag,
    audio_ref,
    click_track,
    decode_frames,
    figure_mask,
    frame_diffs,
    image_ref,
    make_request,
    mean_flow,
    psnr,
    red_mask,
    require_espeak,
    studio_figure,
    textured_landscape,
    video_packets,
    video_ref,
    write_image,
    write_pan_video,
    write_wav,
)

W, H = 320, 180


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("story")
    busy = textured_landscape(480, 360, seed=3, avoid_red=True)
    return {
        "figure": write_image(d / "figure.png", studio_figure(480, 360)),
        "land1": write_image(d / "land1.png", textured_landscape(640, 360, seed=1, avoid_red=True)),
        "land2": write_image(d / "land2.png", textured_landscape(640, 360, seed=2, avoid_red=True)),
        "land3": write_image(d / "land3.png", textured_landscape(640, 360, seed=5, avoid_red=True)),
        "busy": write_image(
            d / "busy.png",
            np.where(figure_mask(480, 360)[:, :, None] > 0, studio_figure(480, 360), busy),
        ),
        "dir": d,
    }


def frames_of(request: RenderRequest, engine: PreviewEngine | None = None) -> list[np.ndarray]:
    rendering = (engine or PreviewEngine()).render(request, lambda _f: None, Flag())
    return list(rendering.frames)


def encoded(request: RenderRequest, path: Path) -> Path:
    rendering = PreviewEngine().render(request, lambda _f: None, Flag())
    encode_mp4(
        path,
        rendering.frames,
        width=request.width,
        height=request.height,
        fps=request.fps,
        num_frames=request.num_frames,
        codec=Codec.H264,
        audio=rendering.audio,
    )
    return path


def three_places(media: dict[str, Path]) -> tuple[StoredReference, ...]:
    return (
        image_ref(1, media["land1"]),
        image_ref(2, media["land2"]),
        image_ref(3, media["land3"]),
    )


def spikes(diffs: np.ndarray, factor: float = 4.0) -> list[int]:
    """Frames whose difference from the one before stands far above the typical difference."""
    typical = float(np.median(diffs[1:])) + 0.5
    return [i for i, d in enumerate(diffs) if i > 0 and d > factor * typical and d > 8.0]


# --- cuts and transitions -------------------------------------------------------------------


def test_cuts_fall_where_the_plan_says(tmp_path: Path, media: dict[str, Path]) -> None:
    prompt = (
        "[0-1s] hills in @Image1, static. [1-1.5s] a field in @Image2, static. "
        "[1.5-2.5s] a lake in @Image3, static"
    )
    request = make_request(prompt, three_places(media), W, H, num_frames=60, generate_audio=False)
    plan = request.plan
    assert [(s.start_frame, s.num_frames) for s in plan.shots] == [(0, 24), (24, 12), (36, 24)]
    assert [s.background_image for s in plan.shots] == [1, 2, 3]
    frames = decode_frames(encoded(request, tmp_path / "cuts.mp4"))
    assert spikes(frame_diffs(frames)) == [24, 36]


def test_transitions_crossfade_fade_to_black_and_whip_pan(media: dict[str, Path]) -> None:
    prompt = (
        "In @Image1, static. Crossfade to: in @Image2, static. Fade to black. In @Image3, static. "
        "Whip pan to: in @Image1, static"
    )
    request = make_request(prompt, three_places(media), W, H, num_frames=96, generate_audio=False)
    assert [s.transition for s in request.plan.shots] == [
        Transition.CUT,
        Transition.CROSSFADE,
        Transition.FADE_BLACK,
        Transition.WHIP_PAN,
    ]
    assert [s.start_frame for s in request.plan.shots] == [0, 24, 48, 72]
    frames = frames_of(request)
    diffs = frame_diffs(frames)
    cut = float(np.abs(frames[23].astype(int) - frames[24].astype(int)).mean())  # as a cut would be
    hard = frame_diffs([frames[10], frames[40]])[1]  # plate 1 against plate 2: a hard cut's jump
    # Crossfade: no spike anywhere in the window, the change spread over its frames.
    assert max(diffs[18:31]) < 0.3 * hard
    assert cut < 0.3 * hard
    assert np.array_equal(frames[10], frames[17]) and np.array_equal(frames[31], frames[39])
    # Fade to black: down to black at the cut, up from it after.
    lum = [float(f.mean()) for f in frames]
    assert lum[47] < 3.0 and lum[48] < 3.0
    assert lum[40] > lum[44] > lum[47] and lum[48] < lum[52] < lum[56]

    # Whip pan: a horizontal smear mid-whip (horizontal detail gone, vertical detail kept).
    def detail(frame: np.ndarray) -> tuple[float, float]:
        g = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return float(np.abs(np.diff(g, axis=1)).mean()), float(np.abs(np.diff(g, axis=0)).mean())

    gx, gy = detail(frames[71])
    gx0, gy0 = detail(frames[60])
    assert gx / gy < 0.4 * gx0 / gy0


def test_fade_in_and_out_at_the_clip_ends(media: dict[str, Path]) -> None:
    request = make_request(
        "Fade in on the hills of @Image1, static, then it fades to black",
        (image_ref(1, media["land1"]),),
        W,
        H,
        num_frames=48,
        generate_audio=False,
    )
    assert request.plan.fade_in and request.plan.fade_out
    lum = [float(f.mean()) for f in frames_of(request)]
    assert lum[0] < 1.0 and lum[-1] < 1.0
    assert lum[0] < lum[5] < lum[12] and lum[-1] < lum[-6] < lum[-13]


# --- first and last frames ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "shots"),
    [
        ("@Image3 walks across, pan left", 1),
        ("Shot 1: @Image3 bounces, zoom out. Shot 2: @Image3 waves, dolly in", 2),
    ],
)
def test_first_and_last_frames_match_the_given_images(
    tmp_path: Path, media: dict[str, Path], prompt: str, shots: int
) -> None:
    refs = (
        image_ref(1, media["land1"], ReferenceRole.FIRST_FRAME),
        image_ref(2, media["land2"], ReferenceRole.LAST_FRAME),
        image_ref(3, media["figure"]),
    )
    request = make_request(prompt, refs, W, H, num_frames=48, generate_audio=False)
    assert (request.plan.first_frame, request.plan.last_frame) == (1, 2)
    assert len(request.plan.shots) == shots
    first = _resized(media["land1"])
    last = _resized(media["land2"])
    # The engine's own frames are the pictures, pixel for pixel...
    rendered = frames_of(request)
    assert np.array_equal(rendered[0], first) and np.array_equal(rendered[-1], last)
    # ...and after H.264 they are as close as the encoder gets to those pictures at all.
    frames = decode_frames(encoded(request, tmp_path / "pinned.mp4"))
    for got, want in ((frames[0], first), (frames[-1], last)):
        assert psnr(got, want) > min(30.0, _codec_ceiling(tmp_path, want) - 1.5)
    assert psnr(frames[0], last) < 20.0
    # In between, the story plays: the subject is there and the picture is neither given frame.
    middle = frames[len(frames) // 2 - 4]
    assert (red_mask(middle) > 0).mean() > 0.02
    assert psnr(middle, first) < 25.0 and psnr(middle, last) < 25.0


def _resized(path: Path) -> np.ndarray:
    rgb = np.asarray(Image.open(path).convert("RGB"))
    return cv2.resize(rgb, (W, H), interpolation=cv2.INTER_AREA)


def _codec_ceiling(tmp_path: Path, picture: np.ndarray) -> float:
    """PSNR of the picture itself through the encoder (a two-frame still clip)."""
    path = tmp_path / "still.mp4"
    encode_mp4(
        path, [picture, picture], width=W, height=H, num_frames=2, codec=Codec.H264, audio=None
    )
    return psnr(decode_frames(path)[0], picture)


# --- music --------------------------------------------------------------------------------


def test_cuts_land_on_the_beats_of_the_reference_audio(
    tmp_path: Path, media: dict[str, Path]
) -> None:
    bpm, offset = 100.0, 0.35  # a click every 0.6 s from 0.35 s
    song = write_wav(tmp_path / "clicks.wav", click_track(bpm, 6.0, offset))
    refs = (*three_places(media), audio_ref(1, song, seconds=6.0))
    prompt = "Shot 1: in @Image1, static. Shot 2: in @Image2, static. Shot 3: in @Image3, static"
    plan = plan_video(prompt, 4, refs)
    clicks = offset + np.arange(7) * 60.0 / bpm
    cuts = [s.start_frame for s in plan.shots[1:]]
    assert cuts == [37, 66]  # the even split (32, 64) moved to the clicks at 1.55 s and 2.75 s
    for cut in cuts:  # ...to the clicks (within half a frame)
        assert np.min(np.abs(clicks - cut / 24)) <= 0.5 / 24 + 1e-9
    request = RenderRequest(
        prompt=prompt, plan=plan, width=W, height=H, num_frames=96, references=refs
    )
    path = encoded(request, tmp_path / "beats.mp4")
    assert spikes(frame_diffs(decode_frames(path))) == cuts
    # The soundtrack under the cuts is the click track: an onset at every cut.
    onsets = np.array(analyse_beats(load_audio(path)).onsets)
    for cut in cuts:
        assert np.min(np.abs(onsets - cut / 24)) < 0.045


# --- actions ---------------------------------------------------------------------------------


def _track(frames: list[np.ndarray]) -> list[tuple[float, float, float] | None]:
    out: list[tuple[float, float, float] | None] = []
    for f in frames:
        ys, xs = np.nonzero(red_mask(f))
        out.append((float(xs.mean()), float(ys.mean()), float(xs.size)) if xs.size > 30 else None)
    return out


def _action_frames(media: dict[str, Path], words: str, n: int = 36) -> list[np.ndarray]:
    request = make_request(
        f"@Image1 {words} in @Image2, static",
        (image_ref(1, media["figure"]), image_ref(2, media["land1"])),
        W,
        H,
        num_frames=n,
        generate_audio=False,
    )
    assert request.plan.shots[0].actions, words
    return frames_of(request)


def test_enters_from_the_left(media: dict[str, Path]) -> None:
    track = _track(_action_frames(media, "enters from the left"))
    assert track[0] is None  # off screen at first
    seen = [t for t in track if t is not None]
    xs = [t[0] for t in seen]
    assert xs[0] < W * 0.25 < xs[-1]
    # Left to right. While only part of the figure is in, the visible part's centroid can dip by
    # a pixel or two as the body appears behind the leading arm (the keyed matte keeps the arm's
    # true thin edge): a dip that small is not a reversal.
    assert all(b >= a - 2.0 for a, b in itertools.pairwise(xs))
    assert track[-1] is not None and abs(track[-1][0] - W / 2) < W * 0.1  # stops at its spot


def test_exits_and_walks_across(media: dict[str, Path]) -> None:
    exits = _track(_action_frames(media, "exits to the right"))
    assert exits[0] is not None and exits[-1] is None
    walk = _track(_action_frames(media, "walks across from right to left"))
    assert all(t is not None for t in walk)
    xs = [t[0] for t in walk if t is not None]
    assert xs[0] - xs[-1] > 0.35 * W


def test_grows_bounces_floats_and_rotates(media: dict[str, Path]) -> None:
    grow = _track(_action_frames(media, "grows"))
    assert grow[0] is not None and grow[-1] is not None
    assert grow[-1][2] > 2.5 * grow[0][2]

    bounce = _track(_action_frames(media, "bounces", n=48))
    ys = np.array([t[1] for t in bounce if t is not None])
    lows = [i for i in range(1, ys.size - 1) if ys[i] < ys[i - 1] and ys[i] <= ys[i + 1]]
    assert len(lows) >= 2 and ys.max() - ys.min() > 0.1 * H  # several hops

    floats = _track(_action_frames(media, "floats"))
    assert floats[0] is not None and floats[-1] is not None
    assert floats[0][1] - floats[-1][1] > 0.05 * H  # rises

    turn = _track(_action_frames(media, "rotates", n=49))
    widths = []
    for f in _action_frames(media, "rotates", n=49):
        xs = np.nonzero(red_mask(f))[1]
        widths.append(int(xs.max() - xs.min()) if xs.size else 0)
    assert turn[0] is not None
    assert min(widths[10:14]) < 0.25 * widths[0]  # edge-on a quarter of the way round
    assert widths[24] > 0.7 * widths[0]  # seen from behind (mirrored) half way round


# --- framing -------------------------------------------------------------------------------


def test_letterbox_bars_for_21_9(tmp_path: Path, media: dict[str, Path]) -> None:
    request = make_request(
        "the hills of @Image1, letterboxed cinemascope, static",
        (image_ref(1, media["land1"]),),
        640,
        360,
        num_frames=4,
        generate_audio=False,
    )
    assert request.plan.letterbox == pytest.approx(21 / 9)
    frame = decode_frames(encoded(request, tmp_path / "lb.mp4"))[2]
    bar = (360 - round(640 * 9 / 21)) // 2
    assert bar == 43
    assert frame[: bar - 2].mean() < 3.0 and frame[-(bar - 2) :].mean() < 3.0
    assert frame[bar + 2 : -bar - 2].mean() > 60  # the picture between the bars


def test_smart_reframing_keeps_the_interesting_part(tmp_path: Path) -> None:
    # A soft, dull place with one busy red object in its left fifth: a centre crop to 9:16
    # (the middle third of the width) would miss it.
    img = cv2.GaussianBlur(textured_landscape(1280, 720, seed=4, avoid_red=True), (0, 0), 12)
    img = (img // 2 + 60).astype(np.uint8)
    checks = (np.indices((200, 200)).sum(axis=0) // 20) % 2 == 0
    img[260:460, 156:356] = np.where(checks[:, :, None], (235, 30, 30), (40, 0, 0))
    path = write_image(tmp_path / "wide.png", img)
    request = make_request(
        "a static view in @Image1",
        (image_ref(1, path),),
        180,
        320,
        num_frames=2,
        generate_audio=False,
    )
    assert request.plan.shots[0].background_image == 1
    frame = frames_of(request)[0]
    red = (frame[..., 0] > 200) & (frame[..., 1] < 60)
    assert red.mean() > 0.04  # all of its bright squares (about 1/20 of the frame)


# --- camera ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dx", [-5, 5])
def test_a_reference_videos_camera_motion_is_transferred(
    tmp_path: Path, media: dict[str, Path], dx: int
) -> None:
    clip = write_pan_video(tmp_path / "pan.mp4", dx=dx, frames=24)
    request = make_request(
        "@Image1 stands in @Image2, the camera follows the camera motion of @Video1",
        (image_ref(1, media["figure"]), image_ref(2, media["land1"]), video_ref(1, clip)),
        W,
        H,
        num_frames=20,
        generate_audio=False,
    )
    shot = request.plan.shots[0]
    assert (shot.camera, shot.motion_video) == (CameraMove.FROM_VIDEO, 1)
    frames = frames_of(request)
    top = [f[: H // 5] for f in frames]
    flow_dx, flow_dy, _ = mean_flow(top, size=(W, H // 5))
    # Content moves the way it moved in the reference (the video is 320 px wide, like the output).
    assert flow_dx * np.sign(dx) > 0.6 * abs(dx)
    assert abs(flow_dy) < 0.3 * abs(flow_dx)


def test_handheld_shakes_and_crane_up_rises(media: dict[str, Path]) -> None:
    refs = (image_ref(1, media["figure"]), image_ref(2, media["land1"]))
    held = make_request(
        "@Image1 in @Image2, handheld", refs, W, H, num_frames=24, generate_audio=False
    )
    assert held.plan.shots[0].camera is CameraMove.STATIC and held.plan.shots[0].shake == 1.0
    frames = frames_of(held)
    steps = [
        mean_flow([a[: H // 5], b[: H // 5]], size=(W, H // 5))[0]
        for a, b in itertools.pairwise(frames)
    ]
    assert max(abs(s) for s in steps) > 0.3  # it moves...
    assert abs(sum(steps)) < 0.5 * sum(abs(s) for s in steps) + 1.0  # ...back and forth

    crane = make_request(
        "@Image1 in @Image2, crane up", refs, W, H, num_frames=16, generate_audio=False
    )
    frames = frames_of(crane)
    _, dy_bg, _ = mean_flow([f[: H // 5] for f in frames], size=(W, H // 5))
    ys = [t[1] for t in _track(frames) if t is not None]
    assert dy_bg > 0.2  # content slides down as the camera rises
    assert (ys[-1] - ys[0]) > 1.5 * dy_bg * (len(frames) - 1)  # the nearer subject more so


def test_looks_grade_the_picture(media: dict[str, Path]) -> None:
    def first(words: str) -> np.ndarray:
        request = make_request(
            f"the hills of @Image1, {words}, static",
            (image_ref(1, media["land1"]),),
            W,
            H,
            num_frames=1,
            generate_audio=False,
        )
        return frames_of(request)[0].astype(np.float64)

    def saturation(img: np.ndarray) -> float:
        return float((img.max(axis=2) - img.min(axis=2)).mean())

    plain = first("daylight")
    noir, neon = first("film noir"), first("neon")
    night, golden = first("at night"), first("golden hour")
    vintage, cool = first("vintage"), first("cool tones")
    assert saturation(noir) < 2.0
    assert saturation(neon) > 1.15 * saturation(plain)
    assert night.mean() < 0.8 * plain.mean()

    def warmth(img: np.ndarray) -> float:
        return float(img[..., 0].mean() - img[..., 2].mean())

    assert warmth(golden) > warmth(plain) + 15 and warmth(vintage) > warmth(plain) + 15
    assert warmth(cool) < warmth(plain) - 10


# --- dialogue --------------------------------------------------------------------------------


def _rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


def test_dialogue_is_spoken_over_the_bed(tmp_path: Path, media: dict[str, Path]) -> None:
    require_espeak()
    prompt = (
        "Shot 1: @Image1 stands in @Image2 in the rain, static. "
        'Shot 2: @Image1 says "We have to leave before the storm comes", static'
    )
    refs = (image_ref(1, media["figure"]), image_ref(2, media["land1"]))
    request = make_request(prompt, refs, W, H, num_frames=120)
    line = request.plan.shots[1].dialogue[0]
    assert (line.text, line.speaker) == ("We have to leave before the storm comes", 1)
    track = load_audio(encoded(request, tmp_path / "talk.mp4"))
    sr = track.sample_rate
    bed = track.samples[:, int(0.3 * sr) : int(2.3 * sr)]
    speech = track.samples[:, int(2.9 * sr) : int(4.5 * sr)]
    assert _rms_db(speech) > _rms_db(bed) + 5.0
    # Voice is mid-band: its power at 200-3000 Hz stands well above the rain's there.
    assert _band_db(speech[0], sr, 200, 3000) > _band_db(bed[0], sr, 200, 3000) + 8.0


def _band_db(x: np.ndarray, sr: int, lo: float, hi: float) -> float:
    """Mean power (dB) of `x` between `lo` and `hi` Hz (Parseval on one FFT)."""
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    band = spectrum[int(lo * x.size / sr) : int(hi * x.size / sr)]
    return float(10 * np.log10(2.0 * band.sum() / x.size**2 + 1e-20))


def test_missing_espeak_is_said_in_the_job_log_and_nothing_is_spoken(
    media: dict[str, Path],
) -> None:
    log: list[str] = []
    prompt = '@Image1 says "hello there", static'
    request = replace(
        make_request(prompt, (image_ref(1, media["figure"]),), W, H, num_frames=48), log=log.append
    )
    engine = PreviewEngine(espeak="espeak-ng-not-installed-here")
    rendering = engine.render(request, lambda _f: None, Flag())
    assert any("not installed" in m and "hello there" in m for m in log)
    silent = replace(
        request,
        plan=replace(
            request.plan, shots=tuple(replace(s, dialogue=()) for s in request.plan.shots)
        ),
    )
    bed = PreviewEngine().render(silent, lambda _f: None, Flag()).audio
    assert rendering.audio is not None and bed is not None
    assert np.array_equal(rendering.audio.samples, bed.samples)


# --- cancel, determinism, checks -----------------------------------------------------------


@pytest.mark.parametrize("after", [0.02, 0.2, 0.45, 0.8])  # speech, motion, GrabCut x2
def test_cancel_is_honoured_within_a_second_while_preparing(
    tmp_path: Path, media: dict[str, Path], after: float
) -> None:
    clip = write_pan_video(tmp_path / "long.mp4", dx=3, width=480, height=270, frames=120)
    refs = (
        image_ref(1, media["busy"]),
        image_ref(2, media["land1"]),
        image_ref(3, media["busy"]),
        video_ref(1, clip),
    )
    request = make_request(
        '@Image1 and @Image3 in @Image2 say "one two three", camera motion of @Video1',
        refs,
        W,
        H,
        num_frames=120,
    )
    token = CancelAfter(after)
    with pytest.raises(EngineCanceled):
        rendering = PreviewEngine().render(request, lambda _f: None, token)
        for _ in rendering.frames:
            pass
    assert token.seen is not None
    import time

    assert time.monotonic() - token.at < 1.0


def test_story_render_is_deterministic(tmp_path: Path, media: dict[str, Path]) -> None:
    clip = write_pan_video(tmp_path / "pan.mp4", dx=4, frames=24)
    refs = (
        image_ref(1, media["busy"]),
        image_ref(2, media["land1"]),
        image_ref(3, media["figure"]),
        video_ref(1, clip),
    )
    prompt = (
        "Shot 1: @Image1 enters from the left in @Image2, handheld, neon. "
        "Crossfade to: @Image3 bounces, motion of @Video1. "
        "Whip pan to: @Image1 and @Image3 rotate, golden hour, letterbox"
    )
    request = make_request(prompt, refs, W, H, num_frames=48, seed=3)
    a = encoded(request, tmp_path / "a.mp4")
    b = encoded(request, tmp_path / "b.mp4")
    assert video_packets(a) == video_packets(b)


def test_check_inputs_rejects_a_missing_motion_video(media: dict[str, Path]) -> None:
    request = make_request(
        "@Image1 moves like @Video1", (image_ref(1, media["figure"]),), W, H, num_frames=4
    )
    assert request.plan.shots[0].camera is CameraMove.FROM_VIDEO
    with pytest.raises(InvalidRequest, match="@Video1"):
        PreviewEngine().check_inputs(request)


def test_plan_actions_and_looks_reach_the_engine(media: dict[str, Path]) -> None:
    request = make_request(
        "@Image1 floats in @Image2 at night",
        (image_ref(1, media["figure"]), image_ref(2, media["land1"])),
    )
    shot = request.plan.shots[0]
    assert [c.action for c in shot.actions] == [Action.FLOAT] and shot.look is Look.NIGHT
