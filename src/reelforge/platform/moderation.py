"""Moderation: a pluggable policy applied to prompts, with hooks for references and outputs.

The policy is the operator's choice. The default (`PatternPolicy`) reads regular expressions from
a file (one per line, `#` comments; `reference:sha256:<hex>` lines refuse a reference by content)
and blocks nothing unless configured. `check_output` sees the rendered files before they are
published, for a policy that classifies pixels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reelforge import codes
from reelforge.errors import ModerationBlocked


@dataclass(frozen=True)
class Verdict:
    rule: str  # which rule matched (shown to the client, so a user learns what to change)


class ModerationPolicy(Protocol):
    def check_prompt(self, prompt: str) -> Verdict | None: ...

    def check_reference(self, kind: str, sha256: str) -> Verdict | None: ...

    def check_output(self, video: Path, thumbnail: Path) -> Verdict | None:
        """Called with the rendered files before they are published."""


class AllowAll:
    def check_prompt(self, prompt: str) -> Verdict | None:
        return None

    def check_reference(self, kind: str, sha256: str) -> Verdict | None:
        return None

    def check_output(self, video: Path, thumbnail: Path) -> Verdict | None:
        return None


class PatternPolicy:
    """Blocks prompts that match any pattern; references by content hash (`sha256:<hex>`)."""

    def __init__(self, prompt_patterns: list[str], blocked_hashes: set[str]) -> None:
        self._patterns = [(p, re.compile(p, re.IGNORECASE)) for p in prompt_patterns]
        self._hashes = blocked_hashes

    @classmethod
    def from_file(cls, path: Path) -> PatternPolicy:
        prompts: list[str] = []
        hashes: set[str] = set()
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("reference:sha256:"):
                hashes.add(line.removeprefix("reference:sha256:").lower())
            else:
                prompts.append(line.removeprefix("prompt:"))
        return cls(prompts, hashes)

    def check_prompt(self, prompt: str) -> Verdict | None:
        for source, pattern in self._patterns:
            if pattern.search(prompt):
                return Verdict(rule=source)
        return None

    def check_reference(self, kind: str, sha256: str) -> Verdict | None:
        return Verdict(rule=f"blocked {kind} sha256:{sha256}") if sha256 in self._hashes else None

    def check_output(self, video: Path, thumbnail: Path) -> Verdict | None:
        return None  # patterns say nothing about pixels; a classifier policy would look here


def open_policy(patterns_file: Path | None) -> ModerationPolicy:
    return PatternPolicy.from_file(patterns_file) if patterns_file else AllowAll()


def enforce_prompt(policy: ModerationPolicy, prompt: str) -> None:
    verdict = policy.check_prompt(prompt)
    if verdict is not None:
        raise ModerationBlocked(
            f"the prompt was refused by this server's content policy (rule {verdict.rule!r})",
            code=codes.MODERATION_INPUT_TEXT,
            param="prompt",
            stage="intake",
        )


def enforce_references(policy: ModerationPolicy, refs: list[tuple[int, str, str]]) -> None:
    """`refs`: (request index, kind, sha256)."""
    for index, kind, sha in refs:
        verdict = policy.check_reference(kind, sha)
        if verdict is not None:
            raise ModerationBlocked(
                f"references[{index}] was refused by this server's content policy",
                code=codes.MODERATION_INPUT_REFERENCE,
                param=f"references[{index}]",
                reference_index=index,
                stage="intake",
            )


def enforce_output(policy: ModerationPolicy, video: Path, thumbnail: Path) -> None:
    verdict = policy.check_output(video, thumbnail)
    if verdict is not None:
        raise ModerationBlocked(
            f"the rendered video was refused by this server's content policy (rule "
            f"{verdict.rule!r}); nothing is charged",
            code=codes.MODERATION_OUTPUT,
            stage="encode",
        )
