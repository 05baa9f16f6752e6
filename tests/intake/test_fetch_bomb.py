"""Decompression bombs through a reference URL (issue 12): a loopback server answers a small
gzip body that decodes to 256 MiB. The fetcher refuses any non-identity `Content-Encoding`
unread and never decodes bytes, so eight fetches at once raise the process's peak RSS by less
than the bound `docs/api/limits.md` states (8 x 1 MiB here: each fetch holds at most its byte
limit, and these are refused before their body is read)."""

from __future__ import annotations

import contextlib
import gzip
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reelforge.errors import InvalidReference
from reelforge.intake.fetch import CODE_CONTENT_ENCODING, FetchPolicy, SafeFetcher

MIB = 1024 * 1024
BOMB = gzip.compress(b"\0" * (256 * MIB), compresslevel=9)  # ~250 KB on the wire
POLICY = FetchPolicy(allow_private=True, max_bytes=30 * MIB, total_timeout=10.0)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        encoding = {"/bomb": "gzip", "/bomb-br": "br, gzip", "/identity": "identity"}.get(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(BOMB)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the fetcher hangs up: that is the point
            self.wfile.write(BOMB)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _peak_rss_reset() -> bool:
    """Reset the kernel's peak-RSS mark of this process (VmHWM); False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


@pytest.mark.parametrize("path", ["/bomb", "/bomb-br"])
def test_compressed_answers_are_refused_unread(base_url: str, path: str) -> None:
    with pytest.raises(InvalidReference) as err:
        SafeFetcher(POLICY).fetch(base_url + path, param="references[0]", reference_index=0)
    assert err.value.code == CODE_CONTENT_ENCODING
    assert err.value.http_status == 400
    assert err.value.param == "references[0]"
    assert "Content-Encoding" in err.value.message


def test_bytes_are_never_decoded(base_url: str) -> None:
    """Gzip bytes sent without a Content-Encoding (or as identity) come back as sent."""
    for path in ("/plain", "/identity"):
        fetched = SafeFetcher(POLICY).fetch(base_url + path)
        assert fetched.data == BOMB


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_eight_concurrent_bombs_keep_memory_bounded(base_url: str) -> None:
    fetcher = SafeFetcher(POLICY)

    def fetch(_: int) -> str:
        try:
            fetcher.fetch(base_url + "/bomb")
        except InvalidReference as exc:
            return exc.code
        return "fetched"

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fetch, range(8)))  # warm: threads, TLS-free client set-up, imports
        exact = _peak_rss_reset()
        before = _status_kib("VmHWM" if exact else "VmRSS")
        codes = list(pool.map(fetch, range(8)))
        after = _status_kib("VmHWM" if exact else "VmRSS")
    assert codes == [CODE_CONTENT_ENCODING] * 8
    grew_mib = (after - before) / 1024
    assert grew_mib < 8, f"peak RSS grew by {grew_mib:.1f} MiB for 8 refused bombs"
