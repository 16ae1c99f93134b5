"""`yukimizu demo`: the farm it plays and the backend it starts count the crops' season on one timeline."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import time
from pathlib import Path

import httpx
import numpy as np

from backend.agronomy.paddy import load_rules, stage_today
from simulators import cli as sim_cli
from simulators import scenario as scenario_mod
from simulators.clock import SimClock
from simulators.world import World
from yukimizu.demo import clear_previous_run, farm_args, farm_run, farm_timeline, write_forecast
from yukimizu.jst import JST
from yukimizu.stack import SITE_DIR, Stack


def test_the_backend_advises_on_the_season_the_simulated_farmers_are_in(tmp_path: Path) -> None:
    start_s, shift_days = farm_timeline(20000.0)
    farm = scenario_mod.replace(scenario_mod.load("paddy-season"), speed=20000.0)
    # The simulated farmers transplant on the registry's dates moved by the run's calendar shift.
    assert shift_days * 86400 == -World(farm, start_s).calendar_shift_s
    features = json.loads((SITE_DIR / "registry.json").read_text(encoding="utf-8"))["fields"]["features"]
    paddies = {f["id"]: f["properties"]["transplant_date"] for f in features if f["properties"]["crop"] == "paddy"}
    assert paddies
    # The demo's forecast feed: the weather the live farm will play, from today.
    feed = write_forecast(tmp_path / "forecast.csv", farm_run(start_s, 20000.0))
    stack = Stack(tmp_path / "stack", field_date_shift_days=shift_days, forecast_feeds=[feed]).start()
    try:
        rules = load_rules()
        today = dt.datetime.now(JST).date()
        played = np.datetime64(today - dt.timedelta(days=shift_days))  # the June day the run has reached
        with httpx.Client(base_url=stack.api_url, headers=stack.headers, timeout=30) as c:
            for fid, transplant in paddies.items():
                field = c.get(f"/api/v1/fields/{fid}").json()
                moved = dt.date.fromisoformat(transplant) + dt.timedelta(days=shift_days)
                assert field["transplant_date"] == moved.isoformat()
                advice = c.get(f"/api/v1/fields/{fid}/advice").json()["advice"]
                stage = advice["stage"]
                # With the feed the advice looks ahead (cold nights, rain) instead of saying it cannot.
                assert "no_forecast" not in advice["reasons"] and "no_cold_check" not in advice["reasons"], advice
                expected = stage_today(rules, played, [transplant], [np.datetime64("NaT")])
                assert stage == rules.stages[int(expected.index[0])].id, (fid, stage)
                # Without the move it would be November's stage, not the one the simulated water shows.
                november = stage_today(rules, np.datetime64(today), [transplant], [np.datetime64("NaT")])
                assert stage != rules.stages[int(november.index[0])].id, (fid, stage)
    finally:
        stack.stop()


def test_the_farm_replays_the_season_up_to_today_and_carries_on_in_real_time_in_one_run() -> None:
    # One run and one model: no second simulator starting the paddies afresh when the replay is over.
    start_s, shift_days = farm_timeline(20000.0)
    parser = argparse.ArgumentParser()
    sim_cli.register(parser.add_subparsers())
    farm, run_start_s = sim_cli.resolve(parser.parse_args(["simulate", "--scenario", "paddy-season",
                                                           *farm_args(farm_run(start_s, 20000.0))]))
    assert farm.catch_up and math.isclose(run_start_s, start_s, abs_tol=1e-3)
    # The calendar the backend's moved field dates assume.
    assert World(farm, run_start_s).calendar_shift_s == -shift_days * 86400
    now = time.time()
    clock = SimClock(run_start_s, farm.speed, catch_up=farm.catch_up)
    assert clock.wall_s_between(run_start_s, now) < 180  # four weeks of season replayed in under 3 minutes
    assert math.isclose(clock.wall_s_between(now + 3600, now + 7200), 3600, rel_tol=1e-3)  # then an hour an hour
    assert run_start_s + farm.duration_s >= now + 29 * 86400  # and so for a month


def test_a_new_demo_run_starts_from_clean_servers_and_leaves_other_files_alone(tmp_path: Path) -> None:
    # A second `make demo` replays the same four weeks: on top of the first run's data every sensor would
    # show two histories interleaved, and the first run's alerts would still be open.
    var = tmp_path / "demo"
    for folder in ("mosquitto", "influxdb/data", "gateway", "backend"):
        (var / folder).mkdir(parents=True)
        (var / folder / "state").write_text("from the last run")
    for name in ("sent-farm.jsonl", "registry.json", "api.log", "my-notes.txt"):
        (var / name).write_text("x")
    assert clear_previous_run(var)
    assert sorted(p.name for p in var.iterdir()) == ["api.log", "my-notes.txt"]
    assert not clear_previous_run(var)  # nothing left to clear: the demo says nothing
