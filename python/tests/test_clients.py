"""The client helpers: the real libraries pointed at the emulator, guarded to loopback."""

from __future__ import annotations

import pytest
from devfault import Emulator, EmulatorError
from devfault.clients import (
    braviaproapi_client,
    lg_hosts_resolver,
    local_thinq_api,
    loopback_session,
    pybravia_client,
    thinq_api,
)


async def test_pybravia_client_reaches_the_display_and_never_broadcasts(devfault: Emulator) -> None:
    client = pybravia_client(devfault)
    try:
        await client.connect(psk="0000")
        assert await client.get_power_status() == "active"
        # Wake-on-LAN goes to a list on the client, not to the network (turn_on() itself is
        # never called here: the guard is the replaced sender).
        assert client._send_wol_packet.__name__ == "record_wol_packet"
        assert client.wol_packets == []
    finally:
        await client.disconnect()


def test_braviaproapi_client_uses_the_emulator_s_psk(devfault: Emulator) -> None:
    client = braviaproapi_client(devfault)
    client.initialize()
    assert client.system.get_power_status() is True
    assert devfault.wait_for_exchange(rpc_method="getPowerStatus").status == 200


async def test_thinq_api_reaches_the_cloud(devfault: Emulator) -> None:
    async with thinq_api(devfault) as api:
        assert api._get_url_from_endpoint("devices") == f"{devfault.thinq_url}/devices"
        devices = await api.async_get_device_list()
    assert devices[0]["deviceId"] == "ac-living-room"
    exchange = devfault.wait_for_exchange(device="thinq-cloud", path="/devices")
    assert exchange.status == 200


async def test_the_loopback_session_resolves_no_host_name() -> None:
    async with loopback_session() as session:
        with pytest.raises(OSError) as raised:
            await session.get("http://api-eic.lgthinq.com/devices")
    # aiohttp wraps the resolver's refusal; the refusal itself names the host.
    refusal = getattr(raised.value, "os_error", None) or raised.value.__cause__
    assert "tried to resolve 'api-eic.lgthinq.com'" in str(refusal)


async def test_the_lg_resolver_maps_only_lg_hosts() -> None:
    resolver = lg_hosts_resolver(8443)
    [entry] = await resolver.resolve("api-kic.lgthinq.com")
    assert (entry["host"], entry["port"]) == ("127.0.0.1", 8443)
    with pytest.raises(OSError, match="only \\*.lgthinq.com"):
        await resolver.resolve("mqtt.example.com")
    assert resolver.resolved == ["api-kic.lgthinq.com"]


async def test_the_thinq_base_url_must_be_loopback(devfault: Emulator) -> None:
    class Elsewhere:
        thinq_url = "http://192.0.2.1:8081"
        thinq_token = "thinqpat-devfault-0000"

    async with loopback_session() as session:
        with pytest.raises(EmulatorError, match="must be http://127.0.0.1:PORT"):
            local_thinq_api(Elsewhere(), session)  # type: ignore[arg-type]
