"""The generated site broker, run for real: identities, ACLs, TLS and revocation."""
from __future__ import annotations

import getpass
import json
import queue
import ssl
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from yukimizu.broker.certs import make_certs
from yukimizu.broker.config import BrokerConfigError, generate, load_devices, reload_broker, revoke
from yukimizu.broker.passwd import hash_password, verify_password
from yukimizu.servers import Mosquitto, free_port

SITE = "goshogawara"
A = ("soil", "soil-a")
B = ("soil", "soil-b")


def _topic(dev: tuple[str, str], channel: str) -> str:
    return f"yukimizu/v1/{SITE}/{dev[0]}/{dev[1]}/{channel}"


@pytest.fixture
def site_broker(tmp_path: Path):
    out = tmp_path / "broker"
    reg = tmp_path / "devices.json"
    reg.write_text(json.dumps({"devices": [
        {"device_id": A[1], "site": SITE, "kind": A[0]},
        {"device_id": B[1], "site": SITE, "kind": B[0]},
        {"device_id": "elsewhere-1", "site": "hirosaki", "kind": "water"},
    ]}))
    make_certs(out / "certs", ["localhost"], ["127.0.0.1"])
    tls_port, local_port = free_port(), free_port()
    conf = generate(out, SITE, load_devices(reg, SITE), listen_address="127.0.0.1", tls_port=tls_port,
                    local_port=local_port, run_as=getpass.getuser())
    server = Mosquitto(out, port=local_port, config_path=conf)
    server.start()
    server.tls_port = tls_port  # type: ignore[attr-defined]
    yield out, server
    server.stop()


def _secret(out: Path, user: str) -> str:
    return (out / "credentials" / f"{user}.secret").read_text().strip()


def _client(port: int, user: str | None, password: str | None, *, tls_ca: Path | None = None,
            tls_no_ca: bool = False) -> tuple[mqtt.Client, "queue.Queue[mqtt.MQTTMessage]", int]:
    """Connect and return (client, inbox, reason code as int; 0 is success)."""
    inbox: queue.Queue = queue.Queue()
    result: queue.Queue = queue.Queue()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{user}-{time.monotonic_ns()}")
    if user is not None:
        c.username_pw_set(user, password)
    if tls_ca is not None:
        c.tls_set(ca_certs=str(tls_ca))
    elif tls_no_ca:
        c.tls_set()  # the system's CAs: our pilot CA is not among them
    c.on_connect = lambda cl, u, f, rc, p: result.put(rc.value)
    c.on_message = lambda cl, u, m: inbox.put(m)
    try:
        c.connect("127.0.0.1", port, keepalive=10)
    except (ssl.SSLError, OSError):
        return c, inbox, -1
    c.loop_start()
    try:
        rc = result.get(timeout=5)
    except queue.Empty:
        rc = -1
    return c, inbox, rc


def _drain(inbox: queue.Queue, wait_s: float = 0.8) -> list[tuple[str, bytes]]:
    out = []
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            m = inbox.get(timeout=0.05)
            out.append((m.topic, m.payload))
        except queue.Empty:
            pass
    return out


def test_anonymous_and_wrong_password_are_refused(site_broker) -> None:
    out, server = site_broker
    _, _, rc_anon = _client(server.port, None, None)
    _, _, rc_bad = _client(server.port, A[1], "not-the-secret")
    assert rc_anon != 0 and rc_bad != 0
    c, _, rc_ok = _client(server.port, A[1], _secret(out, A[1]))
    assert rc_ok == 0
    c.disconnect()


def test_device_cannot_publish_as_another_device(site_broker) -> None:
    out, server = site_broker
    gw, inbox, rc = _client(server.port, "svc-gateway", _secret(out, "svc-gateway"))
    assert rc == 0
    gw.subscribe("yukimizu/v1/#", qos=1)
    time.sleep(0.3)
    a, _, rc = _client(server.port, A[1], _secret(out, A[1]))
    assert rc == 0
    a.publish(_topic(B, "telemetry"), b"forged", qos=1).wait_for_publish(5)
    a.publish(_topic(A, "telemetry"), b"own", qos=1).wait_for_publish(5)
    got = _drain(inbox)
    assert (_topic(A, "telemetry"), b"own") in got
    assert all(topic != _topic(B, "telemetry") for topic, _ in got)
    a.disconnect()
    gw.disconnect()


def test_device_reads_only_its_own_config(site_broker) -> None:
    out, server = site_broker
    be, _, rc = _client(server.port, "svc-backend", _secret(out, "svc-backend"))
    assert rc == 0
    be.publish(_topic(A, "config"), b'{"interval_s": 300}', qos=1, retain=True).wait_for_publish(5)
    be.publish(_topic(B, "config"), b'{"interval_s": 60}', qos=1, retain=True).wait_for_publish(5)
    a, inbox, rc = _client(server.port, A[1], _secret(out, A[1]))
    a.subscribe(_topic(A, "config"), qos=1)
    a.subscribe(_topic(B, "config"), qos=1)
    a.subscribe("yukimizu/v1/#", qos=1)
    got = _drain(inbox)
    assert (_topic(A, "config"), b'{"interval_s": 300}') in got
    assert all(topic == _topic(A, "config") for topic, _ in got)
    a.disconnect()
    be.disconnect()


def test_tls_needs_the_generated_ca(site_broker) -> None:
    out, server = site_broker
    c, _, rc = _client(server.tls_port, A[1], _secret(out, A[1]), tls_ca=out / "certs" / "ca.crt")
    assert rc == 0
    c.disconnect()
    _, _, rc_no_ca = _client(server.tls_port, A[1], _secret(out, A[1]), tls_no_ca=True)
    assert rc_no_ca == -1


def test_revoked_device_is_refused_and_others_stay(site_broker) -> None:
    out, server = site_broker
    secret_a = _secret(out, A[1])
    assert revoke(out, A[1]) is True
    assert reload_broker(out), "broker pid file missing: revocation could not reach the running broker"
    time.sleep(0.5)
    _, _, rc_a = _client(server.port, A[1], secret_a)
    b, _, rc_b = _client(server.port, B[1], _secret(out, B[1]))
    assert rc_a != 0 and rc_b == 0
    b.disconnect()
    assert not (out / "credentials" / f"{A[1]}.secret").exists()
    assert A[1] not in (out / "acl").read_text() and A[1] not in (out / "passwd").read_text()


def test_regenerating_keeps_secrets_and_skips_revoked(site_broker) -> None:
    out, server = site_broker
    before = _secret(out, B[1])
    revoke(out, A[1])
    generate(out, SITE, load_devices(out.parent / "devices.json", SITE), listen_address="127.0.0.1",
             run_as=getpass.getuser())
    assert _secret(out, B[1]) == before
    assert f"user {A[1]}" not in (out / "acl").read_text()


def test_password_hash_matches_mosquitto_format() -> None:
    h = hash_password("s3cret", salt=b"0123456789ab")
    assert h.startswith("$7$101$") and verify_password("s3cret", h) and not verify_password("other", h)


@pytest.mark.parametrize(
    "devices, message",
    [
        ([{"device_id": "Bad Id", "site": SITE, "kind": "soil"}], "devices[0]"),
        ([{"device_id": "x-1", "site": SITE, "kind": "tractor"}], "devices[0]"),
        ([{"device_id": "x-1", "site": SITE, "kind": "soil"}, {"device_id": "x-1", "site": SITE, "kind": "soil"}],
         "devices[1]: device_id 'x-1' appears twice"),
        ([{"device_id": "svc-gateway", "site": SITE, "kind": "soil"}], "reserved for services"),
    ],
    ids=["id with space and capitals", "unknown kind", "duplicate id", "service name taken by a device"],
)
def test_bad_registry_entries_are_named(tmp_path: Path, devices: list, message: str) -> None:
    reg = tmp_path / "d.json"
    reg.write_text(json.dumps({"devices": devices}))
    with pytest.raises(BrokerConfigError) as info:
        load_devices(reg, SITE)
    assert message in str(info.value)
