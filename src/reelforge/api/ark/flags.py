"""Ark's legacy text flags: `A cat on the beach --rs 720p --dur 5 --wm false`.

Ark still reads `--resolution/--rs`, `--ratio/--rt`, `--duration/--dur`,
`--framepersecond/--fps`, `--seed`, `--camerafixed/--cf` and `--watermark/--wm` from the end of
the text prompt (the SDK docs show `--wm false`). They are taken out of the prompt, so they
never reach the planner as words, and used where the body leaves the same field unset (a body
field wins). Unknown `--words` stay in the prompt.
"""

from __future__ import annotations

import re

_NAMES = {
    "resolution": "resolution", "rs": "resolution",
    "ratio": "ratio", "rt": "ratio",
    "duration": "duration", "dur": "duration",
    "framepersecond": "framepersecond", "fps": "framepersecond",
    "seed": "seed",
    "camerafixed": "camera_fixed", "cf": "camera_fixed",
    "watermark": "watermark", "wm": "watermark",
}  # fmt: skip

_FLAG = re.compile(
    r"(?<!\S)--(?P<name>" + "|".join(sorted(_NAMES, key=len, reverse=True)) + r")"
    r"[ \t]+(?P<value>[^\s-][^\s]*|-1)(?!\S)",
    re.IGNORECASE,
)


def split_flags(text: str) -> tuple[str, dict[str, str]]:
    """(the text without its flags, {field name: value as written}); a later flag of the same
    field wins."""
    found: dict[str, str] = {}

    def take(m: re.Match[str]) -> str:
        found[_NAMES[m.group("name").lower()]] = m.group("value")
        return ""

    stripped = _FLAG.sub(take, text)
    if not found:
        return text, {}
    return re.sub(r"[ \t]{2,}", " ", stripped).strip(), found
