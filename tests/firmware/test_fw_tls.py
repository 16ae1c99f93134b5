"""MQTT over TLS from the firmware (mqtts://, CA on the board) to a real Mosquitto TLS listener."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mpy_harness import Collector, SimBoard, bundles  # noqa: F401
from yukimizu.broker.certs import make_certs
from yukimizu.servers import free_port


def _der(pem: Path) -> bytes:
    return x509.load_pem_x509_certificate(pem.read_bytes()).public_bytes(serialization.Encoding.DER)


@pytest.fixture
def tls_broker(make_mosquitto: Any, tmp_path: Path) -> tuple[Any, int, Path]:
    certs = make_certs(tmp_path / "certs", ["localhost"], ["127.0.0.1"])
    tls_port = free_port()
    broker = make_mosquitto(extra_config=(
        f"listener {tls_port} 127.0.0.1\ncafile {certs['ca']}\ncertfile {certs['cert']}\nkeyfile {certs['key']}\n"
        "tls_version tlsv1.2\n"))
    return broker, tls_port, certs["ca"]


def _board(micropython: str, bundle: Path, root: Path, tls_port: int, ca_der: bytes) -> SimBoard:
    b = SimBoard(micropython, bundle, root, {
        "device_id": "soil-tls", "site": "goshogawara", "kind": "soil", "broker_url": f"mqtts://localhost:{tls_port}",
        "broker_ca_file": "ca.der", "connect_timeout_ms": 5000})
    (root / "ca.der").write_bytes(ca_der)
    (root / "sim_clock").write_text("0")  # clock already set: the reading goes straight to the spool
    return b


def test_a_node_publishes_over_tls_to_a_broker_signed_by_its_ca(
    micropython: str, bundles: dict[str, Path], tmp_path: Path, tls_broker: tuple[Any, int, Path]
) -> None:
    broker, tls_port, ca = tls_broker
    c = Collector(broker.port).start()  # the test listens on the plain listener of the same broker
    try:
        board = _board(micropython, bundles["soil"], tmp_path / "b", tls_port, _der(ca))
        r = board.wake()
        assert r["online"] is True and r["sent"] == 1
        assert c.wait_for(lambda: c.seqs() == [0])
    finally:
        c.stop()


def test_a_broker_certificate_from_another_ca_is_not_trusted(
    micropython: str, bundles: dict[str, Path], tmp_path: Path, tls_broker: tuple[Any, int, Path]
) -> None:
    _, tls_port, _ = tls_broker
    other = make_certs(tmp_path / "other", ["localhost"], ["127.0.0.1"])
    board = _board(micropython, bundles["soil"], tmp_path / "b", tls_port, _der(other["ca"]))
    r = board.wake()
    assert r["online"] is False and r["pending"] == 1 and r["on_flash"] == 1, "kept for later, not sent to an impostor"
    assert "not correctly signed by the trusted CA" in r["link_error"], "the console says why"
