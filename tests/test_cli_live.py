"""The client commands of the CLI against a real server process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import av
import pytest

from reelforge.media.alpha import read_alpha
from tests.conftest import ADMIN_KEY
from tests.live import free_port, start_service

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    port = free_port()
    proc = start_service(tmp_path_factory.mktemp("cli") / "data", port, DEFAULT_MODEL="ok")
    yield f"http://127.0.0.1:{port}"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def _cli(url: str, *args: str, key: str = ADMIN_KEY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "reelforge"), "--url", url, "--api-key", key, *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_keys_submit_wait_download(server: str, tmp_path: Path) -> None:
    created = _cli(server, "keys", "create", "--name", "cli-user")
    assert created.returncode == 0, created.stderr
    info = json.loads(created.stdout)
    assert info["key"].startswith("rf_")
    listed = _cli(server, "keys", "list")
    assert "cli-user" in listed.stdout

    user_key = info["key"]
    sub = _cli(server, "submit", "--prompt", "a red ball", "--seconds", "1",
               "--resolution", "480p", "--wait", "--json", key=user_key)  # fmt: skip
    assert sub.returncode == 0, sub.stderr
    video = json.loads(sub.stdout[sub.stdout.index("{") :])
    status = _cli(server, "status", video["id"], key=user_key)
    assert "completed" in status.stdout
    out = tmp_path / "v.mp4"
    dl = _cli(server, "download", video["id"], "-o", str(out), key=user_key)
    assert dl.returncode == 0, dl.stderr
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.width == 854

    revoked = _cli(server, "keys", "revoke", info["id"])
    assert revoked.returncode == 0
    denied = _cli(server, "status", video["id"], key=user_key)
    assert denied.returncode == 1 and "invalid or revoked" in denied.stderr


def test_submit_alpha_downloads_a_transparent_webm(server: str, tmp_path: Path) -> None:
    sub = _cli(server, "submit", "--prompt", "a red ball", "--model", "preview", "--seconds", "1",
               "--resolution", "480p", "--alpha", "--codec", "vp9", "--wait", "--json")  # fmt: skip
    assert sub.returncode == 0, sub.stderr
    video = json.loads(sub.stdout[sub.stdout.index("{") :])
    assert (video["alpha"], video["codec"], video["container"]) == (True, "vp9", "webm")
    out = tmp_path / "v.webm"
    dl = _cli(server, "download", video["id"], "-o", str(out))
    assert dl.returncode == 0, dl.stderr
    with av.open(str(out)) as c:
        stream = c.streams.video[0]
        assert c.format.name.startswith("matroska,webm") and stream.codec_context.name == "vp9"
        # FFmpeg's native VP9 decoder drops the alpha plane; WebM marks it in the track's tags.
        assert stream.metadata.get("alpha_mode") == "1"
    frames = list(read_alpha(out))
    assert len(frames) == 24
    assert frames[12][:8, :, 3].max() <= 16  # the background is transparent


def test_models_lists_the_engines_and_why_one_is_not_ready(server: str) -> None:
    done = _cli(server, "models")
    assert done.returncode == 0, done.stderr
    lines = {line.split("\t")[0]: line for line in done.stdout.splitlines()}
    assert "ready" in lines["ok"] and "NOT READY" not in lines["ok"]
    assert "preview" in lines
    with_aliases = _cli(server, "models", "--aliases")
    assert "seedance-2.0\t-> ok" in with_aliases.stdout
