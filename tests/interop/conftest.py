"""What every interop test runs under, whichever file or `-k` selects it: no UDP past loopback.

The real clients can broadcast Wake-on-LAN (bravia-tv's and pySonyBraviaPSK's turn_on(),
pybravia's send_wol_req()) or multicast SSDP on their own; `harness.guard_udp()` makes every
such send raise `harness.UdpBlocked` (recorded in `harness.UDP_BLOCKED`) instead. It is
installed here, when pytest configures the session, before any test module is imported.
"""

from __future__ import annotations

import pytest

from harness import guard_udp, udp_guarded


def pytest_configure(config: pytest.Config) -> None:
    guard_udp()


def pytest_report_header(config: pytest.Config) -> str:
    state = "refused (harness.guard_udp)" if udp_guarded() else "NOT GUARDED"
    return f"devfault interop: UDP past loopback {state}"
