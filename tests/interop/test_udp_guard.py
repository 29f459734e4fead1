"""The guard every interop test runs under (harness.guard_udp, installed by conftest.py): UDP
to a non-loopback address raises UdpBlocked and is recorded in UDP_BLOCKED; loopback works.

The cases that try a refused address first check that the guard is installed and put
recorders in place of the real socket methods it calls, so even a broken guard sends nothing.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from braviapsk.sony_bravia_psk import BraviaRC as PskBraviaRC
from bravia_tv import BraviaRC

import harness
from harness import UDP_BLOCKED, UdpBlocked, expect, expect_eq, expect_raises

# Addresses a client on a LAN sends to: Wake-on-LAN's broadcast, SSDP's multicast, a display.
REFUSED = [("<broadcast>", 9), ("255.255.255.255", 9), ("239.255.255.250", 1900), ("192.0.2.10", 9)]
MAC = "04:5d:4b:ad:6d:e1"


@pytest.fixture
def recorded() -> Iterator[list[tuple[str, Any]]]:
    """The calls that reached the real socket methods, which are replaced by recorders."""
    expect(harness.udp_guarded(), "conftest.py installed harness.guard_udp() before the tests")
    calls: list[tuple[str, Any]] = []
    saved = dict(harness._REAL)

    def recorder(name: str) -> Any:
        def record(_sock: socket.socket, *args: Any) -> int:
            calls.append((name, args[-1]))
            return 0

        return record

    harness._REAL.update({name: recorder(name) for name in saved})
    try:
        yield calls
    finally:
        harness._REAL.update(saved)


def test_installed_for_every_interop_test() -> None:
    """conftest.py wrapped sendto, sendmsg and connect before the first test."""
    expect(harness.udp_guarded(), "socket.socket is marked guarded")
    for name in ("sendto", "sendmsg", "connect"):
        expect(
            getattr(socket.socket, name) is not harness._REAL[name],
            f"socket.socket.{name} is the guard's, not the original",
        )


@pytest.mark.parametrize("address", REFUSED, ids=[a[0] for a in REFUSED])
def test_non_loopback_refused(recorded: list[tuple[str, Any]], address: tuple[str, int]) -> None:
    """sendto, sendmsg and connect of a UDP socket to a non-loopback address raise UdpBlocked."""
    before = len(UDP_BLOCKED)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with expect_raises(UdpBlocked, f"sendto {address}"):
            sock.sendto(b"x" * 102, address)
        with expect_raises(UdpBlocked, f"sendto {address} with flags"):
            sock.sendto(b"x", 0, address)
        with expect_raises(UdpBlocked, f"sendmsg {address}"):
            sock.sendmsg([b"x"], [], 0, address)
        with expect_raises(UdpBlocked, f"connect {address}"):
            sock.connect(address)
    expect_eq(recorded, [], "calls that reached the real socket methods")
    expect_eq(
        UDP_BLOCKED[before:],
        [(address, 102), (address, 1), (address, 0), (address, 0)],
        "UDP_BLOCKED",
    )


def test_loopback_and_tcp_pass(recorded: list[tuple[str, Any]]) -> None:
    """UDP to 127.0.0.1, ::1 and localhost passes, as does TCP to any address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"x", ("127.0.0.1", 9))
        sock.sendto(b"x", ("localhost", 9))
        sock.connect(("127.0.0.1", 9))
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"x", ("::1", 9, 0, 0))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.connect(("192.0.2.10", 80))
    expect_eq(
        recorded,
        [
            ("sendto", ("127.0.0.1", 9)),
            ("sendto", ("localhost", 9)),
            ("connect", ("127.0.0.1", 9)),
            ("sendto", ("::1", 9, 0, 0)),
            ("connect", ("192.0.2.10", 80)),
        ],
        "calls passed on to the real socket methods",
    )


def test_loopback_round_trip() -> None:
    """A datagram to a loopback socket arrives through the guarded methods."""
    expect(harness.udp_guarded(), "the guard is installed")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(5)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"ping", receiver.getsockname())
            sender.connect(receiver.getsockname())
            sender.sendmsg([b"pong"])
        expect_eq([receiver.recv(16), receiver.recv(16)], [b"ping", b"pong"], "received")


# The two libraries whose turn_on() broadcasts Wake-on-LAN itself; a client that knows a MAC.
WAKERS = {
    "bravia_tv": lambda: BraviaRC("127.0.0.1:9", mac=MAC),
    "pysonybraviapsk": lambda: PskBraviaRC("127.0.0.1:9", "0000", mac=MAC),
}


@pytest.mark.parametrize("library", list(WAKERS))
def test_turn_on_blocked(recorded: list[tuple[str, Any]], library: str) -> None:
    """bravia-tv's and pySonyBraviaPSK's turn_on(): its Wake-on-LAN broadcast raises UdpBlocked."""
    client = WAKERS[library]()
    before = len(UDP_BLOCKED)
    with expect_raises(UdpBlocked, f"{library} turn_on()"):
        client.turn_on()
    expect_eq(recorded, [], "calls that reached the real socket methods")
    # The magic packet: 6 bytes of 0xff and the MAC 16 times.
    expect_eq(UDP_BLOCKED[before:], [(("<broadcast>", 9), 102)], "UDP_BLOCKED")
