"""The playground and gallery at `/` (issue 15), driven in headless Chromium by Playwright
against a live `reelforge serve` on loopback with the preview engine.

Chromium is Debian's (`/usr/bin/chromium`, installed by `.ci/run`); Playwright drives it through
`executable_path` and never downloads a browser. Without Playwright or Chromium the module
skips on a developer's machine and fails in CI.

Every request of every page is intercepted: one that leaves the server's origin is refused and
fails the test, and no URL may carry the API key. The screenshots of each step are kept under
`test-artifacts/web/<test>/` at the repository root (git-ignored); the folder is printed and
named in the assertion messages.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.conftest import ADMIN_KEY
from tests.live import ROOT, free_port, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.slow]

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed (pip install -e '.[dev]')", allow_module_level=True)

ARTIFACTS = ROOT / "test-artifacts" / "web"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
MAX_IMAGE_BYTES = 1_000_000  # the test server's limit, so an over-limit image is small
SECONDS = 2
FRAME = 1 / 24


def chromium_path() -> str:
    found = ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"))
    for candidate in found:
        if candidate and Path(candidate).exists():
            return candidate
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing (apt-get install chromium, see .ci/run)")
    pytest.skip("Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`reelforge serve` itself (the console script) on a free loopback port, starting while
    the browser does."""
    port = free_port()
    data = tmp_path_factory.mktemp("web") / "data"
    env = {
        **os.environ,
        "REELFORGE_DATA_DIR": str(data),
        "REELFORGE_HOST": "127.0.0.1",
        "REELFORGE_PORT": str(port),
        "REELFORGE_BOOTSTRAP_KEY": ADMIN_KEY,
        "REELFORGE_PRINT_ADMIN_KEY": "false",
        "REELFORGE_QUEUE_POLL_SECONDS": "0.05",
        "REELFORGE_LOG_LEVEL": "WARNING",
        "REELFORGE_LIMITS__MAX_IMAGE_BYTES": str(MAX_IMAGE_BYTES),
        "REELFORGE_QUALITY_REPORTS": "false",  # CPU the next steps need more (not shown here)
    }
    serve = Path(sys.executable).parent / "reelforge"
    proc = subprocess.Popen(
        [str(serve), "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )  # uvicorn's access log stays out of the test output
    try:
        yield proc, port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser(service: object) -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as pw:
        chrome = pw.chromium.launch(
            executable_path=executable, headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage",
                  "--autoplay-policy=no-user-gesture-required"],
        )  # fmt: skip
        yield chrome
        chrome.close()


@pytest.fixture(scope="module")
def server(service: tuple[subprocess.Popen[bytes], int], browser: Browser) -> str:
    proc, port = service
    wait_ready(proc, port)
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two distinct 640x480 pictures, one too small (200 px) and one over the byte limit."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(15)
    out: dict[str, Path] = {}
    for name, colour in (("subject", (200, 60, 40)), ("scene", (40, 80, 190))):
        a = np.zeros((480, 640, 3), np.uint8)
        a[:] = colour
        a[120:360, 220:420] = 245
        out[name] = folder / f"{name}.png"
        Image.fromarray(a).save(out[name])
    out["small"] = folder / "small.png"
    Image.new("RGB", (200, 200), (90, 90, 90)).save(out["small"])
    out["big"] = folder / "big.png"
    Image.fromarray(rng.integers(0, 256, (700, 700, 3), dtype=np.uint8)).save(out["big"])
    assert out["big"].stat().st_size > MAX_IMAGE_BYTES
    return out


@dataclass
class Session:
    """One browser page on the server, with every request it made and those refused."""

    page: Page
    base: str
    shots: Path
    requests: list[tuple[str, str]] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _n: int = 0

    def shot(self, name: str, *, full_page: bool = True) -> Path:
        self._n += 1
        path = self.shots / f"{self._n:02d}-{name}.png"
        self.page.screenshot(path=path, full_page=full_page)
        return path

    def note(self) -> str:
        return f"(screenshots in {self.shots})"


@pytest.fixture
def session(request: pytest.FixtureRequest, server: str, browser: Browser) -> Iterator[Session]:
    shots = ARTIFACTS / request.node.name
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    print(f"screenshots of {request.node.name}: {shots}")
    viewport = getattr(request, "param", {"width": 1280, "height": 900})
    phone = {"is_mobile": True, "has_touch": True} if viewport["width"] < 500 else {}
    context = browser.new_context(viewport=viewport, **phone)  # type: ignore[arg-type]
    origin = urlsplit(server)
    page = context.new_page()
    s = Session(page, server, shots)

    def guard(route: Any) -> None:
        url = urlsplit(route.request.url)
        if (url.scheme, url.netloc) != (origin.scheme, origin.netloc):
            s.outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    page.on("request", lambda r: s.requests.append((r.method, r.url)))
    page.on("pageerror", lambda e: s.errors.append(str(e)))
    page.on("console", lambda m: s.errors.append(m.text) if console_error(m) else None)
    page.set_default_timeout(20_000)
    try:
        yield s
    finally:
        context.close()
    assert not s.outside, f"the page reached beyond {server}: {s.outside} {s.note()}"
    leaked = [u for _, u in s.requests if ADMIN_KEY in u]
    assert not leaked, f"the API key went into a URL: {leaked}"
    assert not s.errors, f"errors in the page: {s.errors} {s.note()}"


def console_error(message: Any) -> bool:
    """An error the page's code logged (Chromium's own line for each 4xx answer is expected:
    the refused uploads and quotes below)."""
    return message.type == "error" and not message.text.startswith("Failed to load resource")


def sign_in(s: Session) -> None:
    """Open `/`; the key dialog asks for the key once; the page is ready with it."""
    page = s.page
    page.goto(f"{s.base}/")
    dialog = page.get_by_role("dialog", name="Your API key")
    expect(dialog).to_be_visible()
    page.get_by_label("API key", exact=True).fill(ADMIN_KEY)
    s.shot("key")
    page.get_by_role("button", name="Save key").click()
    expect(dialog).to_be_hidden()
    page.wait_for_selector("body[data-ready=true]")


def open_signed_in(s: Session) -> None:
    """Open `/` with the key already in the browser (a returning user)."""
    s.page.add_init_script(f"localStorage.setItem('reelforge.apiKey', {ADMIN_KEY!r})")
    s.page.goto(f"{s.base}/")
    s.page.wait_for_selector("body[data-ready=true]")


def attach(s: Session, *paths: Path) -> None:
    s.page.locator("#ref-input").set_input_files([str(p) for p in paths])


def ref_tile(s: Session, filename: str) -> Any:
    return s.page.locator("#ref-list li.ref").filter(has_text=filename)


def test_compose_submit_watch_and_gallery(session: Session, images: dict[str, Path]) -> None:
    s, page = session, session.page
    sign_in(s)
    expect(page.locator("#key-label")).to_contain_text("admin")
    expect(page.locator("#ref-limits")).to_contain_text("976.6 KiB each")  # the server's limit
    expect(page.locator("#model")).to_have_value("preview")
    # Engines that cannot render are offered disabled, with the server's reason beside them.
    models = httpx.get(f"{s.base}/v1/models", headers=AUTH).json()["data"]
    for m in (m for m in models if not m["ready"] and m["kind"] == "engine"):
        expect(page.locator(f'#model option[value="{m["id"]}"]')).to_be_disabled()
        expect(page.locator("#model-note")).to_contain_text(m["reason"][:60])

    attach(s, images["subject"], images["scene"])
    expect(ref_tile(s, "subject.png").locator(".name")).to_have_text("@Image1")
    expect(ref_tile(s, "scene.png").locator(".name")).to_have_text("@Image2")
    expect(ref_tile(s, "scene.png").locator(".meta")).to_contain_text("640\u00d7480")
    s.shot("attached")

    # Autocomplete: `@` offers the attached references; arrows and Enter pick one.
    prompt = page.get_by_role("combobox", name="Prompt")
    prompt.click()
    page.keyboard.type("Slow zoom in on @")
    options = page.get_by_role("listbox", name="References to mention").get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_contain_text("@Image1")
    expect(options.nth(1)).to_contain_text("@Image2")
    expect(prompt).to_have_attribute("aria-expanded", "true")
    s.shot("autocomplete")
    page.keyboard.press("Enter")
    page.keyboard.type("standing in @Im")
    expect(options).to_have_count(2)
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(prompt).to_have_value("Slow zoom in on @Image1 standing in @Image2 ")
    expect(page.locator("#prompt-mirror mark.ok")).to_have_text(["@Image1", "@Image2"])

    # The quote follows the fields.
    page.get_by_label("Duration").select_option(str(SECONDS))
    page.get_by_label("Resolution").select_option("480p")
    quote = page.locator("#quote")
    expect(quote).to_contain_text("854x480")
    expect(quote).to_contain_text("$0.2824")
    s.shot("quote-480p")
    page.get_by_label("Resolution").select_option("720p")
    expect(quote).to_contain_text("1280x720")
    expect(quote).to_contain_text("$0.6048")
    page.get_by_label("Resolution").select_option("480p")
    expect(quote).to_contain_text("$0.2824")

    # Submit from the keyboard; progress streams by server-sent events to 100 %.
    page.get_by_role("button", name="Generate").focus()
    page.keyboard.press("Enter")
    run = page.locator("#run")
    expect(run).to_be_visible()
    expect(page.locator("#run-status")).to_contain_text(re.compile("Queued|Rendering|Completed"))
    s.shot("submitted")
    expect(run).to_have_attribute("data-status", "completed", timeout=60_000)
    expect(page.locator("#run-status")).to_have_text("Completed · 100 %")
    assert page.locator("#run-progress").evaluate("p => p.value") == 100
    video_id = run.get_attribute("data-id")
    assert video_id and video_id.startswith("video_")
    assert any(m == "GET" and u.endswith(f"/v1/videos/{video_id}/events") for m, u in s.requests), (
        "no event stream was read"
    )

    # The video plays: enough data, the duration asked for, time moves.
    player = page.locator("#run-video")
    page.wait_for_function("() => document.querySelector('#run-video').readyState >= 3")
    duration = player.evaluate("v => v.duration")
    assert abs(duration - SECONDS) <= 2 * FRAME, f"duration {duration} {s.note()}"
    player.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("() => document.querySelector('#run-video').currentTime > 0.2")
    s.shot("played")

    # The gallery shows it first, with its poster frame, status and cost.
    card = page.locator("#gallery-list li.card").first
    expect(card).to_have_attribute("data-id", video_id)
    expect(card.locator(".badge")).to_have_text("completed")
    expect(card.locator(".cost")).to_have_text("$0.2824")
    poster = card.locator("img.poster")
    expect(poster).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.querySelector('#gallery-list li.card img.poster');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    assert poster.evaluate("i => i.naturalWidth") == 854
    s.shot("gallery")

    # The player, opened from the keyboard: video, last frame, plan, request; Escape closes.
    card.locator("button.open").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=video_id)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("img", name="The last frame of the video")).to_be_visible()
    expect(dialog.locator("#player-plan li")).to_have_count(1)
    expect(dialog.locator("#player-plan")).to_contain_text("@Image1 @Image2")
    expect(dialog.locator("#player-request")).to_contain_text('"resolution": "480p"')
    page.wait_for_function("() => document.querySelector('#player-video').readyState >= 1")
    s.shot("player", full_page=False)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(card.locator("button.open")).to_be_focused()

    # "Use as template" fills the form with the request that made it.
    prompt.fill("")
    page.get_by_label("Resolution").select_option("720p")
    card.locator("button.open").click()
    dialog.get_by_role("button", name="Use as template").click()
    expect(prompt).to_have_value("Slow zoom in on @Image1 standing in @Image2 ")
    expect(page.get_by_label("Resolution")).to_have_value("480p")
    expect(page.get_by_label("Duration")).to_have_value(str(SECONDS))
    expect(prompt).to_be_focused()


def test_errors_show_next_to_their_field(session: Session, images: dict[str, Path]) -> None:
    s, page = session, session.page
    open_signed_in(s)
    # Over the byte limit: refused in the page before any upload, with the limit.
    attach(s, images["big"])
    big = ref_tile(s, "big.png")
    expect(big.locator(".error")).to_contain_text("at most 976.6 KiB")
    expect(big.locator(".name")).to_have_text("not attached")
    # Too small: the server's answer (400, param `file`) on the file's own tile.
    attach(s, images["small"])
    small = ref_tile(s, "small.png")
    expect(small.locator(".error")).to_contain_text("invalid_reference.image_too_small")
    uploads = [u for m, u in s.requests if m == "POST" and u.endswith("/v1/files")]
    assert len(uploads) == 1, f"the over-limit file was uploaded: {uploads}"
    s.shot("refused-uploads")

    # An unknown mention: two images, @Image5; the quote's 400 (param `prompt`) under the prompt.
    attach(s, images["subject"], images["scene"])
    expect(ref_tile(s, "scene.png").locator(".name")).to_have_text("@Image2")
    prompt = page.get_by_label("Prompt")
    prompt.fill("@Image1 waves at @Image5")
    message = page.locator("#msg-prompt")
    expect(message).to_contain_text("@Image5")
    expect(message).to_contain_text("invalid_request.mention")
    expect(prompt).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#prompt-mirror mark.bad")).to_have_text("@Image5")
    expect(page.locator("#quote")).to_contain_text("No price")
    s.shot("unknown-mention")
    # The create answers the same, in the same place, and no job is made.
    page.get_by_role("button", name="Generate").click()
    expect(message).to_contain_text("invalid_request.mention")
    expect(prompt).to_be_focused()
    assert page.locator("#run").is_hidden()

    # Fixed: the message goes.
    prompt.fill("@Image1 waves at @Image2")
    expect(message).to_be_empty()
    expect(prompt).to_have_attribute("aria-invalid", "false")
    # Removing a file renumbers the rest; the mention it leaves behind is flagged.
    ref_tile(s, "subject.png").get_by_role("button", name="Remove subject.png").click()
    expect(ref_tile(s, "scene.png").locator(".name")).to_have_text("@Image1")
    expect(message).to_contain_text("@Image2")
    s.shot("renumbered")


def test_warning_cancel_and_delete(session: Session, server: str, images: dict[str, Path]) -> None:
    s, page = session, session.page
    open_signed_in(s)
    # No image: the preview engine's warning, next to the field it names (`references`).
    page.get_by_label("Prompt").fill("a long slow pan across a stormy sea")
    page.get_by_label("Duration").select_option("15")
    page.get_by_label("Resolution").select_option("1080p")
    expect(page.locator("#msg-references")).to_contain_text("prompt.no_visual_reference")
    s.shot("warning")

    page.get_by_role("button", name="Generate").click()
    run = page.locator("#run")
    expect(page.locator("#run-status")).to_contain_text("Rendering", timeout=30_000)
    video_id = run.get_attribute("data-id")
    s.shot("rendering")
    page.locator("#run").get_by_role("button", name="Cancel").click()
    expect(run).to_have_attribute("data-status", "canceled", timeout=30_000)
    expect(page.locator("#run-status")).to_have_text("Canceled")
    card = page.locator(f'#gallery-list li.card[data-id="{video_id}"]')
    expect(card.locator(".badge")).to_have_text("canceled")
    s.shot("canceled")

    # Delete, with a confirmation; gone from the gallery and from the API.
    card.locator("button.open").click()
    dialog = page.get_by_role("dialog", name=video_id)
    dialog.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Yes, delete it").click()
    expect(dialog).to_be_hidden()
    expect(card).to_have_count(0)
    gone = httpx.get(f"{server}/v1/videos/{video_id}", headers=AUTH)
    assert gone.status_code == 404, gone.text


@pytest.mark.parametrize("session", [{"width": 390, "height": 844}], indirect=True)
def test_phone_viewport_and_gallery_by_cursor(
    session: Session, server: str, images: dict[str, Path]
) -> None:
    s, page = session, session.page
    for n in (1, 2):
        job = {"prompt": f"phone card {n}", "seconds": 1, "resolution": "480p", "model": "preview"}
        assert httpx.post(f"{server}/v1/videos", json=job, headers=AUTH).status_code == 202
    newest_first = [
        v["id"] for v in httpx.get(f"{server}/v1/videos?limit=100", headers=AUTH).json()["data"]
    ]

    # Pages of one video, so that the gallery has to follow the cursor as it scrolls.
    def one_per_page(route: Any) -> None:
        route.continue_(url=route.request.url.replace("limit=12", "limit=1"))

    page.route(f"{server}/v1/videos?*", one_per_page)
    open_signed_in(s)
    attach(s, images["subject"], images["scene"])
    expect(ref_tile(s, "scene.png").locator(".name")).to_have_text("@Image2")
    page.get_by_label("Prompt").fill("@Image1 in @Image2, a very long prompt " + "x" * 120)
    expect(page.locator("#quote")).to_contain_text("$")
    cards = page.locator("#gallery-list li.card")
    for _ in range(len(newest_first) + 2):
        if cards.count() >= len(newest_first):
            break
        page.locator("#gallery-sentinel").scroll_into_view_if_needed()
        page.wait_for_timeout(300)
    assert [c.get_attribute("data-id") for c in cards.all()] == newest_first, s.note()
    assert any("after=video_" in u for _, u in s.requests), "the cursor was never followed"
    expect(page.locator("#gallery-status")).to_have_text("That is all.")

    page.evaluate("() => window.scrollTo(0, 0)")
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    shot = s.shot("phone")
    assert width[0] <= width[1], f"horizontal scroll: {width} (screenshot {shot})"
    cards.first.locator("button.open").click()
    expect(page.locator("#player")).to_be_visible()
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    fits = page.evaluate(
        "() => { const d = document.querySelector('#player').getBoundingClientRect();"
        " return d.left >= 0 && d.right <= window.innerWidth; }"
    )
    shot = s.shot("phone-player", full_page=False)
    assert width[0] <= width[1] and fits, f"the player is wider than the phone (screenshot {shot})"


CONTROLS = "input, select, textarea, button, a[href], [tabindex='0']"


def test_labels_and_keyboard_order(session: Session, images: dict[str, Path]) -> None:
    s, page = session, session.page
    open_signed_in(s)
    attach(s, images["subject"])
    expect(ref_tile(s, "subject.png").locator(".name")).to_have_text("@Image1")

    # Every control a person can reach has an accessible name.
    for control in page.locator(CONTROLS).all():
        if control.is_visible():
            expect(control).to_have_accessible_name(re.compile(r"\S"))

    # Tab walks the composer in reading order, each stop visibly focused.
    page.locator("#compose").focus()
    order: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.getAttribute('aria-label') || e.id || e.textContent.trim(); }"
        )
        order.append(focused)
        if focused == "submit":
            break
    s.shot("keyboard")
    expected = ["ref-input", "Role of subject.png", "Remove subject.png", "prompt", "model",
                "resolution", "aspect_ratio", "seconds", "seed", "codec", "generate_audio",
                "submit"]  # fmt: skip
    stops = [f for f in order if f in expected]
    assert stops == expected, f"focus order {order} {s.note()}"

    # The role of a reference is chosen from the keyboard too.
    page.get_by_label("Role of subject.png").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Role of subject.png")).to_have_value("first_frame")

    # A file dropped on the zone is attached like a picked one.
    drop = page.evaluate_handle(
        """async () => {
            const canvas = document.createElement('canvas');
            canvas.width = 640; canvas.height = 480;
            const g = canvas.getContext('2d');
            g.fillStyle = '#2a7'; g.fillRect(0, 0, 640, 480);
            const blob = await new Promise((done) => canvas.toBlob(done, 'image/png'));
            const data = new DataTransfer();
            data.items.add(new File([blob], 'dropped.png', {type: 'image/png'}));
            return data;
        }"""
    )
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": drop})
    expect(ref_tile(s, "dropped.png").locator(".name")).to_have_text("@Image2")
    expect(ref_tile(s, "dropped.png").locator(".meta")).to_contain_text("640\u00d7480")

    # The key dialog: reachable, a wrong key refused in place, Escape closes it.
    page.get_by_role("button", name="Change key").click()
    dialog = page.get_by_role("dialog", name="Your API key")
    expect(dialog).to_be_visible()
    key = page.get_by_label("API key", exact=True)
    expect(key).to_be_focused()
    page.keyboard.type("rf_" + "w" * 40)
    page.keyboard.press("Enter")
    expect(page.locator("#msg-key")).to_contain_text("This key was refused")
    expect(key).to_have_attribute("aria-invalid", "true")
    s.shot("wrong-key")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Change key")).to_be_focused()
