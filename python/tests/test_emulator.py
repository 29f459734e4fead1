"""devfault.Emulator against the binary of the installed wheel: lifecycle, errors, every admin
operation."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import sysconfig
import urllib.parse
import urllib.request
from pathlib import Path

import devfault
import pytest
from devfault import AdminError, Emulator, EmulatorError


def rpc(url: str, service: str, method: str, params: list, psk: str = "0000") -> dict:
    """One JSON-RPC call to a display, as a client would make it."""
    body = json.dumps({"method": method, "params": params, "id": 1, "version": "1.0"}).encode()
    request = urllib.request.Request(f"{url}/sony/{service}", data=body)
    request.add_header("X-Auth-PSK", psk)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read())


def alive(pid: int) -> bool:
    """True while `pid` is a process that has not exited (a zombie has)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_wheel_installs_the_binary_beside_python() -> None:
    path = devfault.binary()
    assert path == Path(sysconfig.get_path("scripts")) / "devfault"
    out = subprocess.run(
        [str(path), "explain", "40801"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "Volume Out of Range" in out


def test_the_module_imports_only_the_standard_library() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import devfault, devfault.emulator, devfault.clients\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new - set(sys.stdlib_module_names) - {'devfault'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_py_typed_ships_with_the_package() -> None:
    assert (Path(devfault.__file__).parent / "py.typed").is_file()


def test_start_urls_token_and_stop_by_pid() -> None:
    emulator = Emulator(psk="1234")
    with emulator as emu:
        pid = emu.pid
        assert alive(pid)
        for url in (emu.bravia_url, emu.thinq_url, emu.admin_url):
            assert url.startswith("http://127.0.0.1:"), url
        assert emu.thinq_token == "thinqpat-devfault-0000"
        assert [d.id for d in emu.displays] == ["bravia-0"]
        assert rpc(emu.bravia_url, "system", "getPowerStatus", [], psk="1234")["result"] == [
            {"status": "active"}
        ]
        with pytest.raises(EmulatorError, match="already running"):
            emu.start()
    assert not alive(pid)
    assert not emulator.running
    with pytest.raises(EmulatorError, match="not running"):
        emulator.bravia_url
    emulator.stop()  # stopping twice does nothing


def test_a_server_that_cannot_start_says_why() -> None:
    with pytest.raises(EmulatorError) as raised:
        Emulator(scenario={"displays": {"count": "three"}}).start()
    message = str(raised.value)
    assert "exited with 2" in message
    assert "displays.count" in message and "three" in message


def test_missing_scenario_file_and_binary_are_named(tmp_path: Path) -> None:
    with pytest.raises(EmulatorError, match="nope.json does not exist"):
        Emulator(scenario=tmp_path / "nope.json").start()
    with pytest.raises(EmulatorError, match="cannot run .*no-devfault"):
        Emulator(binary_path=tmp_path / "no-devfault").start()


def test_bad_options_are_refused_before_starting() -> None:
    with pytest.raises(ValueError, match="auth='psk-and-pin' is not one of none, psk, pin"):
        Emulator(auth="psk-and-pin")
    with pytest.raises(ValueError, match="displays=-1"):
        Emulator(displays=-1)
    with pytest.raises(ValueError, match="thinq_tls='0.0.0.0:443' is not a loopback address"):
        Emulator(thinq_tls="0.0.0.0:443")
    assert "127.0.0.1:443" in Emulator(thinq_tls="127.0.0.1:443").command("ready.json")


def test_scenario_file_and_dict(tmp_path: Path) -> None:
    scenario = {"displays": {"count": 2}, "state": {"bravia-1": {"power": "standby"}}}
    path = tmp_path / "two.json"
    path.write_text(json.dumps(scenario))
    for given in (path, str(path), scenario):
        with Emulator(scenario=given) as emu:
            assert [d.id for d in emu.displays] == ["bravia-0", "bravia-1"]
            assert emu.state("bravia-1")["power"] == "standby"
            emu.patch(power="active", device="bravia-1")
            emu.reset()
            assert emu.state("bravia-1")["power"] == "standby"


def test_tls_url_needs_thinq_tls(devfault: Emulator) -> None:
    with pytest.raises(EmulatorError, match="thinq_tls=True"):
        devfault.thinq_tls_url


def test_state_patches(devfault: Emulator) -> None:
    assert devfault.state()["power"] == "active"
    assert devfault.patch({"power": "standby"})["power"] == "standby"
    assert devfault.patch(mute=True)["mute"] is True
    assert devfault.patch({"online": False}, device="ac-living-room")["online"] is False
    assert devfault.device("ac-living-room")["api"] == "thinq"
    assert {"bravia-0", "thinq-cloud", "ac-living-room"} <= {d["id"] for d in devfault.devices()}
    with pytest.raises(AdminError) as raised:
        devfault.patch(power="asleep")
    assert raised.value.status == 400 and "asleep" in raised.value.message
    with pytest.raises(AdminError, match='no device "tv-9"'):
        devfault.state("tv-9")
    with pytest.raises(ValueError, match="needs a state patch"):
        devfault.patch()


def test_fault_rules_with_keywords(devfault: Emulator) -> None:
    rule = devfault.add_fault("code", code=40801, method="setAudioVolume", count=1)
    assert rule.action == "code" and rule.match == {"api": "bravia", "method": "setAudioVolume"}
    answer = rpc(
        devfault.bravia_url, "audio", "setAudioVolume", [{"target": "speaker", "volume": "5"}]
    )
    assert answer["error"] == [40801, "Volume Out of Range"]
    assert devfault.faults() == []  # count 1: expired
    second = devfault.add_fault(
        "status", status=503, match={"service": "system"}, headers={"Retry-After": "5"}
    )
    third = devfault.add_fault("delay", delay_ms=1, device="bravia-0")
    assert [r.id for r in devfault.faults()] == [second.id, third.id]
    devfault.remove_fault(second)
    assert [r.id for r in devfault.faults()] == [third.id]
    assert devfault.clear_faults() == 1
    with pytest.raises(AdminError, match="no fault rule 999"):
        devfault.remove_fault(999)


def test_fault_rules_refused_with_the_reason(devfault: Emulator) -> None:
    with pytest.raises(ValueError, match="no member 'cod'"):
        devfault.add_fault("code", cod=40801)
    with pytest.raises(ValueError, match="action='explode'"):
        devfault.add_fault("explode")
    with pytest.raises(ValueError, match="'method' is given both"):
        devfault.add_fault("reset", method="a", match={"method": "b"})
    with pytest.raises(AdminError, match="99999999 is not in the BRAVIA registry"):
        devfault.add_fault("code", code=99999999)
    # All or none.
    with pytest.raises(AdminError, match=r"rule \[1\]"):
        devfault.add_faults([{"action": "reset"}, {"action": "code", "code": 99999999}])
    assert devfault.faults() == []
    added = devfault.add_faults(
        [{"action": "reset", "method": "getPowerStatus"}, {"action": "no_answer", "count": 1}]
    )
    assert [r.action for r in added] == ["reset", "no_answer"]


def test_seed(devfault: Emulator) -> None:
    devfault.seed = 42
    assert devfault.seed == 42


def test_journal_as_objects_and_waiting(devfault: Emulator) -> None:
    rpc(devfault.bravia_url, "audio", "setAudioVolume", [{"target": "speaker", "volume": "130"}])
    rpc(devfault.bravia_url, "system", "getPowerStatus", [])
    newest, oldest = devfault.journal()
    assert (newest.rpc_method, newest.code, newest.status) == ("getPowerStatus", None, 200)
    assert (oldest.rpc_method, oldest.code, oldest.reason) == (
        "setAudioVolume",
        "40801",
        "Volume Out of Range",
    )
    assert (
        oldest.service == "audio" and oldest.path == "/sony/audio" and oldest.http_method == "POST"
    )
    assert oldest.response_json()["error"][0] == 40801
    assert devfault.codes("setAudioVolume") == ["40801"]
    assert devfault.journal(limit=1) == [newest]
    assert devfault.wait_for_exchange(code=40801).seq == oldest.seq
    assert devfault.wait_for_exchange(status=lambda s: s == 200, after=oldest.seq) == newest
    assert devfault.exchanges(device="bravia-0", api="bravia") == [newest, oldest]
    with pytest.raises(
        EmulatorError,
        match=r"no exchange with \{'rpc_method': 'getVersions'\} within 0.2 s; the last ones: #",
    ):
        devfault.wait_for_exchange(0.2, rpc_method="getVersions")
    with pytest.raises(TypeError, match="no attribute 'colour'"):
        devfault.exchanges(colour="red")
    assert devfault.clear_journal() == 2
    assert devfault.journal() == []


def test_waiting_sees_an_exchange_that_comes_later(devfault: Emulator) -> None:
    import threading

    timer = threading.Timer(0.3, rpc, (devfault.bravia_url, "system", "getPowerStatus", []))
    timer.start()
    try:
        assert devfault.wait_for_exchange(5, rpc_method="getPowerStatus").status == 200
    finally:
        timer.join()


def test_appliances_are_added_and_removed(devfault: Emulator) -> None:
    added = devfault.add_appliance("washer-utility", "DEVICE_WASHER", alias="Utility washer")
    assert added["id"] == "washer-utility" and added["state"]["alias"] == "Utility washer"
    assert devfault.device("washer-utility")["api"] == "thinq"
    with pytest.raises(EmulatorError, match="exists already"):
        devfault.add_appliance("washer-utility", "DEVICE_WASHER")
    with pytest.raises(EmulatorError, match="DEVICE_WASHER"):
        devfault.add_appliance("toaster", "DEVICE_TOASTER")
    devfault.remove_appliance("washer-utility")
    with pytest.raises(EmulatorError, match="washer-utility was removed from thinq-cloud"):
        devfault.device("washer-utility")
    devfault.remove_appliance("fridge-kitchen")
    devfault.reset()
    assert devfault.device("fridge-kitchen")["id"] == "fridge-kitchen"


def test_the_event_paths_provocations_carry_their_rules(devfault: Emulator) -> None:
    mqtt = {p.code: p for p in devfault.provocations("thinq-mqtt")}
    assert mqtt["5"].via == "natural" and mqtt["5"].rule is None
    drop = mqtt["PUBLISH no_answer"].fault_rule(device="washer-main")
    assert drop == {"action": "no_answer", "api": "thinq-mqtt", "http_method": "PUBLISH", "device": "washer-main"}
    assert devfault.add_fault(**drop).match["http_method"] == "PUBLISH"
    refuse = mqtt["3"].fault_rule()
    assert devfault.add_fault(**refuse).raw["resolved"]["code"] == "3"


def test_provocations_and_their_rules(devfault: Emulator) -> None:
    bravia = {p.code: p for p in devfault.provocations("bravia")}
    assert bravia["40801"].via == "natural"
    assert bravia["40200"].via == "fault"
    thinq = devfault.provocations("thinq")
    assert len(thinq) == 61 and {p.api for p in thinq} == {"thinq"}
    by_device = devfault.provocations(device="bravia-0")
    assert by_device == devfault.provocations("bravia")
    with pytest.raises(EmulatorError, match="no API 'zigbee'"):
        devfault.provocations("zigbee")
    devfault.add_fault(**bravia["40200"].fault_rule(method="getPowerStatus"))
    assert rpc(devfault.bravia_url, "system", "getPowerStatus", [])["error"][0] == 40200
    rule = next(p for p in thinq if p.code == "2209").fault_rule(device="fridge-kitchen")
    assert devfault.add_fault(**rule).raw["resolved"]["code"] == "2209"


def test_pin_and_reset(devfault: Emulator) -> None:
    assert devfault.pin() is None
    devfault.add_fault("reset")
    devfault.patch(power="standby")
    summary = devfault.reset()
    assert summary["reset"] is True and summary["faults_removed"] == 1
    assert devfault.state()["power"] == "active" and devfault.faults() == []


def test_admin_is_reached_without_the_environment_s_proxy(
    monkeypatch: pytest.MonkeyPatch, devfault: Emulator
) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert devfault.state()["power"] == "active"


def test_every_emulator_is_stopped_at_exit() -> None:
    code = "import devfault, sys\nemu = devfault.Emulator().start()\nprint(emu.pid, flush=True)\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert not alive(int(out.stdout))


def test_the_mqtt_broker_runs_on_a_free_loopback_port(devfault: Emulator) -> None:
    url = urllib.parse.urlsplit(devfault.thinq_mqtt_url)
    assert url.scheme == "mqtts" and url.hostname == "127.0.0.1"
    assert url.port not in (None, 0, 8883)
    thinq_port = urllib.parse.urlsplit(devfault.thinq_url).port
    assert url.port != thinq_port
    # The broker accepts a TCP connection (its TLS wants a client certificate from the cloud).
    with socket.create_connection((url.hostname, url.port), timeout=10):
        pass


def test_the_ca_file_is_the_certificate_the_admin_api_serves(devfault: Emulator) -> None:
    pem = Path(devfault.thinq_ca_file).read_text()
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{devfault.admin_url}/thinq/ca.pem", timeout=10) as response:
        assert response.read().decode() == pem


def test_thinq_time_scale_is_passed_to_serve_and_checked() -> None:
    emu = Emulator(thinq_time_scale=60)
    command = emu.command("ready.json")
    assert command[command.index("--thinq-time-scale") + 1] == "60"
    assert command[command.index("--thinq-mqtt") + 1] == "127.0.0.1:0"
    assert "--thinq-time-scale" not in Emulator().command("ready.json")
    for bad in (0, -1, 2**32, 1.5, True, "60"):
        with pytest.raises(ValueError, match="thinq_time_scale"):
            Emulator(thinq_time_scale=bad)  # type: ignore[arg-type]
    with Emulator(thinq_time_scale=60) as running:
        assert running.thinq_mqtt_url.startswith("mqtts://127.0.0.1:")


def test_publish_event_reaches_the_admin_api_and_refuses_bad_events(devfault: Emulator) -> None:
    # No MQTT session is open: the event is built and sent to nobody.
    assert devfault.publish_event("washer-main") == 0
    assert devfault.publish_event(
        "washer-main", pushType="DEVICE_PUSH", pushCode="WASHING_IS_COMPLETE"
    ) == 0
    with pytest.raises(AdminError, match="pushCode"):
        devfault.publish_event("washer-main", pushType="DEVICE_PUSH")
    with pytest.raises(AdminError, match="deviceId"):
        devfault.publish_event("washer-main", deviceId="other")
    with pytest.raises(AdminError, match="no device"):
        devfault.publish_event("no-such-appliance")
