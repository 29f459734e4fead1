"""pySonyBraviaPSK 0.2.4 (the braviatv_psk custom component's library) against devfault's display.

The library sends `X-Auth-PSK` on every request, pages getContentList by `stIdx` alone until a
page comes back empty, and hands over what it read (None, {}, [] or 'off' when it failed).
Every case asserts what the library hands its caller, its own bugs included, and, where it
hides what happened, what the admin API saw.

Never calls turn_on() or _wakeonlan(): they broadcast Wake-on-LAN. Every interop test runs with
UDP to non-loopback addresses blocked anyway (harness.guard_udp, installed by conftest.py).
"""

from __future__ import annotations

import json

import pytest
from braviapsk.sony_bravia_psk import BraviaRC

from devfault import Emulator

from harness import expect, expect_eq

PSK = "interop-psk"

FAST = {"slow_method_delay_ms": 20}
psk_display = pytest.mark.devfault(psk=PSK, auth="psk", scenario={"displays": {"config": FAST}})
display_off = pytest.mark.devfault(
    psk=PSK,
    auth="psk",
    scenario={"displays": {"config": {**FAST, "quirks": {"standby_error": "display_off"}}}},
)


def host_of(devfault: Emulator) -> str:
    """The library builds `http://` + host + `/sony/...`: `127.0.0.1:PORT` works."""
    display = devfault.display()
    return f"{display.host}:{display.port}"


def client_for(devfault: Emulator, psk: str = PSK) -> BraviaRC:
    return BraviaRC(host_of(devfault), psk)


# -- the pre-shared key -------------------------------------------------------------------


@psk_display
def test_power_and_psk(devfault: Emulator) -> None:
    """get_power_status() is 'active' with any key (auth none); a wrong PSK empties get_system_info()."""
    expect_eq(client_for(devfault).get_power_status(), "active", "get_power_status()")
    # getPowerStatus needs no auth: a wrong key still reads the power.
    expect_eq(client_for(devfault, "wrong").get_power_status(), "active", "with a wrong PSK")
    # A private method with a wrong key is 403, handed over as an empty dict.
    expect_eq(client_for(devfault, "wrong").get_system_info(), {}, "get_system_info(), wrong PSK")
    headers = [e.raw["request"]["headers"] for e in devfault.journal(limit=3)]
    expect(all("x-auth-psk" in h for h in headers), f"every request carries X-Auth-PSK: {headers}")


@psk_display
def test_system_info(devfault: Emulator) -> None:
    """get_system_info(): name, model, serial, language; 'mac' is None (reads a key the display never sends)."""
    info = client_for(devfault).get_system_info()
    expect_eq(info.get("model"), "FW-55BZ35F", "model")
    expect_eq(info.get("name"), "BRAVIA", "name")
    expect_eq(info.get("language"), devfault.state()["language"], "language")
    expect(bool(info.get("serial")), f"a serial: {info}")
    # The library reads "mac"; getSystemInformation's member is "macAddr".
    expect_eq(info.get("mac"), None, "get_system_info()['mac']")


@psk_display
def test_network_info(devfault: Emulator) -> None:
    """get_network_info(): the first interface's MAC, IPv4 and gateway."""
    info = client_for(devfault).get_network_info()
    expect_eq(info, {"mac": "04:5d:4b:ad:6d:e1", "ip": "192.168.0.10", "gateway": "192.168.0.1"},
              "get_network_info()")
    sent = next(e for e in devfault.journal() if e.rpc_method == "getNetworkSettings")
    expect_eq(json.loads(sent.request_body)["params"], [], "sent without a netif")


# -- sources ------------------------------------------------------------------------------


@psk_display
def test_source_list(devfault: Emulator) -> None:
    """load_source_list(): tuner channels, then the physical inputs only."""
    devfault.patch(
        {"channels": [{"title": "Das Erste", "dispNum": "1"}, {"title": "ZDF", "dispNum": "2"}]}
    )
    sources = client_for(devfault).load_source_list()
    expect_eq(
        list(sources),
        ["Das Erste", "ZDF", "HDMI 1", "HDMI 2", "HDMI 3", "HDMI 4", "Video"],
        "titles, in order (screen mirroring is not a physical input)",
    )
    expect_eq(sources["ZDF"], "tv:dvbt?trip=1.1.2", "ZDF's uri")
    expect_eq(sources["Video"], "extInput:composite?port=1", "Video's uri")


@psk_display
def test_source_list_without_channels(devfault: Emulator) -> None:
    """load_source_list() without channels: getContentList 41015 ends the tuner part."""
    sources = client_for(devfault).load_source_list()
    expect_eq(list(sources), ["HDMI 1", "HDMI 2", "HDMI 3", "HDMI 4", "Video"], "titles")
    expect("41015" in devfault.codes("getContentList"), "journal: 41015 for tv:dvbt")


@psk_display
def test_source_paging(devfault: Emulator) -> None:
    """get_source('tv:dvbt') pages by stIdx until an empty page (120 channels: 4 requests)."""
    channels = [{"title": f"Channel {n}", "dispNum": str(n)} for n in range(1, 121)]
    devfault.patch({"channels": channels})
    items = client_for(devfault).get_source("tv:dvbt")
    expect_eq(len(items), 120, "items")
    expect_eq([i["index"] for i in items], list(range(120)), "indexes")
    starts = []
    for entry in reversed(devfault.journal(limit=20)):
        if entry.rpc_method == "getContentList":
            starts.append(json.loads(entry.request_body)["params"][0]["stIdx"])
    # No cnt is sent: the display's default page of 50.
    expect_eq(starts, [0, 50, 100, 120], "stIdx of each request")


@psk_display
def test_external_inputs(devfault: Emulator) -> None:
    """get_current_external_input_status(): every input with its connection."""
    inputs = client_for(devfault).get_current_external_input_status()
    expect_eq([i["uri"] for i in inputs][:2], ["extInput:hdmi?port=1", "extInput:hdmi?port=2"], "uris")
    expect(all(isinstance(i["connection"], bool) for i in inputs), f"connection flags: {inputs}")
    expect_eq([i["title"] for i in inputs if i["connection"]], ["HDMI 1", "HDMI 2"], "connected")


@psk_display
def test_select_source(devfault: Emulator) -> None:
    """select_source('HDMI 2') is setPlayContent; get_playing_info() follows."""
    client = client_for(devfault)
    client.select_source("HDMI 2")
    expect_eq(devfault.state()["input"], "extInput:hdmi?port=2", "admin: input")
    playing = client.get_playing_info()
    expect_eq((playing["title"], playing["uri"]), ("HDMI 2", "extInput:hdmi?port=2"), "playing")
    expect_eq(playing["programTitle"], None, "no programme on an input")


# -- volume, IRCC, apps, standby ----------------------------------------------------------


@psk_display
def test_volume(devfault: Emulator) -> None:
    """get_volume_info() is the speaker; set_volume_level(0.3); volume_up() over IRCC."""
    client = client_for(devfault)
    info = client.get_volume_info()
    expect_eq(info["target"], "speaker", "target")
    expect_eq(info["volume"], devfault.state()["volume"]["speaker"]["volume"], "volume")
    client.set_volume_level(0.3)
    expect_eq(devfault.state()["volume"]["speaker"]["volume"], 30, "admin: after set_volume_level(0.3)")
    client.volume_up()
    expect_eq(devfault.state()["volume"]["speaker"]["volume"], 31, "admin: after volume_up()")
    paths = [e.path for e in devfault.journal(limit=3)]
    expect("/sony/IRCC" in paths, f"volume_up() went to /sony/IRCC: {paths}")


@psk_display
def test_apps(devfault: Emulator) -> None:
    """load_app_list() and open_app(uri)."""
    client = client_for(devfault)
    apps = client.load_app_list()
    expect_eq(sorted(a["uri"] for a in apps), sorted(a["uri"] for a in devfault.state()["apps"]), "apps")
    netflix = next(a["uri"] for a in apps if a["title"] == "Netflix")
    client.open_app(netflix)
    launching = devfault.state()
    expect(
        launching["active_app"] == netflix or (launching["launching"] or {}).get("uri") == netflix,
        f"admin: Netflix launched or launching: {launching['active_app']}, {launching['launching']}",
    )


@display_off
def test_standby_display_off(devfault: Emulator) -> None:
    """standby answering 40005: get_volume_info() None, power 'standby'."""
    client = client_for(devfault)
    client.turn_off_command()
    expect_eq(devfault.state()["power"], "standby", "admin: power after turn_off_command()")
    expect_eq(client.get_power_status(), "standby", "get_power_status()")
    expect_eq(client.get_volume_info(), None, "get_volume_info() in standby")
    expect_eq(devfault.codes("getVolumeInformation")[:1], ["40005"], "journal: 40005")
    expect_eq(client.get_current_external_input_status(), [], "inputs in standby")
    expect_eq(client.get_playing_info(), {}, "get_playing_info() in standby")
