"""`devfault serve` from Python: start it on free loopback ports, speak its admin API, stop it.

Standard library only. The server is the `devfault` binary this package's wheel installs (or
`$DEVFAULT_BIN`); it is started with `--ready-file` and every listener on `127.0.0.1:0`, so
emulators never compete for a port, and stopped by its PID. On Linux it also gets
`PR_SET_PDEATHSIG`, so it ends with the Python process that started it even when that process
is killed and runs no clean-up.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "AdminError",
    "Display",
    "Emulator",
    "EmulatorError",
    "Exchange",
    "FaultRule",
    "Provocation",
    "binary",
]

#: How long `devfault serve` may take to write its ready file before start() gives up.
READY_TIMEOUT_S = 30.0
#: How long stop() waits after SIGTERM before it sends SIGKILL.
STOP_TIMEOUT_S = 10.0
#: How long one admin API request may take.
ADMIN_TIMEOUT_S = 10.0
#: The members of a fault rule's `match` object, which add_fault() also takes as keywords.
MATCH_KEYS = ("api", "device", "service", "method", "path", "http_method")
#: The other members of a fault rule (`action` aside), as the admin API names them.
RULE_KEYS = (
    "code",
    "message",
    "status",
    "body",
    "content_type",
    "headers",
    "probability",
    "count",
    "delay_ms",
)
#: The actions a fault rule takes.
ACTIONS = ("code", "status", "delay", "malformed_body", "non_json_body", "reset", "no_answer")
#: The values of `serve --auth`.
AUTH_MODES = ("none", "psk", "pin", "psk+pin")


class EmulatorError(Exception):
    """The emulator did not start, is not running, or did not do what was asked."""


class AdminError(EmulatorError):
    """The admin API refused a request: `status` is its HTTP status, `message` its own words."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"admin API {method} {path} answered {status}: {message}")
        self.method = method
        self.path = path
        self.status = status
        self.message = message


def binary() -> Path:
    """The `devfault` binary: `$DEVFAULT_BIN` when set, else the one this package installed.

    The wheel puts it in the scripts directory of the environment the package is installed in
    (the virtualenv's `bin/`), or of the user scheme for `pip install --user`.
    """
    explicit = os.environ.get("DEVFAULT_BIN")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise EmulatorError(f"DEVFAULT_BIN={explicit!r} is not a file")
        return path
    exe = "devfault" + (sysconfig.get_config_var("EXE") or "")
    tried: list[str] = []
    schemes = [sysconfig.get_path("scripts")]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        schemes.append(sysconfig.get_path("scripts", scheme=user_scheme))
    for scripts in schemes:
        candidate = Path(scripts) / exe
        tried.append(str(candidate))
        if candidate.is_file():
            return candidate
    found = shutil.which("devfault")
    if found:
        return Path(found)
    raise EmulatorError(
        f"no devfault binary: not in {', '.join(tried)} nor on PATH; install the package "
        "(pip install ./python from a clone of devfault) or set DEVFAULT_BIN"
    )


@dataclass(frozen=True)
class Display:
    """One virtual BRAVIA display of a running emulator."""

    #: Its device id in the admin API (`bravia-0`).
    id: str
    #: `http://127.0.0.1:PORT`, without a trailing slash.
    url: str

    @property
    def host(self) -> str:
        """`127.0.0.1`."""
        return urllib.parse.urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        """The display's port."""
        port = urllib.parse.urlsplit(self.url).port
        if port is None:
            raise EmulatorError(f"the display URL {self.url!r} names no port")
        return port


@dataclass(frozen=True)
class Provocation:
    """How to make a device answer one code: by a request (`natural`) or a fault rule."""

    #: The API (`bravia`, `thinq`, `thinq-mqtt`: the ThinQ cloud's MQTT event path).
    api: str
    #: The code as written on the wire (`"40801"`, `"2304"`, a CONNACK return code `"3"`), or
    #: for a fault of the event path its step and action (`"PUBLISH no_answer"`).
    code: str
    #: `natural` (a request in the right situation) or `fault` (only a fault rule gives it).
    via: str
    #: What to do, concretely.
    how: str
    #: The fault rule the admin API gives for it (the event path's faults), as `POST /faults`
    #: takes it; None where the rule is the registry's `code` action.
    rule: dict[str, Any] | None = field(default=None, hash=False)

    def fault_rule(self, **match: Any) -> dict[str, Any]:
        """A fault rule (for add_fault(**rule)) that answers this code, matching `match`.

        BRAVIA codes are numbers on the wire and in rules, ThinQ codes four-digit strings;
        an event-path fault is the rule the admin API listed, `match` added to its match.
        """
        if self.rule is not None:
            fields = {k: v for k, v in self.rule.items() if k != "match"}
            return {**fields, **dict(self.rule.get("match") or {}), **match}
        code: int | str = int(self.code) if self.api == "bravia" else self.code
        return {"action": "code", "code": code, **match}

    def __str__(self) -> str:
        return f"{self.api} {self.code}"


@dataclass(frozen=True)
class FaultRule:
    """A fault rule as the admin API lists it."""

    #: Its id, for remove_fault().
    id: int
    #: `code`, `status`, `delay`, `malformed_body`, `non_json_body`, `reset` or `no_answer`.
    action: str
    #: Which requests it applies to (its `match` object).
    match: dict[str, Any]
    #: How often it fired so far.
    fired: int
    #: The rule as the admin API answered it (code, count, resolved registry row...).
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, rule: Mapping[str, Any]) -> FaultRule:
        """A rule from the admin API's JSON."""
        return cls(
            id=int(rule["id"]),
            action=str(rule["action"]),
            match=dict(rule.get("match") or {}),
            fired=int(rule.get("fired") or 0),
            raw=dict(rule),
        )


@dataclass(frozen=True)
class Exchange:
    """One request to a virtual device and what it got, from the journal."""

    #: Position in the order of recording, from 1, never reused.
    seq: int
    #: The device's id (`bravia-0`, `ac-living-room`).
    device: str
    #: The device's API (`bravia`, `thinq`).
    api: str
    #: The HTTP method of the request.
    http_method: str
    #: The request path (`/sony/audio`, `/devices/ac-living-room/state`).
    path: str
    #: The service addressed (`audio`), when the API has one.
    service: str | None
    #: The RPC method named in the request (`setAudioVolume`), or the ThinQ SDK method.
    rpc_method: str | None
    #: The start of the request body.
    request_body: str
    #: `answered`, `reset` or `no_answer`.
    outcome: str
    #: The HTTP status answered, None when the connection was reset or held.
    status: int | None
    #: The start of the response body ("" without a response).
    response_body: str
    #: The code the vendor decoder read in the response (`"40801"`), None for a success.
    code: str | None
    #: The registry's reason for `code`.
    reason: str | None
    #: The action of the fault rule that fired, if one did.
    fault: str | None
    #: The id of the fault rule that fired, if one did.
    fault_rule: int | None
    #: The rules of the API the response breaks.
    violations: tuple[str, ...]
    #: Milliseconds from the request to the answer.
    duration_ms: int
    #: The entry as the admin API answered it (headers included, credentials redacted).
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> Exchange:
        """An exchange from a journal entry of the admin API."""
        request = entry.get("request") or {}
        response = entry.get("response") or {}
        decoded = entry.get("decoded") or {}
        fault = entry.get("fault") or {}
        return cls(
            seq=int(entry["seq"]),
            device=str(entry.get("device", "")),
            api=str(entry.get("api", "")),
            http_method=str(request.get("method", "")),
            path=str(request.get("path", "")),
            service=request.get("service"),
            rpc_method=request.get("rpc_method"),
            request_body=str(request.get("body", "")),
            outcome=str(entry.get("outcome", "")),
            status=response.get("status"),
            response_body=str(response.get("body", "")),
            code=decoded.get("code"),
            reason=decoded.get("reason"),
            fault=fault.get("action"),
            fault_rule=fault.get("rule"),
            violations=tuple(entry.get("violations") or ()),
            duration_ms=int(entry.get("duration_ms") or 0),
            raw=dict(entry),
        )

    def response_json(self) -> Any:
        """The response body parsed as JSON (it must be whole: the journal keeps 64 KiB)."""
        return json.loads(self.response_body)

    def matches(self, **want: Any) -> bool:
        """True when every attribute named equals the value given (`code="40801"`); a value
        that is callable is a predicate on the attribute instead."""
        for name, expected in want.items():
            if not hasattr(self, name) or name == "raw":
                raise TypeError(
                    f"an exchange has no attribute {name!r}; it has "
                    + ", ".join(f for f in self.__dataclass_fields__ if f != "raw")
                )
            actual = getattr(self, name)
            if callable(expected):
                if not expected(actual):
                    return False
            elif name == "code" and expected is not None:
                if actual != str(expected):
                    return False
            elif actual != expected:
                return False
        return True


class Emulator:
    """One `devfault serve`: virtual BRAVIA display(s), the virtual ThinQ Connect cloud and the
    admin API, each on a free loopback port.

    ```python
    with Emulator(psk="0000") as emu:
        emu.add_fault("code", code=40801, method="setAudioVolume", count=1)
        ...  # point a client at emu.bravia_url
        assert emu.wait_for_exchange(rpc_method="setAudioVolume").code == "40801"
    ```

    Every option is a `serve` flag: `psk`, `auth` (none, psk, pin, psk+pin), `displays`,
    `scenario` (a path, or a dict written to a file), `seed`, `thinq_token`, `thinq_devices`,
    `thinq_rate_limit`, `thinq_tls` (the cloud over TLS too: `True` on a free port, or a
    loopback address such as `"127.0.0.1:443"`, where LG's SDK connects MQTT by default),
    `thinq_time_scale` (washer/dryer programmes run that many times faster). The cloud's MQTT
    broker always runs, on a free port too (`thinq_mqtt_url`, its CA in `thinq_ca_file`).
    """

    def __init__(
        self,
        *,
        psk: str | None = None,
        auth: str | None = None,
        displays: int | None = None,
        scenario: str | os.PathLike[str] | Mapping[str, Any] | None = None,
        seed: int | None = None,
        thinq_token: str | None = None,
        thinq_devices: int | None = None,
        thinq_rate_limit: int | None = None,
        thinq_tls: bool | str = False,
        thinq_time_scale: int | None = None,
        binary_path: str | os.PathLike[str] | None = None,
        ready_timeout: float = READY_TIMEOUT_S,
    ) -> None:
        if auth is not None and auth not in AUTH_MODES:
            raise ValueError(f"auth={auth!r} is not one of {', '.join(AUTH_MODES)}")
        for name, value in (
            ("displays", displays),
            ("seed", seed),
            ("thinq_devices", thinq_devices),
            ("thinq_rate_limit", thinq_rate_limit),
        ):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise ValueError(f"{name}={value!r} is not a non-negative integer")
        if thinq_time_scale is not None and (
            not isinstance(thinq_time_scale, int)
            or isinstance(thinq_time_scale, bool)
            or not 1 <= thinq_time_scale <= 2**32 - 1
        ):
            raise ValueError(
                f"thinq_time_scale={thinq_time_scale!r} is not an integer from 1 to {2**32 - 1}"
            )
        if isinstance(thinq_tls, str):
            host, _, port = thinq_tls.rpartition(":")
            if host not in ("127.0.0.1", "[::1]") or not port.isdigit() or int(port) > 65535:
                raise ValueError(
                    f"thinq_tls={thinq_tls!r} is not a loopback address: give True (a free "
                    "port) or '127.0.0.1:PORT'"
                )
        self.psk = psk
        self.auth = auth
        self.displays_wanted = displays
        self.scenario = scenario
        self.seed_wanted = seed
        self.thinq_token_wanted = thinq_token
        self.thinq_devices = thinq_devices
        self.thinq_rate_limit = thinq_rate_limit
        self.thinq_tls = thinq_tls
        self.thinq_time_scale = thinq_time_scale
        self.binary_path = Path(binary_path) if binary_path is not None else None
        self.ready_timeout = ready_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._ready: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------

    def command(self, ready_file: str | os.PathLike[str]) -> list[str]:
        """The `devfault serve` command line start() runs."""
        args = [
            str(self.binary_path or binary()),
            "serve",
            "--bravia",
            "127.0.0.1:0",
            "--thinq",
            "127.0.0.1:0",
            # The cloud's MQTT broker, on a free port too (reported as thinq.mqtt_url).
            "--thinq-mqtt",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
            "--ready-file",
            os.fspath(ready_file),
        ]
        if self.thinq_tls:
            tls = self.thinq_tls if isinstance(self.thinq_tls, str) else "127.0.0.1:0"
            args += ["--thinq-tls", tls]
        for flag, value in (
            ("--psk", self.psk),
            ("--auth", self.auth),
            ("--displays", self.displays_wanted),
            ("--seed", self.seed_wanted),
            ("--thinq-token", self.thinq_token_wanted),
            ("--thinq-devices", self.thinq_devices),
            ("--thinq-rate-limit", self.thinq_rate_limit),
            ("--thinq-time-scale", self.thinq_time_scale),
        ):
            if value is not None:
                args += [flag, str(value)]
        return args

    def start(self) -> Emulator:
        """Starts the server and waits for its ready file; raises EmulatorError with the
        server's own message when it exits or does not get ready in time."""
        with self._lock:
            if self._proc is not None:
                raise EmulatorError(f"the emulator is already running (PID {self._proc.pid})")
            workdir = Path(tempfile.mkdtemp(prefix="devfault-"))
            self._workdir = workdir
            try:
                self._spawn(workdir)
            except BaseException:
                self._stop_locked()
                raise
        return self

    def _spawn(self, workdir: Path) -> None:
        ready = workdir / "ready.json"
        args = self.command(ready)
        if self.scenario is not None:
            if isinstance(self.scenario, Mapping):
                scenario_file = workdir / "scenario.json"
                scenario_file.write_text(json.dumps(self.scenario, indent=2))
            else:
                scenario_file = Path(self.scenario)
                if not scenario_file.is_file():
                    raise EmulatorError(f"the scenario file {scenario_file} does not exist")
            args += ["--scenario", str(scenario_file)]
        with open(workdir / "serve.log", "wb") as log:
            try:
                self._proc = subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Its own session: a Ctrl-C in the terminal reaches Python, which stops
                    # the server in order, and not the server first, under a running test.
                    start_new_session=True,
                    preexec_fn=_die_with_parent(),
                )
            except OSError as err:
                raise EmulatorError(f"cannot run {args[0]}: {err}") from None
        _running.add(self)
        deadline = time.monotonic() + self.ready_timeout
        pause = 0.001
        while True:
            code = self._proc.poll()
            if code is not None:
                raise EmulatorError(
                    f"devfault serve exited with {code} before it was ready: "
                    f"{self._server_message()}\ncommand: {' '.join(args)}"
                )
            if ready.is_file():
                # Written whole and renamed by the server: a file that exists is complete.
                self._ready = json.loads(ready.read_text())
                return
            if time.monotonic() > deadline:
                raise EmulatorError(
                    f"devfault serve wrote no ready file within {self.ready_timeout:g} s: "
                    f"{self._server_message() or '(no output)'}\ncommand: {' '.join(args)}"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def _server_message(self) -> str:
        """The server's own words: its `devfault: ...` error lines, else its last output."""
        text = self.log()
        errors = [line for line in text.splitlines() if line.startswith("devfault:")]
        return "\n".join(errors) if errors else text[-2000:].strip()

    def log(self) -> str:
        """What the server printed so far (stdout and stderr)."""
        if self._workdir is None:
            return ""
        try:
            return (self._workdir / "serve.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the server's PID; SIGKILL when it has not ended within STOP_TIMEOUT_S.
        Does nothing when it is not running."""
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=STOP_TIMEOUT_S)
        _running.discard(self)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self._ready = {}

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self._proc is None:
            raise EmulatorError("the emulator is not running; call start() first")
        return self._proc.pid

    def __repr__(self) -> str:
        if self._proc is None:
            return "<devfault.Emulator (stopped)>"
        return f"<devfault.Emulator PID {self._proc.pid} admin {self.admin_url}>"

    # -- where things are ---------------------------------------------------------------------

    def _field(self, *path: str) -> Any:
        if not self._ready:
            raise EmulatorError("the emulator is not running; call start() first")
        value: Any = self._ready
        for key in path:
            if not isinstance(value, dict) or key not in value:
                raise EmulatorError(
                    f"the ready file has no {'.'.join(path)}"
                    + (" (start the emulator with thinq_tls=True)" if key == "tls_url" else "")
                    + f": {self._ready}"
                )
            value = value[key]
        return value

    @property
    def displays(self) -> list[Display]:
        """The BRAVIA displays, in order."""
        return [Display(d["id"], d["url"].rstrip("/")) for d in self._field("displays")]

    def display(self, index: int = 0) -> Display:
        """One display, by position."""
        displays = self.displays
        if not 0 <= index < len(displays):
            raise EmulatorError(f"no display {index}: the emulator has {len(displays)}")
        return displays[index]

    @property
    def bravia_url(self) -> str:
        """`http://127.0.0.1:PORT` of the first display."""
        return self.display(0).url

    @property
    def admin_url(self) -> str:
        """`http://127.0.0.1:PORT` of the admin API."""
        return str(self._field("admin")).rstrip("/")

    @property
    def thinq_url(self) -> str:
        """`http://127.0.0.1:PORT` of the ThinQ Connect cloud."""
        return str(self._field("thinq", "url")).rstrip("/")

    @property
    def thinq_tls_url(self) -> str:
        """`https://127.0.0.1:PORT` of the cloud's TLS listener (with `thinq_tls=True`)."""
        return str(self._field("thinq", "tls_url")).rstrip("/")

    @property
    def thinq_mqtt_url(self) -> str:
        """`mqtts://127.0.0.1:PORT` of the cloud's MQTT broker (mutual TLS, client
        certificates from `POST /client/certificate`)."""
        return str(self._field("thinq", "mqtt_url"))

    @property
    def thinq_ca_file(self) -> str:
        """The path of the cloud's CA certificate (PEM), the root MQTT clients trust; the
        emulator writes it beside its ready file."""
        return str(self._field("thinq", "ca_pem"))

    @property
    def thinq_token(self) -> str:
        """The personal access token of user 1, who owns the default household."""
        return str(self._field("thinq", "token"))

    # -- the admin API ------------------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """One JSON request to the admin API; a refusal raises AdminError with its message."""
        url = self.admin_url + path
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with _LOOPBACK_OPENER.open(request, timeout=ADMIN_TIMEOUT_S) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            text = err.read().decode(errors="replace")
            try:
                message = json.loads(text)["error"]
            except (ValueError, KeyError, TypeError):
                message = text
            raise AdminError(method, path, err.code, str(message)) from None
        except (urllib.error.URLError, OSError) as err:
            state = "running" if self.running else f"not running (log: {self._server_message()})"
            raise EmulatorError(
                f"admin API {method} {path}: {err}; the server is {state}"
            ) from None
        return json.loads(raw) if raw else None

    def index(self) -> dict[str, Any]:
        """`GET /`: the device ids and every endpoint."""
        return dict(self.admin("GET", "/"))

    def devices(self) -> list[dict[str, Any]]:
        """Every device (displays, the ThinQ cloud, its appliances): id, api, address, state."""
        return list(self.admin("GET", "/devices")["devices"])

    def _device_id(self, device: str | None) -> str:
        return self.display(0).id if device is None else device

    def device(self, device: str | None = None) -> dict[str, Any]:
        """One device (default: the first display): id, api, address, state, pin."""
        return dict(self.admin("GET", f"/devices/{_quote(self._device_id(device))}"))

    def state(self, device: str | None = None) -> dict[str, Any]:
        """A device's state (default: the first display)."""
        return dict(self.device(device)["state"])

    def patch(
        self, patch: Mapping[str, Any] | None = None, *, device: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Changes part of a device's state (default: the first display) and answers the new
        state: `patch({"power": "standby"})`, `patch(power="standby")`,
        `patch({"online": False}, device="ac-living-room")`."""
        body = {**(patch or {}), **fields}
        if not body:
            raise ValueError("patch() needs a state patch, e.g. patch(power='standby')")
        answer = self.admin("PATCH", f"/devices/{_quote(self._device_id(device))}", body)
        return dict(answer["state"])

    def pin(self, device: str | None = None) -> str | None:
        """The PIN a display shows now (after an actRegister without one), or None."""
        pin = self.admin("GET", f"/devices/{_quote(self._device_id(device))}/pin")["pin"]
        return None if pin is None else str(pin)

    def publish_event(self, device: str, **members: Any) -> int:
        """Publishes a ThinQ event for an appliance now, over the cloud's MQTT broker (admin
        `POST /devices/{id}/events`): `pushType` (default `DEVICE_STATUS`, with the current
        state as `report`), and `report`, `pushCode` or any other member, which replace the
        defaults; `deviceType=None` leaves the type out, as a faulty cloud might. Answers how
        many MQTT sessions took it: `publish_event("washer-main", pushType="DEVICE_PUSH",
        pushCode="WASHING_IS_COMPLETE")`."""
        answer = self.admin("POST", f"/devices/{_quote(device)}/events", members)
        return int(answer["sent"]["sessions"])

    def add_appliance(
        self,
        device_id: str,
        device_type: str,
        *,
        owner: int = 1,
        alias: str | None = None,
    ) -> dict[str, Any]:
        """Adds a ThinQ appliance now (admin `POST /devices/thinq-cloud/members`): listed by
        `GET /devices` and served at once, in its type's initial state; the owner's clients
        that asked for lifecycle events (`POST /push/devices`) get a `DEVICE_REGISTERED`.
        Answers the device as `device()` does. A reset removes it again."""
        spec: dict[str, Any] = {"deviceId": device_id, "deviceType": device_type, "owner": owner}
        if alias is not None:
            spec["alias"] = alias
        return self.admin("POST", "/devices/thinq-cloud/members", spec)

    def remove_appliance(self, device_id: str) -> None:
        """Removes a ThinQ appliance now (admin `DELETE /devices/{id}`): requests naming it
        answer 1217 and the owner's lifecycle clients get a `DEVICE_UNREGISTERED`. A reset
        brings it back."""
        self.admin("DELETE", f"/devices/{_quote(device_id)}")

    def provocations(
        self, api: str | None = None, *, device: str | None = None
    ) -> list[Provocation]:
        """How to provoke each code: of one device, of one API (`bravia`, `thinq`,
        `thinq-mqtt`), or of every API served."""
        if device is not None:
            answer = self.admin("GET", f"/devices/{_quote(device)}/provocations")
            api_of = str(self.device(device)["api"])
            return [_provocation(api_of, p) for p in answer["provocations"]]
        apis = self.admin("GET", "/provocations")["apis"]
        if api is not None and api not in apis:
            raise EmulatorError(f"no API {api!r} is served; APIs: {', '.join(sorted(apis))}")
        return [
            _provocation(name, p)
            for name, entry in apis.items()
            if api is None or name == api
            for p in entry["provocations"]
        ]

    # fault rules

    def faults(self) -> list[FaultRule]:
        """The fault rules, in the order they are tried."""
        return [FaultRule.from_json(r) for r in self.admin("GET", "/faults")["rules"]]

    def add_fault(
        self, action: str, *, match: Mapping[str, Any] | None = None, **fields: Any
    ) -> FaultRule:
        """Adds a fault rule and answers it with its id.

        `action` is one of ACTIONS; the match members (api, device, service, method, path,
        http_method) may be given as keywords or in `match`; the rest (code, message, status,
        body, content_type, headers, probability, count, delay_ms) as keywords:
        `add_fault("code", code=40801, method="setAudioVolume", count=1)`.
        """
        rule = _rule(action, match, fields)
        answer = self.admin("POST", "/faults", rule)
        return FaultRule.from_json(answer["rule"])

    def add_faults(self, rules: Iterable[Mapping[str, Any]]) -> list[FaultRule]:
        """Adds several rules, all or none; each is a dict of add_fault()'s arguments."""
        bodies = []
        for index, rule in enumerate(rules):
            rule = dict(rule)
            if "action" not in rule:
                raise ValueError(f"rule [{index}] has no action; actions: {', '.join(ACTIONS)}")
            action = rule.pop("action")
            bodies.append(_rule(action, rule.pop("match", None), rule))
        answer = self.admin("POST", "/faults", bodies)
        return [FaultRule.from_json(r) for r in answer["rules"]]

    def remove_fault(self, rule: int | FaultRule) -> None:
        """Removes one rule (by id, or the rule add_fault() answered)."""
        rule_id = rule.id if isinstance(rule, FaultRule) else rule
        self.admin("DELETE", f"/faults/{int(rule_id)}")

    def clear_faults(self) -> int:
        """Removes every rule; answers how many there were."""
        return int(self.admin("DELETE", "/faults")["removed"])

    @property
    def seed(self) -> int:
        """The seed of the fault rules' random draws."""
        return int(self.admin("GET", "/faults/seed")["seed"])

    @seed.setter
    def seed(self, seed: int) -> None:
        self.admin("POST", "/faults/seed", {"seed": int(seed)})

    # the journal

    def journal(self, device: str | None = None, limit: int | None = None) -> list[Exchange]:
        """The exchanges, newest first; `device` and `limit` narrow them."""
        query = {}
        if device is not None:
            query["device"] = device
        if limit is not None:
            query["limit"] = str(int(limit))
        path = "/journal" + ("?" + urllib.parse.urlencode(query) if query else "")
        return [Exchange.from_json(e) for e in self.admin("GET", path)["entries"]]

    def exchanges(self, **want: Any) -> list[Exchange]:
        """The exchanges that match every attribute given (see Exchange.matches), newest
        first: `exchanges(rpc_method="setAudioVolume")`."""
        device = want.get("device") if isinstance(want.get("device"), str) else None
        return [e for e in self.journal(device=device) if e.matches(**want)]

    def codes(self, rpc_method: str, device: str | None = None) -> list[str | None]:
        """The codes answered to `rpc_method` (None for a success), newest first."""
        want: dict[str, Any] = {"rpc_method": rpc_method}
        if device is not None:
            want["device"] = device
        return [e.code for e in self.exchanges(**want)]

    def wait_for_exchange(
        self, timeout: float = 5.0, *, after: int | None = None, **want: Any
    ) -> Exchange:
        """The newest exchange matching `want` (see Exchange.matches), waiting up to `timeout`
        seconds for one to be recorded; `after` only takes exchanges with a greater seq.
        Raises EmulatorError, listing what was recorded, when none comes."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.exchanges(**want) if after is None or e.seq > after]
            if found:
                return found[0]
            if time.monotonic() >= deadline:
                seen = [
                    f"#{e.seq} {e.device} {e.http_method} {e.path} {e.rpc_method or ''} "
                    f"-> {e.status} {e.code or ''}".rstrip()
                    for e in self.journal(limit=10)
                ]
                raise EmulatorError(
                    f"no exchange with {want} within {timeout:g} s; the last ones: "
                    + ("; ".join(seen) or "none")
                )
            time.sleep(0.01)

    def clear_journal(self) -> int:
        """Empties the journal; answers how many exchanges were dropped."""
        return int(self.admin("DELETE", "/journal")["cleared"])

    def reset(self) -> dict[str, Any]:
        """Back to the start: state (and the scenario's), rules (and the scenario's), seed,
        journal."""
        return dict(self.admin("POST", "/reset"))


# -- helpers ----------------------------------------------------------------------------------

# The admin API is on loopback: never through a proxy from the environment.
_LOOPBACK_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _provocation(api: str, entry: Mapping[str, Any]) -> Provocation:
    rule = entry.get("rule")
    return Provocation(
        api,
        str(entry["code"]),
        str(entry["via"]),
        str(entry["how"]),
        dict(rule) if isinstance(rule, Mapping) else None,
    )


def _rule(
    action: str, match: Mapping[str, Any] | None, fields: Mapping[str, Any]
) -> dict[str, Any]:
    if action not in ACTIONS:
        raise ValueError(f"action={action!r} is not one of {', '.join(ACTIONS)}")
    rule: dict[str, Any] = {"action": action}
    matcher = dict(match or {})
    for key, value in fields.items():
        if key in MATCH_KEYS:
            if key in matcher:
                raise ValueError(f"{key!r} is given both as a keyword and in match")
            matcher[key] = value
        elif key in RULE_KEYS:
            rule[key] = value
        else:
            raise ValueError(
                f"a fault rule has no member {key!r}; it takes {', '.join(RULE_KEYS)} "
                f"and the match members {', '.join(MATCH_KEYS)}"
            )
    if matcher:
        rule["match"] = matcher
    return rule


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a pre-exec hook that makes the kernel send the server SIGTERM when the thread
    that started it dies (PR_SET_PDEATHSIG): a SIGKILLed test run leaves no server behind."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
        # The parent may have died between fork and prctl: then nobody would signal us.
        if os.getppid() != parent:
            os._exit(1)

    return hook


class _Running:
    """The emulators started and not yet stopped, stopped at interpreter exit."""

    def __init__(self) -> None:
        self._emulators: set[Emulator] = set()
        self._lock = threading.Lock()
        atexit.register(self.stop_all)

    def add(self, emulator: Emulator) -> None:
        with self._lock:
            self._emulators.add(emulator)

    def discard(self, emulator: Emulator) -> None:
        with self._lock:
            self._emulators.discard(emulator)

    def stop_all(self) -> None:
        with self._lock:
            emulators = list(self._emulators)
        for emulator in emulators:
            emulator.stop()


_running = _Running()
