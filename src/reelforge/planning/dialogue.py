"""Quoted dialogue: `@Image1 says "Hello there"`, `she whispers: “run”`, `@Image2: "Hi!"`.

Pure text. Each line keeps its speaker (the @ImageN named last before the verb in the same
sentence) and its manner (says, whispers, shouts), which picks the voice that speaks it.
"""

from __future__ import annotations

import re

from reelforge.planning.mentions import iter_mentions
from reelforge.planning.model import DialogueLine
from reelforge.spec import ReferenceKind

_WHISPER = r"whisper(?:s|ed|ing)?|murmur(?:s|ed|ing)?|mutter(?:s|ed|ing)?"
_SHOUT = (
    r"shout(?:s|ed|ing)?|yell(?:s|ed|ing)?|scream(?:s|ed|ing)?|cr(?:y|ies|ied)\s+out|exclaim\w*"
)
_SAY = (
    r"say(?:s|ing)?|said|ask(?:s|ed|ing)?|repl(?:y|ies|ied)|answer(?:s|ed)?|speak(?:s|ing)?"
    r"|spoke|tell(?:s|ing)?|told|announc\w*|declar\w*|add(?:s|ed)|narrat\w*|call(?:s|ed)\s+out"
    r"|sing(?:s|ing)?|sang|goes|voice[\s-]?over"
)
_OPEN = '"\u201c\u201e\u00ab'
_CLOSE = '"\u201d\u201c\u00bb'
_LINE = re.compile(
    rf"(?:(?P<verb>{_WHISPER}|{_SHOUT}|{_SAY})(?:\s+\w+ly)?\s*(?:,|:|-|\u2014)?\s*"
    rf"|(?P<colon>@image\s?\d+\s*:\s*))"
    rf"[{_OPEN}](?P<text>[^{_CLOSE}\n]{{1,400}})[{_CLOSE}]",
    re.IGNORECASE,
)
_WHISPER_RE = re.compile(rf"^(?:{_WHISPER})$", re.IGNORECASE)
_SHOUT_RE = re.compile(rf"^(?:{_SHOUT})$", re.IGNORECASE)
_SENTENCE_BREAK = re.compile('[.;!?\n]["\u201d\u2019)\\]]*(?=\\s)')

WORDS_PER_SECOND = 2.6  # espeak-ng at its default rate, a little under natural speech


def find_dialogue(text: str) -> tuple[DialogueLine, ...]:
    """The quoted lines of `text` that someone speaks, in order."""
    lines = []
    for m in _LINE.finditer(text):
        spoken = " ".join(m.group("text").split())
        if not spoken or not re.search(r"\w", spoken):
            continue
        verb = (m.group("verb") or "").strip()
        manner = "says"
        if verb and _WHISPER_RE.match(verb.split()[0]):
            manner = "whispers"
        elif verb and (_SHOUT_RE.match(verb.split()[0]) or _SHOUT_RE.match(verb)):
            manner = "shouts"
        lines.append(DialogueLine(text=spoken, speaker=_speaker(text, m), manner=manner))
    return tuple(lines)


def _speaker(text: str, m: re.Match[str]) -> int | None:
    if m.group("colon"):
        (mention,) = iter_mentions(m.group("colon"))
        return mention.index
    breaks = [b.end() for b in _SENTENCE_BREAK.finditer(text, 0, m.start())]
    begin = breaks[-1] if breaks else 0
    images = [x for x in iter_mentions(text[begin : m.start()]) if x.kind is ReferenceKind.IMAGE]
    return images[-1].index if images else None


def speech_seconds(lines: tuple[DialogueLine, ...]) -> float:
    """About how long the lines take to say, pauses included."""
    words = sum(len(line.text.split()) for line in lines)
    return words / WORDS_PER_SECOND + 0.6 * len(lines)
