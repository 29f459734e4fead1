"""The devfault pytest plugin (entry point `pytest11`: loaded whenever the package is installed).

Fixtures:

- `devfault`: the test's emulator, reset before the test (state, fault rules, seed, journal
  back to the start). Tests share one running emulator per set of options; the options come
  from the `devfault` marker (module, class, function; the closest wins per option).
- `devfault_session`: the session's default emulator (no marker options), not reset.
- `devfault_pool`: every emulator of the session, by options (`devfault_pool.get(psk="1")`).
- `devfault_code`: one `Provocation` per code of an API, with the `devfault_codes` marker.

Markers:

- `@pytest.mark.devfault("scenario.json")` or `@pytest.mark.devfault(scenario=..., psk=...,
  auth=..., displays=..., seed=..., thinq_rate_limit=..., thinq_tls=True, ...)`: the test's
  emulator runs with these `Emulator` options; a scenario path is relative to the test file,
  and a dict is a scenario written out.
- `@pytest.mark.devfault_codes("bravia", via="fault")`: the test runs once per code the API's
  emulator can be made to answer (`via` narrows to `natural` or `fault`; `codes=[...]` to a
  list), each given as the `devfault_code` fixture.

Every emulator is stopped at the end of the session, on Ctrl-C too; on Linux a killed pytest
takes its emulators with it (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from .emulator import Emulator, EmulatorError, Provocation, binary

__all__ = ["EmulatorPool"]

MARKER = "devfault"
CODES_MARKER = "devfault_codes"


class EmulatorPool:
    """The session's emulators, one per set of options, started on first use and stopped at
    the end of the session."""

    def __init__(self, binary_path: str | None = None) -> None:
        self.binary_path = binary_path
        self._emulators: dict[str, Emulator] = {}
        self._failures: dict[str, str] = {}

    def get(self, **options: Any) -> Emulator:
        """The running emulator with these `Emulator` options, started if need be. A start
        that failed fails again at once, with the same message."""
        key = json.dumps(options, sort_keys=True, default=str)
        if key in self._failures:
            raise EmulatorError(self._failures[key])
        emulator = self._emulators.get(key)
        if emulator is not None and emulator.running:
            return emulator
        try:
            emulator = Emulator(binary_path=self.binary_path, **options)
        except TypeError as err:
            raise pytest.UsageError(f"@pytest.mark.{MARKER}: {err}") from None
        try:
            emulator.start()
        except EmulatorError as err:
            self._failures[key] = (
                f"the emulator with {options or 'no options'} did not start: {err}"
            )
            raise EmulatorError(self._failures[key]) from None
        self._emulators[key] = emulator
        return emulator

    def stop_all(self) -> None:
        """Stops every emulator of the pool."""
        emulators, self._emulators = list(self._emulators.values()), {}
        for emulator in emulators:
            emulator.stop()

    def __len__(self) -> int:
        return len(self._emulators)


_POOL = pytest.StashKey[EmulatorPool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("devfault", "devfault emulator")
    group.addoption(
        "--devfault-bin",
        metavar="PATH",
        default=None,
        help="the devfault binary to run (default: $DEVFAULT_BIN, else the package's own)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(scenario=None, **options): run the test's `devfault` emulator with these "
        "devfault.Emulator options (a scenario path is relative to the test file)",
    )
    config.addinivalue_line(
        "markers",
        f"{CODES_MARKER}(api, via=None, codes=None): run the test once per code the API can be "
        "made to answer, as the `devfault_code` fixture",
    )
    config.stash[_POOL] = EmulatorPool(config.getoption("devfault_bin"))


def pytest_unconfigure(config: pytest.Config) -> None:
    pool = config.stash.get(_POOL, None)
    if pool is not None:
        pool.stop_all()


def pytest_report_header(config: pytest.Config) -> str:
    explicit = config.getoption("devfault_bin")
    try:
        where = explicit or str(binary())
    except EmulatorError as err:
        where = f"not found ({err})"
    return f"devfault: {where}"


def _options(node: pytest.Item | Any) -> dict[str, Any]:
    """The Emulator options of the `devfault` markers on `node`, the closest winning."""
    options: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers(MARKER))):
        if len(marker.args) > 1:
            raise pytest.UsageError(
                f"@pytest.mark.{MARKER} takes at most one positional argument (a scenario), "
                f"not {marker.args!r}"
            )
        if marker.args:
            options["scenario"] = marker.args[0]
        options.update(marker.kwargs)
    scenario = options.get("scenario")
    if isinstance(scenario, (str, os.PathLike)):
        path = Path(scenario)
        if not path.is_absolute():
            path = Path(node.path).parent / path
        options["scenario"] = str(path)
    elif scenario is not None and not isinstance(scenario, Mapping):
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER}: scenario={scenario!r} is neither a path nor a dict"
        )
    return options


@pytest.fixture(scope="session")
def devfault_pool(pytestconfig: pytest.Config) -> EmulatorPool:
    """Every emulator of the session, by options."""
    return pytestconfig.stash[_POOL]


@pytest.fixture(scope="session")
def devfault_session(devfault_pool: EmulatorPool) -> Iterator[Emulator]:
    """The session's emulator with the default options, started once, never reset."""
    yield devfault_pool.get()


@pytest.fixture
def devfault(request: pytest.FixtureRequest, devfault_pool: EmulatorPool) -> Emulator:
    """The test's emulator (options from the `devfault` marker), reset: state, fault rules,
    seed and journal as at its start."""
    emulator = devfault_pool.get(**_options(request.node))
    emulator.reset()
    return emulator


@pytest.fixture
def devfault_code(request: pytest.FixtureRequest) -> Provocation:
    """One code of the API the `devfault_codes` marker names (the test runs once per code)."""
    param = getattr(request, "param", None)
    if not isinstance(param, Provocation):
        raise pytest.UsageError(
            f"{request.node.nodeid} uses devfault_code without "
            f"@pytest.mark.{CODES_MARKER}('bravia'), ('thinq') or ('thinq-mqtt')"
        )
    return param


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "devfault_code" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker(CODES_MARKER)
    if marker is None:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid} uses devfault_code without "
            f"@pytest.mark.{CODES_MARKER}('bravia'), ('thinq') or ('thinq-mqtt')"
        )
    api = marker.args[0] if marker.args else marker.kwargs.get("api")
    if api is None:
        raise pytest.UsageError(f"@pytest.mark.{CODES_MARKER} needs an API: 'bravia', 'thinq' or 'thinq-mqtt'")
    via = marker.kwargs.get("via")
    if via not in (None, "natural", "fault"):
        raise pytest.UsageError(f"@pytest.mark.{CODES_MARKER}: via={via!r} is not natural or fault")
    only = marker.kwargs.get("codes")
    pool = metafunc.config.stash[_POOL]
    emulator = pool.get(**_options(metafunc.definition))
    provocations = [
        p
        for p in emulator.provocations(str(api))
        if (via is None or p.via == via) and (only is None or p.code in {str(c) for c in only})
    ]
    if only is not None:
        missing = sorted({str(c) for c in only} - {p.code for p in provocations})
        if missing:
            raise pytest.UsageError(
                f"@pytest.mark.{CODES_MARKER}: {api} cannot be made to answer {', '.join(missing)}"
                + (f" via {via}" if via else "")
            )
    metafunc.parametrize("devfault_code", provocations, ids=[p.code for p in provocations])
