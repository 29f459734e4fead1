"""braviaproapi 1.0.1 (synchronous, `requests`, PSK only) against devfault's virtual display.

braviaproapi takes `host:port` directly. It refuses displays whose interfaceVersion is outside
[3.0.0, 4.0.0), so the default display says 3.6.0 and one case uses a 5.0.1 display (the real
FW-55BZ35F's value) through a scenario file.
"""

from __future__ import annotations

import json

import pytest
from braviaproapi import BraviaClient
from braviaproapi.bravia import VolumeDevice
from braviaproapi.bravia.errors import ApiError, VolumeOutOfRangeError
from devfault import Emulator
from devfault.clients import braviaproapi_client

from harness import expect, expect_eq, expect_raises

PASSCODE = "0000"

display = pytest.mark.devfault(psk=PASSCODE, auth="psk")
display_v5 = pytest.mark.devfault(
    psk=PASSCODE,
    scenario={"displays": {"config": {"quirks": {"interface_version": "5.0.1"}}}},
)
display_off = pytest.mark.devfault(
    psk=PASSCODE,
    scenario={"displays": {"config": {"quirks": {"standby_error": "display_off"}}}},
)


def client_for(devfault: Emulator, passcode: str = PASSCODE) -> BraviaClient:
    return braviaproapi_client(devfault, passcode=passcode)


@display
def test_initialize(devfault: Emulator) -> None:
    """initialize() accepts interfaceVersion 3.6.0."""
    client = client_for(devfault)
    expect_eq(client.initialize(), None, "initialize()")
    info = client.system.get_interface_information()
    expect_eq(info["interface_version"], "3.6.0", "getInterfaceInformation's interface_version")
    expect_eq(info["product_category"], "tv", "get_interface_information()['product_category']")
    system = client.system.get_system_information()
    expect(bool(system["model"]), f"get_system_information() has a model: {system}")
    expect_eq(system["generation"], "3.6.0", "get_system_information()['generation']")


@display
def test_power_status(devfault: Emulator) -> None:
    """system.get_power_status() is True."""
    expect_eq(client_for(devfault).system.get_power_status(), True, "get_power_status()")


@display
def test_volume_information(devfault: Emulator) -> None:
    """audio.get_volume_information() matches the display."""
    devices = client_for(devfault).audio.get_volume_information()
    state = devfault.state()["volume"]
    by_type = {d["type"]: d for d in devices}
    expect_eq(
        sorted(by_type, key=str),
        sorted([VolumeDevice.SPEAKERS, VolumeDevice.HEADPHONES], key=str),
        "the devices",
    )
    pairs = ((VolumeDevice.SPEAKERS, "speaker"), (VolumeDevice.HEADPHONES, "headphone"))
    for device, target in pairs:
        info = by_type[device]
        expect_eq(info["volume"], state[target]["volume"], f"{target} volume")
        expect_eq(info["max_volume"], state[target]["max"], f"{target} max_volume")
        expect_eq(info["min_volume"], state[target]["min"], f"{target} min_volume")
        expect_eq(info["muted"], devfault.state()["mute"], f"{target} muted")


@display
def test_set_volume(devfault: Emulator) -> None:
    """audio.set_volume_level(30) sets every output (target '', v1.2)."""
    client = client_for(devfault)
    expect_eq(client.audio.set_volume_level(30), None, "set_volume_level(30)")
    volume = devfault.state()["volume"]
    expect_eq(volume["speaker"]["volume"], 30, "admin: speaker volume")
    expect_eq(volume["headphone"]["volume"], 30, "admin: headphone volume")
    expect_eq(
        client.audio.set_volume_level(12, show_ui=False, device=VolumeDevice.SPEAKERS),
        None,
        "set_volume_level(12, speakers only, no UI)",
    )
    volume = devfault.state()["volume"]
    expect_eq(volume["speaker"]["volume"], 12, "admin: speaker volume")
    expect_eq(volume["headphone"]["volume"], 30, "admin: headphone volume unchanged")
    entry = next(
        e for e in devfault.journal() if e.rpc_method == "setAudioVolume"
    )
    expect('"version": "1.2"' in entry.request_body, f"sent v1.2: {entry.request_body}")
    expected = '{"result":[],"id":' + str(_id(entry)) + "}"
    expect_eq(entry.response_body, expected, "the v1.2 answer")


def _id(entry: dict) -> int:
    return json.loads(entry.request_body)["id"]


@display
def test_volume_out_of_range(devfault: Emulator) -> None:
    """audio.set_volume_level(130) raises VolumeOutOfRangeError (40801)."""
    client = client_for(devfault)
    before = devfault.state()["volume"]
    with expect_raises(VolumeOutOfRangeError, "set_volume_level(130)") as raised:
        client.audio.set_volume_level(130)
    expect(
        "out of range" in str(raised.error),
        f"the message says out of range: {raised.error}",
    )
    expect_eq(devfault.codes("setAudioVolume")[:1], ["40801"], "journal: code answered")
    expect_eq(devfault.state()["volume"], before, "admin: volumes unchanged")
    with expect_raises(VolumeOutOfRangeError, "increase_volume(100) from 25"):
        client.audio.increase_volume(100)


@display
def test_standby(devfault: Emulator) -> None:
    """standby: get_power_status() False, others ApiError; set_power_status(True)."""
    client = client_for(devfault)
    client.initialize()
    devfault.patch({"power": "standby"})
    expect_eq(client.system.get_power_status(), False, "get_power_status() in standby")
    not_ready = "The device is not in the correct state to process this request"
    with expect_raises(ApiError, "get_volume_information() in standby") as raised:
        client.audio.get_volume_information()
    expect_eq(str(raised.error), not_ready, "its message")
    with expect_raises(ApiError, "set_volume_level(30) in standby") as raised:
        client.audio.set_volume_level(30)
    expect(
        not isinstance(raised.error, VolumeOutOfRangeError),
        "standby is not reported as a volume out of range",
    )
    expect_eq(str(raised.error), not_ready, "its message")
    # A fresh client: initialize() only asks getInterfaceInformation, which answers in standby.
    fresh = client_for(devfault)
    expect_eq(fresh.system.get_power_status(), False, "a fresh client's get_power_status()")
    expect_eq(client.system.set_power_status(True), None, "set_power_status(True)")
    expect_eq(devfault.state()["power"], "active", "admin: power after set_power_status(True)")
    expect_eq(client.system.get_power_status(), True, "get_power_status() after waking")


@display_off
def test_standby_display_off(devfault: Emulator) -> None:
    """standby answering 40005: ApiError 'display is off'."""
    client = client_for(devfault)
    client.initialize()
    devfault.patch({"power": "standby"})
    expect_eq(client.system.get_power_status(), False, "get_power_status() in standby")
    with expect_raises(ApiError, "get_volume_information() in standby") as raised:
        client.audio.get_volume_information()
    expect_eq(
        str(raised.error),
        "This request cannot be made while the device's display is off",
        "its message",
    )
    # braviaproapi reads 7 and 40005 from getPlayingContentInfo as "nothing playing".
    expect_eq(client.avcontent.get_playing_content_info(), None, "get_playing_content_info()")


@display
def test_wrong_passcode(devfault: Emulator) -> None:
    """wrong passcode: protected calls raise ApiError naming 403."""
    client = client_for(devfault, passcode="wrong")
    # getInterfaceInformation and getPowerStatus need no authentication.
    expect_eq(client.system.get_power_status(), True, "get_power_status() with a wrong passcode")
    for what, call in (
        ("set_volume_level(30)", lambda: client.audio.set_volume_level(30)),
        ("get_system_information()", client.system.get_system_information),
    ):
        with expect_raises(ApiError, what) as raised:
            call()
        expect("403" in str(raised.error), f"{what}: the message names 403: {raised.error}")
    expect_eq(devfault.state()["volume"]["speaker"]["volume"], 25, "admin: volume unchanged")


# -- the reaction matrix (reference §4.3), replayed with the emulator's fault rules ------------

NOT_READY = "The device is not in the correct state to process this request"
UNKNOWN_CODE_BODY = '{"error":[99999,"Unknown code"],"id":1}'
# (label, fault rule on getPowerStatus, exception get_power_status() raises, its message or
# None when the message is the client's own bug text).
MATRIX = [
    ("HTTP 404", {"action": "status", "status": 404}, ApiError,
     "An unexpected error occurred: Unexpected status code 404 received"),
    ("HTTP 403", {"action": "status", "status": 403}, ApiError,
     "An unexpected error occurred: Unexpected status code 403 received"),
    ("HTTP 401", {"action": "status", "status": 401}, ApiError,
     "An unexpected error occurred: Unexpected status code 401 received"),
    ("HTTP 503", {"action": "status", "status": 503}, ApiError,
     "An unexpected error occurred: Unexpected status code 503 received"),
    ("[7, 'not power-on']", {"action": "code", "code": 7, "message": "not power-on"}, ApiError,
     NOT_READY),
    ("[7, 'Illegal State']", {"action": "code", "code": 7}, ApiError, NOT_READY),
    ("[40005, 'Display is turned off']", {"action": "code", "code": 40005}, ApiError,
     "This request cannot be made while the device's display is off"),
    ("[12, 'No Such Method']", {"action": "code", "code": 12}, ApiError,
     "The requested API resource is not available on this device"),
    # The client's bugs, as the reference measured them.
    ("unknown code 99999",
     {"action": "status", "status": 200, "body": UNKNOWN_CODE_BODY,
      "content_type": "application/json"},
     ValueError, "99999 is not a valid ErrorCode"),
    ("malformed JSON", {"action": "malformed_body"}, UnboundLocalError, None),
    ("an HTML body", {"action": "non_json_body"}, UnboundLocalError, None),
]


@display
@pytest.mark.parametrize(
    ("label", "rule", "exc_type", "message"),
    MATRIX,
    ids=[f"{m[0]} -> {m[2].__name__}" for m in MATRIX],
)
def test_matrix(
    devfault: Emulator, label: str, rule: dict, exc_type: type, message: str | None
) -> None:
    """matrix: getPowerStatus answers `label` -> get_power_status() raises `exc_type`."""
    client = client_for(devfault)
    client.initialize()
    devfault.add_fault(**dict(rule, match={"method": "getPowerStatus"}, count=1))
    with expect_raises(exc_type, f"get_power_status() under {label}") as raised:
        client.system.get_power_status()
    if message is not None:
        expect_eq(str(raised.error), message, "the message")
    # The rule was for one request only: the display answers again.
    expect_eq(client.system.get_power_status(), True, "get_power_status() after")
    entries = [e for e in devfault.journal() if e.rpc_method == "getPowerStatus"]
    faults = [e.fault for e in entries[:2]]
    expect_eq(faults, [None, rule["action"]], "journal: the fault fired on the first only")


@display
def test_connection_reset(devfault: Emulator) -> None:
    """matrix: a connection reset -> ApiError 'A connection error occurred'."""
    client = client_for(devfault)
    client.initialize()
    devfault.add_fault("reset", method="getPowerStatus", count=1)
    with expect_raises(ApiError, "get_power_status() on a reset") as raised:
        client.system.get_power_status()
    expect(
        str(raised.error).startswith("An unexpected error occurred: A connection error occurred"),
        f"the message: {raised.error}",
    )


@display_v5
def test_incompatible_version(devfault: Emulator) -> None:
    """interfaceVersion 5.0.1: ApiError 'incompatible API version'."""
    client = client_for(devfault)
    info = client.system.get_interface_information()
    expect_eq(info["interface_version"], "5.0.1", "the display's interfaceVersion")
    with expect_raises(ApiError, "initialize() against 5.0.1") as raised:
        client.initialize()
    expect(
        "incompatible API version '5.0.1'" in str(raised.error),
        f"the message: {raised.error}",
    )
    with expect_raises(ApiError, "get_power_status() against 5.0.1"):
        client.system.get_power_status()

