"""Reference mentions in prompt text: `@Image1`, `@video2`, `@Audio1` and Ark's `[Image 1]`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reelforge.spec import ReferenceKind

_MENTION = re.compile(
    r"@(?P<at_kind>image|video|audio)\s?(?P<at_index>\d+)(?!\d)"
    r"|\[\s*(?P<br_kind>image|video|audio)\s*(?P<br_index>\d+)\s*\]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Mention:
    """One mention as written: where it stands in the text and what it points at."""

    kind: ReferenceKind
    index: int  # 1-based within its kind
    start: int
    end: int

    @property
    def label(self) -> str:
        """The canonical spelling, e.g. "Image1"."""
        return mention_label(self.kind, self.index)


def mention_label(kind: ReferenceKind, index: int) -> str:
    return f"{kind.value.capitalize()}{index}"


def iter_mentions(prompt: str) -> list[Mention]:
    """Every mention in order of appearance, repeats included."""
    found: list[Mention] = []
    for m in _MENTION.finditer(prompt):
        kind = m.group("at_kind") or m.group("br_kind")
        index = m.group("at_index") or m.group("br_index")
        found.append(Mention(ReferenceKind(kind.lower()), int(index), m.start(), m.end()))
    return found


def find_mentions(prompt: str) -> list[tuple[ReferenceKind, int]]:
    """The references a prompt names, in order of first appearance, each once."""
    seen: dict[tuple[ReferenceKind, int], None] = {}
    for m in iter_mentions(prompt):
        seen.setdefault((m.kind, m.index), None)
    return list(seen)
