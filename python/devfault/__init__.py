"""devfault for Python tests: a virtual Sony BRAVIA display and LG ThinQ Connect cloud that
answer with every error code, started from Python.

`Emulator` starts the `devfault` binary this package installs (`devfault serve` on free
loopback ports) and speaks its admin API; `devfault.clients` points pybravia, braviaproapi and
thinqconnect at it; the pytest plugin (`devfault.pytest_plugin`, loaded by pytest on its own)
gives tests a reset emulator. Only the standard library is needed at run time.
"""

from .emulator import (
    AdminError,
    Display,
    Emulator,
    EmulatorError,
    Exchange,
    FaultRule,
    Provocation,
    binary,
)

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
