"""One source for the version (pyproject.toml, read back through the installed distribution's
metadata): `reelforge.__version__`, `reelforge --version`, the OpenAPI document and GET /version
say the same; the LICENSE file is the licence pyproject names."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

import reelforge
from reelforge.api.app import create_app
from reelforge.cli import app as cli
from reelforge.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_one_version_everywhere(tmp_path: Path) -> None:
    expected = PYPROJECT["version"]
    assert version("reelforge") == expected == reelforge.__version__
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"reelforge {expected}"
    app = create_app(Settings(data_dir=tmp_path))
    assert app.openapi()["info"]["version"] == expected
    assert TestClient(app).get("/version").json() == {"version": expected}  # no lifespan needed


def test_licence_file_matches_pyproject() -> None:
    assert PYPROJECT["license"] == "GPL-3.0-or-later"
    text = (ROOT / "LICENSE").read_text()
    assert text.split("\n", 2)[:2] == [
        "                    GNU GENERAL PUBLIC LICENSE",
        "                       Version 3, 29 June 2007",
    ]
    assert "END OF TERMS AND CONDITIONS" in text and len(text) > 30_000


def test_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog")
    assert "keepachangelog.com" in text and "## [Unreleased]" in text
    assert f"## [{PYPROJECT['version']}]" in text
