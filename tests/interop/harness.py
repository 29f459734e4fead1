"""Assertions the interop tests share: each failure says what was expected and what came.

The tests run under pytest with the devfault plugin (the `devfault` fixture and marker, from
the installed `devfault` package); scripts/interop runs them. A script in the former style
(`Suite`, `Emulator("name", ...)`, `@suite.case(...)`) ports mechanically:

    x = Emulator("label", psk=P, ...)        x = pytest.mark.devfault(psk=P, ...)
    @suite.case("what", x)                   @x
    async def name(emulator: Emulator)       async def test_name(devfault: Emulator): "what."
    emulator.thinq_url() / thinq_token()     devfault.thinq_url / devfault.thinq_token
    emulator.host_port(), client by hand     devfault.clients.pybravia_client(devfault), ...
    emulator.patch_device(id, p)             devfault.patch(p, device=id)
    emulator.admin("POST", "/faults", r)     devfault.add_fault(**r)
    emulator.journal_codes(m)                devfault.codes(m)
    e["request"].get("rpc_method")           e.rpc_method (journal entries are Exchanges)
    e["response"]["status"], ["body"]        e.status, e.response_body
    (e.get("fault") or {}).get("action")     e.fault
    a loop of suite.case over a table        @pytest.mark.parametrize over the table
"""

from __future__ import annotations

from typing import Any


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
