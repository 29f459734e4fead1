"""What the interop tests share: assertions whose failures say what was expected and what
came, and the guard that keeps every UDP send on loopback.

The tests run under pytest with the devfault plugin (the `devfault` fixture and marker, from
the installed `devfault` package); scripts/interop runs them. A script in the former style
(`Suite`, `Emulator("name", ...)`, `@suite.case(...)`) ports mechanically:

    x = Emulator("label", psk=P, ...)        x = pytest.mark.devfault(psk=P, ...)
    @suite.case("what", x)                   @x
    async def name(emulator: Emulator)       async def test_name(devfault: Emulator): "what."
    emulator.thinq_url() / thinq_token()     devfault.thinq_url / devfault.thinq_token
    emulator.host_port(), client by hand     devfault.clients.pybravia_client(devfault), ...
    emulator.patch_device(id, p)             devfault.patch(p, device=id)
    emulator.admin("POST", "/faults", r)     devfault.add_fault(**r)
    emulator.journal_codes(m)                devfault.codes(m)
    e["request"].get("rpc_method")           e.rpc_method (journal entries are Exchanges)
    e["response"]["status"], ["body"]        e.status, e.response_body
    (e.get("fault") or {}).get("action")     e.fault
    a loop of suite.case over a table        @pytest.mark.parametrize over the table
    emulator.host_port()                     devfault.display().host, devfault.display().port
    e["request"]["body"], ["path"]           e.request_body, e.path
    e["request"]["headers"]                  e.raw["request"]["headers"]

No client may send past loopback: tests/interop/conftest.py installs `guard_udp()` before the
first test is collected, so every UDP send or connect to a non-loopback address (Wake-on-LAN's
broadcast, SSDP's multicast) raises `UdpBlocked` instead of leaving the machine, and the
attempt is recorded in `UDP_BLOCKED` (as it was under the former `Suite.main()`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any


# -- no UDP past loopback -----------------------------------------------------------------


class UdpBlocked(OSError):
    """A client tried to send UDP past loopback (a Wake-on-LAN broadcast, SSDP)."""


# Every blocked attempt, as (address, bytes), for cases that want to see one was made.
UDP_BLOCKED: list[tuple[Any, int]] = []

# The socket methods the guard wraps, as they were before it; the guard calls them through
# this table, so that its own test can put recorders in their place and send nothing at all.
_REAL: dict[str, Callable[..., Any]] = {}


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        # '<broadcast>', host names: only 'localhost' is known to stay on the machine.
        return host == "localhost"


def _refuse(sock: socket.socket, address: Any, size: int) -> None:
    # Only IP datagrams can leave the machine (a Unix socket's path cannot).
    if (
        sock.family in (socket.AF_INET, socket.AF_INET6)
        and sock.type == socket.SOCK_DGRAM
        and not _is_loopback(address)
    ):
        UDP_BLOCKED.append((address, size))
        raise UdpBlocked(f"devfault interop: UDP to {address!r} blocked (loopback only)")


def guard_udp() -> None:
    """Makes `socket.socket.sendto`, `sendmsg` and `connect` of every datagram socket refuse
    non-loopback addresses with `UdpBlocked` (recorded in `UDP_BLOCKED`). Idempotent; the
    whole process stays guarded from then on."""
    if getattr(socket.socket, "_devfault_guarded", False):
        return
    _REAL.update(
        sendto=socket.socket.sendto,
        sendmsg=socket.socket.sendmsg,
        connect=socket.socket.connect,
    )

    def sendto(self: socket.socket, data: bytes, *args: Any) -> int:
        if args:  # without an address the real sendto raises TypeError
            _refuse(self, args[-1], len(data))
        return _REAL["sendto"](self, data, *args)

    def sendmsg(self: socket.socket, buffers: Any, *args: Any) -> int:
        if len(args) >= 3 and args[2] is not None:
            _refuse(self, args[2], 0)
        elif self.type == socket.SOCK_DGRAM:
            try:
                peer = self.getpeername()
            except OSError:
                peer = None
            _refuse(self, peer, 0)
        return _REAL["sendmsg"](self, buffers, *args)

    def connect(self: socket.socket, address: Any) -> None:
        _refuse(self, address, 0)
        return _REAL["connect"](self, address)

    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
    socket.socket.sendmsg = sendmsg  # type: ignore[method-assign]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket._devfault_guarded = True  # type: ignore[attr-defined]


def udp_guarded() -> bool:
    """True once guard_udp() has wrapped the socket methods."""
    return bool(getattr(socket.socket, "_devfault_guarded", False))


# -- assertions ---------------------------------------------------------------------------


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def expect_eq(actual: Any, expected: Any, what: str) -> None:
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def expect_raises(exc_type: type[BaseException], what: str) -> "_Raises":
    """`with expect_raises(E, "what"):` – the block must raise E (or a subclass)."""
    return _Raises(exc_type, what)


async def expect_raises_async(exc_type: type[BaseException], what: str, awaitable: Any) -> Any:
    """Awaits `awaitable`; it must raise `exc_type`. Returns the exception."""
    try:
        result = await awaitable
    except exc_type as err:
        return err
    except Exception as err:
        raise AssertionError(
            f"{what}: expected {exc_type.__module__}.{exc_type.__name__}, "
            f"got {type(err).__module__}.{type(err).__name__}: {err}"
        ) from err
    raise AssertionError(
        f"{what}: expected {exc_type.__module__}.{exc_type.__name__}, but it returned {result!r}"
    )


class _Raises:
    def __init__(self, exc_type: type[BaseException], what: str) -> None:
        self.exc_type = exc_type
        self.what = what
        self.error: BaseException | None = None

    def __enter__(self) -> "_Raises":
        return self

    def __exit__(self, kind: Any, error: Any, tb: Any) -> bool:
        expected = f"{self.exc_type.__module__}.{self.exc_type.__name__}"
        if kind is None:
            raise AssertionError(f"{self.what}: expected {expected}, but nothing was raised")
        if not issubclass(kind, self.exc_type):
            raise AssertionError(
                f"{self.what}: expected {expected}, got {kind.__module__}.{kind.__name__}: {error}"
            ) from error
        self.error = error
        return True
