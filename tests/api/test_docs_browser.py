"""`/docs` and `/redoc` render in headless Chromium with no network but loopback (issue 11,
item 4): their scripts and styles come from reelforge itself, never from a CDN.

Chromium is the Debian package (`apt-get install chromium`, in `.ci/run`); nothing is
downloaded at run time. Without it the test skips on a developer's machine and fails in CI.
Every host but 127.0.0.1 resolves to nothing (`--host-resolver-rules`), and Chromium's net log
proves that every request the page made went to the loopback server. The screenshots stay in
the test's tmp dir; their paths are printed and named in the assertion messages.

The Authorize button is driven through the DevTools protocol over `--remote-debugging-pipe`
(NUL-separated JSON on fds 3 and 4: no websocket client needed): enter the key in the modal,
then "Try it out" on `GET /v1/keys/me` must answer 200 with the key in the request.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import ADMIN_KEY
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


class DevTools:
    """Chromium driven over `--remote-debugging-pipe`: `call` one CDP method, `js` evaluate in
    the page, `until` poll an expression."""

    def __init__(self, args: list[str]) -> None:
        to_child, self._to_us = os.pipe(), os.pipe()
        ours, theirs = to_child[1], self._to_us[1]

        def fds_3_and_4() -> None:  # the child reads fd 3 and writes fd 4
            a, b = os.dup(to_child[0]), os.dup(theirs)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [chromium(), "--remote-debugging-pipe", *args],
            pass_fds=(3, 4), preexec_fn=fds_3_and_4,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_child[0])
        os.close(theirs)
        self._out = os.fdopen(ours, "wb", buffering=0)
        self._in = os.fdopen(self._to_us[0], "rb", buffering=0)
        self._buffer = b""
        self._id = 0
        self.session: str | None = None

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        self._out.write(json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = self._in.read(1 << 16)
                assert chunk, f"Chromium exited ({self.proc.poll()})"
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                assert "error" not in reply, reply["error"]
                result: dict[str, Any] = reply.get("result", {})
                return result

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", url=url)["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def until(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {expression}")

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot")["data"]))

    def close(self) -> None:
        self.session = None
        with contextlib.suppress(AssertionError):  # it may close before it answers
            self.call("Browser.close")
        self.proc.wait(30)


def test_authorize_button_sends_the_key(server: str, tmp_path: Path) -> None:
    browser = DevTools([
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}",
        "--no-first-run", "--window-size=1280,2000", "about:blank",
    ])  # fmt: skip
    shot = tmp_path / "authorized.png"
    try:
        browser.open(f"{server}/docs")
        browser.until("!!document.querySelector('.btn.authorize')")
        browser.js("document.querySelector('.btn.authorize').click()")
        browser.until("!!document.querySelector('#auth-bearer-value')")
        modal = browser.js("document.querySelector('.modal-ux').innerText")
        assert "bearerAuth" in modal and "X-API-Key" in modal, modal
        # A React input: set its value through the native setter, then tell React.
        browser.js(f"""(() => {{
            const input = document.querySelector('#auth-bearer-value');
            Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')
                .set.call(input, {json.dumps(ADMIN_KEY)});
            input.dispatchEvent(new Event('input', {{bubbles: true}}));
            input.closest('form').querySelector('button.authorize').click();
        }})()""")
        browser.until("document.querySelector('.modal-ux').innerText.includes('Authorized')")
        browser.js("document.querySelector('.modal-ux button.close-modal').click()")
        me = '.opblock-summary-path[data-path="/v1/keys/me"]'
        browser.js(f"document.querySelector('{me}').closest('.opblock-summary')"
                   ".querySelector('.opblock-summary-control').click()")  # fmt: skip
        browser.until("!!document.querySelector('.opblock.is-open .try-out__btn')")
        browser.js("document.querySelector('.opblock.is-open .try-out__btn').click()")
        browser.until("!!document.querySelector('.opblock.is-open button.execute')")
        browser.js("document.querySelector('.opblock.is-open button.execute').click()")
        status = browser.until(
            "(document.querySelector('.opblock.is-open .live-responses-table .response "
            ".response-col_status') || {}).innerText"
        )
        curl = browser.js("document.querySelector('.opblock.is-open .curl-command').innerText")
        browser.screenshot(shot)
        print(f"screenshot of /docs after Authorize: {shot}")
    finally:
        browser.close()
    assert status.strip() == "200", f"GET /v1/keys/me answered {status} (screenshot {shot})"
    assert f"Authorization: Bearer {ADMIN_KEY}" in curl, f"{curl} (screenshot {shot})"
