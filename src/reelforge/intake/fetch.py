"""SSRF-safe HTTP(S) fetching for reference URLs and webhook targets.

Every hop goes through the same steps:

1. Check the URL: scheme in `FetchPolicy.allowed_schemes` (http/https only), no userinfo, a
   non-empty host made of hostname characters, a port in 1..65535.
2. Resolve the host once (an IP literal in any inet_aton spelling is read directly; `localhost`
   and `*.localhost` count as loopback without a lookup) and refuse the hop if *any* answer is a
   forbidden address (`netguard.is_forbidden_address`), unless the policy allows it.
3. Connect to the checked address itself: the request URL is rewritten to the IP, the original
   `Host` header is sent and, for https, the original name is used for SNI and for certificate
   verification (httpcore's `sni_hostname` request extension). Nothing re-resolves the name, so a
   DNS answer that changes between check and connect (rebinding) has no effect.
4. Redirects are followed by hand (GET only, at most `max_redirects`), each target checked from
   step 1 again. `post_json` follows none.
5. The body is streamed and abandoned as soon as it exceeds `max_bytes` (a larger declared
   `Content-Length` is refused before reading). Only identity bodies are taken: a response with
   any other `Content-Encoding` (gzip, br, deflate, ...) is refused before a byte of its body is
   read, and bytes are read raw (never decoded), so a decompression bomb cannot expand in
   memory: one fetch holds at most `max_bytes` plus one read of the socket. One deadline
   (`total_timeout`) covers every hop; each connect, write and header wait is bounded by what is
   left of it, and a watchdog shuts the socket when the deadline passes during the body, so a
   server trickling bytes cannot hold a worker past it. DNS resolution itself is bounded only by
   the system resolver's own timeouts.

No proxy, `.netrc` or environment setting is consulted (`trust_env=False`), and no connection is
reused between hops or calls.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any
from urllib.parse import urlsplit

import httpx

from reelforge import codes
from reelforge.errors import InvalidReference, PayloadTooLarge
from reelforge.intake.netguard import (
    IPAddress,
    ip_in_networks,
    is_cloud_metadata,
    is_forbidden_address,
    parse_host,
    parse_networks,
)

__all__ = [
    "CODE_FETCH_FAILED",
    "CODE_FORBIDDEN_ADDRESS",
    "CODE_INVALID_URL",
    "CODE_SCHEME",
    "CODE_TIMEOUT",
    "CODE_TOO_LARGE",
    "CODE_TOO_MANY_REDIRECTS",
    "CODE_UNRESOLVABLE",
    "FetchPolicy",
    "FetchedResource",
    "ReferenceTooLarge",
    "Resolver",
    "SafeFetcher",
]

CODE_SCHEME = codes.INVALID_REFERENCE_URL_SCHEME
CODE_INVALID_URL = codes.INVALID_REFERENCE_URL_INVALID
CODE_FORBIDDEN_ADDRESS = codes.INVALID_REFERENCE_URL_FORBIDDEN_ADDRESS
CODE_UNRESOLVABLE = codes.INVALID_REFERENCE_URL_UNRESOLVABLE
CODE_TOO_MANY_REDIRECTS = codes.INVALID_REFERENCE_URL_TOO_MANY_REDIRECTS
CODE_TOO_LARGE = codes.INVALID_REFERENCE_TOO_LARGE
CODE_TIMEOUT = codes.INVALID_REFERENCE_URL_TIMEOUT
CODE_FETCH_FAILED = codes.INVALID_REFERENCE_URL_FETCH_FAILED
CODE_CONTENT_ENCODING = codes.INVALID_REFERENCE_URL_CONTENT_ENCODING

# `socket.getaddrinfo`-shaped: (host, port) -> [(family, type, proto, canonname, sockaddr), ...]
Resolver = Callable[[str, int], Sequence[tuple[Any, ...]]]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SUPPORTED_SCHEMES = frozenset(_DEFAULT_PORTS)
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_MAX_URL_LENGTH = 8192
# Headers the fetcher owns; a caller's values for them are dropped.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class ReferenceTooLarge(InvalidReference, PayloadTooLarge):
    """A fetched reference is larger than the policy allows (413, `invalid_reference.too_large`).

    Both an `InvalidReference` (it names the reference) and a `PayloadTooLarge` (its status).
    """

    code = codes.INVALID_REFERENCE_TOO_LARGE


@dataclass(frozen=True)
class FetchPolicy:
    """What a `SafeFetcher` may reach and how much it may take.

    `allow_private` (a development setting) lifts the address check, except for cloud metadata
    addresses, which are always refused. `extra_allowed_networks` lets an operator open chosen
    CIDR blocks (e.g. an internal asset store at `10.20.0.0/16`) while everything else stays
    refused; metadata addresses stay refused there too.
    """

    allow_private: bool = False
    max_bytes: int = 50 * 1024 * 1024
    connect_timeout: float = 5.0
    total_timeout: float = 30.0
    max_redirects: int = 3
    allowed_schemes: tuple[str, ...] = ("http", "https")
    extra_allowed_networks: tuple[str, ...] = ()
    user_agent: str = "reelforge-fetch/0.1"
    _networks: tuple[IPv4Network | IPv6Network, ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        if self.max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {self.max_bytes}")
        if self.connect_timeout <= 0 or self.total_timeout <= 0:
            raise ValueError(
                "connect_timeout and total_timeout must be positive, got "
                f"{self.connect_timeout} and {self.total_timeout}"
            )
        if self.max_redirects < 0:
            raise ValueError(f"max_redirects must be >= 0, got {self.max_redirects}")
        unknown = set(self.allowed_schemes) - _SUPPORTED_SCHEMES
        if unknown or not self.allowed_schemes:
            raise ValueError(
                f"allowed_schemes must be a non-empty subset of {sorted(_SUPPORTED_SCHEMES)}, "
                f"got {self.allowed_schemes}"
            )
        try:
            networks = parse_networks(self.extra_allowed_networks)
        except ValueError as exc:
            raise ValueError(f"extra_allowed_networks: {exc}") from exc
        object.__setattr__(self, "_networks", networks)

    def address_refusal(self, ip: IPAddress) -> str | None:
        """Why this policy refuses to connect to `ip`, or None when it may."""
        if is_cloud_metadata(ip):
            return is_forbidden_address(ip) or "cloud metadata"
        if self.allow_private or ip_in_networks(ip, self._networks):
            return None
        return is_forbidden_address(ip)


@dataclass(frozen=True)
class FetchedResource:
    url: str  # as the caller gave it
    final_url: str  # after redirects
    content_type: str | None  # the Content-Type header as sent, if any
    data: bytes


@dataclass(frozen=True)
class _Where:
    """Who the errors are about."""

    param: str | None
    reference_index: int | None

    def error(self, code: str, message: str) -> InvalidReference:
        cls = ReferenceTooLarge if code == CODE_TOO_LARGE else InvalidReference
        return cls(message, code=code, param=self.param, reference_index=self.reference_index)


@dataclass(frozen=True)
class _Hop:
    url: httpx.URL  # the checked URL with its original host
    host: str  # ASCII host without brackets, as in the URL
    port: int
    addresses: tuple[IPAddress, ...]


def _display(url: httpx.URL) -> str:
    """The URL without query or fragment (they often carry signatures or tokens)."""
    return str(url.copy_with(query=None, fragment=None))


class _Watchdog:
    """Shuts a response's socket down when the deadline passes while its body is read."""

    def __init__(self, response: httpx.Response, delay: float) -> None:
        self.fired = False
        self._lock = threading.Lock()
        self._done = False
        stream = response.extensions.get("network_stream")
        self._sock: Any = stream.get_extra_info("socket") if stream is not None else None
        self._timer: threading.Timer | None = None
        if self._sock is not None:
            self._timer = threading.Timer(max(delay, 0.0), self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            # Plain socket.shutdown on purpose: SSLSocket.shutdown would also tear down the TLS
            # object the reading thread is using. Shutting the descriptor makes that read return.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._sock, socket.SHUT_RDWR)

    def disarm(self) -> None:
        with self._lock:
            self._done = True
        if self._timer is not None:
            self._timer.cancel()


class SafeFetcher:
    """Fetches user-supplied URLs without reaching private networks. Thread-safe, stateless."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        resolver: Resolver = socket.getaddrinfo,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy if policy is not None else FetchPolicy()
        self._resolver = resolver
        self._ssl_context = ssl_context  # built on first https use when not given

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:  # a race here only builds two equal contexts
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    # -- public -------------------------------------------------------------------------------

    def fetch(
        self, url: str, *, param: str | None = None, reference_index: int | None = None
    ) -> FetchedResource:
        """GET `url`, following checked redirects, and return at most `max_bytes` of body.

        Raises `InvalidReference` (or `ReferenceTooLarge`) with one of the `CODE_*` codes, naming
        `param` and `reference_index`.
        """
        where = _Where(param, reference_index)
        policy = self.policy
        deadline = time.monotonic() + policy.total_timeout
        current = self._check_url(url, where)
        redirects = 0
        while True:
            hop = self._resolve(current, where)
            with self._exchange("GET", hop, {}, None, deadline, where) as response:
                location = response.headers.get("location")
                if response.status_code in _REDIRECT_STATUSES and location:
                    if redirects >= policy.max_redirects:
                        raise where.error(
                            CODE_TOO_MANY_REDIRECTS,
                            f"{_display(hop.url)} redirected more than "
                            f"{policy.max_redirects} times",
                        )
                    redirects += 1
                    try:
                        target = current.join(location)
                    except httpx.InvalidURL as exc:
                        raise where.error(
                            CODE_INVALID_URL,
                            f"{_display(hop.url)} redirected to an invalid URL: {exc}",
                        ) from exc
                    current = self._check_url(target, where)
                    continue
                if not 200 <= response.status_code < 300:
                    raise where.error(
                        CODE_FETCH_FAILED,
                        f"GET {_display(hop.url)} answered HTTP {response.status_code}",
                    )
                data = self._read_body(response, hop, deadline, where)
                return FetchedResource(
                    url=url,
                    final_url=str(current),
                    content_type=response.headers.get("content-type"),
                    data=data,
                )

    def check_target(self, url: str, *, param: str) -> None:
        """Check a URL without connecting: scheme, shape, credentials, and an address written
        into it that the policy refuses. Names are resolved and checked again on every use
        (DNS can change), so this only catches what is wrong for sure, early."""
        where = _Where(param, None)
        checked = self._check_url(url, where)
        host = checked.raw_host.decode("ascii")
        literal = parse_host(host)
        reason = self.policy.address_refusal(literal) if literal is not None else None
        if reason is not None:
            raise where.error(
                CODE_FORBIDDEN_ADDRESS,
                f"URL host {host!r} is {literal} ({reason}); only public addresses can be used",
            )

    def post_json(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        param: str | None = None,
    ) -> int:
        """POST `body` (JSON bytes) to `url` under the same guards; return the status code.

        Redirects are not followed (a 3xx is returned as is) and the response body is not read.
        Non-2xx statuses are returned, not raised; refusals, timeouts and connection failures
        raise `InvalidReference` with the `CODE_*` codes.
        """
        where = _Where(param, None)
        deadline = time.monotonic() + self.policy.total_timeout
        hop = self._resolve(self._check_url(url, where), where)
        extra = {"content-type": "application/json"}
        for name, value in (headers or {}).items():
            if name.lower() not in _RESERVED_HEADERS:
                extra[name.lower()] = value
        with self._exchange("POST", hop, extra, body, deadline, where) as response:
            return response.status_code

    # -- steps --------------------------------------------------------------------------------

    def _check_url(self, raw: str | httpx.URL, where: _Where) -> httpx.URL:
        if isinstance(raw, str):
            if len(raw) > _MAX_URL_LENGTH:
                raise where.error(CODE_INVALID_URL, f"URL longer than {_MAX_URL_LENGTH} chars")
            try:
                url = httpx.URL(raw.strip())
            except httpx.InvalidURL as exc:
                self._refuse_unparsed_address(raw, where)
                raise where.error(CODE_INVALID_URL, f"not a valid URL: {exc}") from exc
        else:
            url = raw
        scheme = url.scheme.lower()
        if scheme not in self.policy.allowed_schemes:
            allowed = " and ".join(self.policy.allowed_schemes)
            shown = f"{scheme}:" if scheme else "a relative URL"
            raise where.error(CODE_SCHEME, f"only {allowed} URLs can be fetched, got {shown}")
        if url.userinfo:
            raise where.error(CODE_INVALID_URL, "URLs with credentials (user@host) are refused")
        host = url.raw_host.decode("ascii")
        if not host:
            raise where.error(CODE_INVALID_URL, "the URL has no host")
        if ":" not in host and not _HOSTNAME_RE.match(host):
            raise where.error(CODE_INVALID_URL, f"the URL host {host!r} is not a valid hostname")
        if url.port is not None and not 1 <= url.port <= 65535:
            raise where.error(CODE_INVALID_URL, f"the URL port {url.port} is out of range")
        return url

    def _refuse_unparsed_address(self, raw: str, where: _Where) -> None:
        """Name the address in a URL httpx will not parse, when it is a forbidden one.

        httpx rejects some inet_aton spellings (`0177.0.0.1`); they can never be fetched, but
        "is 127.0.0.1 (loopback)" tells the user more than "invalid URL".
        """
        try:
            host = urlsplit(raw.strip()).hostname
        except ValueError:
            return
        ip = parse_host(host) if host else None
        reason = self.policy.address_refusal(ip) if ip is not None else None
        if reason is not None:
            raise where.error(
                CODE_FORBIDDEN_ADDRESS,
                f"URL host {host!r} is {ip} ({reason}); only public addresses can be fetched",
            )

    def _resolve(self, url: httpx.URL, where: _Where) -> _Hop:
        host = url.raw_host.decode("ascii")
        port = url.port or _DEFAULT_PORTS[url.scheme.lower()]
        literal = parse_host(host)
        if literal is not None:
            addresses: tuple[IPAddress, ...] = (literal,)
        else:
            name = host.rstrip(".").lower()
            if (name == "localhost" or name.endswith(".localhost")) and not (
                self.policy.allow_private
            ):
                raise where.error(
                    CODE_FORBIDDEN_ADDRESS,
                    f"URL host {host!r} is a loopback name; only public addresses can be fetched",
                )
            addresses = self._lookup(host, port, where)
        for ip in addresses:
            reason = self.policy.address_refusal(ip)
            if reason is not None:
                verb = "is" if literal is not None else "resolves to"
                raise where.error(
                    CODE_FORBIDDEN_ADDRESS,
                    f"URL host {host!r} {verb} {ip} ({reason}); "
                    "only public addresses can be fetched",
                )
        return _Hop(url=url, host=host, port=port, addresses=addresses)

    def _lookup(self, host: str, port: int, where: _Where) -> tuple[IPAddress, ...]:
        try:
            answers = self._resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise where.error(CODE_UNRESOLVABLE, f"URL host {host!r} does not resolve") from exc
        found: list[IPAddress] = []
        for answer in answers:
            family, sockaddr = answer[0], answer[4]
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            try:
                ip = ip_address(sockaddr[0])
            except ValueError:
                continue
            if ip not in found:
                found.append(ip)
        if not found:
            raise where.error(CODE_UNRESOLVABLE, f"URL host {host!r} has no IP address")
        return tuple(found)

    @contextlib.contextmanager
    def _exchange(
        self,
        method: str,
        hop: _Hop,
        extra_headers: Mapping[str, str],
        content: bytes | None,
        deadline: float,
        where: _Where,
    ) -> Iterator[httpx.Response]:
        """Send one request to the first checked address that accepts a connection."""
        headers = httpx.Headers(
            {
                "Host": hop.url.netloc.decode("ascii"),
                "User-Agent": self.policy.user_agent,
                "Accept": "*/*",
                "Accept-Encoding": "identity",
            }
        )
        for name, value in extra_headers.items():
            headers[name] = value
        extensions: dict[str, Any] = {}
        if hop.url.scheme.lower() == "https" and parse_host(hop.host) is None:
            extensions["sni_hostname"] = hop.host.rstrip(".")
        last_error: Exception | None = None
        for ip in hop.addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            timeout = httpx.Timeout(
                connect=min(self.policy.connect_timeout, remaining),
                read=remaining,
                write=remaining,
                pool=remaining,
            )
            pinned = hop.url.copy_with(host=str(ip), port=hop.port)
            # Plain http never uses the context, so it need not be built for it.
            verify = self._tls() if hop.url.scheme.lower() == "https" else False
            transport = httpx.HTTPTransport(verify=verify, trust_env=False, retries=0)
            with httpx.Client(
                transport=transport, trust_env=False, follow_redirects=False
            ) as client:
                request = client.build_request(
                    method,
                    pinned,
                    headers=headers,
                    content=content,
                    timeout=timeout,
                    extensions=extensions,
                )
                try:
                    response = client.send(request, stream=True)
                except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                    last_error = exc  # try the next checked address
                    continue
                except httpx.TimeoutException as exc:
                    raise self._timeout(hop, where) from exc
                except httpx.HTTPError as exc:
                    raise where.error(
                        CODE_FETCH_FAILED, f"{method} {_display(hop.url)} failed: {exc}"
                    ) from exc
                try:
                    yield response
                finally:
                    response.close()
                return
        if last_error is None or isinstance(last_error, httpx.TimeoutException):
            raise self._timeout(hop, where) from last_error
        raise where.error(
            CODE_FETCH_FAILED, f"could not connect to {_display(hop.url)}: {last_error}"
        ) from last_error

    def _read_body(
        self, response: httpx.Response, hop: _Hop, deadline: float, where: _Where
    ) -> bytes:
        limit = self.policy.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(hop, where, f"Content-Length: {int(declared)}")
        encodings = [
            e.strip().lower() for e in response.headers.get("content-encoding", "").split(",")
        ]
        if any(e not in ("", "identity") for e in encodings):
            # We ask for identity; a compressed answer could expand far past `max_bytes` in
            # one decoded chunk, so it is refused unread.
            raise where.error(
                CODE_CONTENT_ENCODING,
                f"{_display(hop.url)} answered with Content-Encoding: "
                f"{response.headers['content-encoding']}; only uncompressed (identity) bodies are "
                "fetched",
            )
        watchdog = _Watchdog(response, deadline - time.monotonic())
        data = bytearray()
        try:
            for chunk in response.iter_raw():  # the bytes as sent: nothing decoded
                data += chunk
                if len(data) > limit:
                    raise self._too_large(hop, where, f"stopped reading at {len(data)} bytes")
                if time.monotonic() >= deadline:
                    raise self._timeout(hop, where)
        except (httpx.HTTPError, OSError) as exc:
            if watchdog.fired or time.monotonic() >= deadline:
                raise self._timeout(hop, where) from exc
            raise where.error(
                CODE_FETCH_FAILED, f"reading {_display(hop.url)} failed: {exc}"
            ) from exc
        finally:
            watchdog.disarm()
        return bytes(data)

    def _timeout(self, hop: _Hop, where: _Where) -> InvalidReference:
        return where.error(
            CODE_TIMEOUT,
            f"fetching {_display(hop.url)} took longer than {self.policy.total_timeout:g} s",
        )

    def _too_large(self, hop: _Hop, where: _Where, detail: str) -> InvalidReference:
        return where.error(
            CODE_TOO_LARGE,
            f"{_display(hop.url)} is larger than the limit of {self.policy.max_bytes} bytes "
            f"({detail})",
        )
