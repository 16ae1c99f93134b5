"""Constructed scenarios with known answers: each asserts the exact set of roads counted as cleared."""
from __future__ import annotations

import pytest

from snow_builders import T0_S, cleared, drive, join, network, road, run

MAIN_E = [(-50, 0), (650, 0)]  # along the main street, eastbound, starting off the network
MAIN_W = [(650, 0), (-50, 0)]
CROSS_N = [(300, -350), (300, 350)]

CASES = [
    ("blade down along the main street clears it and nothing else", [drive("p1", MAIN_E, 40)], {}, {"main"}),
    ("blade up along the main street clears nothing", [drive("p1", MAIN_E, 40, blade=False)], {}, set()),
    ("a perpendicular crossing clears only the street driven",
     [drive("p1", CROSS_N, 40)], {}, {"cross"}),
    ("a two-way street plowed westbound only counts as cleared (either direction counts)",
     [drive("p1", MAIN_W, 30)], {}, {"main"}),
    ("fixes 20 s apart are joined: no holes", [drive("p1", MAIN_E, 40, every_s=20)], {}, {"main"}),
    ("fixes 90 s apart are not joined: nothing cleared", [drive("p1", MAIN_E, 10, every_s=90)], {}, set()),
    ("plowing the main street at 45 km/h leaves the parallel street 22 m away uncleared",
     [drive("p1", [(-50, 0), (650, 0)], 45)], {"buffer_m": 12.0}, {"main"}),
    ("two plows on two streets clear both", [drive("p1", MAIN_E, 40), drive("p2", [(-50, -150), (650, -150)], 25)],
     {}, {"main", "side"}),
]


@pytest.mark.parametrize("drives,params,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cleared_set(town, drives, params, expected):
    assert cleared(town, run(town, join(*drives), **params)) == expected


@pytest.mark.parametrize("offset_m", [20.0, 25.0], ids=["parallel street 20 m away", "parallel street 25 m away"])
def test_parallel_street_is_not_cleared(offset_m):
    net = network(road("main", (0, 0), (600, 0)), road("parallel", (0, offset_m), (600, offset_m)))
    state = run(net, drive("p1", MAIN_E, 40))
    assert cleared(net, state) == {"main"}
    assert state.cleared_fraction[1] == 0.0


@pytest.mark.parametrize("seed", [1, 2, 3], ids=lambda s: f"5 m GPS noise, seed {s}")
def test_gps_noise_of_5_m_keeps_the_answer(town, seed):
    fixes = join(drive("p1", MAIN_E, 40, noise_m=5.0, seed=seed),
                 drive("p2", CROSS_N, 30, noise_m=5.0, seed=seed + 100))
    state = run(town, fixes)
    assert cleared(town, state) == {"main", "cross"}
    assert state.cleared_fraction[1] < 0.5  # the parallel street, 22 m from the main street


@pytest.mark.parametrize("hole_s,expected", [(20, {"long"}), (90, set())],
                         ids=["a 20 s hole in a 1 Hz track is bridged", "a 90 s hole in a 1 Hz track is not"])
def test_hole_in_a_track(hole_s, expected):
    net = network(road("long", (0, 0), (1000, 0)))
    fixes = drive("p1", [(-50, 0), (1050, 0)], 40)
    t = fixes["t_s"] - T0_S
    # The fixes inside the hole are lost (snow walls, a tunnel); it starts 400 m along.
    keep = ~((t > 40) & (t < 40 + hole_s))
    state = run(net, {k: v[keep] for k, v in fixes.items()})
    assert cleared(net, state) == expected
    if hole_s == 90:
        # The hole starts at -50 + 40 s * 11.1 m/s = 394 m and lasts past the road's end (90 s is 1 km):
        # cleared up to the hole plus the 12 m buffer, to the nearest 10 m piece.
        assert 0.39 <= state.cleared_fraction[0] <= 0.42


def test_times_passes_and_devices(town):
    there = drive("p1", MAIN_E, 36)  # 10 m/s: reaches x = 0 at 5 s and x = 600 at 65 s
    back = drive("p1", MAIN_W, 36, t0_s=T0_S + 600)
    other = drive("p2", MAIN_E, 36, t0_s=T0_S + 1200)
    state = run(town, join(there, back, other))
    k = 0  # main
    assert state.cleared[k]
    assert state.passes[k] == 3
    assert state.devices[k] == ["p1", "p2"]
    # Cleared to 90 % when the plow has passed x = 540 m, at about 59 s (+- the 10 m pieces and buffer).
    assert abs(state.first_cleared_t_s[k] - (T0_S + 59)) <= 2.5
    # Last cleared by p2 near x = 600 m, at 1200 + 65 s.
    assert abs(state.last_cleared_t_s[k] - (T0_S + 1265)) <= 2.5


def test_a_stop_mid_street_is_one_pass_not_two(town):
    a = drive("p1", [(-50, 0), (300, 0)], 36)
    t_stop = a["t_s"][-1]
    wait = drive("p1", [(300, 0), (300.1, 0)], 0.01, t0_s=t_stop + 1)
    wait = {k: v[:60] for k, v in wait.items()}  # 60 s standing at the crossing
    b = drive("p1", [(300, 0), (650, 0)], 36, t0_s=wait["t_s"][-1] + 1)
    state = run(town, join(a, wait, b))
    assert state.cleared[0] and state.passes[0] == 1
