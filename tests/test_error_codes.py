"""Error codes are data: every code in `reelforge.codes` is documented in docs/api/*.md, every
code the docs name exists, and the source spells no code as a free string."""

from __future__ import annotations

import re
from pathlib import Path

from reelforge import codes

ROOT = Path(__file__).resolve().parents[1]
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs/api").glob("*.md")))
TICKED = set(re.findall(r"`([a-z_][a-z0-9_.]*)`", DOCS))
FAMILIES = {c.split(".")[0] for c in codes.all_codes()}


def test_every_code_is_documented() -> None:
    missing = sorted(c for c in codes.all_codes() if c not in TICKED)
    assert not missing, f"codes not documented in docs/api/*.md: {missing}"


def test_every_documented_code_exists() -> None:
    named = {t for t in TICKED if "." in t and t.split(".")[0] in FAMILIES}
    # File names and settings paths written in backticks are not codes.
    named = {t for t in named if not t.endswith((".py", ".md", ".json", ".mp4"))}
    unknown = sorted(named - codes.all_codes())
    assert not unknown, f"docs name codes that do not exist: {unknown}"


def test_no_code_is_a_free_string_in_the_source() -> None:
    free = re.compile(r"\bcode\s*=\s*f?\"[a-z]")
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in sorted((ROOT / "src/reelforge").rglob("*.py"))
        if p.name != "codes.py"
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if free.search(line)
    ]
    assert not offenders, f"error codes written as strings (use reelforge.codes): {offenders}"
