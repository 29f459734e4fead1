"""The interop suite's harness: starts `devfault serve` on port 0, talks to its admin API, and
runs test cases without pytest.

Each script (test_*.py) declares its emulators and cases, then calls `Suite.main()`, which
runs every case, prints one line per case, and ends with

    interop-result: suite=NAME passed=N failed=M

which scripts/interop adds up into its closing `N passed, N failed` line. The script's exit
status is 1 when a case failed.

Emulators are started lazily (on the first case that uses them), reset through the admin API
(`POST /reset`) before every case, and stopped with SIGTERM by PID at the end, on an
exception, on SIGTERM/SIGINT (which `timeout` sends) and at interpreter exit.

Every emulator also runs the virtual ThinQ Connect cloud on its own free port (`--thinq
127.0.0.1:0`), so that emulators running side by side never compete for the default port;
`Emulator.thinq_url()` and `Emulator.thinq_token()` say where it is and whose it is.
"""

from __future__ import annotations

import asyncio
import atexit
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]

# How long a case may take at most; the runner's `timeout` bounds the whole script.
CASE_TIMEOUT_S = 30.0
# How long `devfault serve` may take to write its ready file.
READY_TIMEOUT_S = 30.0


def devfault_bin() -> Path:
    """The devfault binary: $DEVFAULT_BIN (set by scripts/interop), else target/debug."""
    explicit = os.environ.get("DEVFAULT_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "devfault"


class HarnessError(Exception):
    """The emulator or its admin API did not do what the harness needs."""


class Emulator:
    """One `devfault serve` process with its own displays and admin API on free ports."""

    _running: list["Emulator"] = []

    def __init__(
        self,
        name: str,
        *,
        psk: str | None = None,
        auth: str | None = None,
        scenario: dict[str, Any] | None = None,
        thinq_rate_limit: int | None = None,
        thinq_tls: bool = False,
        thinq_time_scale: int | None = None,
    ) -> None:
        self.name = name
        self.psk = psk
        self.auth = auth
        self.scenario = scenario
        self.thinq_rate_limit = thinq_rate_limit
        self.thinq_tls = thinq_tls
        self.thinq_time_scale = thinq_time_scale
        self.thinq: dict[str, str] = {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir: Path | None = None
        self.displays: list[dict[str, str]] = []
        self.admin_url = ""
        self._start_error: str | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def ensure_started(self) -> None:
        if self._start_error is not None:
            raise HarnessError(self._start_error)
        if self.proc is not None:
            return
        try:
            self._start()
        except Exception as err:
            self._start_error = f"emulator {self.name!r} did not start: {err}"
            self.stop()
            raise HarnessError(self._start_error) from err

    def _start(self) -> None:
        binary = devfault_bin()
        if not binary.is_file():
            raise HarnessError(
                f"{binary} does not exist; build it with `cargo build --bin devfault`"
            )
        self.workdir = Path(tempfile.mkdtemp(prefix=f"devfault-interop-{self.name}-"))
        ready = self.workdir / "ready.json"
        args = [
            str(binary),
            "serve",
            "--bravia",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
            "--thinq",
            "127.0.0.1:0",
            "--ready-file",
            str(ready),
        ]
        if self.thinq_rate_limit is not None:
            args += ["--thinq-rate-limit", str(self.thinq_rate_limit)]
        if self.thinq_tls:
            # The cloud's TLS listener, on a free port too (reported as thinq.tls_url).
            args += ["--thinq-tls", "127.0.0.1:0"]
        # The MQTT broker on a free port too (reported as thinq.mqtt_url).
        args += ["--thinq-mqtt", "127.0.0.1:0"]
        if self.thinq_time_scale is not None:
            args += ["--thinq-time-scale", str(self.thinq_time_scale)]
        if self.psk is not None:
            args += ["--psk", self.psk]
        if self.auth is not None:
            args += ["--auth", self.auth]
        if self.scenario is not None:
            scenario_file = self.workdir / "scenario.json"
            scenario_file.write_text(json.dumps(self.scenario, indent=2))
            args += ["--scenario", str(scenario_file)]
        log = open(self.workdir / "serve.log", "wb")
        try:
            # stdin stays an open pipe: the emulator may stop when its stdin closes.
            self.proc = subprocess.Popen(
                args, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT
            )
        finally:
            log.close()
        Emulator._running.append(self)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            code = self.proc.poll()
            if code is not None:
                raise HarnessError(f"`{' '.join(args)}` exited with {code}:\n{self.log()}")
            if ready.is_file():
                try:
                    info = json.loads(ready.read_text())
                except ValueError:
                    info = None  # still being written
                if info is not None:
                    self.displays = info["displays"]
                    self.admin_url = info["admin"].rstrip("/")
                    self.thinq = info.get("thinq") or {}
                    return
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"no ready file after {READY_TIMEOUT_S:.0f} s from `{' '.join(args)}`:\n"
                    f"{self.log()}"
                )
            time.sleep(0.02)

    def log(self) -> str:
        if self.workdir is None:
            return ""
        try:
            return (self.workdir / "serve.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL if it has not stopped within 10 s."""
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
            if proc.stdin is not None:
                proc.stdin.close()
        if self in Emulator._running:
            Emulator._running.remove(self)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    @classmethod
    def stop_all(cls) -> None:
        for emulator in list(cls._running):
            emulator.stop()

    # -- the displays ---------------------------------------------------------------------

    def url(self, display: int = 0) -> str:
        """`http://127.0.0.1:PORT` of a display."""
        return self.displays[display]["url"].rstrip("/")

    def host_port(self, display: int = 0) -> tuple[str, int]:
        host, _, port = self.url(display).removeprefix("http://").rpartition(":")
        return host, int(port)

    def device_id(self, display: int = 0) -> str:
        return self.displays[display]["id"]

    # -- the ThinQ cloud -------------------------------------------------------------------

    def thinq_url(self) -> str:
        """`http://127.0.0.1:PORT` of the ThinQ cloud, from the ready file."""
        return self._thinq_field("url").rstrip("/")

    def thinq_tls_url(self) -> str:
        """`https://127.0.0.1:PORT` of the cloud's TLS listener (with `thinq_tls=True`)."""
        return self._thinq_field("tls_url").rstrip("/")

    def thinq_mqtt_url(self) -> str:
        """`mqtts://127.0.0.1:PORT` of the cloud's MQTT broker, from the ready file."""
        return self._thinq_field("mqtt_url")

    def thinq_ca_file(self) -> str:
        """The path of the cloud's CA certificate (PEM), from the ready file."""
        return self._thinq_field("ca_pem")

    def thinq_token(self) -> str:
        """User 1's personal access token, from the ready file."""
        return self._thinq_field("token")

    def _thinq_field(self, key: str) -> str:
        value = self.thinq.get(key)
        if not isinstance(value, str) or not value:
            raise HarnessError(
                f"the ready file of {self.name!r} has no thinq.{key}: thinq is {self.thinq!r}"
            )
        return value

    # -- the admin API --------------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """A JSON request to the admin API; a non-2xx status is a HarnessError."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.admin_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")
            raise HarnessError(f"admin API {method} {path} answered {err.code}: {detail}") from None

    def reset(self) -> None:
        self.admin("POST", "/reset")

    def state(self, display: int = 0) -> dict[str, Any]:
        return self.admin("GET", f"/devices/{self.device_id(display)}")["state"]

    def patch(self, patch: dict[str, Any], display: int = 0) -> dict[str, Any]:
        return self.admin("PATCH", f"/devices/{self.device_id(display)}", patch)["state"]

    def device(self, device_id: str) -> dict[str, Any]:
        """Any device the admin API lists (a display, a ThinQ appliance), by id."""
        return self.admin("GET", f"/devices/{device_id}")

    def patch_device(self, device_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Changes any device's state through the admin API; answers the device."""
        return self.admin("PATCH", f"/devices/{device_id}", patch)

    def pin(self, display: int = 0) -> str | None:
        return self.admin("GET", f"/devices/{self.device_id(display)}/pin")["pin"]

    def journal(self, display: int = 0, limit: int = 50) -> list[dict[str, Any]]:
        """The display's exchanges, newest first."""
        return self.admin("GET", f"/journal?device={self.device_id(display)}&limit={limit}")[
            "entries"
        ]

    def journal_codes(self, rpc_method: str, display: int = 0) -> list[str]:
        """The codes decoded in the answers to `rpc_method`, newest first."""
        codes = []
        for entry in self.journal(display):
            if entry["request"].get("rpc_method") != rpc_method:
                continue
            decoded = entry.get("decoded") or {}
            codes.append(decoded.get("code"))
        return codes


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


# -- the runner ---------------------------------------------------------------------------


class Suite:
    """Cases run in declaration order; each gets its emulator, freshly reset."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.cases: list[tuple[str, Emulator | None, Callable[..., Any]]] = []

    def case(self, name: str, emulator: Emulator | None = None) -> Callable[[Callable], Callable]:
        def register(fn: Callable) -> Callable:
            self.cases.append((name, emulator, fn))
            return fn

        return register

    def _run_one(self, emulator: Emulator | None, fn: Callable) -> None:
        args = []
        if emulator is not None:
            emulator.ensure_started()
            emulator.reset()
            args.append(emulator)
        if inspect.iscoroutinefunction(fn):
            asyncio.run(asyncio.wait_for(fn(*args), CASE_TIMEOUT_S))
        else:
            fn(*args)

    def main(self) -> None:
        atexit.register(Emulator.stop_all)
        # `timeout` and Ctrl-C: stop the emulators before going.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _interrupted)
        passed = failed = 0
        started = time.monotonic()
        try:
            for name, emulator, fn in self.cases:
                t0 = time.monotonic()
                try:
                    self._run_one(emulator, fn)
                except Exception as err:
                    failed += 1
                    print(f"FAIL {self.name}: {name} ({time.monotonic() - t0:.2f} s)")
                    print(_indent(_describe(err)))
                else:
                    passed += 1
                    print(f"ok   {self.name}: {name} ({time.monotonic() - t0:.2f} s)")
                sys.stdout.flush()
        finally:
            Emulator.stop_all()
        elapsed = time.monotonic() - started
        print(f"interop-result: suite={self.name} passed={passed} failed={failed} "
              f"seconds={elapsed:.1f}")
        sys.stdout.flush()
        sys.exit(1 if failed else 0)


def _interrupted(signum: int, _frame: Any) -> None:
    Emulator.stop_all()
    print(f"interrupted by signal {signum}", file=sys.stderr)
    os._exit(128 + signum)


def _describe(err: BaseException) -> str:
    if isinstance(err, (AssertionError, HarnessError)):
        return str(err)
    if isinstance(err, asyncio.TimeoutError):
        return f"the case took more than {CASE_TIMEOUT_S:.0f} s"
    return "".join(traceback.format_exception(err)).rstrip()


def _indent(text: str) -> str:
    return "\n".join("     " + line for line in text.splitlines())
