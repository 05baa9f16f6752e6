"""A benchmark's own section of docs/benchmarks.md, between its start and end markers."""

from __future__ import annotations

from pathlib import Path


def replace_section(doc: Path, start: str, end: str, section: str) -> None:
    """Put `section` (which includes both markers) where the markers are in `doc`, or append it
    when they are not there yet."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    doc.write_text(text)
