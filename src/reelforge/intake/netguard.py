"""Address policy for outbound fetches (reference URLs, webhook targets).

Two questions live here, both pure functions with no I/O:

- `parse_host(host)`: does this URL host denote an IP address, in any spelling a resolver would
  accept (`127.0.0.1`, `127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`, `[::1]`, ...)? The
  IPv4 forms follow libc's `inet_aton`, which is what `getaddrinfo` uses for numeric hosts.
- `is_forbidden_address(ip)`: is this an address a user-supplied URL must never reach? The answer
  is a short reason (`"loopback"`, `"cloud metadata"`, `"IPv4-mapped 127.0.0.1 (loopback)"`) or
  `None` when the address is public.

The tables below are explicit rather than built on `ipaddress`'s `is_private` / `is_global`,
whose answers have changed between Python patch releases. Sources: the IANA IPv4 and IPv6
special-purpose address registries (RFC 6890 and updates), RFC 6052 / 8215 (NAT64), RFC 3056
(6to4), RFC 4380 (Teredo), RFC 9637 (3fff::/20 documentation).
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

__all__ = [
    "IPAddress",
    "embedded_ipv4",
    "ip_in_networks",
    "is_cloud_metadata",
    "is_forbidden_address",
    "parse_host",
    "parse_ipv4_aton",
    "parse_networks",
]

IPAddress = IPv4Address | IPv6Address

# Instance metadata endpoints. Always refused, even where private addresses are allowed.
_METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        IPv4Address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        IPv4Address("169.254.170.2"),  # AWS ECS task metadata / credentials
        IPv4Address("169.254.170.23"),  # AWS EKS pod identity agent
        IPv4Address("100.100.100.200"),  # Alibaba Cloud
        IPv4Address("192.0.0.192"),  # Oracle Cloud (legacy)
        IPv4Address("168.63.129.16"),  # Azure WireServer (a public address, host-local service)
        IPv6Address("fd00:ec2::254"),  # AWS IMDS over IPv6
        IPv6Address("fd00:ec2::23"),  # AWS EKS pod identity agent over IPv6
    }
)

# First match wins, so narrower, more telling entries come first.
_IPV4_TABLE: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), reason)
    for net, reason in (
        ("0.0.0.0/32", "unspecified"),
        ("0.0.0.0/8", "reserved"),  # "this network"
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
        ("192.0.2.0/24", "documentation"),
        ("192.88.99.0/24", "reserved"),  # deprecated 6to4 relay anycast
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # includes 255.255.255.255 broadcast
    )
)

_IPV6_TABLE: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), reason)
    for net, reason in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("64:ff9b:1::/48", "private"),  # local-use NAT64 (RFC 8215), site-specific mapping
        ("100::/64", "reserved"),  # discard-only
        ("2001::/32", "reserved"),  # Teredo
        ("2001:db8::/32", "documentation"),
        ("2001::/23", "reserved"),  # IETF protocol assignments
        ("3fff::/20", "documentation"),
        ("5f00::/16", "reserved"),  # SRv6 SIDs
        ("fc00::/7", "private"),  # unique local
        ("fe80::/10", "link-local"),
        ("fec0::/10", "private"),  # deprecated site-local
        ("ff00::/8", "multicast"),
    )
)

_GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")

# IPv6 prefixes that carry an IPv4 address in their low 32 bits.
_MAPPED = IPv6Network("::ffff:0:0/96")  # IPv4-mapped
_TRANSLATED = IPv6Network("::ffff:0:0:0/96")  # IPv4-translated (SIIT, RFC 2765)
_COMPATIBLE = IPv6Network("::/96")  # IPv4-compatible (deprecated)
_NAT64 = IPv6Network("64:ff9b::/96")  # NAT64 well-known prefix


def embedded_ipv4(ip: IPv6Address) -> tuple[str, IPv4Address] | None:
    """The IPv4 address an IPv6 address carries, with the kind of embedding, or None.

    Covers IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`),
    IPv4-compatible (`::a.b.c.d`, not `::` or `::1`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4
    (`2002:AABB:CCDD::/48`).
    """
    packed = int(ip)
    low = IPv4Address(packed & 0xFFFFFFFF)
    if ip in _MAPPED:
        return "IPv4-mapped", low
    if ip in _TRANSLATED:
        return "IPv4-translated", low
    if ip in _NAT64:
        return "NAT64", low
    if ip in _COMPATIBLE and packed > 1:
        return "IPv4-compatible", low
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    return None


def is_cloud_metadata(ip: IPAddress) -> bool:
    """Whether `ip` is (or embeds) a known cloud instance-metadata address."""
    if ip in _METADATA_ADDRESSES:
        return True
    if isinstance(ip, IPv6Address):
        if ip.scope_id is not None:
            ip = IPv6Address(int(ip))
            if ip in _METADATA_ADDRESSES:
                return True
        embedded = embedded_ipv4(ip)
        if embedded is not None:
            return embedded[1] in _METADATA_ADDRESSES
    return False


def is_forbidden_address(ip: IPAddress) -> str | None:
    """Why a fetch must not connect to `ip`, or None when it is a public unicast address."""
    if isinstance(ip, IPv6Address) and ip.scope_id is not None:
        ip = IPv6Address(int(ip))  # drop the zone: "fe80::1%eth0" -> fe80::1
    if ip in _METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(ip, IPv4Address):
        for net4, reason in _IPV4_TABLE:
            if ip in net4:
                return reason
        return None
    # Unspecified and loopback sit inside ::/96; answer them before looking for an embedding.
    if ip == IPv6Address("::"):
        return "unspecified"
    if ip == IPv6Address("::1"):
        return "loopback"
    embedded = embedded_ipv4(ip)
    if embedded is not None:
        kind, v4 = embedded
        inner = is_forbidden_address(v4)
        return None if inner is None else f"{kind} {v4} ({inner})"
    for net6, reason in _IPV6_TABLE:
        if ip in net6:
            return reason
    if ip not in _GLOBAL_UNICAST_V6:
        return "reserved"
    return None


def _aton_part(text: str) -> int | None:
    """One dot-separated part the way inet_aton reads it: 0x.. hex, 0.. octal, else decimal."""
    if text[:2] in ("0x", "0X"):
        digits, base = text[2:], 16
        allowed = "0123456789abcdefABCDEF"
    elif len(text) > 1 and text[0] == "0":
        digits, base = text[1:], 8
        allowed = "01234567"
    else:
        digits, base = text, 10
        allowed = "0123456789"
    if not digits or any(c not in allowed for c in digits):
        return None
    return int(digits, base)


def parse_ipv4_aton(text: str) -> IPv4Address | None:
    """Parse `text` as libc's inet_aton would (1 to 4 parts, each decimal, octal or hex).

    `a` is 32 bits, `a.b` is 8.24, `a.b.c` is 8.8.16 and `a.b.c.d` is 8.8.8.8. Returns None when
    inet_aton would refuse the text.
    """
    parts = text.split(".")
    if not 1 <= len(parts) <= 4 or any(not p for p in parts):
        return None
    values: list[int] = []
    for part in parts:
        value = _aton_part(part)
        if value is None:
            return None
        values.append(value)
    *leading, last = values
    if any(v > 0xFF for v in leading):
        return None
    last_bits = 8 * (4 - len(leading))
    if last >= 1 << last_bits:
        return None
    number = last
    for i, value in enumerate(leading):
        number |= value << (24 - 8 * i)
    return IPv4Address(number)


def parse_host(host: str) -> IPAddress | None:
    """The IP address a URL host denotes, or None when it is a name to be resolved.

    Accepts bracketed or bare IPv6 literals (with an optional zone) and every IPv4 spelling
    inet_aton accepts (`127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`, `0x7f.1`), plus one
    trailing dot (`127.0.0.1.`), which URL parsers treat as the same address. It errs on the side
    of reading a host as an address, since an address is then checked rather than looked up.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return IPv6Address(text.replace("%25", "%", 1))
        except ValueError:
            return None
    if text.endswith("."):
        text = text[:-1]
    if not text:
        return None
    try:
        return IPv4Address(text)
    except ValueError:
        pass
    return parse_ipv4_aton(text)


def ip_in_networks(ip: IPAddress, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    """Whether `ip` (or the IPv4 address an IPv4-mapped `ip` carries) lies in one of `networks`."""
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, IPv6Address):
        if ip.scope_id is not None:
            candidates.append(IPv6Address(int(ip)))
        if ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
    return any(c.version == net.version and c in net for c in candidates for net in networks)


def parse_networks(specs: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    """Parse CIDR strings (`"10.1.2.0/24"`, `"fd12::/64"`, a bare address = one host)."""
    return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)
