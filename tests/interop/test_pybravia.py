"""pybravia 0.5.3 (Home Assistant's BRAVIA backend) against devfault's virtual display.

Every case asserts what the client hands its caller (a value, True/False, an exception type),
and, where the client hides what happened (pybravia swallows JSON-RPC error codes), what the
the emulator's admin API saw. Never calls turn_on() or send_wol_req(): they broadcast Wake-on-LAN.
"""

from __future__ import annotations

import asyncio
import json
import re

from pybravia import (
    BraviaAuthError,
    BraviaClient,
    BraviaConnectionError,
    BraviaNotFound,
    BraviaNotSupported,
    BraviaTurnedOff,
)
import pytest
from devfault import Emulator
from devfault.clients import pybravia_client

from harness import expect, expect_eq, expect_raises_async

PSK = "interop-psk"
CLIENT_ID = "devfault-interop.0f1e2d3c"
NICKNAME = "devfault interop"

psk_display = pytest.mark.devfault(psk=PSK, auth="psk")
pin_display = pytest.mark.devfault(auth="pin")
# PIN mode with one-second cookies, to see them expire.
short_cookie = pytest.mark.devfault(
    scenario={"displays": {"config": {"auth": "pin", "cookie_max_age_ms": 1000}}},
)
both_auth = pytest.mark.devfault(psk=PSK, auth="psk+pin")
display_off = pytest.mark.devfault(
    psk=PSK,
    scenario={"displays": {"config": {"quirks": {"standby_error": "display_off"}}}},
)


def client_for(devfault: Emulator) -> BraviaClient:
    """pybravia refuses `host:port`: the package's helper sets its base URL to the port."""
    return pybravia_client(devfault)


async def connected(devfault: Emulator) -> BraviaClient:
    client = client_for(devfault)
    await client.connect(psk=PSK)
    return client


# -- pre-shared key -----------------------------------------------------------------------


@psk_display
async def test_connect_psk(devfault: Emulator) -> None:
    """connect(psk) reads getSystemInformation."""
    client = client_for(devfault)
    try:
        result = await client.connect(psk=PSK)
        expect_eq(result, None, "connect(psk=...)")
        info = await client.get_system_info()
        expect(bool(info.get("model")), f"getSystemInformation has a model: {info}")
        expect(bool(info.get("cid")), f"getSystemInformation has a cid (HA's unique id): {info}")
        # connect() keeps the MAC the display reports, for Wake-on-LAN.
        expect_eq(client.mac, info.get("macAddr"), "client.mac after connect")
        expect(
            re.fullmatch(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}", client.mac or "") is not None,
            f"macAddr is a MAC address: {client.mac!r}",
        )
    finally:
        await client.disconnect()


@psk_display
async def test_power_active(devfault: Emulator) -> None:
    """get_power_status() is 'active'."""
    client = await connected(devfault)
    try:
        expect_eq(await client.get_power_status(), "active", "get_power_status()")
    finally:
        await client.disconnect()


@psk_display
async def test_volume_info(devfault: Emulator) -> None:
    """get_volume_info() is the speaker's volume."""
    client = await connected(devfault)
    try:
        info = await client.get_volume_info()
        speaker = devfault.state()["volume"]["speaker"]
        expect_eq(info.get("target"), "speaker", "get_volume_info()['target']")
        expect_eq(info.get("volume"), speaker["volume"], "get_volume_info()['volume']")
        expect_eq(info.get("maxVolume"), speaker["max"], "get_volume_info()['maxVolume']")
        expect_eq(info.get("minVolume"), speaker["min"], "get_volume_info()['minVolume']")
        expect(isinstance(info.get("mute"), bool), f"'mute' is a bool: {info}")
        full = await client.get_volume_info_full()
        targets = sorted(v.get("target") for v in full)
        expect_eq(targets, sorted(devfault.state()["volume"]), "targets of get_volume_info_full()")
    finally:
        await client.disconnect()


@psk_display
async def test_playing_and_inputs(devfault: Emulator) -> None:
    """get_playing_info(), inputs and sources match the display."""
    client = await connected(devfault)
    try:
        state = devfault.state()
        playing = await client.get_playing_info()
        expect_eq(playing.get("uri"), state["input"], "get_playing_info()['uri']")
        expect(bool(playing.get("title")), f"get_playing_info() has a title: {playing}")
        inputs = await client.get_external_status()
        uris = [i.get("uri") for i in inputs]
        expect(state["input"] in uris, f"the current input {state['input']} is among {uris}")
        expect(
            all(isinstance(i.get("connection"), bool) and i.get("title") for i in inputs),
            f"every input has a title and a connection flag: {inputs}",
        )
        schemes = await client.get_scheme_list()
        expect("extInput" in schemes, f"get_scheme_list() has extInput: {schemes}")
        sources = await client.get_source_list("extInput")
        expect("extInput:hdmi" in sources, f"get_source_list('extInput') has HDMI: {sources}")
    finally:
        await client.disconnect()


@psk_display
async def test_app_list(devfault: Emulator) -> None:
    """get_app_list() lists the display's apps."""
    client = await connected(devfault)
    try:
        apps = await client.get_app_list()
        expect(len(apps) > 0, "get_app_list() is not empty")
        expect(
            all(a.get("title") and a.get("uri") for a in apps),
            f"every app has a title and a uri: {apps}",
        )
        expect_eq(
            sorted(a["uri"] for a in apps),
            sorted(a["uri"] for a in devfault.state()["apps"]),
            "the apps' uris",
        )
    finally:
        await client.disconnect()


@psk_display
async def test_set_volume(devfault: Emulator) -> None:
    """volume_level(30) is True and the display's volume is 30."""
    client = await connected(devfault)
    try:
        expect_eq(await client.volume_level(30), True, "volume_level(30)")
        expect_eq(devfault.state()["volume"]["speaker"]["volume"], 30, "admin: speaker volume")
        expect_eq((await client.get_volume_info())["volume"], 30, "get_volume_info() after")
        expect_eq(await client.volume_up(5), True, "volume_up(5)")
        expect_eq(devfault.state()["volume"]["speaker"]["volume"], 35, "admin: after volume_up(5)")
    finally:
        await client.disconnect()


@psk_display
async def test_volume_out_of_range(devfault: Emulator) -> None:
    """volume out of range: False (40801 swallowed), journal shows 40801."""
    client = await connected(devfault)
    try:
        before = devfault.state()["volume"]["speaker"]["volume"]
        quick = await client.send_rest_quick(
            "audio", "setAudioVolume", {"target": "speaker", "volume": "130"}
        )
        expect_eq(quick, False, "send_rest_quick(setAudioVolume 130)")
        expect_eq(await client.volume_level(130), False, "volume_level(130)")
        raw = await client.send_rest_req(
            "audio", "setAudioVolume", {"target": "speaker", "volume": "130"}
        )
        expect_eq(raw.get("error", [None])[0], 40801, f"the raw answer's code ({raw})")
        codes = devfault.codes("setAudioVolume")
        expect_eq(codes[:3], ["40801"] * 3, "journal: codes answered to setAudioVolume")
        expect_eq(devfault.state()["volume"]["speaker"]["volume"], before, "volume unchanged")
    finally:
        await client.disconnect()


@psk_display
async def test_standby(devfault: Emulator) -> None:
    """standby: 'standby', BraviaTurnedOff, set_power_status(True) wakes."""
    client = await connected(devfault)
    try:
        devfault.patch({"power": "standby"})
        expect_eq(await client.get_power_status(), "standby", "get_power_status() in standby")
        await expect_raises_async(
            BraviaTurnedOff, "get_volume_info() in standby", client.get_volume_info()
        )
        await expect_raises_async(
            BraviaTurnedOff, "volume_level(30) in standby", client.volume_level(30)
        )
        fresh = client_for(devfault)
        try:
            await expect_raises_async(
                BraviaTurnedOff, "connect(psk) in standby", fresh.connect(psk=PSK)
            )
        finally:
            await fresh.disconnect()
        expect(
            "7" in devfault.codes("getVolumeInformation")[:1],
            "journal: getVolumeInformation answered code 7 in standby",
        )
        expect_eq(await client.set_power_status(True), True, "set_power_status(True)")
        expect_eq(devfault.state()["power"], "active", "admin: power after set_power_status(True)")
        expect_eq(await client.get_power_status(), "active", "get_power_status() after waking")
        expect_eq((await client.get_volume_info()).get("target"), "speaker", "volume after waking")
    finally:
        await client.disconnect()


@display_off
async def test_standby_display_off(devfault: Emulator) -> None:
    """standby answering 40005: get_volume_info() is {} and volume_level False."""
    client = await connected(devfault)
    try:
        devfault.patch({"power": "standby"})
        expect_eq(await client.get_power_status(), "standby", "get_power_status() in standby")
        # pybravia knows only "not power-on": [40005, "Display is turned off"] passes silently.
        expect_eq(await client.get_volume_info(), {}, "get_volume_info() in standby")
        expect_eq(await client.volume_level(30), False, "volume_level(30) in standby")
        expect_eq(
            devfault.codes("setAudioVolume")[:1], ["40005"], "journal: code answered"
        )
    finally:
        await client.disconnect()


@psk_display
async def test_turn_off(devfault: Emulator) -> None:
    """turn_off() puts the display in standby."""
    client = await connected(devfault)
    try:
        expect_eq(await client.turn_off(), True, "turn_off()")
        expect_eq(devfault.state()["power"], "standby", "admin: power after turn_off()")
        expect_eq(await client.get_power_status(), "standby", "get_power_status() after")
    finally:
        await client.disconnect()


@psk_display
async def test_wrong_psk(devfault: Emulator) -> None:
    """wrong PSK: connect raises BraviaAuthError."""
    client = client_for(devfault)
    try:
        await expect_raises_async(
            BraviaAuthError, "connect(psk='wrong')", client.connect(psk="wrong")
        )
        entries = [
            e
            for e in devfault.journal()
            if e.rpc_method == "getSystemInformation"
        ]
        expect(bool(entries), "journal: a getSystemInformation request")
        expect_eq(entries[0].status, 403, "journal: its HTTP status")
    finally:
        await client.disconnect()


@psk_display
async def test_ircc_commands(devfault: Emulator) -> None:
    """IRCC: send_command('Mute') and 'VolumeUp' reach the display."""
    client = await connected(devfault)
    try:
        before = devfault.state()
        expect_eq(await client.send_command("Mute"), True, "send_command('Mute')")
        expect_eq(devfault.state()["mute"], not before["mute"], "admin: mute toggled")
        expect_eq(await client.send_command("VolumeUp"), True, "send_command('VolumeUp')")
        expect_eq(
            devfault.state()["volume"]["speaker"]["volume"],
            before["volume"]["speaker"]["volume"] + 1,
            "admin: speaker volume after VolumeUp",
        )
        expect_eq(await client.send_command("NoSuchButton"), False, "unknown command name")
        # pybravia's first command is preceded by an empty "wake-up" IRCC request.
        ircc = [e for e in devfault.journal() if e.path.lower() == "/sony/ircc"]
        expect_eq(len(ircc), 3, "journal: IRCC requests (wake-up, Mute, VolumeUp)")
        expect(all(e.status == 200 for e in ircc), "every IRCC request got 200")
    finally:
        await client.disconnect()


# -- the reaction matrix (reference §4.3), replayed with the emulator's fault rules ------------

# (what the display answers getPowerStatus with, the fault rule, what get_power_status() does:
# ("returns", value) or ("raises", exception type)).
UNKNOWN_CODE_BODY = '{"error":[99999,"Unknown code"],"id":1}'
MATRIX = [
    ("HTTP 404", {"action": "status", "status": 404}, ("raises", BraviaNotFound)),
    ("HTTP 403", {"action": "status", "status": 403}, ("raises", BraviaAuthError)),
    ("HTTP 401", {"action": "status", "status": 401}, ("raises", BraviaAuthError)),
    ("HTTP 503", {"action": "status", "status": 503}, ("returns", "off")),
    ("HTTP 413", {"action": "status", "status": 413}, ("returns", "off")),
    ("[7, 'not power-on']", {"action": "code", "code": 7, "message": "not power-on"},
     ("raises", BraviaTurnedOff)),
    ("[7, 'Illegal State']", {"action": "code", "code": 7}, ("returns", "off")),
    ("[40005, 'Display is turned off']", {"action": "code", "code": 40005}, ("returns", "off")),
    ("[12, 'No Such Method']", {"action": "code", "code": 12}, ("returns", "off")),
    ("unknown code 99999",
     {"action": "status", "status": 200, "body": UNKNOWN_CODE_BODY,
      "content_type": "application/json"},
     ("returns", "off")),
    ("malformed JSON", {"action": "malformed_body"}, ("raises", json.JSONDecodeError)),
    ("an HTML body", {"action": "non_json_body"}, ("raises", BraviaConnectionError)),
    ("a connection reset", {"action": "reset"}, ("raises", BraviaConnectionError)),
]


def _matrix_id(label: str, outcome: tuple) -> str:
    kind, value = outcome
    shown = value.__name__ if kind == "raises" else repr(value)
    return f"{label} -> {kind} {shown}"


@psk_display
@pytest.mark.parametrize(
    ("label", "rule", "outcome"), MATRIX, ids=[_matrix_id(m[0], m[2]) for m in MATRIX]
)
async def test_matrix(devfault: Emulator, label: str, rule: dict, outcome: tuple) -> None:
    """matrix: getPowerStatus answers `label` -> what get_power_status() does."""
    kind, value = outcome
    client = await connected(devfault)
    try:
        devfault.add_fault(**dict(rule, match={"method": "getPowerStatus"}, count=1))
        what = f"get_power_status() under {label}"
        if kind == "raises":
            await expect_raises_async(value, what, client.get_power_status())
        else:
            expect_eq(await client.get_power_status(), value, what)
        # The rule was for one request only: the display answers again.
        expect_eq(await client.get_power_status(), "active", "get_power_status() after")
        entries = [e for e in devfault.journal() if e.rpc_method == "getPowerStatus"]
        faults = [e.fault for e in entries[:2]]
        expect_eq(faults, [None, rule["action"]], "journal: the fault fired on the first only")
    finally:
        await client.disconnect()


@psk_display
async def test_connect_not_supported(devfault: Emulator) -> None:
    """matrix: connect() under [7, 'Illegal State'] raises BraviaNotSupported."""
    devfault.add_fault("code", code=7, method="getSystemInformation", count=1)
    client = client_for(devfault)
    try:
        await expect_raises_async(BraviaNotSupported, "connect(psk)", client.connect(psk=PSK))
    finally:
        await client.disconnect()


# -- PIN registration ---------------------------------------------------------------------


@pin_display
async def test_pair_in_standby(devfault: Emulator) -> None:
    """PIN mode in standby: pair() raises BraviaTurnedOff."""
    devfault.patch({"power": "standby"})
    client = client_for(devfault)
    try:
        # actRegister answers HTTP 200 [7, "not power-on"]; pair() only swallows auth errors.
        await expect_raises_async(
            BraviaTurnedOff, "pair() in standby", client.pair(CLIENT_ID, NICKNAME)
        )
        expect_eq(devfault.pin(), None, "admin: no PIN shown in standby")
    finally:
        await client.disconnect()


@pin_display
async def test_pin_mode_refuses_psk(devfault: Emulator) -> None:
    """PIN mode: a PSK does not open private methods."""
    client = client_for(devfault)
    try:
        await expect_raises_async(
            BraviaAuthError, "connect(psk) in PIN mode", client.connect(psk="0000")
        )
    finally:
        await client.disconnect()


@pin_display
async def test_pair_shows_pin(devfault: Emulator) -> None:
    """PIN mode: pair() shows a PIN (401 swallowed)."""
    expect_eq(devfault.pin(), None, "admin: PIN before pairing")
    client = client_for(devfault)
    try:
        expect_eq(await client.pair(CLIENT_ID, NICKNAME), None, "pair()")
        pin = devfault.pin()
        expect(
            pin is not None and re.fullmatch(r"\d{4}", pin) is not None, f"a 4-digit PIN: {pin!r}"
        )
        entry = devfault.journal(limit=1)[0]
        expect_eq(entry.rpc_method, "actRegister", "journal: the last request")
        expect_eq(entry.status, 401, "journal: actRegister's HTTP status")
    finally:
        await client.disconnect()


@pin_display
async def test_wrong_pin(devfault: Emulator) -> None:
    """PIN mode: a wrong PIN raises BraviaAuthError."""
    client = client_for(devfault)
    try:
        await client.pair(CLIENT_ID, NICKNAME)
        pin = devfault.pin()
        expect(pin is not None, "a PIN is shown after pair()")
        wrong = f"{(int(pin) + 1) % 10000:04d}"
        await expect_raises_async(
            BraviaAuthError,
            f"connect(pin={wrong!r}) while {pin!r} is shown",
            client.connect(pin=wrong, clientid=CLIENT_ID, nickname=NICKNAME),
        )
        expect_eq(devfault.state()["auth"]["registered_clients"], [], "admin: registered clients")
    finally:
        await client.disconnect()


@pin_display
async def test_right_pin(devfault: Emulator) -> None:
    """PIN mode: the shown PIN connects; private calls work by cookie."""
    client = client_for(devfault)
    try:
        await client.pair(CLIENT_ID, NICKNAME)
        pin = devfault.pin()
        expect(pin is not None, "a PIN is shown after pair()")
        expect_eq(
            await client.connect(pin=pin, clientid=CLIENT_ID, nickname=NICKNAME),
            None,
            "connect(pin=shown PIN)",
        )
        cookies = {c.key: c.value for c in client._session.cookie_jar}
        expect("auth" in cookies, f"the session holds the display's auth cookie: {cookies}")
        info = await client.get_system_info()
        expect(bool(info.get("model")), f"get_system_info() (private) after pairing: {info}")
        apps = await client.get_app_list()
        expect(len(apps) > 0, "get_app_list() (private) after pairing")
        expect_eq(await client.get_power_status(), "active", "get_power_status()")
        expect_eq(await client.volume_level(20), True, "volume_level(20) (generic)")
        expect_eq(devfault.state()["volume"]["speaker"]["volume"], 20, "admin: speaker volume")
        expect_eq(devfault.state()["auth"]["registered_clients"], [CLIENT_ID], "admin: clients")
        expect_eq(devfault.pin(), None, "admin: the PIN is gone once used")
    finally:
        await client.disconnect()



@pin_display
async def test_reconnect_stored_pin(devfault: Emulator) -> None:
    """PIN mode: a new client reconnects with the stored PIN (as HA does)."""
    first = client_for(devfault)
    try:
        await first.pair(CLIENT_ID, NICKNAME)
        pin = devfault.pin()
        expect(pin is not None, "a PIN is shown after pair()")
        await first.connect(pin=pin, clientid=CLIENT_ID, nickname=NICKNAME)
    finally:
        await first.disconnect()
    again = client_for(devfault)
    try:
        expect_eq(
            await again.connect(pin=pin, clientid=CLIENT_ID, nickname=NICKNAME),
            None,
            "connect(pin=stored PIN) from a new client, no PIN on screen",
        )
        expect(bool((await again.get_system_info()).get("model")), "get_system_info()")
    finally:
        await again.disconnect()
    other = client_for(devfault)
    try:
        await expect_raises_async(
            BraviaAuthError,
            "another clientid with that PIN",
            other.connect(pin=pin, clientid="someone-else", nickname=NICKNAME),
        )
    finally:
        await other.disconnect()


@short_cookie
async def test_cookie_expiry(devfault: Emulator) -> None:
    """PIN mode: an expired cookie raises BraviaAuthError; connect(pin) renews."""
    client = client_for(devfault)
    try:
        await client.pair(CLIENT_ID, NICKNAME)
        pin = devfault.pin()
        expect(pin is not None, "a PIN is shown after pair()")
        await client.connect(pin=pin, clientid=CLIENT_ID, nickname=NICKNAME)
        expect(bool((await client.get_system_info()).get("model")), "get_system_info() at once")
        await asyncio.sleep(1.3)
        await expect_raises_async(
            BraviaAuthError, "get_system_info() after the cookie expired", client.get_system_info()
        )
        await client.connect(pin=pin, clientid=CLIENT_ID, nickname=NICKNAME)
        expect(bool((await client.get_system_info()).get("model")), "get_system_info() renewed")
    finally:
        await client.disconnect()


@both_auth
async def test_psk_and_pin(devfault: Emulator) -> None:
    """PSK+PIN mode: the PSK and the PIN both open private methods."""
    by_psk = await connected(devfault)
    try:
        expect(bool((await by_psk.get_system_info()).get("model")), "by PSK: get_system_info()")
    finally:
        await by_psk.disconnect()
    by_pin = client_for(devfault)
    try:
        await by_pin.pair(CLIENT_ID, NICKNAME)
        pin = devfault.pin()
        expect(pin is not None, "a PIN is shown after pair()")
        await by_pin.connect(pin=pin, clientid=CLIENT_ID, nickname=NICKNAME)
        expect(bool((await by_pin.get_system_info()).get("model")), "by PIN: get_system_info()")
    finally:
        await by_pin.disconnect()

