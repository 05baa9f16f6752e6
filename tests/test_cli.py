"""The CLI's surface: every command has help, and bad arguments fail before any work."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reelforge.cli import app

runner = CliRunner()

COMMANDS = [
    [],
    ["serve"],
    ["worker"],
    ["generate"],
    ["submit"],
    ["status"],
    ["wait"],
    ["download"],
    ["cancel"],
    ["list"],
    ["keys"],
    ["keys", "create"],
    ["keys", "list"],
    ["keys", "revoke"],
]


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("REELFORGE_API_KEY", raising=False)
    monkeypatch.delenv("REELFORGE_URL", raising=False)
    monkeypatch.setenv("REELFORGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--prompt", "x"],  # no -o
        ["generate", "-o", "out.mp4"],  # no --prompt
        ["generate", "--prompt", "x", "-o", "o.mp4", "--resolution", "4k"],
        ["generate", "--prompt", "x", "-o", "o.mp4", "--aspect-ratio", "2:1"],
        ["generate", "--prompt", "x", "-o", "o.mp4", "--codec", "av1"],
        ["generate", "--prompt", "x", "-o", "o.mp4", "--seconds", "61"],  # 1..60
        ["generate", "--prompt", "x", "-o", "o.mp4", "--seconds", "soon"],
        ["generate", "--prompt", "x", "-o", "o.mp4", "--image", "missing.png"],
        ["submit", "--prompt", "x", "--seed", "abc"],
        ["submit", "--prompt", "x", "--video", "missing.mp4"],
        ["download", "video_1", "-o", "x.png", "--variant", "poster"],
        ["download", "video_1"],  # no -o
        ["status"],  # no id
        ["serve", "--port", "0"],
        ["list", "--limit", "0"],
        ["keys", "create"],  # no --name
        ["worker"],  # no --engine
    ],
    ids=lambda a: " ".join(a),
)
def test_bad_arguments_are_usage_errors(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output


def test_worker_refuses_an_unknown_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFORGE_DATA_DIR", str(tmp_path / "data"))
    result = runner.invoke(app, ["worker", "--engine", "no-such-engine"])
    assert result.exit_code == 2
    assert "no-such-engine" in result.output


def test_missing_api_key_names_the_ways_to_give_one() -> None:
    result = runner.invoke(app, ["status", "video_1"])
    assert result.exit_code == 2
    assert "--api-key" in result.output and "admin_key" in result.output


def test_admin_key_file_is_used_and_network_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "admin_key").write_text("rf_from_file\n")
    result = runner.invoke(app, ["--url", "http://127.0.0.1:9", "status", "video_1"])
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:9" in result.output


def test_generate_applies_the_servers_moderation_to_references(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`reelforge generate` checks a reference against the content policy a create would, before
    rendering anything."""
    import hashlib

    from tests.intake.media import image_bytes

    image = tmp_path / "face.png"
    image.write_bytes(image_bytes())
    policy = tmp_path / "policy.txt"
    policy.write_text(f"reference:sha256:{hashlib.sha256(image.read_bytes()).hexdigest()}\n")
    monkeypatch.setenv("REELFORGE_MODERATION_PATTERNS_FILE", str(policy))
    out = tmp_path / "out.mp4"
    result = runner.invoke(
        app, ["generate", "--prompt", "@Image1 waves", "--image", str(image), "-o", str(out),
              "--seconds", "1", "--resolution", "480p", "--model", "preview"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "references[0]" in result.output and "content policy" in result.output
    assert not out.exists()
