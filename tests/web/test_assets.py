"""What `/` serves, without a browser: the page with its Content-Security-Policy, every script
and stylesheet it names (the ES modules followed through their imports), nothing else from the
package, and the limits the page shows (`GET /web/limits`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from reelforge.api.web.routes import content_security_policy, storage_origin
from reelforge.intake.limits import LimitsSettings
from tests.conftest import ADMIN_KEY, make_settings
from tests.fixtures.engines.basic import fixture_registry

WEB = files("reelforge") / "web"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("assets") / "data"
    settings = make_settings(data, limits=LimitsSettings(max_image_bytes=1234567, max_videos=2))
    with TestClient(create_app(settings, engines=fixture_registry())) as c:
        yield c


def test_the_page_and_everything_it_loads(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    csp = page.headers["content-security-policy"]
    for rule in ("default-src 'none'", "script-src 'self'", "connect-src 'self'",
                 "media-src 'self' blob:", "frame-ancestors 'none'"):  # fmt: skip
        assert rule in csp, csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"

    wanted = re.findall(r'(?:src|href)="web/([^"]+)"', page.text)
    assert "main.js" in wanted and "app.css" in wanted, wanted
    seen: set[str] = set()
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        answer = client.get(f"/web/{name}")
        assert answer.status_code == 200, name
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        assert answer.headers["content-type"] == f"{kind}; charset=utf-8", name
        assert "http://" not in answer.text and "https://" not in answer.text, name
        wanted += re.findall(r"from '\./([^']+)'", answer.text)
    shipped = {p.name for p in WEB.iterdir() if p.name != "index.html"}
    assert seen == shipped, f"not loaded: {shipped - seen}; missing: {seen - shipped}"


@pytest.mark.parametrize(
    "path",
    ["/web/index.html", "/web/..%2Fapi%2Fapp.py", "/web/.hidden.js", "/web/README", "/web/x.py",
     "/web/nothing.js", "/web/%2E%2E%2Fpy.typed"],
)  # fmt: skip
def test_nothing_else_is_served(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404, (path, answer.text)
    assert answer.json()["error"]["type"] == "not_found_error"


def test_limits_the_page_shows(client: TestClient) -> None:
    assert client.get("/web/limits").status_code == 401
    limits = client.get("/web/limits", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()
    assert limits["image"]["bytes"] == 1234567
    assert limits["video"]["count"] == 2
    assert limits["audio"]["formats"] == ["MP3", "WAV"]
    assert limits["max_references"] == 12


class Presigning:
    """An object store that hands out presigned download URLs (as S3 does)."""

    def download_url(self, key: str, expires: int, filename: str, media_type: str) -> str:
        return f"https://media.example.com/bucket/{key}?X-Amz-Signature=abc"


class ServesItself:
    def download_url(self, key: str, expires: int, filename: str, media_type: str) -> None:
        return None


def test_videos_from_a_presigning_store_are_allowed_and_nothing_more() -> None:
    origin = storage_origin(Presigning())  # type: ignore[arg-type]
    assert origin == "https://media.example.com"
    csp = content_security_policy(origin)
    assert "media-src 'self' blob: https://media.example.com" in csp
    assert "connect-src 'self'" in csp  # the API itself is never reached elsewhere
    assert storage_origin(ServesItself()) is None  # type: ignore[arg-type]


def test_the_page_is_package_data() -> None:
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"web/*"' in pyproject  # [tool.setuptools.package-data]: the wheel carries the page
