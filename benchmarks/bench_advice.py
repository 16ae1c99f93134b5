"""Irrigation advice for 10,000 fields over a 30-day history: vectorised vs a per-field Python loop.

The baseline runs the same engine one field at a time (what a naive API handler looping over the registry
would do) on the same data in the same run, and its Advice must agree field by field. At about 10-20 ms per
call the loop over all 10,000 fields takes minutes on a shared 2-core machine, so by default it runs on every
20th field (500 fields, rows the vectorised run also covered) and its time is scaled to 10,000;
BENCH_ADVICE_LOOP_EVERY=1 loops over every field. BENCH_ADVICE_FIELDS changes the 10,000.
Prints medians of wall and process CPU time, the ratios and the load average (on a busy machine wall time is
mostly waiting for a core; CPU time is the code's own cost).
Run: `.venv/bin/python -m benchmarks advice`.
"""
from __future__ import annotations

import os
import statistics
import time

import numpy as np

from backend.agronomy.advice import Advice, FieldTable, History, _default_rules, advise, rows, take_weather
from backend.agronomy.engine import compute
from backend.agronomy.weather import DailyObserved, Forecast, WeatherInput

N_FIELDS = int(os.environ.get("BENCH_ADVICE_FIELDS", "10000"))
LOOP_EVERY = int(os.environ.get("BENCH_ADVICE_LOOP_EVERY", "20"))
N_DAYS = 30
LEVEL_STEP_S = 1200  # paddy level every 20 min
LEVEL_HOURS = 24
TARGET_MS = 200.0
TODAY = np.datetime64("2026-07-27")
NOW_UNIX_S = float((np.datetime64("2026-07-27T05:30") - np.timedelta64(9, "h")).astype("datetime64[s]").astype(np.int64))


def build(n: int, seed: int = 56) -> tuple[FieldTable, History, WeatherInput]:
    """A plausible Goshogawara season: 40 % paddies, apples, vegetables, soybeans; sensors with gaps."""
    rng = np.random.default_rng(seed)
    crop = rng.choice(["rice", "apple", "apple_bare", "vegetables", "soybean"], size=n, p=[0.4, 0.3, 0.05, 0.15, 0.1])
    start = np.where(crop == "rice", np.datetime64("2026-05-20"),
                     np.where(np.isin(crop, ["apple", "apple_bare"]), np.datetime64("2026-04-25"),
                              np.datetime64("2026-06-05"))).astype("datetime64[D]")
    start = start + rng.integers(-7, 8, size=n).astype("timedelta64[D]")
    heading = np.where(rng.random(n) < 0.5, start + np.timedelta64(78, "D"), np.datetime64("NaT")).astype(
        "datetime64[D]")
    fields = FieldTable(
        field_id=np.array([f"field-{i:05d}" for i in range(n)]), crop=crop, area_m2=rng.uniform(500, 5000, n),
        latitude_deg=rng.uniform(40.75, 40.90, n), elevation_m=rng.uniform(2, 60, n), season_start=start,
        soil_texture=rng.choice(["loam", "silt_loam", "clay", "sandy_loam", "silty_clay_loam"], size=n),
        sensor_trust=rng.uniform(0.3, 0.9, n), coastal=rng.random(n) < 0.2, heading_date=heading,
        stage_override=np.array([""] * n, dtype=object), cold_sensitive=rng.random(n) < 0.3,
        outlet_height_cm=np.where(crop == "rice", rng.uniform(15, 25, n), np.nan),
    )
    days = TODAY - np.arange(N_DAYS, 0, -1).astype("timedelta64[D]")
    site_tmax = 27 + 3 * np.sin(np.arange(N_DAYS) / 3.0)
    tmax = site_tmax[None, :] + rng.normal(0, 0.5, (n, N_DAYS))
    tmin = tmax - rng.uniform(6, 10, (n, N_DAYS))
    rain = np.where(rng.random((n, N_DAYS)) < 0.2, rng.gamma(1.5, 8.0, (n, N_DAYS)), 0.0)
    rh_max = rng.uniform(80, 98, (n, N_DAYS))
    rh_min = rng.uniform(45, 70, (n, N_DAYS))
    wind = rng.uniform(1.0, 4.0, (n, N_DAYS))
    rs = rng.uniform(10, 26, (n, N_DAYS))
    for a in (rh_max, rh_min, wind, rs):
        a[rng.random((n, N_DAYS)) < 0.05] = np.nan  # station gaps
    vwc = np.where(rng.random((n, N_DAYS)) < 0.7, rng.uniform(12, 40, (n, N_DAYS)), np.nan)
    vwc[rng.random((n, N_DAYS)) < 0.01] = 95.0  # clipped probes
    irrigation = np.where(rng.random((n, N_DAYS)) < 0.05, 20.0, 0.0)
    m = LEVEL_HOURS * 3600 // LEVEL_STEP_S + 1
    t = NOW_UNIX_S - np.arange(m)[::-1] * LEVEL_STEP_S
    hours_ago = (NOW_UNIX_S - t) / 3600.0
    base = rng.uniform(0, 22, n)[:, None] + 0.08 * hours_ago[None, :]
    leak = rng.random(n) < 0.01
    level = base - np.where(leak[:, None] & (hours_ago[None, :] < 4), 1.0 * (4 - hours_ago[None, :]), 0.0)
    level = level + rng.normal(0, 0.15, level.shape)
    level[crop != "rice"] = np.nan
    level[rng.random(level.shape) < 0.03] = np.nan
    history = History(days, vwc_pct=vwc, irrigation_mm=irrigation, level_t_unix_s=t, level_cm=level)
    f = 7
    fdays = TODAY + np.arange(f).astype("timedelta64[D]")
    ftmin = rng.uniform(15, 22, (n, f))
    weather = WeatherInput(
        DailyObserved(tmax, tmin, rain, rh_max, rh_min, wind, rs),
        Forecast(fdays, ftmin, ftmin + rng.uniform(6, 10, (n, f)), np.where(rng.random((n, f)) < 0.3, 6.0, 0.0)),
    )
    return fields, history, weather


def per_field_loop(fields: FieldTable, history: History, weather: WeatherInput, which: np.ndarray) -> list[Advice]:
    """Baseline: the same engine, called once per field."""
    out = []
    for i in which:
        idx = np.array([i])
        out += advise(fields.take(idx), history.take(idx), take_weather(weather, idx), now_unix_s=NOW_UNIX_S)
    return out


def _same(a: Advice, b: Advice) -> bool:
    return (a.field_id, a.action, a.urgency, a.days, a.stage, a.reasons, a.message_ja, a.message_en) == (
        b.field_id, b.action, b.urgency, b.days, b.stage, b.reasons, b.message_ja, b.message_en) and np.allclose(
        [a.amount_mm, a.amount_l], [b.amount_mm, b.amount_l]) and (a.target_min_cm, a.target_max_cm) == (
        b.target_min_cm, b.target_max_cm)


def _timed_s(fn, repeat: int = 7) -> tuple[float, float]:
    """Median wall time and median CPU time of `repeat` runs, seconds.

    On a shared machine the wall time includes waiting for a core; the process CPU time does not, so it is the
    fairer figure for the code's own cost (numpy here runs single-threaded).
    """
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    """Print the timing table and assert the loop and the vectorised engine agree."""
    fields, history, weather = build(N_FIELDS)
    rules = _default_rules()
    advise(fields.take(np.arange(10)), history.take(np.arange(10)), take_weather(weather, np.arange(10)),
           now_unix_s=NOW_UNIX_S)  # warm-up (rules and templates loaded)
    cols = compute(fields, history, weather, NOW_UNIX_S, rules)
    compute_s = _timed_s(lambda: compute(fields, history, weather, NOW_UNIX_S, rules))
    rows_s = _timed_s(lambda: rows(cols, fields, rules))
    vec = advise(fields, history, weather, now_unix_s=NOW_UNIX_S)
    vec_s = _timed_s(lambda: advise(fields, history, weather, now_unix_s=NOW_UNIX_S))
    text_s = _timed_s(lambda: [(a.message_ja, a.message_en) for a in vec], repeat=3)
    which = np.arange(0, N_FIELDS, LOOP_EVERY)
    t0, c0 = time.perf_counter(), time.process_time()
    loop = per_field_loop(fields, history, weather, which)
    scale = N_FIELDS / len(which)
    loop_s = ((time.perf_counter() - t0) * scale, (time.process_time() - c0) * scale)
    bad = [a.field_id for a, b in zip([vec[i] for i in which], loop, strict=True) if not _same(a, b)]
    assert not bad, f"vectorised and per-field advice differ for {len(bad)} fields, e.g. {bad[:5]}"
    actions: dict[str, int] = {}
    for a in vec:
        actions[a.action.value] = actions.get(a.action.value, 0) + 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"fields {N_FIELDS}, history {N_DAYS} days, forecast 7 days, paddy level every {LEVEL_STEP_S // 60} min"
          f" over {LEVEL_HOURS} h; load average {load:.1f} on {os.cpu_count()} cores")
    print(f"{'method (medians)':<48}{'wall':>13}{'CPU':>13}{'CPU/field':>12}")
    for name, (sec, cpu) in (("engine.compute (all decisions, vectorised)", compute_s),
                      ("advice.rows (Advice objects)", rows_s), ("advise() = compute + rows", vec_s),
                      ("rendering every message_ja + message_en", text_s),
                      (f"per-field loop (baseline, {len(which)} fields scaled)", loop_s)):
        print(f"{name:<48}{sec * 1000:>10.1f} ms{cpu * 1000:>10.1f} ms{cpu / N_FIELDS * 1e6:>9.1f} us")
    print(f"speed-up of advise() over the loop: {loop_s[0] / vec_s[0]:.0f}x wall, {loop_s[1] / vec_s[1]:.0f}x CPU;"
          f" {len(which)} looped fields agree")
    print(f"target advise() < {TARGET_MS:.0f} ms: wall {'met' if vec_s[0] * 1000 < TARGET_MS else 'NOT met'},"
          f" CPU {'met' if vec_s[1] * 1000 < TARGET_MS else 'NOT met'}")
    print("actions: " + ", ".join(f"{k} {v}" for k, v in sorted(actions.items())))


if __name__ == "__main__":
    main()
