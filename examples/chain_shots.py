"""Chaining shots: each shot starts on the last frame of the one before, then one longer video.

Shot 1 is made from a reference photo and a scene; every shot asks for its last frame
(`return_last_frame`), and the next shot starts from that frame (its one reference, with the
role `first_frame`), so the cut is seamless. The shots are then decoded and encoded again as
one MP4 with PyAV (H.264 + AAC), `story.mp4`.

    python examples/chain_shots.py --seconds 3
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import av
from _common import ASSETS, api_key, job_options, parser

from reelforge import Client

SHOTS = [
    "@Image1 stands in @Image2, slow zoom in",
    "she walks across the meadow, pan right",
    "she looks up at the sky, tilt up, golden hour",
]


def concatenate(parts: list[Path], path: Path) -> Path:
    """The clips one after the other in one MP4: frames and sound decoded and encoded again,
    timestamps continued from one clip to the next."""
    with av.open(str(parts[0])) as first:
        v0 = first.streams.video[0]
        width, height = v0.codec_context.width, v0.codec_context.height
        rate = v0.average_rate or Fraction(24)
        has_audio = bool(first.streams.audio)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=48_000) if has_audio else None
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48_000)
        frames = samples = 0
        for part in parts:
            with av.open(str(part)) as clip:
                for picture in clip.decode(video=0):
                    picture = picture.reformat(width, height, "yuv420p")
                    picture.pts, picture.time_base = frames, 1 / rate
                    frames += 1
                    out.mux(video.encode(picture))
            if audio is None:
                continue
            with av.open(str(part)) as clip:
                if not clip.streams.audio:
                    continue
                for sound in clip.decode(audio=0):
                    for chunk in resampler.resample(sound):
                        chunk.pts, chunk.time_base = samples, Fraction(1, 48_000)
                        samples += chunk.samples
                        out.mux(audio.encode(chunk))
        out.mux(video.encode())
        if audio is not None:
            out.mux(audio.encode())
    return path


def main() -> None:
    p = parser(__doc__.splitlines()[0], "chain")
    p.add_argument("--shots", type=int, default=len(SHOTS))
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    with Client(args.url, api_key=api_key(args)) as rf:
        refs = [{"type": "image", "path": ASSETS / "ana.png"},
                {"type": "image", "path": ASSETS / "meadow.png"}]  # fmt: skip
        for n, prompt in enumerate(SHOTS[: args.shots], 1):
            video = rf.create_video(prompt, references=refs, return_last_frame=True,
                                    **job_options(args))  # fmt: skip
            video = rf.wait(video.id, on_progress=lambda v: print(f"  shot {n}: {v.progress:.0f}%"))  # noqa: B023
            if video.status != "completed":
                sys.exit(f"shot {n} {video.status}: {video.error}")
            parts.append(rf.download(video.id, args.out / f"shot{n}.mp4"))
            last = rf.download(video.id, args.out / f"shot{n}_last.png", "last_frame")
            # The next shot opens on this one's last frame (a first-frame request: that frame
            # is its only reference).
            refs = [{"type": "image", "path": last, "role": "first_frame"}]
    story = concatenate(parts, args.out / "story.mp4")
    print(f"{len(parts)} shots -> {story}")


if __name__ == "__main__":
    main()
