"""`duration: auto`: the clip length chosen from the prompt and the references, and the job's
`plan_video` that uses it and snaps cuts to the soundtrack's beats."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelforge.core.references import StoredReference
from reelforge.jobs.render import plan_video
from reelforge.planning.shots import choose_seconds
from reelforge.planning.timing import shot_lengths
from reelforge.spec import ReferenceKind, ReferenceRole
from tests.media_helpers import click_track, local_ref, write_wav


def _ref(
    kind: ReferenceKind, index: int, seconds: float | None, path: Path | None = None
) -> StoredReference:
    return local_ref(
        kind, ReferenceRole.REFERENCE, index, path or Path(f"/x/{kind}{index}"), seconds=seconds
    )


@pytest.mark.parametrize(
    ("prompt", "refs", "seconds"),
    [
        ("a dog on a beach", (), 5),
        ("[0-4s] a dog. [4-8s] a cat", (), 8),
        ("[0-3.5s] a dog. [3.5-6.2s] a cat", (), 7),
        ("[0-10s] a. [10-20s] b", (), 15),  # clamped
        ("Shot 1 (2s): a. Shot 2 (3s): b", (), 5),
        ("Shot 1: a. Shot 2: b. Shot 3: c", (), 9),
        ("Shot 1: a. Shot 2: b. Shot 3: c. Shot 4: d. Shot 5: e. Shot 6: f", (), 15),
        ("a 12-second clip of a dog", (), 12),
        ("a dog, duration: 3s", (), 3),
        ("dance to @Audio1", (_ref(ReferenceKind.AUDIO, 1, 7.4),), 7),
        ("dance", (_ref(ReferenceKind.AUDIO, 1, 42.0),), 15),
        ("in the style of @Video1", (_ref(ReferenceKind.VIDEO, 1, 3.2),), 3),
        # A soundtrack too short for the shots: the shots decide (the music loops).
        ("Shot 1: a. Shot 2: b. Shot 3: c", (_ref(ReferenceKind.AUDIO, 1, 2.0),), 9),
        # Timed shots beat the soundtrack's length.
        ("[0-2s] a [2-4s] b", (_ref(ReferenceKind.AUDIO, 1, 9.0),), 4),
        # Dialogue needs time to be said.
        ('@Image1 says "' + " ".join(["word"] * 25) + '"', (), 11),
    ],
)
def test_auto_seconds(prompt: str, refs: tuple[StoredReference, ...], seconds: int) -> None:
    assert choose_seconds(prompt, refs) == seconds


def test_shot_lengths_always_cover_the_clip() -> None:
    cases: list[tuple[list[float | None], int]] = [
        ([1.0, None, 0.2], 30),
        ([5.0, 5.0], 3),
        ([None, 9.0, None], 100),
    ]
    for explicit, n in cases:
        lengths = shot_lengths(explicit, n, 24)
        assert sum(lengths) == n and all(x >= 1 for x in lengths)


def test_plan_video_chooses_the_length_and_cuts_on_the_beat(tmp_path: Path) -> None:
    song = write_wav(tmp_path / "song.wav", click_track(120.0, 6.0, offset=0.2))
    refs = (_ref(ReferenceKind.AUDIO, 1, 6.0, song),)
    plan = plan_video("Shot 1: a. Shot 2: b", None, refs)
    assert plan.num_frames == 6 * 24 and plan.soundtrack == 1
    cut = plan.shots[1].start_frame / 24
    assert min(abs(cut - (0.2 + 0.5 * k)) for k in range(12)) < 0.5 / 24 + 1e-9
    assert len(plan.beats) == 12
    # A given length is kept.
    assert plan_video("Shot 1: a. Shot 2: b", 4, refs).num_frames == 96
