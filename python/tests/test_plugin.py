"""The pytest plugin, in pytest sessions of its own (pytester): fixtures, markers, the
parametrisation helper, and that no emulator outlives a session, however it ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from devfault import Emulator
from test_emulator import alive

# The inner sessions: no cache files, no asyncio plugin (their tests are synchronous).
QUIET = ("-p", "no:cacheprovider", "-p", "no:asyncio")


def test_the_fixture_resets_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        PIDS = []

        def test_dirty(devfault):
            PIDS.append(devfault.pid)
            devfault.add_fault("reset", method="getPowerStatus")
            devfault.patch(power="standby")
            devfault.seed = 7
            devfault.admin("GET", "/journal")

        def test_clean(devfault, devfault_session):
            PIDS.append(devfault.pid)
            assert devfault is devfault_session
            assert devfault.faults() == []
            assert devfault.state()["power"] == "active"
            assert devfault.journal() == []
            assert PIDS[0] == PIDS[1]
        """
    )
    pytester.runpytest(*QUIET).assert_outcomes(passed=2)


def test_markers_choose_the_emulator(pytester: pytest.Pytester) -> None:
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "two.json").write_text(
        json.dumps({"displays": {"count": 2}, "state": {"bravia-1": {"power": "standby"}}})
    )
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.devfault(psk="module-psk")

        def test_module_options(devfault):
            assert devfault.psk == "module-psk" and devfault.auth is None

        @pytest.mark.devfault(auth="pin")
        def test_closest_wins_per_option(devfault):
            assert devfault.psk == "module-psk" and devfault.auth == "pin"

        @pytest.mark.devfault("scenarios/two.json")
        def test_scenario_file(devfault):
            assert [d.id for d in devfault.displays] == ["bravia-0", "bravia-1"]
            assert devfault.state("bravia-1")["power"] == "standby"

        V5 = {"displays": {"config": {"quirks": {"interface_version": "5.0.1"}}}}

        @pytest.mark.devfault(scenario=V5)
        def test_scenario_dict(devfault, devfault_pool):
            assert len(devfault_pool) == 4
        """
    )
    pytester.runpytest(*QUIET).assert_outcomes(passed=4)


def test_a_start_failure_fails_the_test_with_the_server_s_words(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.devfault(scenario={"displays": {"count": "lots"}})
        def test_one(devfault):
            pass

        @pytest.mark.devfault(scenario={"displays": {"count": "lots"}})
        def test_two(devfault):
            pass
        """
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*did not start*displays.count*lots*"])


def test_one_run_per_code(pytester: pytest.Pytester, devfault: Emulator) -> None:
    fault_only = [p.code for p in devfault.provocations("bravia") if p.via == "fault"]
    pytester.makepyfile(
        """
        import json, urllib.request
        import pytest

        @pytest.mark.devfault_codes("bravia", via="fault")
        def test_display_answers(devfault, devfault_code):
            devfault.add_fault(**devfault_code.fault_rule(method="getPowerStatus"))
            body = json.dumps({"method": "getPowerStatus", "params": [], "id": 1, "version": "1.0"})
            url = devfault.bravia_url + "/sony/system"
            request = urllib.request.Request(url, data=body.encode())
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            try:
                opener.open(request, timeout=10).read()
            except urllib.error.HTTPError:
                pass  # codes of the HTTP layer come with their status
            exchange = devfault.wait_for_exchange(rpc_method="getPowerStatus")
            assert exchange.code == devfault_code.code

        @pytest.mark.devfault_codes("thinq", codes=["1222", 2304])
        def test_some(devfault_code):
            assert devfault_code.code in ("1222", "2304")
        """
    )
    result = pytester.runpytest(*QUIET, "-v")
    result.assert_outcomes(passed=len(fault_only) + 2)
    assert len(fault_only) >= 10
    result.stdout.fnmatch_lines([f"*test_display_answers?{fault_only[0]}? PASSED*"])


def test_the_parametrisation_helper_refuses_what_it_cannot_do(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_unmarked(devfault_code):
            pass
        """
    )
    result = pytester.runpytest(*QUIET)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*uses devfault_code without @pytest.mark.devfault_codes*"])
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.devfault_codes("thinq", codes=["9999"])
        def test_unknown(devfault_code):
            pass
        """
    )
    result = pytester.runpytest(*QUIET)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*thinq cannot be made to answer 9999*"])


# -- no process left behind ------------------------------------------------------------------

SESSION = """
import os, pathlib, time

OUT = pathlib.Path(os.environ["DEVFAULT_TEST_OUT"])

def test_fails(devfault):
    (OUT / "pid").write_text(str(devfault.pid))
    assert devfault.state()["power"] == "standby"

def test_hangs(devfault):
    (OUT / "hanging").write_text("")
    time.sleep(120)
"""


def run_and_signal(tmp_path: Path, sig: signal.Signals) -> tuple[int, int, str]:
    """Runs SESSION in a pytest of its own; once its second test hangs, sends `sig` to that
    pytest (by PID). Answers pytest's exit status, the emulator's PID and pytest's output."""
    (tmp_path / "test_session.py").write_text(SESSION)
    env = dict(os.environ, DEVFAULT_TEST_OUT=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *QUIET, "test_session.py"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "hanging").exists():
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "the session did not reach its hanging test"
            time.sleep(0.05)
        pid = int((tmp_path / "pid").read_text())
        assert alive(pid)
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, pid, output.decode(errors="replace")


def wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_an_interrupted_session_with_a_failure_leaves_no_emulator(tmp_path: Path) -> None:
    code, pid, output = run_and_signal(tmp_path, signal.SIGINT)
    assert code == pytest.ExitCode.INTERRUPTED, output
    assert "KeyboardInterrupt" in output and "1 failed" in output, output
    # Stopped by the plugin before pytest exited: gone at once.
    assert not alive(pid)


def test_a_killed_session_leaves_no_emulator(tmp_path: Path) -> None:
    code, pid, output = run_and_signal(tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL, output
    # Nothing in Python ran: the kernel's parent-death signal ends the server.
    gone = wait_gone(pid)
    if not gone:
        os.kill(pid, signal.SIGTERM)  # not left behind by this test either
    if sys.platform.startswith("linux"):
        assert gone, f"the emulator {pid} outlived its killed pytest"
