"""The real Python clients, pointed at an emulator, with no monkey-patching left to the caller.

Each helper imports its client library when called: the package itself needs none of them.

- pybravia (Home Assistant's BRAVIA backend): `pybravia_client(emu)`. pybravia refuses
  `host:port`; its base URL is set to the display's port. Its Wake-on-LAN sender is replaced on
  the client by one that records the packet instead of broadcasting it.
- braviaproapi: `braviaproapi_client(emu)` (it takes `host:port` as it is).
- LG's thinqconnect: `thinq_api(emu)`, an async context manager yielding a `ThinQApi` whose one
  URL builder names the emulator's cloud, on an aiohttp session whose resolver refuses every
  host name, so nothing it sends can leave loopback; `thinq_tls_api(emu)` leaves the SDK
  untouched and resolves `*.lgthinq.com` to the emulator's TLS listener instead.

- thinqconnect's MQTT client: `thinq_mqtt_client(emu, api, client_id, on_message_received)`,
  an async context manager yielding LG's `ThinQMQTTClient` registered, certified and connected
  to the emulator's broker (mutual TLS) as Home Assistant does it. Two things are overridden
  while it is open: awsiot's `mtls_from_bytes` gets the broker's free port (the SDK passes none,
  meaning 443) after checking the endpoint is `127.0.0.1`, and the SDK's root-CA download is
  answered by the cloud's TLS listener (the real amazontrust URL resolved to it, verified
  against the cloud's CA); the SDK module's own `aiohttp.request` raises, so nothing reaches the
  internet. The emulator must run with `thinq_tls=True`.
"""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from .emulator import Emulator, EmulatorError

if TYPE_CHECKING:  # pragma: no cover - the client libraries are optional
    import aiohttp

__all__ = [
    "LG_HOSTS",
    "braviaproapi_client",
    "lg_hosts_resolver",
    "local_thinq_api",
    "loopback_session",
    "pybravia_client",
    "thinq_api",
    "thinq_mqtt_client",
    "thinq_tls_api",
]

#: The ThinQ Connect hosts of the SDK's three regions (the TLS certificate names them).
LG_HOSTS = ("api-kic.lgthinq.com", "api-aic.lgthinq.com", "api-eic.lgthinq.com")
#: The `x-client-id` the helpers send unless told otherwise.
DEFAULT_CLIENT_ID = "devfault-python"


def pybravia_client(
    emulator: Emulator, display: int = 0, *, session: aiohttp.ClientSession | None = None
) -> Any:
    """A `pybravia.BraviaClient` for one display of `emulator`.

    Its Wake-on-LAN packets (`turn_on()`, `send_wol_req()`) are appended to the client's
    `wol_packets` list instead of being broadcast on the network.
    """
    from pybravia import BraviaClient
    from yarl import URL

    target = emulator.display(display)
    client = BraviaClient(host=target.host, session=session)
    client._base_url = URL.build(scheme="http", host=target.host, port=target.port)
    packets: list[bytes] = []

    def record_wol_packet(packet: bytes) -> None:
        packets.append(packet)

    # Set on the instance, not the class: other clients of the process are left as they are.
    setattr(client, "wol_packets", packets)
    setattr(client, "_send_wol_packet", record_wol_packet)
    return client


def braviaproapi_client(
    emulator: Emulator, display: int = 0, *, passcode: str | None = None
) -> Any:
    """A `braviaproapi.BraviaClient` for one display, with the emulator's PSK (or `passcode`)."""
    from braviaproapi import BraviaClient  # type: ignore[import-untyped,unused-ignore]

    target = emulator.display(display)
    key = passcode if passcode is not None else (emulator.psk or "0000")
    return BraviaClient(host=f"{target.host}:{target.port}", passcode=key)


def _loopback_only_resolver() -> Any:
    from aiohttp.abc import AbstractResolver

    class LoopbackOnlyResolver(AbstractResolver):
        """Refuses every host name: aiohttp resolves nothing for an IP literal, so only a
        request that escaped the URL override (to a real LG host) ever gets here."""

        async def resolve(
            self, host: str, port: int = 0, family: int = socket.AF_INET
        ) -> list[Any]:
            raise OSError(f"a request tried to resolve {host!r}: only 127.0.0.1 may be reached")

        async def close(self) -> None:
            pass

    return LoopbackOnlyResolver()


def lg_hosts_resolver(port: int) -> Any:
    """An aiohttp resolver that maps `*.lgthinq.com` to `127.0.0.1:port` and refuses every
    other name; the names it resolved are in its `resolved` list."""
    return _resolver_to_loopback(
        port, lambda host: host.endswith(".lgthinq.com"), "only *.lgthinq.com is mapped"
    )


def _resolver_to_loopback(port: int, mapped: Any, refusal: str) -> Any:
    """An aiohttp resolver that maps the host names `mapped(host)` accepts to
    `127.0.0.1:port` and refuses every other (saying `refusal`); the names it resolved are in
    its `resolved` list."""
    from aiohttp.abc import AbstractResolver

    class ToLoopback(AbstractResolver):
        def __init__(self) -> None:
            self.resolved: list[str] = []

        async def resolve(
            self, host: str, port_: int = 0, family: int = socket.AF_INET
        ) -> list[Any]:
            if not mapped(host):
                raise OSError(f"a request tried to resolve {host!r}: {refusal}")
            self.resolved.append(host)
            return [
                {
                    "hostname": host,
                    "host": "127.0.0.1",
                    "port": port,
                    "family": socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            ]

        async def close(self) -> None:
            pass

    return ToLoopback()


def loopback_session() -> aiohttp.ClientSession:
    """An aiohttp session whose resolver refuses every host name (IP literals need none)."""
    import aiohttp

    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=_loopback_only_resolver()))


_LOCAL_THINQ_API: type | None = None


def _local_thinq_api_class() -> type:
    """`ThinQApi` with its one URL builder pointed at a base URL (built once, on first use)."""
    global _LOCAL_THINQ_API
    if _LOCAL_THINQ_API is None:
        from thinqconnect import ThinQApi  # type: ignore[import-untyped,unused-ignore]

        class LocalThinQApi(ThinQApi):  # type: ignore[misc,unused-ignore]
            """LG's `ThinQApi`, every request sent to `base_url` (an emulator's cloud)."""

            def __init__(self, *args: Any, base_url: str, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                parts = urllib.parse.urlsplit(base_url)
                if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
                    raise EmulatorError(
                        f"the ThinQ base URL must be http://127.0.0.1:PORT, not {base_url!r}"
                    )
                self.base_url = base_url.rstrip("/")

            def _get_url_from_endpoint(self, endpoint: str) -> str:
                return f"{self.base_url}/{endpoint}"

        _LOCAL_THINQ_API = LocalThinQApi
    return _LOCAL_THINQ_API


def local_thinq_api(
    emulator: Emulator,
    session: aiohttp.ClientSession,
    *,
    token: str | None = None,
    country: str = "US",
    client_id: str = DEFAULT_CLIENT_ID,
) -> Any:
    """A `thinqconnect.ThinQApi` on `session` (use loopback_session()) that sends every
    request to the emulator's cloud, as user 1 unless `token` says otherwise."""
    return _local_thinq_api_class()(
        session=session,
        access_token=emulator.thinq_token if token is None else token,
        country_code=country,
        client_id=client_id,
        base_url=emulator.thinq_url,
    )


@asynccontextmanager
async def thinq_api(
    emulator: Emulator,
    *,
    token: str | None = None,
    country: str = "US",
    client_id: str = DEFAULT_CLIENT_ID,
) -> AsyncIterator[Any]:
    """`async with thinq_api(emu) as api:` a `ThinQApi` on a fresh loopback-only session."""
    async with loopback_session() as session:
        yield local_thinq_api(emulator, session, token=token, country=country, client_id=client_id)


@asynccontextmanager
async def thinq_tls_api(
    emulator: Emulator,
    *,
    token: str | None = None,
    country: str = "DE",
    client_id: str = DEFAULT_CLIENT_ID,
) -> AsyncIterator[Any]:
    """`async with thinq_tls_api(emu) as api:` the SDK's `ThinQApi` untouched, its real
    `https://api-*.lgthinq.com` URLs resolved to the emulator's TLS listener (start it with
    `thinq_tls=True`), certificate verification off (it is self-signed). The resolver is
    `api.devfault_resolver`; its `resolved` list names the hosts the SDK asked for."""
    import aiohttp
    from thinqconnect import ThinQApi  # type: ignore[import-untyped,unused-ignore]

    port = urllib.parse.urlsplit(emulator.thinq_tls_url).port
    if port is None:
        raise EmulatorError(f"the TLS URL {emulator.thinq_tls_url!r} names no port")
    resolver = lg_hosts_resolver(port)
    connector = aiohttp.TCPConnector(resolver=resolver, ssl=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        api = ThinQApi(
            session=session,
            access_token=emulator.thinq_token if token is None else token,
            country_code=country,
            client_id=client_id,
        )
        setattr(api, "devfault_resolver", resolver)
        yield api


class _MqttGuard:
    """The two overrides of the MQTT path, undone on exit (see the module's docs)."""

    def __init__(self, port: int | None) -> None:
        # None: the SDK's own port (443, ALPN x-amzn-mqtt-ca) is kept.
        self.port = port
        self.endpoints: list[str] = []

    def __enter__(self) -> _MqttGuard:
        import thinqconnect.mqtt_client as lg_mqtt
        from awsiot import mqtt_connection_builder

        self._builder_module = mqtt_connection_builder
        self._sdk = lg_mqtt
        self.original_builder = mqtt_connection_builder.mtls_from_bytes
        self.original_request = lg_mqtt.request

        def on_loopback(**kwargs: Any) -> Any:
            if kwargs.get("endpoint") != "127.0.0.1":
                raise EmulatorError(
                    f"the SDK connects to {kwargs.get('endpoint')!r}: only 127.0.0.1 is allowed"
                )
            self.endpoints.append(kwargs["endpoint"])
            if self.port is not None:
                kwargs["port"] = self.port
            return self.original_builder(**kwargs)

        def no_internet(*args: Any, **kwargs: Any) -> Any:
            raise EmulatorError(
                f"the SDK tried to fetch {kwargs.get('url', args)!r} from the internet"
            )

        mqtt_connection_builder.mtls_from_bytes = on_loopback
        lg_mqtt.request = no_internet
        return self

    def __exit__(self, *exc: Any) -> None:
        self._builder_module.mtls_from_bytes = self.original_builder
        self._sdk.request = self.original_request


async def _root_ca_from_the_cloud(emulator: Emulator) -> str:
    """`GET https://www.amazontrust.com/repository/AmazonRootCA1.pem` as the SDK makes it, the
    host resolved to the cloud's TLS listener, the answer verified against the cloud's CA."""
    import ssl

    import aiohttp
    import thinqconnect.mqtt_client as lg_mqtt
    port = urllib.parse.urlsplit(emulator.thinq_tls_url).port
    if port is None:
        raise EmulatorError(f"no port in the TLS listener's URL {emulator.thinq_tls_url!r}")
    resolver = _resolver_to_loopback(
        port, lambda host: host == "www.amazontrust.com", "only www.amazontrust.com is mapped"
    )
    context = ssl.create_default_context(cafile=emulator.thinq_ca_file)
    connector = aiohttp.TCPConnector(resolver=resolver, ssl=context)
    async with aiohttp.ClientSession(connector=connector) as session:
        url = f"{lg_mqtt.ROOT_CA_REPOSITORY}/{lg_mqtt.FILE_ROOT_CA}"
        async with session.get(url) as response:
            if response.status != 200:
                raise EmulatorError(f"the root CA download answered {response.status}")
            return await response.text()


@asynccontextmanager
async def thinq_mqtt_client(
    emulator: Emulator,
    api: Any,
    client_id: str,
    on_message_received: Any,
    *,
    sdk_port: bool = False,
) -> AsyncIterator[Any]:
    """LG's `ThinQMQTTClient` for `api` (a `ThinQApi` from `thinq_api`), registered
    (`POST /client`), certified (a CSR signed by the cloud's CA) and connected to the emulator's
    broker, as Home Assistant prepares it; disconnected on exit. `on_message_received` gets
    `(topic, payload, dup, qos, retain, **kwargs)` on awscrt's thread. The client's
    `devfault_endpoints` lists the hosts it connected to (always `127.0.0.1`).

    The SDK connects to port 443 with ALPN `x-amzn-mqtt-ca` (it passes `port=None`); by
    default its port is replaced by the broker's free port. With `sdk_port=True` it is left
    alone, for an emulator started with `thinq_tls="127.0.0.1:443"` (binding 443 needs root or
    CAP_NET_BIND_SERVICE): the cloud's TLS listener hands the ALPN connection to the broker."""
    from thinqconnect.mqtt_client import ThinQMQTTClient

    if sdk_port:
        port = urllib.parse.urlsplit(emulator.thinq_tls_url).port
        if port != 443:
            raise EmulatorError(
                f"sdk_port=True: the cloud's TLS listener is on {emulator.thinq_tls_url!r}, not "
                "port 443 where the SDK connects; start the emulator with thinq_tls='127.0.0.1:443'"
            )
        replacement = None
    else:
        replacement = urllib.parse.urlsplit(emulator.thinq_mqtt_url).port
        if replacement is None:
            raise EmulatorError(f"no port in the broker's URL {emulator.thinq_mqtt_url!r}")
    with _MqttGuard(replacement) as guard:
        client = ThinQMQTTClient(api, client_id, on_message_received=on_message_received)
        await client.async_init()
        if client.mqtt_server != "127.0.0.1":
            raise EmulatorError(f"/route named the MQTT host {client.mqtt_server!r}, not loopback")

        async def fetch(timeout: int = 15) -> str:
            return await _root_ca_from_the_cloud(emulator)

        client._get_root_certificate = fetch
        if not await client.async_prepare_mqtt():
            raise EmulatorError("ThinQMQTTClient.async_prepare_mqtt failed (register, CSR, certificate)")
        await client.async_connect_mqtt()
        if not client.is_connected:
            raise EmulatorError("ThinQMQTTClient did not connect (it logs 'Failed to connect endpoint')")
        client.devfault_endpoints = guard.endpoints
        try:
            yield client
        finally:
            if client._mqtt_connection is not None:
                client._mqtt_connection.disconnect().result(10)
