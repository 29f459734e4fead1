"""bravia-tv 1.0.11 (Home Assistant's BRAVIA library before pybravia) against devfault's display.

bravia-tv is synchronous (`requests`), pairs with a PIN through actRegister and keeps the
`auth` cookie in its session, sends IRCC to `/sony/IRCC` only, and swallows every error: a
getter answers a default ({}, None, 'off'), a setter nothing. So every case asserts what the
library hands its caller and, where it hides what happened, what the admin API saw.

Never calls turn_on() or _wakeonlan(): they broadcast Wake-on-LAN. Every interop test runs with
UDP to non-loopback addresses blocked anyway (harness.guard_udp, installed by conftest.py), so
a slip fails loudly instead.
"""

from __future__ import annotations

import json

import pytest
from bravia_tv import BraviaRC

from devfault import Emulator

from harness import expect, expect_eq

CLIENT_ID = "devfault-interop-bravia-tv"
NICKNAME = "devfault interop"
NETFLIX = "com.sony.dtv.com.netflix.ninja.com.netflix.ninja.MainActivity"

# PIN mode, launches and content lists without their real-display delays.
FAST = {"app_launch_delay_ms": 0, "slow_method_delay_ms": 20}
pin_display = pytest.mark.devfault(scenario={"displays": {"config": {"auth": "pin", **FAST}}})
# A firmware that answers only the lower-case IRCC path.
lower_ircc = pytest.mark.devfault(
    scenario={"displays": {"config": {"auth": "pin", **FAST, "quirks": {"ircc_path": "lower_only"}}}},
)


def host_of(devfault: Emulator) -> str:
    """bravia-tv builds `http://{host}/sony/...`, so `127.0.0.1:PORT` works as the host."""
    display = devfault.display()
    return f"{display.host}:{display.port}"


def paired(devfault: Emulator) -> BraviaRC:
    """The PIN flow as Home Assistant ran it: connect with 0000 to make the display show a
    PIN, then connect again with the PIN from the screen (here the admin API)."""
    client = BraviaRC(host_of(devfault))
    expect_eq(client.connect("0000", CLIENT_ID, NICKNAME), False, "connect('0000') shows a PIN")
    pin = devfault.pin()
    expect(pin is not None and len(pin) == 4, f"the display shows a 4-digit PIN: {pin!r}")
    expect_eq(client.connect(pin, CLIENT_ID, NICKNAME), True, "connect(PIN)")
    return client


def sent_params(devfault: Emulator, rpc_method: str) -> list[dict]:
    """The first params object of every `rpc_method` request the display saw, oldest first."""
    out = []
    for entry in reversed(devfault.journal(limit=200)):
        if entry.rpc_method == rpc_method:
            params = json.loads(entry.request_body).get("params") or [{}]
            out.append(params[0] if isinstance(params[0], dict) else {})
    return out


# -- pairing ------------------------------------------------------------------------------


@pin_display
def test_pin_pairing(devfault: Emulator) -> None:
    """connect(): 0000 shows a PIN, the PIN registers, the cookie opens private methods."""
    client = BraviaRC(host_of(devfault))
    # Before pairing a private method is 403: the library hands over an empty dict.
    expect_eq(client._force_system_info(), {}, "getSystemInformation before pairing")
    expect_eq(client.is_connected(), False, "is_connected() before pairing")
    client = paired(devfault)
    expect_eq(
        devfault.state()["auth"]["registered_clients"],
        [CLIENT_ID],
        "admin: the registered client",
    )
    expect(client._session.cookies.get("auth"), "the session keeps the auth cookie")
    info = client.get_system_info()
    expect_eq(info.get("model"), "FW-55BZ35F", "get_system_info()['model'] after pairing")
    # connect() keeps the MAC for Wake-on-LAN and the cid as the unique id.
    expect_eq(client._mac, info.get("macAddr"), "the MAC kept for Wake-on-LAN")
    expect_eq(client._uid, info.get("cid"), "the cid kept as unique id")
    expect_eq(client.is_connected(), True, "is_connected() after pairing")


@pin_display
def test_wrong_pin(devfault: Emulator) -> None:
    """connect() with a wrong PIN is False and registers nobody."""
    client = BraviaRC(host_of(devfault))
    expect_eq(client.connect("0000", CLIENT_ID, NICKNAME), False, "connect('0000')")
    shown = devfault.pin()
    wrong = "1111" if shown != "1111" else "2222"
    expect_eq(client.connect(wrong, CLIENT_ID, NICKNAME), False, f"connect({wrong!r})")
    expect_eq(devfault.state()["auth"]["registered_clients"], [], "admin: nobody registered")


@pin_display
def test_connect_turns_wol_on(devfault: Emulator) -> None:
    """connect() turns Wake-on-LAN on when the display has it off (getWolMode)."""
    devfault.patch({"wol": False})
    client = paired(devfault)
    expect_eq(devfault.state()["wol"], True, "admin: wol after connect()")
    expect_eq(client.getWolMode(), True, "getWolMode()")
    client.setWolMode(False)
    expect_eq(devfault.state()["wol"], False, "admin: wol after setWolMode(False)")
    expect_eq(client.getWolMode(), False, "getWolMode() after setWolMode(False)")


# -- IRCC and the remote's codes -----------------------------------------------------------


@pin_display
def test_remote_codes(devfault: Emulator) -> None:
    """getRemoteControllerInfo: get_command_code() names the display's IRCC codes."""
    client = paired(devfault)
    expect_eq(client.get_command_code("VolumeUp"), "AAAAAQAAAAEAAAASAw==", "code of VolumeUp")
    expect_eq(client.get_command_code("NoSuchKey"), None, "code of an unknown key")
    expect(len(client._commands) > 20, f"the whole remote is kept: {len(client._commands)} keys")


@pin_display
def test_ircc_volume(devfault: Emulator) -> None:
    """send_command('VolumeUp') posts IRCC to /sony/IRCC with the cookie."""
    client = paired(devfault)
    before = devfault.state()["volume"]["speaker"]["volume"]
    client.send_command("VolumeUp")
    expect_eq(devfault.state()["volume"]["speaker"]["volume"], before + 1, "admin: speaker volume")
    client.media_pause()  # a key the display takes without a state change
    paths = [e.path for e in devfault.journal(limit=5)]
    expect("/sony/IRCC" in paths, f"sent to the upper-case path: {paths}")


@lower_ircc
def test_ircc_lower_only(devfault: Emulator) -> None:
    """IRCC on a lower-case-only firmware: 404, silently nothing (no fallback)."""
    client = paired(devfault)
    before = devfault.state()["volume"]["speaker"]["volume"]
    answer = client.send_req_ircc("AAAAAQAAAAEAAAASAw==")
    expect(answer is not None, "send_req_ircc() hands back the 404's body, not an error")
    expect_eq(devfault.state()["volume"]["speaker"]["volume"], before, "admin: volume unchanged")
    statuses = [e.status for e in devfault.journal(limit=3) if e.path == "/sony/IRCC"]
    expect_eq(statuses[:1], [404], "journal: /sony/IRCC answered 404")


# -- content ------------------------------------------------------------------------------


@pin_display
def test_content_paging(devfault: Emulator) -> None:
    """get_source('tv:dvbt'): getContentCount, then pages of 50 (120 channels: 50, 50, 20)."""
    channels = [{"title": f"Channel {n}", "dispNum": str(n)} for n in range(1, 121)]
    devfault.patch({"channels": channels})
    client = paired(devfault)
    found = client.get_source("tv:dvbt")
    expect_eq(len(found), 120, "channels found")
    expect_eq(found["Channel 1"], "tv:dvbt?trip=1.1.1", "the first channel's uri")
    expect_eq(found["Channel 120"], "tv:dvbt?trip=1.1.120", "the last channel's uri")
    pages = [(p.get("stIdx"), p.get("cnt")) for p in sent_params(devfault, "getContentList")]
    expect_eq(pages, [(0, 50), (50, 50), (100, 20)], "getContentList pages (stIdx, cnt)")
    expect_eq(sent_params(devfault, "getContentCount"), [{"source": "tv:dvbt"}], "getContentCount")


@pin_display
def test_source_list(devfault: Emulator) -> None:
    """load_source_list(): every input, every channel and the apps, by title."""
    devfault.patch(
        {"channels": [{"title": "  Das Erste ", "dispNum": "1"}, {"title": "", "dispNum": "2"}]}
    )
    client = paired(devfault)
    sources = client.load_source_list()
    for title in ["HDMI 1", "HDMI 4", "Video", "Screen mirroring", "Das Erste", "Netflix"]:
        expect(title in sources, f"{title!r} among {list(sources)}")
    # Titles are stripped; a channel without a title is left out.
    expect_eq(sources["Das Erste"], "tv:dvbt?trip=1.1.1", "a stripped channel title")
    expect("tv:dvbt?trip=1.1.2" not in sources.values(), "the untitled channel is left out")
    expect_eq(sources["HDMI 2"], "extInput:hdmi?port=2", "HDMI 2's uri")


@pin_display
def test_play_content(devfault: Emulator) -> None:
    """select_source('HDMI 2') and play_content(uri): setPlayContent."""
    client = paired(devfault)
    client.select_source("HDMI 2")
    expect_eq(devfault.state()["input"], "extInput:hdmi?port=2", "admin: input")
    expect_eq(client.get_playing_info().get("title"), "HDMI 2", "get_playing_info()['title']")
    client.play_content("extInput:hdmi?port=3")
    expect_eq(devfault.state()["input"], "extInput:hdmi?port=3", "admin: input after play_content")
    # An unknown URI is 41001, which the library swallows.
    client.play_content("extInput:hdmi?port=9")
    expect_eq(devfault.codes("setPlayContent")[:1], ["41001"], "journal: 41001")
    expect_eq(devfault.state()["input"], "extInput:hdmi?port=3", "admin: input unchanged")


# -- apps ---------------------------------------------------------------------------------


@pin_display
def test_apps(devfault: Emulator) -> None:
    """load_app_list() and start_app('Netflix'); play_content(app uri) is setActiveApp."""
    client = paired(devfault)
    apps = client.load_app_list()
    expect_eq(apps.get("Netflix"), NETFLIX, "Netflix's uri")
    expect_eq(sorted(apps.values()), sorted(a["uri"] for a in devfault.state()["apps"]), "app uris")
    client.start_app("Netflix")
    expect_eq(devfault.state()["active_app"], NETFLIX, "admin: active app")
    # With an app shown there is no playing content: [7, "Illegal State"], handed over as {}.
    expect_eq(client.get_playing_info(), {}, "get_playing_info() while an app is shown")
    client.start_app("No Such App")  # not in the list: nothing is sent
    client.play_content(apps["YouTube"])
    expect(devfault.state()["active_app"].endswith("ShellActivity"), "admin: YouTube active")


# -- scenes -------------------------------------------------------------------------------


@pin_display
def test_scenes(devfault: Emulator) -> None:
    """scenes: load_scene_list(), get_current_scene(), set_scene() work."""
    client = paired(devfault)
    # The keys are str.capitalize()d: 'auto24pSync' becomes 'Auto24psync'.
    expect_eq(
        client.load_scene_list(),
        {"General": "general", "Auto": "auto", "Auto24psync": "auto24pSync"},
        "load_scene_list()",
    )
    expect_eq(client.get_current_scene(), devfault.state()["scene"], "get_current_scene()")
    client.set_scene("General")
    expect_eq(devfault.state()["scene"], "general", "admin: scene after set_scene('General')")
    expect_eq(client.get_current_scene(), "general", "get_current_scene() after")
    client.set_scene("Auto24psync")
    expect_eq(devfault.state()["scene"], "auto24pSync", "admin: scene after set_scene('Auto24psync')")
    # The scene's own name is not a key: nothing is sent.
    client.set_scene("general")
    expect_eq(devfault.state()["scene"], "auto24pSync", "set_scene('general') sends nothing")


# -- power and the restart window ---------------------------------------------------------


@pin_display
def test_standby(devfault: Emulator) -> None:
    """standby: get_power_status() 'standby', getters empty; turn_off() is setPowerStatus."""
    client = paired(devfault)
    client.turn_off()
    expect_eq(devfault.state()["power"], "standby", "admin: power after turn_off()")
    expect_eq(client.get_power_status(), "standby", "get_power_status()")
    expect_eq(client.get_playing_info(), {}, "get_playing_info() in standby")
    expect_eq(client.get_volume_info(), {}, "get_volume_info() in standby ([7, 'not power-on'])")
    expect_eq(devfault.codes("getVolumeInformation")[:1], ["7"], "journal: 7")


@pin_display
def test_restart_window(devfault: Emulator) -> None:
    """restart window: the library's NoIPControl never escapes (its bug): 'off'."""
    client = paired(devfault)
    url = f"http://{host_of(devfault)}/sony/system"
    body = json.dumps({"method": "requestReboot", "params": [], "id": 1, "version": "1.0"})
    answer = client._session.post(url, data=body, timeout=10)
    expect_eq(answer.json(), {"result": [], "id": 1}, "requestReboot")
    # bravia_req_json raises NoIPControl on 404 inside its own try: it is logged and swallowed,
    # so the caller sees 'off' as for a display that is off.
    expect_eq(client.get_power_status(), "off", "get_power_status() during the restart window")
    expect_eq(client.get_volume_info(), {}, "get_volume_info() during the restart window")
    statuses = [e.status for e in devfault.journal(limit=2)]
    expect_eq(statuses, [404, 404], "journal: both answered 404")
