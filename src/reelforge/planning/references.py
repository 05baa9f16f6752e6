"""What the planner reads of the references: kind, index, role and length (metadata, never
pixels), and the prompt's words about them: which audio is the soundtrack, which video is a
motion source rather than a background plate."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from reelforge.planning.mentions import iter_mentions
from reelforge.spec import ReferenceKind, ReferenceRole


class RefInfo(Protocol):
    """A reference as the planner sees it (`core.references.StoredReference` is one)."""

    @property
    def kind(self) -> ReferenceKind: ...
    @property
    def role(self) -> ReferenceRole: ...
    @property
    def index(self) -> int: ...
    @property
    def seconds(self) -> float | None: ...


R = TypeVar("R", bound=RefInfo)


def pinned_image(refs: Sequence[RefInfo], role: ReferenceRole) -> int | None:
    """The @ImageN given with `role` (first_frame / last_frame), the lowest index if several."""
    found = [r.index for r in refs if r.kind is ReferenceKind.IMAGE and r.role is role]
    return min(found) if found else None


def soundtrack_index(prompt: str, refs: Sequence[RefInfo]) -> int | None:
    """The @AudioN that becomes the soundtrack: the first one the prompt mentions, else the
    lowest index; None without audio references."""
    have = sorted(r.index for r in refs if r.kind is ReferenceKind.AUDIO)
    if not have:
        return None
    for m in iter_mentions(prompt):
        if m.kind is ReferenceKind.AUDIO and m.index in have:
            return m.index
    return have[0]


def soundtrack_ref(prompt: str, refs: Sequence[R]) -> R | None:
    index = soundtrack_index(prompt, refs)
    return next(
        (r for r in refs if r.kind is ReferenceKind.AUDIO and r.index == index),
        None,
    )


_MOTION_WORDS = (
    r"(?:camera\s+)?(?:motion|movement|moves?|move\s+set|work|path|trajectory|dynamics|shake)"
)
_MOTION_BEFORE = re.compile(
    rf"(?:{_MOTION_WORDS}\s+(?:of|from|like|as\s+in|in|matching|following)"
    r"|(?:follow(?:s|ing)?|copy(?:ing)?|copies|mimic(?:s|king)?|match(?:es|ing)?|replicat\w*"
    r"|reproduc\w*|transfer\w*|borrow\w*|use|using|uses|take|takes|taking)\s+"
    r"(?:the\s+)?(?:camera\s+)?(?:motion|movement|moves?|path|trajectory)\s+(?:of|from|in)"
    r"|(?:move|moves|moving)\s+like|same\s+camera(?:\s+\w+)?\s+as)\s*(?:the\s+)?(?:clip\s+)?$",
    re.IGNORECASE,
)
_MOTION_AFTER = re.compile(
    r"^(?:'s|\u2019s)?\s*(?:camera\s+)?(?:motion|movement|moves?|path|trajectory)\b"
    r"|^\s*(?:as|for)\s+(?:the\s+)?(?:camera\s+)?(?:motion|movement|camera)"
    r"(?:\s+(?:reference|source|guide))?\b",
    re.IGNORECASE,
)


def motion_videos(text: str) -> list[int]:
    """The @VideoN the text names as a source of camera motion ("the camera motion of @Video1",
    "move like @Video1", "@Video1's camera movement", "@Video1 as the motion reference")."""
    found = []
    for m in iter_mentions(text):
        if m.kind is not ReferenceKind.VIDEO:
            continue
        before = text[max(0, m.start - 60) : m.start]
        after = text[m.end : m.end + 40]
        if _MOTION_BEFORE.search(before) or _MOTION_AFTER.search(after):
            found.append(m.index)
    return list(dict.fromkeys(found))
