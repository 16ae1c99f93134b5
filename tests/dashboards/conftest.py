"""Fixtures for the dashboards tests: one InfluxDB database holding the synthetic site, shared by the module."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from yukimizu.influx import InfluxV1
from yukimizu.servers import InfluxDB

import dash_site_data as site_data


@dataclass
class Site:
    """The filled database and the moment its data was made for."""

    db: InfluxV1
    now_s: int


@pytest.fixture(scope="session")
def site(influxdb: InfluxDB) -> Iterator[Site]:
    """The synthetic site written to its own database (read-only for the tests)."""
    now_s = int(time.time())
    db = InfluxV1(influxdb.url, "dashboards_site")
    db.create_database()
    ds = site_data.build(now_s)
    for i in range(0, len(ds.lines), 5000):
        db.write(ds.lines[i:i + 5000])
    yield Site(db, now_s)
    db.close()
