"""Scenario files: the shipped ones load; bad ones fail with the file and the key named."""
from __future__ import annotations

from pathlib import Path

import pytest

from simulators import scenario
from simulators.world import World

from simhelpers import NOW


@pytest.mark.parametrize("name", ["paddy-season", "snowstorm-night", "outages"])
def test_shipped_scenarios_load(name: str) -> None:
    sc = scenario.load(name)
    assert sc.name == name and sc.duration_s > 0 and sc.speed > 0


BASE = 'name = "t"\ndescription = "d"\nduration_s = 3600\n'
BAD = [
    (BASE + "colour = 3\n", "colour", "unknown setting"),
    ('name = "t"\ndescription = "d"\n', "duration_s", "required"),
    (BASE.replace("3600", '"an hour"'), "duration_s", "expected a number"),
    (BASE + "speed = -2\n", "speed", "must be > 0"),
    (BASE + 'kinds = ["soil", "tractor"]\n', "kinds[1]", "'tractor'"),
    (BASE + 'start = "2026-06-01T00:00:00"\n', "start", "UTC offset"),
    (BASE + "[weather]\nmodel = \"monsoon\"\n", "weather.model", "'monsoon'"),
    (BASE + "[sampling]\nsoil_interval_s = 0\n", "sampling.soil_interval_s", "> 0"),
    (BASE + '[[outage]]\nat_s = 10\ntarget = "broker"\naction = "explode"\n', "outage[0].action", "'explode'"),
    (BASE + '[[outage]]\nat_s = 10\ntarget = "broker"\naction = "restart"\nduration_s = 5\n', "outage[0].duration_s", "no inverse"),
    (BASE + '[[outage]]\nat_s = 99999\ntarget = "broker"\naction = "kill"\n', "outage[0].at_s", "outside the run"),
    (BASE + '[[paddy_fault]]\nfield_id = "f-01"\nkind = "leak"\nat_s = 0\n', "paddy_fault[0].duration_s", "required"),
    (BASE + "duration_s = 5\n", "t.toml", "not valid TOML"),
]
BAD_IDS = [
    "an unknown key is named", "a missing duration is named", "text where a number belongs is named",
    "a negative speed is refused", "an unknown device kind names its index", "a start without offset is refused",
    "an unknown weather model is named", "a zero sampling interval is refused", "an unknown outage action is named",
    "an outage without an inverse cannot have a duration", "an outage after the end is refused",
    "a paddy fault without duration is named", "broken TOML names the file",
]


@pytest.mark.parametrize("text,key,reason", BAD, ids=BAD_IDS)
def test_bad_scenarios_name_the_key(tmp_path: Path, text: str, key: str, reason: str) -> None:
    p = tmp_path / "t.toml"
    p.write_text(text)
    with pytest.raises(scenario.ScenarioError) as e:
        scenario.load(p)
    assert key in str(e.value) and reason in str(e.value), str(e.value)
    assert str(p) in str(e.value)


def test_an_unknown_scenario_lists_the_known_ones() -> None:
    with pytest.raises(scenario.ScenarioError, match="known: outages, paddy-season, snowstorm-night"):
        scenario.load("hailstorm")


def test_a_paddy_fault_on_an_orchard_is_refused_naming_the_field(tmp_path: Path) -> None:
    p = tmp_path / "t.toml"
    p.write_text(BASE + '[[paddy_fault]]\nfield_id = "f-09"\nkind = "leak"\nat_s = 0\nduration_s = 60\n')
    with pytest.raises(scenario.ScenarioError, match=r"paddy_fault\[0\].field_id 'f-09' is not a paddy"):
        World(scenario.load(p), NOW)


def test_a_csv_weather_scenario_replays_the_file_next_to_it(tmp_path: Path) -> None:
    from simulators.models.weather import summer_series

    start = 1_780_239_600.0
    summer_series(start, 2, 9).to_csv(tmp_path / "june.csv")
    (tmp_path / "replay.toml").write_text(BASE + 'kinds = ["weather"]\n[weather]\nmodel = "csv"\ncsv = "june.csv"\n')
    w = World(scenario.load(tmp_path / "replay.toml"), start)
    temps = [m.readings[0]["air_temp_c"] for m in w.messages()]
    truth = [h.air_temp_c for h in summer_series(start, 2, 9).hours[:2]]
    assert len(temps) == 6 and min(truth) - 1 < temps[0] < max(truth) + 1


def test_a_derived_key_in_the_file_is_refused_by_name(tmp_path: Path) -> None:
    p = tmp_path / "t.toml"
    p.write_text(BASE + "outages = []\n")
    with pytest.raises(scenario.ScenarioError, match="outages: unknown setting"):
        scenario.load(p)
