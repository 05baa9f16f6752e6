"""What each reference audio clip is for and where it goes, from the prompt's words.

"@Audio1 voice over @Audio3 music" gives @Audio1 the role `voice` and @Audio3 `music`. The role
is read from the words right after a mention ("@Audio2 music", "@Audio1 as the narration") or
right before it ("narrated by @Audio1", "music: @Audio2", "the sound of @Audio3"). A clip with no
role word is music when it is the first such clip and no other clip is music, else an effect.

Placement: a clip starts where its mention stands: at a time the text gives next to it
("@Audio2 at 3s", "@Audio3 from 2.5 seconds", "@Audio1 at the end"), else at the start of the
shot whose text mentions it first (a voice 0.3 s into that shot, like spoken dialogue). Music
plays from there to the end of the clip (looped); voices and effects play once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from reelforge.planning.mentions import iter_mentions
from reelforge.planning.model import ShotPlan
from reelforge.spec import ReferenceKind

VOICE_LEAD_SECONDS = 0.3
END_SECONDS = 1.5  # "at the end": this long before the end (or the clip's length, if shorter)


class AudioRole(StrEnum):
    VOICE = "voice"
    MUSIC = "music"
    EFFECT = "effect"


@dataclass(frozen=True)
class AudioCue:
    """One reference clip in the soundtrack."""

    index: int  # the @AudioN
    role: AudioRole
    start: float  # seconds into the output
    at_end: bool = False  # placed "at the end": the mixer ends it with the clip

    @property
    def loops(self) -> bool:
        return self.role is AudioRole.MUSIC


_ROLE_WORDS: tuple[tuple[AudioRole, str], ...] = (
    (
        AudioRole.VOICE,
        r"voice[\s-]?overs?|voices?|vo|narrat\w*|dialog(?:ue)?s?|speech|speak\w*|says|spoken"
        r"|monologue|lines?|talk\w*|announc\w*|vocal\s+line",
    ),
    (
        AudioRole.MUSIC,
        r"music\w*|songs?|soundtrack|score|bgm|beats?|tracks?|melod\w*|tunes?|instrumental"
        r"|backing|theme",
    ),
    (
        AudioRole.EFFECT,
        r"sfx|fx|(?:sound\s+)?effects?|sounds?|ambien\w*|foley|noises?|atmos\w*|room\s+tone"
        r"|stingers?|whoosh\w*|impacts?|explosions?|footsteps|bells?|chimes?",
    ),
)
_ROLE_AFTER = [
    (role, re.compile(rf"^\W{{0,3}}(?:(?:as|is|for|=)\s+)?(?:the\s+|a\s+|an\s+)?(?:{w})\b", re.I))
    for role, w in _ROLE_WORDS
]
_ROLE_BEFORE = [
    (
        role,
        re.compile(
            rf"\b(?:{w})\s*(?::|by|from|of|with|is|=|-)?\s*(?:the\s+)?(?:clip\s+)?$",
            re.I,
        ),
    )
    for role, w in _ROLE_WORDS
]
_TIME_AFTER = re.compile(
    r"^[^.;@]{0,25}?\b(?:at|from|starting\s+at|starts?\s+at|begins?\s+at|after)\s+"
    r"(?P<sec>\d+(?:\.\d+)?)\s*(?:s\b|sec\w*|seconds?)",
    re.I,
)
_TIME_BEFORE = re.compile(
    r"\b(?:at|from|after)\s+(?P<sec>\d+(?:\.\d+)?)\s*(?:s\b|sec\w*|seconds?)[^.;@]{0,15}$", re.I
)
_AT_END = re.compile(r"^[^.;@]{0,25}?\b(?:at|near|towards?)\s+the\s+(?:very\s+)?end\b", re.I)


def audio_role(prompt: str, index: int) -> AudioRole | None:
    """The role the prompt's words give @Audio`index`, None when no word does."""
    for m in iter_mentions(prompt):
        if m.kind is not ReferenceKind.AUDIO or m.index != index:
            continue
        after = prompt[m.end : m.end + 40]
        for role, pattern in _ROLE_AFTER:
            if pattern.search(after):
                return role
        before = prompt[max(0, m.start - 40) : m.start]
        for role, pattern in _ROLE_BEFORE:
            if pattern.search(before):
                return role
    return None


def audio_cues(
    prompt: str, plan: ShotPlan, indices: Sequence[int], lengths: dict[int, float] | None = None
) -> list[AudioCue]:
    """A cue for every reference audio clip in `indices` (all of them are used), ordered by
    start. `lengths` (seconds per clip), when known, places "at the end" clips."""
    seconds = plan.seconds
    roles: dict[int, AudioRole | None] = {i: audio_role(prompt, i) for i in indices}
    have_music = any(r is AudioRole.MUSIC for r in roles.values())
    order = _mention_order(prompt, indices)
    for i in order:
        if roles[i] is None:
            roles[i] = AudioRole.EFFECT if have_music else AudioRole.MUSIC
            have_music = True
    cues = []
    for i in order:
        role = roles[i]
        assert role is not None
        start, at_end = _start(prompt, plan, i, role, (lengths or {}).get(i))
        cues.append(AudioCue(i, role, min(max(0.0, start), max(0.0, seconds - 0.05)), at_end))
    return sorted(cues, key=lambda c: (c.start, c.index))


def _mention_order(prompt: str, indices: Sequence[int]) -> list[int]:
    """Mentioned clips in order of first mention, then the others by index."""
    seen: dict[int, None] = {}
    for m in iter_mentions(prompt):
        if m.kind is ReferenceKind.AUDIO and m.index in indices:
            seen.setdefault(m.index, None)
    for i in sorted(indices):
        seen.setdefault(i, None)
    return list(seen)


def _start(
    prompt: str, plan: ShotPlan, index: int, role: AudioRole, length: float | None
) -> tuple[float, bool]:
    # A time phrase right after a mention is that mention's ("@Audio1 at 1.5s over @Audio2"):
    # one before a mention counts only when no earlier mention claimed it.
    claimed: list[tuple[int, int]] = []
    for m in iter_mentions(prompt):
        hit = _TIME_AFTER.search(prompt[m.end : m.end + 60])
        if hit is not None:
            claimed.append((m.end + hit.start("sec"), m.end + hit.end("sec")))
    for m in iter_mentions(prompt):
        if m.kind is not ReferenceKind.AUDIO or m.index != index:
            continue
        after = prompt[m.end : m.end + 60]
        hit = _TIME_AFTER.search(after)
        if hit is not None:
            return float(hit.group("sec")), False
        offset = max(0, m.start - 40)
        hit = _TIME_BEFORE.search(prompt[offset : m.start])
        if hit is not None and (offset + hit.start("sec"), offset + hit.end("sec")) not in claimed:
            return float(hit.group("sec")), False
        if _AT_END.search(after):
            span = length if length is not None else END_SECONDS
            return plan.seconds - min(span, plan.seconds), True
    lead = VOICE_LEAD_SECONDS if role is AudioRole.VOICE else 0.0
    for shot in plan.shots:
        if any(
            m.kind is ReferenceKind.AUDIO and m.index == index for m in iter_mentions(shot.prompt)
        ):
            return shot.start_frame / plan.fps + lead, False
    return lead, False
