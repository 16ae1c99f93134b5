"""Devices in the world: same seed same data, every message passes the wire contract, seq and t behave."""
from __future__ import annotations

from collections import defaultdict

import pytest

from simulators.world import World
from yukimizu.contract import decode
from yukimizu.contract.topics import ID_RE

from simhelpers import NOW, short_world

CASES = [("paddy-season", 3 * 86400, 0), ("snowstorm-night", 22500, 3), ("outages", 3600, 0)]
IDS = ["three days of the paddy season", "the snowstorm night (weather station and two plows)", "an hour of the outages drill"]


def payloads(w: World) -> list[tuple[str, bytes]]:
    return [(m.topic, m.payload()) for m in w.messages()]


@pytest.mark.parametrize("name,duration_s,devices", CASES, ids=IDS)
def test_same_seed_gives_the_same_messages_and_another_seed_differs(name: str, duration_s: float, devices: int) -> None:
    a = payloads(short_world(name, duration_s=duration_s, seed=4, devices=devices))
    b = payloads(short_world.__wrapped__(name, duration_s=duration_s, seed=4, devices=devices))  # built afresh
    c = payloads(short_world(name, duration_s=duration_s, seed=5, devices=devices))
    assert len(a) > 20
    assert a == b
    assert a != c


@pytest.mark.parametrize("name,duration_s,devices", CASES, ids=IDS)
def test_every_message_passes_the_contract_with_nothing_rejected(name: str, duration_s: float, devices: int) -> None:
    w = short_world(name, duration_s=duration_s, devices=devices, seq_base=1_795_680_000_000_000)  # what the CLI uses by default
    seqs: dict[str, list[int]] = defaultdict(list)
    times: dict[str, list[float]] = defaultdict(list)
    kinds = set()
    for m in w.messages():
        out = decode(m.topic, m.payload(), now_unix_s=w.end_unix_s + 60)
        assert not out.rejections, (m.topic, out.rejections[:3])
        assert len(out.readings) == len(m.readings)
        for r in out.readings:
            seqs[r.device_id].append(r.seq)
            times[r.device_id].append(r.t_unix_s)
            kinds.add(r.kind.value)
            assert w.start_unix_s <= r.t_unix_s <= w.end_unix_s
    assert kinds == set(w.sc.kinds)
    for dev, s in seqs.items():
        assert s == list(range(w.seq_base + 1, w.seq_base + len(s) + 1)), f"{dev}: seq must grow by one"
        assert times[dev] == sorted(times[dev]), f"{dev}: readings oldest first"


def test_snowstorm_dispatches_after_10_cm_and_plows_return_before_the_end() -> None:
    w = short_world("snowstorm-night", duration_s=22500)
    assert w.dispatch_unix_s is not None
    fallen = w.sc.snow.fallen_before_start_cm + sum(h.snowfall_cm for h in w.weather.hours if h.t_unix_s <= w.dispatch_unix_s)
    assert fallen >= 10
    hour_jst = ((w.dispatch_unix_s + 9 * 3600) % 86400) / 3600
    assert 2.0 <= hour_jst < 7.5  # early morning, finished before commuters
    assert w.dispatch_unix_s - w.start_unix_s <= 30 * 60, "plows move within a minute of the demo at speed 30"
    assert ((w.end_unix_s + 9 * 3600) % 86400) / 3600 < 7.5
    plows = [d for d in w.devices if d.kind == "plow"]
    assert len(plows) == 6
    assert all(w.plow_track(d)[-1].t_unix_s < w.end_unix_s for d in plows)


def test_a_seq_base_shifts_every_seq_and_nothing_else() -> None:
    w = short_world("outages", duration_s=600)
    a = list(w.messages())
    b = list(World(w.sc, w.start_unix_s, seq_base=1_795_000_000_000_000).messages())
    assert [r["seq"] + 1_795_000_000_000_000 for m in a for r in m.readings] == [r["seq"] for m in b for r in m.readings]
    assert [{k: v for k, v in r.items() if k != "seq"} for m in a for r in m.readings] == \
        [{k: v for k, v in r.items() if k != "seq"} for m in b for r in m.readings]


def test_readings_from_a_dead_zone_arrive_late_with_their_own_time() -> None:
    w = short_world("snowstorm-night", duration_s=22500)
    late = [(m.publish_t_unix_s - r["t"]) for m in w.messages() if m.device.kind == "plow" for r in m.readings]
    assert max(late) > 30, "a plow leaving a dead zone sends a backlog recorded tens of seconds earlier"
    assert sorted(late)[len(late) // 2] < 11  # most readings go within the 10 s publish period


def test_scaling_the_fleet_clones_devices_with_valid_unique_ids() -> None:
    w = short_world("outages", duration_s=600, devices=250)
    ids = [d.device_id for d in w.devices]
    assert len(ids) == 250 == len(set(ids))
    assert all(ID_RE.match(i) for i in ids)
    assert {d.kind for d in w.devices} == {"water", "soil", "weather"}
    few = short_world("snowstorm-night", duration_s=3600, devices=3)
    assert sorted(d.kind for d in few.devices) == ["plow", "plow", "weather"]  # kinds taken in turn


def test_paddy_faults_in_the_scenario_reach_the_model() -> None:
    w = short_world("paddy-season", duration_s=22 * 86400)
    assert {f"f-{i:02d}" for i in range(1, 9)} <= set(w.traces)  # runs the paddy models
    assert w.paddies["f-03"].ledger.leak_mm > 0 and w.paddies["f-01"].ledger.leak_mm == 0
    assert w.paddies["f-06"].ledger.overflow_mm > w.paddies["f-05"].ledger.overflow_mm + 50
    assert all(abs(p.balance_error_mm()) <= 0.1 for p in w.paddies.values())
    assert len(w.fault_events()) == 2


def test_a_june_season_replayed_today_has_june_inside_and_todays_timestamps() -> None:
    w = short_world("paddy-season", duration_s=7 * 86400)  # start chosen so the run ends at the tests' NOW (November)
    assert w.end_unix_s <= NOW + 1 and w.start_unix_s > NOW - 8 * 86400
    first_week = [h.air_temp_c for h in w.weather.hours[: 7 * 24]]
    assert 10 < sum(first_week) / len(first_week) < 20  # early June in Tsugaru, not late November (about 5 C)
    level_mm, _ = w.traces["f-01"].at(w.start_unix_s + 3 * 86400)
    assert level_mm > 20, "two weeks after transplanting the paddy holds water"
    times = [r["t"] for m in w.messages() for r in m.readings]
    assert NOW - 8 * 86400 < min(times) and max(times) <= NOW
