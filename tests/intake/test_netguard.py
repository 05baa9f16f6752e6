"""The address policy: which IPs a user-supplied URL may reach, and how hosts spell IPs."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest

from reelforge.intake.netguard import (
    embedded_ipv4,
    ip_in_networks,
    is_cloud_metadata,
    is_forbidden_address,
    parse_host,
    parse_ipv4_aton,
    parse_networks,
)

FORBIDDEN = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "cloud metadata"),
    ("169.254.170.2", "cloud metadata"),
    ("100.100.100.200", "cloud metadata"),
    ("168.63.129.16", "cloud metadata"),
    ("fd00:ec2::254", "cloud metadata"),
    ("169.254.1.1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.255", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "reserved"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.0.8", "reserved"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fc00::1", "private"),
    ("fd12:3456::1", "private"),
    ("fec0::1", "private"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("100::1", "reserved"),
    ("2001::1", "reserved"),
    ("64:ff9b:1::a00:1", "private"),
    ("::ffff:127.0.0.1", "IPv4-mapped 127.0.0.1 (loopback)"),
    ("::ffff:10.1.2.3", "IPv4-mapped 10.1.2.3 (private)"),
    ("::ffff:169.254.169.254", "IPv4-mapped 169.254.169.254 (cloud metadata)"),
    ("::ffff:0:127.0.0.1", "IPv4-translated 127.0.0.1 (loopback)"),
    ("::127.0.0.1", "IPv4-compatible 127.0.0.1 (loopback)"),
    ("::10.0.0.1", "IPv4-compatible 10.0.0.1 (private)"),
    ("64:ff9b::7f00:1", "NAT64 127.0.0.1 (loopback)"),
    ("64:ff9b::a9fe:a9fe", "NAT64 169.254.169.254 (cloud metadata)"),
    ("2002:7f00:1::", "6to4 127.0.0.1 (loopback)"),
    ("2002:c0a8:101::1", "6to4 192.168.1.1 (private)"),
    ("4000::1", "reserved"),  # outside 2000::/3, not global unicast
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.0",  # just above CGNAT
    "172.15.255.255",
    "172.32.0.0",
    "169.253.255.255",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize(("text", "reason"), FORBIDDEN)
def test_forbidden_addresses_name_their_reason(text: str, reason: str) -> None:
    assert is_forbidden_address(ip_address(text)) == reason


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_pass(text: str) -> None:
    assert is_forbidden_address(ip_address(text)) is None


def test_embedded_ipv4_kinds() -> None:
    assert embedded_ipv4(IPv6Address("::ffff:1.2.3.4")) == ("IPv4-mapped", IPv4Address("1.2.3.4"))
    assert embedded_ipv4(IPv6Address("64:ff9b::102:304")) == ("NAT64", IPv4Address("1.2.3.4"))
    assert embedded_ipv4(IPv6Address("2002:102:304::")) == ("6to4", IPv4Address("1.2.3.4"))
    assert embedded_ipv4(IPv6Address("::1")) is None
    assert embedded_ipv4(IPv6Address("2606:4700::1")) is None


def test_cloud_metadata_through_embeddings() -> None:
    assert is_cloud_metadata(IPv4Address("169.254.169.254"))
    assert is_cloud_metadata(IPv6Address("::ffff:169.254.169.254"))
    assert is_cloud_metadata(IPv6Address("64:ff9b::a9fe:a9fe"))
    assert is_cloud_metadata(IPv6Address("fd00:ec2::254"))
    assert not is_cloud_metadata(IPv4Address("169.254.169.253"))
    assert not is_cloud_metadata(IPv4Address("127.0.0.1"))


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f.0x0.0.01", "127.0.0.1"),
        ("00000127.1", "87.0.0.1"),  # leading zeros mean octal
        ("017700000001", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("169.254.43518", "169.254.169.254"),
        ("3232235777", "192.168.1.1"),
        ("127.0.0.1.", "127.0.0.1"),  # one trailing dot, as URL parsers read it
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("[fe80::1%25eth0]", "fe80::1%eth0"),
    ],
)
def test_parse_host_reads_every_ip_spelling(host: str, expected: str) -> None:
    assert parse_host(host) == ip_address(expected)


@pytest.mark.parametrize(
    "host",
    ["example.com", "localhost", "0x", "08", "1.2.3.4.5", "1..2", "4294967296", "1.256.1",
     "1.16777216", "256.0.0.1", "0xg", "127.0.0.1x", "", ".", "[::zz]", "xn--bcher-kva.example"],
)  # fmt: skip
def test_parse_host_leaves_names_alone(host: str) -> None:
    assert parse_host(host) is None


@pytest.mark.parametrize(
    "text",
    ["127.1", "0x7f.1", "0177.0.0.1", "2130706433", "0x7f000001", "0xFFFFFFFF", "0",
     "1.2.3", "0x1.0x2.0x3.0x4", "010.010.010.010", "4294967295", "1.16777215", "1.2.65535",
     "4294967296", "1.16777216", "1.2.65536", "08", "0x", "1.2.3.4.5", "1..2", "256.1.1.1",
     "09.1.1.1", "0xfg", "abc", "-1", "+1"],
)  # fmt: skip
def test_parse_ipv4_aton_agrees_with_libc(text: str) -> None:
    try:
        libc: IPv4Address | None = IPv4Address(socket.inet_aton(text))
    except OSError:
        libc = None
    assert parse_ipv4_aton(text) == libc


def test_networks_match_ipv4_mapped_addresses() -> None:
    networks = parse_networks(("127.0.0.2/32", "fd12::/16"))
    assert ip_in_networks(IPv4Address("127.0.0.2"), networks)
    assert ip_in_networks(IPv6Address("::ffff:127.0.0.2"), networks)
    assert ip_in_networks(IPv6Address("fd12::5"), networks)
    assert not ip_in_networks(IPv4Address("127.0.0.1"), networks)
    assert not ip_in_networks(IPv6Address("::1"), networks)
