"""SafeFetcher against real listeners on loopback: refusals never connect, allowed fetches work.

"Allowed" fetches use either `allow_private=True` (the development setting) or a listener bound
on 127.0.0.2 that the policy opens with `extra_allowed_networks=("127.0.0.2/32",)`, while
127.0.0.1 stays forbidden; that pair shows redirects and DNS answers being checked per hop.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from reelforge.errors import InvalidReference, PayloadTooLarge
from reelforge.intake.fetch import (
    CODE_FETCH_FAILED,
    CODE_FORBIDDEN_ADDRESS,
    CODE_INVALID_URL,
    CODE_SCHEME,
    CODE_TIMEOUT,
    CODE_TOO_LARGE,
    CODE_TOO_MANY_REDIRECTS,
    CODE_UNRESOLVABLE,
    FetchPolicy,
    ReferenceTooLarge,
    SafeFetcher,
)

# -- a real HTTP listener that records what reaches it ----------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Record:
    connections: list[Any] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    bytes_sent: int = 0
    sni: list[str | None] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    record: Record

    def get_request(self) -> tuple[Any, Any]:
        sock, addr = super().get_request()
        self.record.connections.append(addr)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up mid-body are part of the tests


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _record(self, body: bytes = b"") -> None:
        self.server.record.requests.append(
            Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._record(body)
        if self.path == "/hook-redirect":
            self._send(302, headers={"Location": "/hook"})
        else:
            self._send(204)

    def do_GET(self) -> None:
        self._record()
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        if path == "/ok":
            self._send(200, b"hello reelforge", {"Content-Type": "text/plain"})
        elif path == "/redirect":
            time.sleep(float(query.get("delay", "0")))
            self._send(int(query.get("status", "302")), headers={"Location": query["to"]})
        elif path == "/loop":
            self._send(302, headers={"Location": "/loop"})
        elif path.startswith("/chain/"):
            left = int(path.rsplit("/", 1)[1])
            if left:
                self._send(307, headers={"Location": f"/chain/{left - 1}"})
            else:
                self._send(200, b"end of chain")
        elif path.startswith("/status/"):
            self._send(int(path.rsplit("/", 1)[1]), b"nope")
        elif path == "/endless":
            self._endless()
        elif path == "/declared-big":
            self.send_response(200)
            self.send_header("Content-Length", str(10**9))
            self.end_headers()
            self._pump(10**9)
        elif path == "/slow-headers":
            time.sleep(float(query.get("delay", "3")))
            self._send(200, b"late")
        elif path == "/trickle":
            self._trickle(float(query["gap"]), int(query.get("count", "50")))
        else:
            self._send(404)

    def _endless(self) -> None:
        """Chunked body with no declared length, written until the client hangs up."""
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"x" * 65536
        framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
        try:
            for _ in range(4096):  # at most 256 MiB
                self.wfile.write(framed)
                self.server.record.bytes_sent += len(chunk)
        except OSError:
            pass
        self.close_connection = True

    def _pump(self, total: int) -> None:
        chunk = b"y" * 65536
        try:
            while total > 0:
                self.wfile.write(chunk)
                self.server.record.bytes_sent += len(chunk)
                total -= len(chunk)
        except OSError:
            pass
        self.close_connection = True

    def _trickle(self, gap: float, count: int) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(count))
        self.end_headers()
        try:
            for _ in range(count):
                self.wfile.write(b"z")
                self.wfile.flush()
                self.server.record.bytes_sent += 1
                time.sleep(gap)
        except OSError:
            pass
        self.close_connection = True


class Listener:
    def __init__(self, host: str, tls: ssl.SSLContext | None = None) -> None:
        server_cls = _Server6 if ":" in host else _Server
        self.server = server_cls((host, 0), _Handler)
        self.server.record = Record()
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.host = host
        self.port: int = self.server.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def record(self) -> Record:
        return self.server.record

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, path: str = "/ok") -> str:
        return f"{self.scheme}://{self.netloc}{path}"

    def assert_untouched(self) -> None:
        time.sleep(0.02)  # a connection that did happen would be accepted by now
        assert self.record.connections == []

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def loopback() -> Iterator[Listener]:
    listener = Listener("127.0.0.1")
    yield listener
    listener.close()


@pytest.fixture
def allowed() -> Iterator[Listener]:
    """A listener on 127.0.0.2, which `OPEN_127_0_0_2` treats as an allowed network."""
    listener = Listener("127.0.0.2")
    yield listener
    listener.close()


@pytest.fixture
def loopback6() -> Iterator[Listener]:
    listener = Listener("::1")
    yield listener
    listener.close()


OPEN_127_0_0_2 = FetchPolicy(extra_allowed_networks=("127.0.0.2/32",), total_timeout=5.0)
DEV = FetchPolicy(allow_private=True, total_timeout=5.0)


class FakeDNS:
    """A getaddrinfo-shaped resolver over a table; each name's answers can change per call."""

    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table = table
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[tuple[Any, ...]]:
        self.calls.append(host)
        answers = self.table.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        ips = answers.pop(0) if len(answers) > 1 else answers[0]
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in ips
        ]


def dns(**names: str | list[str]) -> FakeDNS:
    """dns(media_example_test="127.0.0.2") -> "media.example.test" answers 127.0.0.2."""
    table: dict[str, list[list[str]]] = {}
    for key, value in names.items():
        table[key.replace("_", ".")] = [[value] if isinstance(value, str) else value]
    return FakeDNS(table)


def refused(call: Callable[[], object], code: str) -> InvalidReference:
    with pytest.raises(InvalidReference) as info:
        call()
    assert info.value.code == code, info.value.message
    return info.value


# -- refusals that never connect ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("127.0.0.1", "127.0.0.1 (loopback)"),
        ("0.0.0.0", "0.0.0.0 (unspecified)"),
        ("[::ffff:127.0.0.1]", "(IPv4-mapped 127.0.0.1 (loopback))"),
        ("[::ffff:7f00:1]", "IPv4-mapped 127.0.0.1 (loopback)"),
        ("2130706433", "127.0.0.1 (loopback)"),
        ("0177.0.0.1", "127.0.0.1 (loopback)"),
        ("0x7f000001", "127.0.0.1 (loopback)"),
        ("0x7f.1", "127.0.0.1 (loopback)"),
        ("127.1", "127.0.0.1 (loopback)"),
        ("127.0.0.1.", "127.0.0.1 (loopback)"),
    ],
)
def test_loopback_spellings_are_refused_without_connecting(
    loopback: Listener, host: str, shown: str
) -> None:
    fetcher = SafeFetcher(FetchPolicy())
    error = refused(
        lambda: fetcher.fetch(f"http://{host}:{loopback.port}/ok"), CODE_FORBIDDEN_ADDRESS
    )
    assert shown in error.message
    assert repr(host.strip("[]")) in error.message or host.startswith("[")
    loopback.assert_untouched()


@pytest.mark.parametrize("name", ["localhost", "localhost.", "LOCALHOST", "media.localhost"])
def test_localhost_names_are_refused_without_connecting(loopback: Listener, name: str) -> None:
    error = refused(
        lambda: SafeFetcher().fetch(f"http://{name}:{loopback.port}/ok"), CODE_FORBIDDEN_ADDRESS
    )
    assert "loopback" in error.message
    loopback.assert_untouched()


def test_ipv6_loopback_is_refused_without_connecting(loopback6: Listener) -> None:
    error = refused(lambda: SafeFetcher().fetch(loopback6.url()), CODE_FORBIDDEN_ADDRESS)
    assert "::1 (loopback)" in error.message
    loopback6.assert_untouched()


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("[fd00:ec2::254]", "cloud metadata"),
        ("[fe80::1]", "link-local"),
        ("[64:ff9b::a9fe:a9fe]", "NAT64 169.254.169.254 (cloud metadata)"),
    ],
)
def test_private_and_metadata_addresses_are_refused(host: str, reason: str) -> None:
    error = refused(lambda: SafeFetcher().fetch(f"http://{host}/x"), CODE_FORBIDDEN_ADDRESS)
    assert f"({reason})" in error.message


def test_metadata_stays_refused_in_development_mode() -> None:
    error = refused(
        lambda: SafeFetcher(DEV).fetch("http://169.254.169.254/latest/meta-data/"),
        CODE_FORBIDDEN_ADDRESS,
    )
    assert "cloud metadata" in error.message


def test_name_resolving_to_loopback_is_refused(loopback: Listener) -> None:
    resolver = dns(cdn_example_test="127.0.0.1")
    fetcher = SafeFetcher(resolver=resolver)
    error = refused(
        lambda: fetcher.fetch(f"http://cdn.example.test:{loopback.port}/ok"),
        CODE_FORBIDDEN_ADDRESS,
    )
    assert "'cdn.example.test' resolves to 127.0.0.1 (loopback)" in error.message
    loopback.assert_untouched()


def test_any_forbidden_answer_refuses_the_name(allowed: Listener, loopback: Listener) -> None:
    resolver = dns(cdn_example_test=["127.0.0.2", "127.0.0.1"])
    fetcher = SafeFetcher(OPEN_127_0_0_2, resolver=resolver)
    error = refused(
        lambda: fetcher.fetch(f"http://cdn.example.test:{allowed.port}/ok"),
        CODE_FORBIDDEN_ADDRESS,
    )
    assert "127.0.0.1 (loopback)" in error.message
    allowed.assert_untouched()
    loopback.assert_untouched()


def test_unresolvable_name() -> None:
    error = refused(
        lambda: SafeFetcher(resolver=dns()).fetch("https://nowhere.example.test/a.png"),
        CODE_UNRESOLVABLE,
    )
    assert "nowhere.example.test" in error.message


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("file:///etc/passwd", CODE_SCHEME),
        ("ftp://example.com/a.png", CODE_SCHEME),
        ("gopher://example.com:70/_x", CODE_SCHEME),
        ("data:image/png;base64,AAAA", CODE_SCHEME),
        ("/relative/path.png", CODE_SCHEME),
        ("http://user:pw@example.com/a.png", CODE_INVALID_URL),
        ("http://user@example.com/a.png", CODE_INVALID_URL),
        ("http:///a.png", CODE_INVALID_URL),
        ("http://exa\\mple.com/a.png", CODE_INVALID_URL),
        ("http://%31%32%37.0.0.1/a.png", CODE_INVALID_URL),
        ("http://example.com:0/a.png", CODE_INVALID_URL),
        ("http://example.com:99999/a.png", CODE_INVALID_URL),
    ],
)
def test_bad_urls_are_refused_before_any_lookup(url: str, code: str) -> None:
    resolver = dns(example_com="93.184.216.34")
    refused(lambda: SafeFetcher(resolver=resolver).fetch(url), code)
    assert resolver.calls == []


def test_errors_name_the_reference() -> None:
    error = refused(
        lambda: SafeFetcher().fetch(
            "http://127.0.0.1/a.png", param="references[3].url", reference_index=3
        ),
        CODE_FORBIDDEN_ADDRESS,
    )
    assert error.param == "references[3].url"
    assert error.reference_index == 3
    assert error.http_status == 400


def test_error_messages_leave_out_query_strings(allowed: Listener) -> None:
    fetcher = SafeFetcher(OPEN_127_0_0_2)
    error = refused(
        lambda: fetcher.fetch(allowed.url("/status/403?X-Amz-Signature=secret")), CODE_FETCH_FAILED
    )
    assert "secret" not in error.message
    assert "/status/403" in error.message


# -- allowed fetches ---------------------------------------------------------------------------


def test_fetch_returns_the_body(loopback: Listener) -> None:
    got = SafeFetcher(DEV).fetch(loopback.url("/ok?x=1"))
    assert got.data == b"hello reelforge"
    assert got.content_type == "text/plain"
    assert got.url == got.final_url == loopback.url("/ok?x=1")
    [seen] = loopback.record.requests
    assert seen.path == "/ok?x=1"
    assert seen.headers["host"] == loopback.netloc
    assert seen.headers["accept-encoding"] == "identity"


def test_connects_to_the_checked_address_and_sends_the_original_host(
    allowed: Listener, loopback: Listener
) -> None:
    # The name's answer flips to loopback after the first lookup (DNS rebinding); the fetcher
    # looks it up once and connects to the address it checked.
    resolver = FakeDNS({"media.example.test": [["127.0.0.2"], ["127.0.0.1"]]})
    fetcher = SafeFetcher(OPEN_127_0_0_2, resolver=resolver)
    got = fetcher.fetch(f"http://media.example.test:{allowed.port}/ok")
    assert got.data == b"hello reelforge"
    assert resolver.calls == ["media.example.test"]
    assert allowed.record.requests[0].headers["host"] == f"media.example.test:{allowed.port}"
    loopback.assert_untouched()


def test_size_cap_stops_an_endless_body_mid_stream(loopback: Listener) -> None:
    fetcher = SafeFetcher(FetchPolicy(allow_private=True, max_bytes=200_000, total_timeout=5.0))
    started = time.monotonic()
    with pytest.raises(ReferenceTooLarge) as info:
        fetcher.fetch(loopback.url("/endless"))
    assert info.value.code == CODE_TOO_LARGE
    assert isinstance(info.value, PayloadTooLarge)
    assert isinstance(info.value, InvalidReference)
    assert info.value.http_status == 413
    assert time.monotonic() - started < 2
    time.sleep(0.05)
    # The server stops when the client hangs up: far less than its 256 MiB went out.
    assert loopback.record.bytes_sent < 64 * 1024 * 1024


def test_size_cap_refuses_a_declared_length_before_reading(loopback: Listener) -> None:
    fetcher = SafeFetcher(FetchPolicy(allow_private=True, max_bytes=1000, total_timeout=5.0))
    error = refused(lambda: fetcher.fetch(loopback.url("/declared-big")), CODE_TOO_LARGE)
    assert "Content-Length: 1000000000" in error.message


def test_body_at_exactly_the_cap_is_fine(loopback: Listener) -> None:
    fetcher = SafeFetcher(FetchPolicy(allow_private=True, max_bytes=15, total_timeout=5.0))
    assert fetcher.fetch(loopback.url("/ok")).data == b"hello reelforge"
    fetcher = SafeFetcher(FetchPolicy(allow_private=True, max_bytes=14, total_timeout=5.0))
    refused(lambda: fetcher.fetch(loopback.url("/ok")), CODE_TOO_LARGE)


def test_redirects_are_followed_up_to_the_limit(loopback: Listener) -> None:
    fetcher = SafeFetcher(DEV)  # max_redirects=3
    got = fetcher.fetch(loopback.url("/chain/3"))
    assert got.data == b"end of chain"
    assert got.final_url == loopback.url("/chain/0")
    refused(lambda: fetcher.fetch(loopback.url("/chain/4")), CODE_TOO_MANY_REDIRECTS)


def test_redirect_loop_is_cut(loopback: Listener) -> None:
    fetcher = SafeFetcher(FetchPolicy(allow_private=True, max_redirects=2, total_timeout=5.0))
    refused(lambda: fetcher.fetch(loopback.url("/loop")), CODE_TOO_MANY_REDIRECTS)
    assert len(loopback.record.requests) == 3  # the first request and two redirects


def test_redirect_to_file_is_refused(loopback: Listener) -> None:
    url = loopback.url("/redirect?to=" + quote("file:///etc/passwd", safe=""))
    refused(lambda: SafeFetcher(DEV).fetch(url), CODE_SCHEME)


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/ok",
        "http://2130706433:{port}/ok",
        "http://[::ffff:127.0.0.1]:{port}/ok",
        "http://localhost:{port}/ok",
        "http://rebind.example.test:{port}/ok",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_redirect_to_a_forbidden_address_is_refused(
    allowed: Listener, loopback: Listener, target: str
) -> None:
    assert_redirect_refused(allowed, loopback, target, 302)


@pytest.mark.parametrize("status", [301, 303, 307, 308])
def test_every_redirect_status_is_checked(
    allowed: Listener, loopback: Listener, status: int
) -> None:
    assert_redirect_refused(allowed, loopback, "http://127.0.0.1:{port}/ok", status)


def assert_redirect_refused(
    allowed: Listener, loopback: Listener, target: str, status: int
) -> None:
    resolver = dns(media_example_test="127.0.0.2", rebind_example_test="127.0.0.1")
    fetcher = SafeFetcher(OPEN_127_0_0_2, resolver=resolver)
    location = quote(target.format(port=loopback.port), safe="")
    start = f"http://media.example.test:{allowed.port}/redirect?status={status}&to={location}"
    refused(lambda: fetcher.fetch(start), CODE_FORBIDDEN_ADDRESS)
    assert len(allowed.record.requests) == 1
    loopback.assert_untouched()


def test_relative_redirect_stays_on_the_checked_host(allowed: Listener) -> None:
    resolver = dns(media_example_test="127.0.0.2")
    fetcher = SafeFetcher(OPEN_127_0_0_2, resolver=resolver)
    start = f"http://media.example.test:{allowed.port}/redirect?to=/ok"
    got = fetcher.fetch(start)
    assert got.data == b"hello reelforge"
    assert got.final_url == f"http://media.example.test:{allowed.port}/ok"
    assert resolver.calls == ["media.example.test", "media.example.test"]  # once per hop


def test_non_2xx_fails_with_the_status(loopback: Listener) -> None:
    error = refused(lambda: SafeFetcher(DEV).fetch(loopback.url("/status/404")), CODE_FETCH_FAILED)
    assert "HTTP 404" in error.message


def test_connection_refused_fails_cleanly() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = refused(
        lambda: SafeFetcher(DEV).fetch(f"http://127.0.0.1:{port}/ok"), CODE_FETCH_FAILED
    )
    assert "could not connect" in error.message


# -- the deadline ------------------------------------------------------------------------------


def test_slow_headers_hit_the_deadline(loopback: Listener) -> None:
    fetcher = SafeFetcher(FetchPolicy(allow_private=True, total_timeout=0.3))
    started = time.monotonic()
    refused(lambda: fetcher.fetch(loopback.url("/slow-headers?delay=3")), CODE_TIMEOUT)
    assert time.monotonic() - started < 1.0


def test_trickled_body_hits_the_deadline(loopback: Listener) -> None:
    # Each byte comes well within any single read timeout; only the overall deadline stops it.
    fetcher = SafeFetcher(FetchPolicy(allow_private=True, total_timeout=0.5))
    started = time.monotonic()
    refused(lambda: fetcher.fetch(loopback.url("/trickle?gap=0.05&count=100")), CODE_TIMEOUT)
    assert time.monotonic() - started < 1.0


def test_deadline_interrupts_a_read_in_progress(loopback: Listener) -> None:
    # Bytes 0.8 s apart with a 1 s deadline: the second byte comes at ~1.6 s, past the deadline
    # but inside a read timeout sized to the time left at the start. The watchdog cuts the read
    # at ~1 s instead.
    fetcher = SafeFetcher(FetchPolicy(allow_private=True, total_timeout=1.0))
    started = time.monotonic()
    refused(lambda: fetcher.fetch(loopback.url("/trickle?gap=0.8&count=5")), CODE_TIMEOUT)
    assert time.monotonic() - started < 1.4


def test_deadline_spans_redirects(loopback: Listener) -> None:
    fetcher = SafeFetcher(FetchPolicy(allow_private=True, total_timeout=0.5))
    slow = quote("/slow-headers?delay=0.3", safe="")
    # One slow hop fits in the budget ...
    assert fetcher.fetch(loopback.url(f"/redirect?to={slow}")).data == b"late"
    # ... two do not, though each alone would.
    started = time.monotonic()
    refused(lambda: fetcher.fetch(loopback.url(f"/redirect?delay=0.3&to={slow}")), CODE_TIMEOUT)
    assert time.monotonic() - started < 1.0


# -- webhooks ----------------------------------------------------------------------------------


def test_post_json_delivers_and_returns_the_status(loopback: Listener) -> None:
    status = SafeFetcher(DEV).post_json(
        loopback.url("/hook"),
        b'{"type":"video.completed"}',
        {"webhook-id": "msg_1", "Host": "evil.internal", "Content-Type": "application/json"},
    )
    assert status == 204
    [seen] = loopback.record.requests
    assert seen.method == "POST"
    assert seen.body == b'{"type":"video.completed"}'
    assert seen.headers["webhook-id"] == "msg_1"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["host"] == loopback.netloc  # the caller cannot pick the Host


def test_post_json_does_not_follow_redirects(loopback: Listener) -> None:
    status = SafeFetcher(DEV).post_json(loopback.url("/hook-redirect"), b"{}")
    assert status == 302
    assert [r.path for r in loopback.record.requests] == ["/hook-redirect"]


def test_post_json_refuses_private_targets(loopback: Listener) -> None:
    error = refused(
        lambda: SafeFetcher().post_json(loopback.url("/hook"), b"{}", param="webhook_url"),
        CODE_FORBIDDEN_ADDRESS,
    )
    assert error.param == "webhook_url"
    loopback.assert_untouched()
    refused(lambda: SafeFetcher().post_json("file:///tmp/x", b"{}"), CODE_SCHEME)


# -- https: the pinned connection still verifies the certificate for the original name ----------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=media.example.test",
         "-addext", "subjectAltName=DNS:media.example.test",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_listener(certificate: tuple[Path, Path]) -> Iterator[Listener]:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []

    def remember(_sock: Any, server_name: str | None, _ctx: Any) -> None:
        names.append(server_name)

    context.sni_callback = remember
    listener = Listener("127.0.0.2", tls=context)
    listener.record.sni = names
    yield listener
    listener.close()


def test_https_pins_the_address_and_verifies_the_original_name(
    tls_listener: Listener, certificate: tuple[Path, Path]
) -> None:
    client_context = ssl.create_default_context(cafile=str(certificate[0]))
    resolver = dns(media_example_test="127.0.0.2", other_example_test="127.0.0.2")
    fetcher = SafeFetcher(OPEN_127_0_0_2, resolver=resolver, ssl_context=client_context)
    got = fetcher.fetch(f"https://media.example.test:{tls_listener.port}/ok")
    assert got.data == b"hello reelforge"
    assert tls_listener.record.sni == ["media.example.test"]
    assert tls_listener.record.requests[0].headers["host"] == (
        f"media.example.test:{tls_listener.port}"
    )
    # Same address, a name the certificate does not cover: verification still applies.
    error = refused(
        lambda: fetcher.fetch(f"https://other.example.test:{tls_listener.port}/ok"),
        CODE_FETCH_FAILED,
    )
    assert "certificate" in error.message.lower()
