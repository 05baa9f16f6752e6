"""`/docs` and `/redoc` render in headless Chromium with no network but loopback (issue 11,
item 4): their scripts and styles come from reelforge itself, never from a CDN.

Chromium is the Debian package (`apt-get install chromium`, in `.ci/run`); nothing is
downloaded at run time. Without it the test skips on a developer's machine and fails in CI.
Every host but 127.0.0.1 resolves to nothing (`--host-resolver-rules`), and Chromium's net log
proves that every request the page made went to the loopback server. The screenshot stays in
the test's tmp dir; its path is printed and named in the assertion messages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.live import free_port, start_service

pytestmark = pytest.mark.browser

LOOPBACK = "127.0.0.1"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("headless Chromium is missing (apt-get install chromium, see .ci/run)")
    pytest.skip("headless Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    port = free_port()
    proc = start_service(tmp_path_factory.mktemp("docs") / "data", port)
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


def browse(url: str, out: Path, *args: str) -> tuple[str, list[dict[str, Any]]]:
    """Load `url` offline; the page's DOM (or nothing, with `--screenshot`) and the URL
    requests from its net log."""
    out.mkdir(parents=True, exist_ok=True)
    net_log = out / "net-log.json"
    cmd = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        f"--user-data-dir={out / 'profile'}",
        f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-default-apps", "--disable-domain-reliability",
        f"--log-net-log={net_log}", "--virtual-time-budget=20000", "--window-size=1280,2000",
        *args, url,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode(errors="replace"), requests_in(net_log)


def requests_in(net_log: Path) -> list[dict[str, Any]]:
    log = json.loads(net_log.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    events = (e.get("params") or {} for e in log["events"] if e["type"] == start)
    return [p for p in events if "url" in p]


def page_requests(requests: list[dict[str, Any]]) -> list[str]:
    """The URLs the page asked for: those made on behalf of the loopback site. Chromium's own
    service calls (update checks, sign-in) carry no such key; they are blocked by the resolver
    rule all the same."""
    site = f"http://{LOOPBACK}"
    return [
        r["url"]
        for r in requests
        if r.get("network_isolation_key") == site or str(r.get("initiator", "")).startswith(site)
    ]


def assert_offline(requests: list[dict[str, Any]], base: str, where: Path) -> list[str]:
    urls = page_requests(requests)
    outside = [u for u in urls if urlsplit(u).hostname != LOOPBACK]
    assert not outside, f"the page reached beyond loopback: {outside} (net log in {where})"
    assert any(u.startswith(f"{base}/docs-assets/") for u in urls), urls
    assert f"{base}/openapi.json" in urls, urls
    return urls


def test_docs_render_offline_with_authorize(server: str, tmp_path: Path) -> None:
    shot = tmp_path / "docs.png"
    _, shot_requests = browse(f"{server}/docs", tmp_path / "shot", f"--screenshot={shot}")
    print(f"screenshot of /docs: {shot}")
    assert shot.stat().st_size > 10_000, f"empty screenshot {shot}"
    assert_offline(shot_requests, server, tmp_path / "shot")

    dom, requests = browse(f"{server}/docs", tmp_path / "dom", "--dump-dom")
    (tmp_path / "docs.html").write_text(dom, encoding="utf-8")
    assert_offline(requests, server, tmp_path / "dom")
    note = f"(screenshot {shot}, DOM {tmp_path / 'docs.html'})"
    for path in ("/v1/videos", "/v1/videos/{video_id}", "/api/v3/contents/generations/tasks"):
        assert f'data-path="{path}"' in dom, f"operation {path} not rendered {note}"
    assert dom.count('class="opblock-summary-path"') >= 30, f"too few operations {note}"
    assert "btn authorize" in dom, f"no Authorize button {note}"


def test_redoc_renders_offline(server: str, tmp_path: Path) -> None:
    dom, requests = browse(f"{server}/redoc", tmp_path, "--dump-dom")
    (tmp_path / "redoc.html").write_text(dom, encoding="utf-8")
    urls = page_requests(requests)
    outside = [u for u in urls if urlsplit(u).hostname != LOOPBACK]
    assert not outside, f"/redoc reached beyond loopback: {outside}"
    assert f"{server}/docs-assets/redoc.standalone.js" in urls, urls
    assert "redoc-wrap" in dom and "/v1/videos/{video_id}/content" in dom, tmp_path / "redoc.html"
