"""The cloud's MQTT broker driven by an independent client, paho-mqtt 2.1.0, for the
protocol-level cases LG's SDK never exercises: a server certificate from another CA, no client
certificate, another client's id or topic, QoS 1 redelivery, keep-alive expiry.

Each case registers a ThinQ client over the cloud's REST API (`POST /client`, then
`POST /client/certificate` with a CSR made by `cryptography`, as LG's SDK makes it) and connects
to the broker's free loopback port from the ready file (`thinq.mqtt_url`); the only CA trusted
is the one the ready file names (`thinq.ca_pem`). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime
import json
import socket
import ssl
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from devfault import Emulator

from harness import expect, expect_eq

API_KEY = "v6GFvkweNo7DK7yD3ylIZ9w52aKBU0eJ7wLXkSR3"
CLIENT_BODY = {"type": "MQTT", "service-code": "SVC202", "device-type": "607", "allowExist": True}
WAIT_S = 10.0

cloud = pytest.mark.devfault()
# Past any proxy the environment names: the cloud is on loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def rest(emulator: Emulator, method: str, path: str, client_id: str, body: Any = None) -> Any:
    """A cloud call with the SDK's headers; the envelope's `response`."""
    base = emulator.thinq_url
    parts = urlsplit(base)
    if parts.hostname != "127.0.0.1":
        raise AssertionError(f"the cloud must be on 127.0.0.1, not {base!r}")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {emulator.thinq_token}",
        "x-country": "US",
        "x-message-id": "fNvdZ1brTn-wWKUlWGoSVw",
        "x-client-id": client_id,
        "x-api-key": API_KEY,
        "Content-Type": "application/json",
    })
    with OPENER.open(request, timeout=10) as response:
        return json.loads(response.read())["response"]


class Credentials:
    """A registered client's certificate and key, written as files for paho."""

    def __init__(self, emulator: Emulator, client_id: str) -> None:
        self.client_id = client_id
        rest(emulator, "POST", "/client", client_id, CLIENT_BODY)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lg_thinq")]))
               .sign(key, hashes.SHA512()))
        body = base64.b64encode(csr.public_bytes(serialization.Encoding.DER)).decode()
        result = rest(emulator, "POST", "/client/certificate", client_id,
                      {"service-code": "SVC202", "csr": body})["result"]
        self.topic = result["subscriptions"][0]
        folder = Path(emulator.thinq_ca_file).parent
        self.cert = folder / f"{client_id}.crt"
        self.key = folder / f"{client_id}.key"
        self.cert.write_text(result["certificatePem"])
        self.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))


def broker(emulator: Emulator) -> tuple[str, int]:
    parts = urlsplit(emulator.thinq_mqtt_url)
    expect_eq(parts.hostname, "127.0.0.1", "the broker's host")
    return "127.0.0.1", int(parts.port)


class Session:
    """A paho client run by hand (`loop()`), recording what it gets."""

    def __init__(self, emulator: Emulator, client_id: str, creds: Credentials | None,
                 clean: bool = True, manual_ack: bool = False, ca: str | None = None) -> None:
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=clean, manual_ack=manual_ack)
        self.connack: Any = None
        self.suback: list[Any] | None = None
        self.messages: list[paho.MQTTMessage] = []
        self.disconnected = False
        self.client.on_connect = lambda c, u, flags, rc, props: setattr(self, "connack", (rc, flags))
        self.client.on_subscribe = lambda c, u, mid, codes, props: setattr(self, "suback", codes)
        self.client.on_message = lambda c, u, message: self.messages.append(message)
        self.client.on_disconnect = lambda *a: setattr(self, "disconnected", True)
        self.client.tls_set(ca_certs=ca or emulator.thinq_ca_file,
                            certfile=str(creds.cert) if creds else None,
                            keyfile=str(creds.key) if creds else None)
        self.emulator = emulator

    def connect(self, keepalive: int = 10) -> None:
        host, port = broker(self.emulator)
        self.client.connect(host, port, keepalive=keepalive)
        self.until(lambda: self.connack is not None or self.disconnected, "CONNACK")

    def until(self, done: Any, what: str, timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout} s")
            self.client.loop(timeout=0.1)

    def subscribe(self, topic: str) -> list[Any]:
        self.suback = None
        self.client.subscribe(topic, qos=1)
        self.until(lambda: self.suback is not None, "SUBACK")
        return self.suback or []


@cloud
def test_wrong_ca(devfault: Emulator) -> None:
    """A server certificate from another CA fails the client's verification."""
    creds = Credentials(devfault, "paho-wrong-ca")
    # A CA of our own making: the broker's certificate does not chain to it.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the cloud's CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    other = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
             .public_key(key.public_key()).serial_number(1)
             .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
             .sign(key, hashes.SHA256()))
    other_file = Path(devfault.thinq_ca_file).parent / "other-ca.pem"
    other_file.write_bytes(other.public_bytes(serialization.Encoding.PEM))
    session = Session(devfault, creds.client_id, creds, ca=str(other_file))
    try:
        session.connect()
    except ssl.SSLCertVerificationError as err:
        expect("certificate verify failed" in str(err), f"the refusal: {err}")
        return
    raise AssertionError("the client connected to a broker whose CA it does not trust")


@cloud
def test_no_client_certificate(devfault: Emulator) -> None:
    """No client certificate: the TLS handshake is refused."""
    session = Session(devfault, "paho-anonymous", None)
    try:
        session.connect()
    except (ssl.SSLError, ConnectionError, OSError):
        return
    expect(session.connack is None or session.connack[0] != 0,
           f"a CONNACK without a certificate: {session.connack}")


@cloud
def test_another_client(devfault: Emulator) -> None:
    """Another client's id is CONNACK 5, another client's topic SUBACK 0x80."""
    mine = Credentials(devfault, "paho-mine")
    Credentials(devfault, "paho-theirs")
    session = Session(devfault, "paho-theirs", mine)  # my certificate, their id
    session.connect()
    # paho 2 reports MQTT 3.1.1's return code 5 as the MQTT 5 reason "Not authorized" (135).
    expect_eq(str(session.connack[0]), "Not authorized", "the CONNACK return code 5")

    session = Session(devfault, "paho-mine", mine)
    session.connect()
    expect_eq(str(session.connack[0]), "Success", "my own id")
    codes = session.subscribe("app/clients/paho-theirs/push")
    expect_eq([c.value for c in codes], [0x80], "SUBACK for their topic")
    codes = session.subscribe(mine.topic)
    expect_eq([c.value for c in codes], [1], "SUBACK for my topic")
    session.client.disconnect()


@cloud
def test_qos1_redelivery(devfault: Emulator) -> None:
    """QoS 1: a message not acknowledged is sent again, DUP, on reconnect."""
    creds = Credentials(devfault, "paho-redelivery")
    rest(devfault, "POST", "/event/ac-living-room/subscribe", creds.client_id,
         {"expire": {"unit": "HOUR", "timer": 1}})
    first = Session(devfault, creds.client_id, creds, clean=False, manual_ack=True)
    first.connect()
    first.subscribe(creds.topic)
    rest(devfault, "POST", "/devices/ac-living-room/control", creds.client_id,
         {"airFlow": {"windStrength": "LOW"}})
    first.until(lambda: first.messages, "the DEVICE_STATUS")
    sent = first.messages[0]
    expect_eq((sent.qos, sent.dup), (1, False), "QoS and DUP of the first delivery")
    first.client.socket().close()  # gone without PUBACK

    second = Session(devfault, creds.client_id, creds, clean=False, manual_ack=True)
    second.connect()
    expect_eq(bool(second.connack[1].session_present), True, "session present")
    second.until(lambda: second.messages, "the redelivery")
    again = second.messages[0]
    expect_eq((again.mid, again.dup, again.payload), (sent.mid, True, sent.payload),
              "packet id, DUP and payload of the redelivery")
    second.client.ack(again.mid, again.qos)
    second.client.loop(timeout=0.2)
    second.client.disconnect()


@cloud
def test_keep_alive_expiry(devfault: Emulator) -> None:
    """Keep-alive: silence past 1.5 x the keep-alive closes the connection."""
    creds = Credentials(devfault, "paho-silent")
    host, port = broker(devfault)
    context = ssl.create_default_context(cafile=devfault.thinq_ca_file)
    context.load_cert_chain(str(creds.cert), str(creds.key))
    with socket.create_connection((host, port), timeout=WAIT_S) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            client_id = creds.client_id.encode()
            # CONNECT, MQTT 3.1.1, clean session, keep-alive 1 s (written by hand: paho
            # answers its own keep-alive, which is what this case must not do).
            variable = b"\x00\x04MQTT\x04\x02\x00\x01" + len(client_id).to_bytes(2, "big") + client_id
            tls.sendall(bytes([0x10, len(variable)]) + variable)
            expect_eq(tls.recv(4), b"\x20\x02\x00\x00", "CONNACK 0")
            started = time.monotonic()
            rest_of = tls.recv(1)  # blocks until the broker closes
            waited = time.monotonic() - started
    expect_eq(rest_of, b"", "the broker closed the connection")
    expect(1.4 <= waited < 5, f"closed after {waited:.2f} s (1.5 x 1 s expected)")
