"""Fixtures for the snow tests (builders are in snow_builders.py)."""
from __future__ import annotations

import pytest
from snow_builders import network, road

from backend.snow.roads import RoadNetwork


@pytest.fixture
def town() -> RoadNetwork:
    """A 600 m main street, a parallel street 22 m north, a crossing street, and a side street."""
    return network(
        road("main", (0, 0), (600, 0), route="A"),
        road("parallel", (0, 22), (600, 22), route="A"),
        road("cross", (300, -300), (300, 300), route="B"),
        road("side", (0, -150), (600, -150), route="B"),
    )
