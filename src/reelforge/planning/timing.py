"""Shot timing: lengths in frames from the prompt's times ("[0-4s]", "Shot 2 (3s):") or an even
split, cut points snapped to the soundtrack's beats, and the clip length for `duration: auto`.

Pure arithmetic on seconds and frame counts; the beat times come in as numbers (the media layer
measures them).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence

from reelforge.spec import MAX_SECONDS, MIN_SECONDS

AUTO_SINGLE_SHOT_SECONDS = 5
AUTO_SECONDS_PER_SHOT = 3
MIN_SECONDS_PER_SHOT = 2.0
# A cut moves to a beat only when the shots on both sides keep this share of their length.
MIN_SNAPPED_SHARE = 0.4
MIN_SNAPPED_FRAMES = 3


def even_lengths(num_frames: int, count: int) -> list[int]:
    """Frames shared evenly, the remainder to the last shot."""
    base = num_frames // count
    return [base] * (count - 1) + [num_frames - base * (count - 1)]


def shot_lengths(explicit: Sequence[float | None], num_frames: int, fps: int) -> list[int]:
    """Frames per shot. `explicit` holds each shot's length in seconds where the prompt gave one.

    Shots without a length share what the timed ones leave (at least one second each); the whole
    is then scaled to `num_frames`, so "[0-4s] ... [4-8s] ..." in a 6 s clip gives 3 s + 3 s.
    Every shot gets at least one frame (`num_frames` must be >= the number of shots).
    """
    count = len(explicit)
    if count == 0:
        raise ValueError("no shots")
    if num_frames < count:
        raise ValueError(f"{count} shots need at least {count} frames, got {num_frames}")
    if all(e is None for e in explicit):
        return even_lengths(num_frames, count)
    total = num_frames / fps
    known = sum(max(0.0, e) for e in explicit if e is not None)
    unknown = sum(1 for e in explicit if e is None)
    share = max(1.0, (total - known) / unknown) if unknown else 0.0
    seconds = [max(1.0 / fps, e) if e is not None else share for e in explicit]
    scale = num_frames / sum(seconds)
    bounds = [0]
    acc = 0.0
    for i, s in enumerate(seconds):
        acc += s
        left = count - 1 - i  # shots still to come each need a frame
        b = num_frames if left == 0 else round(acc * scale)
        bounds.append(min(max(b, bounds[-1] + 1), num_frames - left))
    return [b - a for a, b in itertools.pairwise(bounds)]


def snap_to_beats(
    lengths: Sequence[int], movable: Sequence[bool], beats: Sequence[float], fps: int
) -> list[int]:
    """Move each movable cut (cut k is the start of shot k, k >= 1) to the nearest beat frame,
    keeping every shot at least `MIN_SNAPPED_SHARE` of its planned length. Cuts with no beat in
    reach stay where they are."""
    if len(lengths) < 2 or not beats:
        return list(lengths)
    bounds = [0]
    for n in lengths:
        bounds.append(bounds[-1] + n)
    total = bounds[-1]
    beat_frames = sorted({round(b * fps) for b in beats if 0 < round(b * fps) < total})
    new = list(bounds)
    for k in range(1, len(lengths)):
        if not movable[k - 1]:
            continue
        before, after = lengths[k - 1], lengths[k]
        low = new[k - 1] + max(MIN_SNAPPED_FRAMES, math.ceil(MIN_SNAPPED_SHARE * before))
        high = bounds[k + 1] - max(MIN_SNAPPED_FRAMES, math.ceil(MIN_SNAPPED_SHARE * after))
        reachable = [f for f in beat_frames if low <= f <= high]
        if reachable:
            new[k] = min(reachable, key=lambda f: (abs(f - bounds[k]), f))
    return [b - a for a, b in itertools.pairwise(new)]


# --- duration: auto ----------------------------------------------------------------------------

_NUM = r"(\d+(?:\.\d+)?)"
_UNIT = r"(?:s|sec|secs|second|seconds)"
_DURATION_PHRASES = (
    re.compile(rf"\b(?:duration|length|runtime)\s*[:=]?\s*{_NUM}\s*{_UNIT}?\b", re.IGNORECASE),
    re.compile(r"--(?:dur|duration)\s*[=\s]\s*(\d+(?:\.\d+)?)", re.IGNORECASE),
    re.compile(
        rf"\b{_NUM}[\s-]*{_UNIT}[\s-]+(?:long\s+)?(?:video|clip|film|spot|ad|animation|sequence"
        r"|reel|short|teaser|trailer|commercial|story|montage)\b",
        re.IGNORECASE,
    ),
    re.compile(rf"\b{_NUM}\s*{_UNIT}\s+long\b", re.IGNORECASE),
)


def duration_phrase(prompt: str) -> float | None:
    """A clip length the prompt states ("a 10-second clip", "duration: 8s", "--dur 6")."""
    for pattern in _DURATION_PHRASES:
        m = pattern.search(prompt)
        if m is not None:
            return float(m.group(1))
    return None


def auto_seconds(
    *,
    timed_end: float | None,
    explicit_total: float | None,
    stated: float | None,
    shot_count: int,
    speech: float,
    soundtrack: float | None,
    video: float | None,
) -> int:
    """The clip length for `duration: auto`, in whole seconds, clamped to 1..15.

    In order: the end of the prompt's timed shots ("[4-8s]" -> 8), the sum of per-shot lengths,
    a length the prompt states; else the reference audio's length (the soundtrack), else the
    reference video's, as long as it leaves room for the shots and the dialogue; else 5 s for
    one shot, 3 s a shot for several, and enough for the dialogue to be spoken.
    """
    for fixed in (timed_end, explicit_total, stated):
        if fixed is not None and fixed > 0:
            return _clamp(math.ceil(fixed - 1e-6))
    needed = max(MIN_SECONDS_PER_SHOT * shot_count, speech + 0.5 if speech > 0 else 0.0)
    for media in (soundtrack, video):
        if media is not None and media >= max(needed, MIN_SECONDS):
            return _clamp(round(media))
    base = AUTO_SINGLE_SHOT_SECONDS if shot_count <= 1 else AUTO_SECONDS_PER_SHOT * shot_count
    return _clamp(max(base, math.ceil(needed)))


def _clamp(seconds: int) -> int:
    return min(MAX_SECONDS, max(MIN_SECONDS, seconds))
