"""Hostile bodies on every route that reads one, in every dialect (issue 12).

Each case is sent to a real uvicorn server on a keep-alive connection: it answers 400 (413 for
size) in the dialect's own error body naming the field, stores no job, and the next request on
the same connection succeeds. Once on SQLite, once on PostgreSQL.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from reelforge.api.app import create_app
from tests.conftest import ADMIN_KEY, make_settings
from tests.dialects.server import running_reelforge, serve_app
from tests.fixtures.engines.basic import fixture_registry
from tests.postgres import postgres_url

__all__ = ["postgres_url"]

MARK = "PROMPT_GOES_HERE"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    body: dict[str, Any]  # a valid body with MARK where the text goes
    text_param: str  # the field that carries MARK, as the error names it
    number: str  # a numeric field of the body (dotted path), set to a boolean in one case


ROUTES = [
    Route("native", "/v1/videos", {"prompt": MARK, "seconds": 1, "size": "854x480"},
          "prompt", "seconds"),
    Route("ark", "/api/v3/contents/generations/tasks",
          {"model": "ok", "content": [{"type": "text", "text": MARK}], "duration": 1},
          "content[0].text", "duration"),
    Route("eachlabs", "/v1/prediction", {"model": "ok", "input": {"prompt": MARK, "duration": 1}},
          "input.prompt", "input.duration"),
    Route("seed000", "/seedance/v1/generate", {"prompt": MARK, "duration": 1}, "prompt",
          "duration"),
    Route("seed001", "/v2/generate/video", {"prompt": MARK, "duration": 1}, "prompt", "duration"),
    Route("seed002", "/v1/bytedance/seedance-2.0/reference-to-video",
          {"prompt": MARK, "duration": 1}, "prompt", "duration"),
    Route("seed004", "/v2/generations", {"prompt": MARK, "duration": 1}, "prompt", "duration"),
    Route("atlascloud", "/v1/video/generations", {"prompt": MARK, "duration": 1}, "prompt",
          "duration"),
    Route("keys", "/v1/keys", {"name": MARK, "balance": 1}, "name", "balance"),
]  # fmt: skip


def _raw(route: Route, text: bytes) -> bytes:
    """The route's body with `text` (the bytes of a JSON string literal) where MARK was."""
    return json.dumps(route.body).encode().replace(json.dumps(MARK).encode(), text)


def _with(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(body))
    *parents, last = dotted.split(".")
    node = copy
    for p in parents:
        node = node[p]
    node[last] = value
    return copy


def hostile_cases(route: Route) -> list[tuple[str, bytes, str, str]]:
    """(case, raw body, expected code, expected param)."""
    p = route.text_param
    deep = b'{"prompt": "x", "deep": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    leaf = route.number.rsplit(".", 1)[-1]
    huge = json.dumps(_with(route.body, route.number, 0)).replace(
        f'"{leaf}": 0', f'"{leaf}": 9' + "9" * 31
    )
    return [
        ("lone surrogate", _raw(route, b'"slow zoom \\ud800 in"'), "invalid_request.text", p),
        ("NUL", _raw(route, b'"slow zoom \\u0000 in"'), "invalid_request.text", p),
        ("invalid UTF-8", _raw(route, b'"slow zoom \xff in"'), "invalid_request.encoding", "body"),
        ("encoded surrogate", _raw(route, b'"zoom \xed\xa0\x80"'), "invalid_request.encoding",
         "body"),
        ("depth", deep, "invalid_request.depth", "body"),
        ("huge integer", huge.encode(), "invalid_request.number", route.number),
        ("NaN", json.dumps(_with(route.body, route.number, float("nan"))).encode(),
         "invalid_request.number", route.number),
        ("boolean as number", json.dumps(_with(route.body, route.number, True)).encode(),
         "invalid_request.boolean_not_number", route.number),
        ("NUL in a key", _raw(route, b'"x", "bad\\u0000key": "y"'), "invalid_request.text", ""),
        ("not JSON", b'{"prompt": ', "invalid_request.json", "body"),
    ]  # fmt: skip


class Conn:
    """One keep-alive HTTP/1.1 connection; `same_socket` says whether it was never reopened."""

    def __init__(self, base_url: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.http = http.client.HTTPConnection(host, int(port), timeout=30)
        self.http.connect()
        self.sock = self.http.sock

    def request(
        self, method: str, path: str, body: bytes | None = None, ctype: str = "application/json"
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {**AUTH, "Content-Type": ctype} if body is not None else dict(AUTH)
        self.http.request(method, path, body=body, headers=headers)
        resp = self.http.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    @property
    def same_socket(self) -> bool:
        return self.http.sock is self.sock


def count_jobs(db_url: str) -> int:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM jobs")).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    data = tmp_path_factory.mktemp("hostile") / "data"
    with running_reelforge(data) as base_url:
        yield base_url, f"sqlite:///{data / 'reelforge.db'}"


def _check_route(base_url: str, db_url: str, route: Route) -> None:
    conn = Conn(base_url)
    ok = conn.request("POST", route.path, _raw(route, b'"a slow zoom in"'))
    assert ok[0] in (200, 201, 202), (route.name, ok)
    before = count_jobs(db_url)
    for case, body, code, param in hostile_cases(route):
        status, headers, data = conn.request("POST", route.path, body)
        assert status == 400, (route.name, case, status, data)
        text = data.decode()
        assert code in text, (route.name, case, text)
        assert json.dumps(param)[1:-1] in text, (route.name, case, param, text)
        assert headers.get("connection", "").lower() != "close", (route.name, case)
        assert "x-request-id" in headers
        # The same connection serves the next request.
        status, _, _ = conn.request("GET", "/v1/videos?limit=1")
        assert status == 200, (route.name, case)
        assert conn.same_socket, (route.name, case)
    assert count_jobs(db_url) == before, route.name
    # Everything stored can be read back, in every dialect's list.
    assert conn.request("GET", "/v1/videos?limit=100")[0] == 200


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_hostile_json_bodies_answer_400_and_store_nothing(
    sqlite_server: tuple[str, str], route: Route
) -> None:
    _check_route(*sqlite_server, route)


def _multipart(fields: list[tuple[bytes, bytes, bytes | None]]) -> tuple[bytes, str]:
    """(name, value, filename) parts, written by hand so any bytes can be sent."""
    boundary = b"hostileboundary42"
    out = b""
    for name, value, filename in fields:
        out += b"--" + boundary + b"\r\n"
        disposition = b'Content-Disposition: form-data; name="' + name + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename + b'"'
        out += disposition + b"\r\n"
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + value + b"\r\n"
    out += b"--" + boundary + b"--\r\n"
    return out, f"multipart/form-data; boundary={boundary.decode()}"


@pytest.mark.parametrize(
    ("case", "fields", "code", "param"),
    [
        ("NUL in the prompt", [(b"prompt", b"zoom \x00 in", None)], "invalid_request.text",
         "prompt"),
        ("invalid UTF-8 prompt", [(b"prompt", b"zoom \xff in", None)],
         "invalid_request.encoding", "prompt"),
        ("surrogate in JSON references",
         [(b"prompt", b"x", None), (b"references", b'[{"url": "\\udc00"}]', None)],
         "invalid_request.text", "references[0].url"),
        ("deep JSON references",
         [(b"prompt", b"x", None), (b"references", b"[" * 500 + b"]" * 500, None)],
         "invalid_request.depth", "references"),
        ("NUL in a field name", [(b"prompt", b"x", None), (b"a\x00b", b"y", None)],
         "invalid_request.text", "a\\\\x00b"),
        ("NUL in a file name",
         [(b"prompt", b"x", None), (b"input_reference", b"\x89PNG", b"a\x00.png")],
         "invalid_request.text", "input_reference (file name)"),
    ],
)  # fmt: skip
def test_hostile_multipart_creates(
    sqlite_server: tuple[str, str],
    case: str,
    fields: list[tuple[bytes, bytes, bytes | None]],
    code: str,
    param: str,
) -> None:
    base_url, db_url = sqlite_server
    conn = Conn(base_url)
    before = count_jobs(db_url)
    body, ctype = _multipart([*fields, (b"seconds", b"1", None), (b"size", b"854x480", None)])
    status, _, data = conn.request("POST", "/v1/videos", body, ctype)
    assert status == 400, (case, data)
    assert code in data.decode() and param in data.decode(), (case, data)
    assert conn.request("GET", "/v1/videos?limit=1")[0] == 200 and conn.same_socket
    assert count_jobs(db_url) == before


def test_hostile_uploads_on_v1_files(sqlite_server: tuple[str, str]) -> None:
    base_url, _ = sqlite_server
    conn = Conn(base_url)
    for fields, code in [
        ([(b"file", b"\x89PNG\r\n", b"bad\x00.png")], "invalid_request.text"),
        ([(b"file", b"\x89PNG\r\n", b"\xff.png")], "invalid_request.encoding"),
        ([(b"kind", b"ima\x00ge", None), (b"file", b"\x89PNG", b"a.png")], "invalid_request.text"),
    ]:
        body, ctype = _multipart(fields)
        status, _, data = conn.request("POST", "/v1/files", body, ctype)
        assert status == 400 and code in data.decode(), data
        assert conn.request("GET", "/v1/videos?limit=1")[0] == 200 and conn.same_socket
    # A file name longer than a file system allows (stored with the file record).
    body, ctype = _multipart([(b"file", b"\x89PNG\r\n", b"a" * 256 + b".png")])
    status, _, data = conn.request("POST", "/v1/files", body, ctype)
    assert status == 400 and b"invalid_request.filename" in data, data
    # A file of no known format: 422, the status create answers for `invalid_reference.format`.
    body, ctype = _multipart([(b"file", b"hello, not media at all", b"a.txt")])
    status, _, data = conn.request("POST", "/v1/files", body, ctype)
    assert status == 422 and b"invalid_reference.format" in data


def test_urlencoded_form_is_checked(sqlite_server: tuple[str, str]) -> None:
    conn = Conn(sqlite_server[0])
    status, _, data = conn.request(
        "POST", "/v1/videos", b"prompt=a%00b&seconds=1", "application/x-www-form-urlencoded"
    )
    assert status == 400 and b"invalid_request.text" in data
    status, _, data = conn.request(
        "POST", "/v1/videos", b"prompt=a%FFb&seconds=1", "application/x-www-form-urlencoded"
    )
    assert status == 400 and b"invalid_request.encoding" in data
    assert conn.same_socket


def test_oversized_body_is_413_in_the_dialects_shape(sqlite_server: tuple[str, str]) -> None:
    """Refused from its Content-Length before a byte of it is read; the answer closes."""
    conn = Conn(sqlite_server[0])
    conn.http.putrequest("POST", "/seedance/v1/generate")
    for name, value in {**AUTH, "Content-Type": "application/json",
                        "Content-Length": str(65 * 1024 * 1024)}.items():  # fmt: skip
        conn.http.putheader(name, value)
    conn.http.endheaders()
    resp = conn.http.getresponse()
    data = resp.read()
    assert resp.status == 413 and json.loads(data)["status"] == "failed"
    assert resp.getheader("connection") == "close"


def test_405_carries_allow(sqlite_server: tuple[str, str]) -> None:
    conn = Conn(sqlite_server[0])
    status, headers, _ = conn.request("PUT", "/v1/videos")
    assert status == 405
    assert set(headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    status, headers, _ = conn.request("PATCH", "/v1/keys/me")
    assert status == 405 and "GET" in headers["allow"]


def test_large_bodies_are_checked_too(sqlite_server: tuple[str, str]) -> None:
    """Bodies over 256 KiB are checked off the event loop, by the same rules."""
    conn = Conn(sqlite_server[0])
    pad = "x" * (400 * 1024)
    body = json.dumps({"prompt": "p", "pad": pad, "metadata": {"k": "a\udc00"}}).encode()
    status, _, data = conn.request("POST", "/v1/videos", body)
    assert status == 400 and b"metadata.k" in data, data[:300]
    body = json.dumps({"prompt": "p" * 300_000, "seconds": 1, "size": "854x480"}).encode()
    status, _, data = conn.request("POST", "/v1/videos", body)
    assert status == 400 and b"invalid_request.prompt_too_long" in data, data[:300]
    assert conn.same_socket


NUL_URLS = [
    "/v1/videos/%00", "/v1/videos/a%00b/content", "/v1/files/%00", "/v1/videos?after=%00",
    "/api/v3/contents/generations/tasks/%00",
    "/api/v3/contents/generations/tasks?filter.task_ids=%00", "/v1/prediction/%00",
    "/seedance/v1/status/%00", "/v1/keys/%00/ledger", "/v1/videos/%00/events",
    "/v1/videos?a%00=1",
]  # fmt: skip


def _check_nul_urls(conn: Conn) -> None:
    for url in NUL_URLS:
        status, _, data = conn.request("GET", url)
        assert status == 400 and b"invalid_request.text" in data, (url, status, data)
    for method, url in [("POST", "/v1/videos/%00/cancel"), ("DELETE", "/v1/keys/%00")]:
        status, _, data = conn.request(method, url)
        assert status == 400, (url, status, data)
    assert conn.request("GET", "/v1/videos?limit=1")[0] == 200 and conn.same_socket


def test_nul_in_a_url_is_a_400(sqlite_server: tuple[str, str]) -> None:
    _check_nul_urls(Conn(sqlite_server[0]))


def test_key_numbers_fit_their_columns(sqlite_server: tuple[str, str]) -> None:
    """Rates are 32-bit columns on PostgreSQL; credits are bounded too."""
    conn = Conn(sqlite_server[0])
    for field, value in [("creates_per_minute", 2**40), ("max_active_jobs", 2**31),
                         ("balance", 1e15), ("daily_budget", 1e15)]:  # fmt: skip
        body = json.dumps({"name": "x", field: value}).encode()
        status, _, data = conn.request("POST", "/v1/keys", body)
        assert status == 400 and field.encode() in data, (field, data)


def test_an_unhandled_error_closes_the_connection_and_says_so(tmp_path: Path) -> None:
    def make(base_url: str) -> Any:
        app = create_app(make_settings(tmp_path / "data"), engines=fixture_registry())

        async def boom() -> None:
            raise RuntimeError("a bug")

        app.add_api_route("/v1/boom", boom, methods=["GET"])
        return app

    with serve_app(make) as base_url:
        conn = Conn(base_url)
        status, headers, data = conn.request("GET", "/v1/boom")
        assert status == 500 and json.loads(data)["error"]["code"] == "internal"
        assert headers.get("connection") == "close"


@pytest.mark.postgres
def test_hostile_json_bodies_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    with running_reelforge(tmp_path / "data", database_url=postgres_url) as base_url:
        for route in ROUTES:
            _check_route(base_url, postgres_url, route)
        conn = Conn(base_url)
        body = json.dumps({"name": "x", "creates_per_minute": 2**40}).encode()
        assert conn.request("POST", "/v1/keys", body)[0] == 400
        body, ctype = _multipart([(b"file", b"\x89PNG\r\n", b"a" * 300 + b".png")])
        assert conn.request("POST", "/v1/files", body, ctype)[0] == 400
        body, ctype = _multipart([(b"file", b"\x89PNG\r\n", b"a\x00.png")])
        assert conn.request("POST", "/v1/files", body, ctype)[0] == 400
        assert conn.same_socket
        _check_nul_urls(conn)
