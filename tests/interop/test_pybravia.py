"""pybravia 0.5.3 (Home Assistant's BRAVIA backend) against devfault's virtual display.

Every case asserts what the client hands its caller (a value, True/False, an exception type),
and, where the client hides what happened (pybravia swallows JSON-RPC error codes), what the
emulator's admin API saw. Never calls turn_on() or send_wol_req(): they broadcast Wake-on-LAN.
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
from yarl import URL

from harness import Emulator, Suite, expect, expect_eq, expect_raises_async

PSK = "interop-psk"
CLIENT_ID = "devfault-interop.0f1e2d3c"
NICKNAME = "devfault interop"

suite = Suite("pybravia")
psk_display = Emulator("pybravia-psk", psk=PSK, auth="psk")
pin_display = Emulator("pybravia-pin", auth="pin")
# PIN mode with one-second cookies, to see them expire.
short_cookie = Emulator(
    "pybravia-short-cookie",
    scenario={"displays": {"config": {"auth": "pin", "cookie_max_age_ms": 1000}}},
)
both_auth = Emulator("pybravia-psk-and-pin", psk=PSK, auth="psk+pin")
display_off = Emulator(
    "pybravia-display-off",
    psk=PSK,
    scenario={"displays": {"config": {"quirks": {"standby_error": "display_off"}}}},
)


def client_for(emulator: Emulator) -> BraviaClient:
    """pybravia refuses `host:port`; its base URL is a private attribute, set to the port."""
    host, port = emulator.host_port()
    client = BraviaClient(host=host)
    client._base_url = URL.build(scheme="http", host=host, port=port)
    return client


async def connected(emulator: Emulator) -> BraviaClient:
    client = client_for(emulator)
    await client.connect(psk=PSK)
    return client


# -- pre-shared key -----------------------------------------------------------------------


@suite.case("connect(psk) reads getSystemInformation", psk_display)
async def connect_psk(emulator: Emulator) -> None:
    client = client_for(emulator)
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


@suite.case("get_power_status() is 'active'", psk_display)
async def power_active(emulator: Emulator) -> None:
    client = await connected(emulator)
    try:
        expect_eq(await client.get_power_status(), "active", "get_power_status()")
    finally:
        await client.disconnect()


@suite.case("get_volume_info() is the speaker's volume", psk_display)
async def volume_info(emulator: Emulator) -> None:
    client = await connected(emulator)
    try:
        info = await client.get_volume_info()
        speaker = emulator.state()["volume"]["speaker"]
        expect_eq(info.get("target"), "speaker", "get_volume_info()['target']")
        expect_eq(info.get("volume"), speaker["volume"], "get_volume_info()['volume']")
        expect_eq(info.get("maxVolume"), speaker["max"], "get_volume_info()['maxVolume']")
        expect_eq(info.get("minVolume"), speaker["min"], "get_volume_info()['minVolume']")
        expect(isinstance(info.get("mute"), bool), f"'mute' is a bool: {info}")
        full = await client.get_volume_info_full()
        targets = sorted(v.get("target") for v in full)
        expect_eq(targets, sorted(emulator.state()["volume"]), "targets of get_volume_info_full()")
    finally:
        await client.disconnect()


@suite.case("get_playing_info(), inputs and sources match the display", psk_display)
async def playing_and_inputs(emulator: Emulator) -> None:
    client = await connected(emulator)
    try:
        state = emulator.state()
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


@suite.case("get_app_list() lists the display's apps", psk_display)
async def app_list(emulator: Emulator) -> None:
    client = await connected(emulator)
    try:
        apps = await client.get_app_list()
        expect(len(apps) > 0, "get_app_list() is not empty")
        expect(
            all(a.get("title") and a.get("uri") for a in apps),
            f"every app has a title and a uri: {apps}",
        )
        expect_eq(
            sorted(a["uri"] for a in apps),
            sorted(a["uri"] for a in emulator.state()["apps"]),
            "the apps' uris",
        )
    finally:
        await client.disconnect()


@suite.case("volume_level(30) is True and the display's volume is 30", psk_display)
async def set_volume(emulator: Emulator) -> None:
    client = await connected(emulator)
    try:
        expect_eq(await client.volume_level(30), True, "volume_level(30)")
        expect_eq(emulator.state()["volume"]["speaker"]["volume"], 30, "admin: speaker volume")
        expect_eq((await client.get_volume_info())["volume"], 30, "get_volume_info() after")
        expect_eq(await client.volume_up(5), True, "volume_up(5)")
        expect_eq(emulator.state()["volume"]["speaker"]["volume"], 35, "admin: after volume_up(5)")
    finally:
        await client.disconnect()


@suite.case("volume out of range: False (40801 swallowed), journal shows 40801", psk_display)
async def volume_out_of_range(emulator: Emulator) -> None:
    client = await connected(emulator)
    try:
        before = emulator.state()["volume"]["speaker"]["volume"]
        quick = await client.send_rest_quick(
            "audio", "setAudioVolume", {"target": "speaker", "volume": "130"}
        )
        expect_eq(quick, False, "send_rest_quick(setAudioVolume 130)")
        expect_eq(await client.volume_level(130), False, "volume_level(130)")
        raw = await client.send_rest_req(
            "audio", "setAudioVolume", {"target": "speaker", "volume": "130"}
        )
        expect_eq(raw.get("error", [None])[0], 40801, f"the raw answer's code ({raw})")
        codes = emulator.journal_codes("setAudioVolume")
        expect_eq(codes[:3], ["40801"] * 3, "journal: codes answered to setAudioVolume")
        expect_eq(emulator.state()["volume"]["speaker"]["volume"], before, "volume unchanged")
    finally:
        await client.disconnect()


@suite.case("standby: 'standby', BraviaTurnedOff, set_power_status(True) wakes", psk_display)
async def standby(emulator: Emulator) -> None:
    client = await connected(emulator)
    try:
        emulator.patch({"power": "standby"})
        expect_eq(await client.get_power_status(), "standby", "get_power_status() in standby")
        await expect_raises_async(
            BraviaTurnedOff, "get_volume_info() in standby", client.get_volume_info()
        )
        await expect_raises_async(
            BraviaTurnedOff, "volume_level(30) in standby", client.volume_level(30)
        )
        fresh = client_for(emulator)
        try:
            await expect_raises_async(
                BraviaTurnedOff, "connect(psk) in standby", fresh.connect(psk=PSK)
            )
        finally:
            await fresh.disconnect()
        expect(
            "7" in emulator.journal_codes("getVolumeInformation")[:1],
            "journal: getVolumeInformation answered code 7 in standby",
        )
        expect_eq(await client.set_power_status(True), True, "set_power_status(True)")
        expect_eq(emulator.state()["power"], "active", "admin: power after set_power_status(True)")
        expect_eq(await client.get_power_status(), "active", "get_power_status() after waking")
        expect_eq((await client.get_volume_info()).get("target"), "speaker", "volume after waking")
    finally:
        await client.disconnect()


@suite.case("standby answering 40005: get_volume_info() is {} and volume_level False", display_off)
async def standby_display_off(emulator: Emulator) -> None:
    client = await connected(emulator)
    try:
        emulator.patch({"power": "standby"})
        expect_eq(await client.get_power_status(), "standby", "get_power_status() in standby")
        # pybravia knows only "not power-on": [40005, "Display is turned off"] passes silently.
        expect_eq(await client.get_volume_info(), {}, "get_volume_info() in standby")
        expect_eq(await client.volume_level(30), False, "volume_level(30) in standby")
        expect_eq(
            emulator.journal_codes("setAudioVolume")[:1], ["40005"], "journal: code answered"
        )
    finally:
        await client.disconnect()


@suite.case("turn_off() puts the display in standby", psk_display)
async def turn_off(emulator: Emulator) -> None:
    client = await connected(emulator)
    try:
        expect_eq(await client.turn_off(), True, "turn_off()")
        expect_eq(emulator.state()["power"], "standby", "admin: power after turn_off()")
        expect_eq(await client.get_power_status(), "standby", "get_power_status() after")
    finally:
        await client.disconnect()


@suite.case("wrong PSK: connect raises BraviaAuthError", psk_display)
async def wrong_psk(emulator: Emulator) -> None:
    client = client_for(emulator)
    try:
        await expect_raises_async(
            BraviaAuthError, "connect(psk='wrong')", client.connect(psk="wrong")
        )
        entries = [
            e
            for e in emulator.journal()
            if e["request"].get("rpc_method") == "getSystemInformation"
        ]
        expect(bool(entries), "journal: a getSystemInformation request")
        expect_eq(entries[0]["response"]["status"], 403, "journal: its HTTP status")
    finally:
        await client.disconnect()


@suite.case("IRCC: send_command('Mute') and 'VolumeUp' reach the display", psk_display)
async def ircc_commands(emulator: Emulator) -> None:
    client = await connected(emulator)
    try:
        before = emulator.state()
        expect_eq(await client.send_command("Mute"), True, "send_command('Mute')")
        expect_eq(emulator.state()["mute"], not before["mute"], "admin: mute toggled")
        expect_eq(await client.send_command("VolumeUp"), True, "send_command('VolumeUp')")
        expect_eq(
            emulator.state()["volume"]["speaker"]["volume"],
            before["volume"]["speaker"]["volume"] + 1,
            "admin: speaker volume after VolumeUp",
        )
        expect_eq(await client.send_command("NoSuchButton"), False, "unknown command name")
        # pybravia's first command is preceded by an empty "wake-up" IRCC request.
        ircc = [e for e in emulator.journal() if e["request"]["path"].lower() == "/sony/ircc"]
        expect_eq(len(ircc), 3, "journal: IRCC requests (wake-up, Mute, VolumeUp)")
        expect(all(e["response"]["status"] == 200 for e in ircc), "every IRCC request got 200")
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


def matrix_case(label: str, rule: dict, outcome: tuple) -> None:
    kind, value = outcome
    shown = value.__name__ if kind == "raises" else repr(value)

    @suite.case(f"matrix: getPowerStatus answers {label} -> {kind} {shown}", psk_display)
    async def case(emulator: Emulator) -> None:
        client = await connected(emulator)
        try:
            emulator.admin(
                "POST", "/faults", dict(rule, match={"method": "getPowerStatus"}, count=1)
            )
            what = f"get_power_status() under {label}"
            if kind == "raises":
                await expect_raises_async(value, what, client.get_power_status())
            else:
                expect_eq(await client.get_power_status(), value, what)
            # The rule was for one request only: the display answers again.
            expect_eq(await client.get_power_status(), "active", "get_power_status() after")
            entries = [
                e for e in emulator.journal() if e["request"].get("rpc_method") == "getPowerStatus"
            ]
            faults = [(e.get("fault") or {}).get("action") for e in entries[:2]]
            expect_eq(faults, [None, rule["action"]], "journal: the fault fired on the first only")
        finally:
            await client.disconnect()


for _label, _rule, _outcome in MATRIX:
    matrix_case(_label, _rule, _outcome)


@suite.case("matrix: connect() under [7, 'Illegal State'] raises BraviaNotSupported", psk_display)
async def connect_not_supported(emulator: Emulator) -> None:
    emulator.admin(
        "POST",
        "/faults",
        {"match": {"method": "getSystemInformation"}, "action": "code", "code": 7, "count": 1},
    )
    client = client_for(emulator)
    try:
        await expect_raises_async(BraviaNotSupported, "connect(psk)", client.connect(psk=PSK))
    finally:
        await client.disconnect()


# -- PIN registration ---------------------------------------------------------------------


@suite.case("PIN mode in standby: pair() raises BraviaTurnedOff", pin_display)
async def pair_in_standby(emulator: Emulator) -> None:
    emulator.patch({"power": "standby"})
    client = client_for(emulator)
    try:
        # actRegister answers HTTP 200 [7, "not power-on"]; pair() only swallows auth errors.
        await expect_raises_async(
            BraviaTurnedOff, "pair() in standby", client.pair(CLIENT_ID, NICKNAME)
        )
        expect_eq(emulator.pin(), None, "admin: no PIN shown in standby")
    finally:
        await client.disconnect()


@suite.case("PIN mode: a PSK does not open private methods", pin_display)
async def pin_mode_refuses_psk(emulator: Emulator) -> None:
    client = client_for(emulator)
    try:
        await expect_raises_async(
            BraviaAuthError, "connect(psk) in PIN mode", client.connect(psk="0000")
        )
    finally:
        await client.disconnect()


@suite.case("PIN mode: pair() shows a PIN (401 swallowed)", pin_display)
async def pair_shows_pin(emulator: Emulator) -> None:
    expect_eq(emulator.pin(), None, "admin: PIN before pairing")
    client = client_for(emulator)
    try:
        expect_eq(await client.pair(CLIENT_ID, NICKNAME), None, "pair()")
        pin = emulator.pin()
        expect(
            pin is not None and re.fullmatch(r"\d{4}", pin) is not None, f"a 4-digit PIN: {pin!r}"
        )
        entry = emulator.journal(limit=1)[0]
        expect_eq(entry["request"].get("rpc_method"), "actRegister", "journal: the last request")
        expect_eq(entry["response"]["status"], 401, "journal: actRegister's HTTP status")
    finally:
        await client.disconnect()


@suite.case("PIN mode: a wrong PIN raises BraviaAuthError", pin_display)
async def wrong_pin(emulator: Emulator) -> None:
    client = client_for(emulator)
    try:
        await client.pair(CLIENT_ID, NICKNAME)
        pin = emulator.pin()
        expect(pin is not None, "a PIN is shown after pair()")
        wrong = f"{(int(pin) + 1) % 10000:04d}"
        await expect_raises_async(
            BraviaAuthError,
            f"connect(pin={wrong!r}) while {pin!r} is shown",
            client.connect(pin=wrong, clientid=CLIENT_ID, nickname=NICKNAME),
        )
        expect_eq(emulator.state()["auth"]["registered_clients"], [], "admin: registered clients")
    finally:
        await client.disconnect()


@suite.case("PIN mode: the shown PIN connects; private calls work by cookie", pin_display)
async def right_pin(emulator: Emulator) -> None:
    client = client_for(emulator)
    try:
        await client.pair(CLIENT_ID, NICKNAME)
        pin = emulator.pin()
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
        expect_eq(emulator.state()["volume"]["speaker"]["volume"], 20, "admin: speaker volume")
        expect_eq(emulator.state()["auth"]["registered_clients"], [CLIENT_ID], "admin: clients")
        expect_eq(emulator.pin(), None, "admin: the PIN is gone once used")
    finally:
        await client.disconnect()



@suite.case("PIN mode: a new client reconnects with the stored PIN (as HA does)", pin_display)
async def reconnect_stored_pin(emulator: Emulator) -> None:
    first = client_for(emulator)
    try:
        await first.pair(CLIENT_ID, NICKNAME)
        pin = emulator.pin()
        expect(pin is not None, "a PIN is shown after pair()")
        await first.connect(pin=pin, clientid=CLIENT_ID, nickname=NICKNAME)
    finally:
        await first.disconnect()
    again = client_for(emulator)
    try:
        expect_eq(
            await again.connect(pin=pin, clientid=CLIENT_ID, nickname=NICKNAME),
            None,
            "connect(pin=stored PIN) from a new client, no PIN on screen",
        )
        expect(bool((await again.get_system_info()).get("model")), "get_system_info()")
    finally:
        await again.disconnect()
    other = client_for(emulator)
    try:
        await expect_raises_async(
            BraviaAuthError,
            "another clientid with that PIN",
            other.connect(pin=pin, clientid="someone-else", nickname=NICKNAME),
        )
    finally:
        await other.disconnect()


@suite.case("PIN mode: an expired cookie raises BraviaAuthError; connect(pin) renews", short_cookie)
async def cookie_expiry(emulator: Emulator) -> None:
    client = client_for(emulator)
    try:
        await client.pair(CLIENT_ID, NICKNAME)
        pin = emulator.pin()
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


@suite.case("PSK+PIN mode: the PSK and the PIN both open private methods", both_auth)
async def psk_and_pin(emulator: Emulator) -> None:
    by_psk = await connected(emulator)
    try:
        expect(bool((await by_psk.get_system_info()).get("model")), "by PSK: get_system_info()")
    finally:
        await by_psk.disconnect()
    by_pin = client_for(emulator)
    try:
        await by_pin.pair(CLIENT_ID, NICKNAME)
        pin = emulator.pin()
        expect(pin is not None, "a PIN is shown after pair()")
        await by_pin.connect(pin=pin, clientid=CLIENT_ID, nickname=NICKNAME)
        expect(bool((await by_pin.get_system_info()).get("model")), "by PIN: get_system_info()")
    finally:
        await by_pin.disconnect()


if __name__ == "__main__":
    suite.main()
