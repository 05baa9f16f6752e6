"""Look words (colour grades) and framing words (letterbox) of a prompt. Pure text."""

from __future__ import annotations

import re

from reelforge.planning.model import Look

# The first look word named in a text wins. More specific phrases come first where they overlap
# ("golden hour" before "warm", "noir" before "night").
_WORDS: tuple[tuple[Look, str], ...] = (
    (Look.NOIR, r"noir|black[\s-]and[\s-]white|monochrome|b&w|greyscale|grayscale"),
    (Look.VINTAGE, r"vintage|sepia|old[\s-]film|retro|1920s|1950s|archival|super[\s-]?8"),
    (Look.NEON, r"neon|cyberpunk|synthwave|vaporwave|blacklight"),
    (Look.GOLDEN_HOUR, r"golden[\s-]hour|sunset|sunrise|dusk|magic[\s-]hour"),
    (Look.NIGHT, r"night\w*|midnight|moonlit|moonlight|nocturnal|after\s+dark"),
    (Look.WARM, r"warm(?:er|ly|th)?|candle\w*|firelight|autumn\w*|cozy|cosy"),
    # "cool" alone is too often slang ("a cool car"): it needs a colour word after it.
    (
        Look.COOL,
        r"(?:cool|cold)(?:er)?\s+(?:tones?|colou?rs?|light\w*|grade|grading|look|palette|blues?)"
        r"|winter\w*|icy|frozen|overcast|misty|foggy|dawn|bluish|teal",
    ),
)
_RES = tuple((look, re.compile(rf"\b(?:{w})\b", re.IGNORECASE)) for look, w in _WORDS)


def find_look(text: str) -> Look | None:
    """The look whose word appears first in `text`, None when it names none."""
    best: tuple[int, Look] | None = None
    for look, pattern in _RES:
        m = pattern.search(text)
        if m is not None and (best is None or m.start() < best[0]):
            best = (m.start(), look)
    return best[1] if best else None


CINEMASCOPE = 21 / 9

_LETTERBOX = re.compile(
    r"\bletter[\s-]?box(?:ed|ing)?\b|\bcinemascope\b|\banamorphic\b|\bblack\s+bars\b"
    r"|\bcinema[\s-]?bars\b|\b(?P<ratio>2\.[34]\d?|21\s*:\s*9)\s*(?::\s*1)?\s+(?:bars|letterbox\w*)\b"
    r"|\b(?:2\.39|2\.35|2\.40)\s*:\s*1\b",
    re.IGNORECASE,
)
_RATIO = re.compile(r"\b(2\.[34]\d?)\s*:\s*1\b|\b21\s*:\s*9\b")


def find_letterbox(text: str) -> float | None:
    """The picture aspect to show inside black bars when the prompt asks for a letterbox
    ("letterboxed", "cinemascope", "2.39:1", "21:9 bars"); 21:9 unless it names a ratio."""
    if _LETTERBOX.search(text) is None:
        return None
    m = _RATIO.search(text)
    if m is not None and m.group(1):
        return float(m.group(1))
    return CINEMASCOPE
