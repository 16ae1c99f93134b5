"""The simulated world of one scenario run: weather, field water, plows, and every message each device sends.

Everything is a pure function of (scenario, start time, seed, device list): the models run on fixed
time grids and each device draws from its own seeded random stream, so the same seed gives the same
messages whatever the speed or the pacing. `World.messages()` yields them in publish-time order.
"""
from __future__ import annotations

import datetime as dt
import heapq
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from yukimizu.contract.topics import topic
from yukimizu.jst import JST_OFFSET_S

from .geo import GOSHOGAWARA
from .models.et0 import hargreaves_et0_mm_day
from .models.paddy import RICE_KC, Farmer, LevelSensor, Paddy, PaddyFault, PaddyFaultKind, water_temp_c
from .models.plow import DeadZone, Fix, Leg, iter_track, legs_for
from .models.roads import RoadNetwork
from .models.soil import SoilProbe, UplandSoil
from .models.weather import LAT_DEG, WeatherSeries, summer_series, winter_series
from .scenario import Scenario, ScenarioError
from .site import DeviceSpec, FieldSpec, load_devices, load_fields

_topic = lru_cache(maxsize=100_000)(topic)
# A field node's Li-ion cell, 4.0 V full to the 3.3 V regulator cut-off, lasts about a growing season:
# an ESP32 wake with Wi-Fi draws 120-260 mA for about 2 s (DOMAIN.md), 0.1 mAh, so a 2,500 mAh cell
# gives roughly 25,000 wakes. Each wake drains a random share of that, 0.7 V over the cell's life.
CELL_WAKES = 25_000
CELL_SPAN_V = 0.7
MAX_READINGS_PER_MESSAGE = 500  # the contract allows 1000; a spooled plow sends its backlog in chunks


@dataclass(frozen=True)
class Message:
    """One MQTT publish: the device, when it is sent (simulated Unix s), and its readings oldest first."""

    publish_t_unix_s: float
    device: DeviceSpec
    readings: tuple[dict, ...]

    @property
    def topic(self) -> str:
        """Telemetry topic per the contract (built and checked once per device)."""
        return _topic(self.device.site, self.device.kind, self.device.device_id)

    def payload(self) -> bytes:
        """The payload the firmware would send: {"v":1,"readings":[{seq, t, fields...}]}."""
        return json.dumps({"v": 1, "readings": list(self.readings)}, separators=(",", ":")).encode()


def fleet_devices(registry: list[DeviceSpec], kinds: list[str], n: int) -> list[DeviceSpec]:
    """The scenario's devices: the registry's of the wanted kinds, cut to n (kinds taken in turn) or cloned up to n."""
    base = [d for d in registry if d.kind in kinds]
    if not base:
        raise ScenarioError(f"the site registry has no device of kinds {kinds}")
    if n <= 0 or n == len(base):
        return base
    if n < len(base):
        rank: dict[str, int] = {}
        keyed = []
        for d in base:
            keyed.append((rank.get(d.kind, 0), kinds.index(d.kind), d))
            rank[d.kind] = rank.get(d.kind, 0) + 1
        return [d for _, _, d in sorted(keyed, key=lambda x: (x[0], x[1]))[:n]]
    out = list(base)
    for i in range(n - len(base)):
        tpl = base[i % len(base)]
        k = i // len(base) + 1
        out.append(DeviceSpec(
            device_id=f"sim-{tpl.device_id}-{k:04d}", site=tpl.site, kind=tpl.kind, field_id=tpl.field_id,
            vehicle_id=f"sim-{tpl.vehicle_id}-{k:04d}" if tpl.vehicle_id else None, route=tpl.route,
            expected_interval_s=tpl.expected_interval_s))
    return out


@dataclass
class FieldTrace:
    """A field's truth on the model grid: value arrays indexed by step."""

    t0_unix_s: float
    step_s: float
    primary: list[float]  # theta (m3/m3) for upland fields, level_mm for paddies
    temp_c: list[float]  # soil or water temperature, deg C

    def at(self, t_unix_s: float) -> tuple[float, float]:
        """(primary, temp_c) of the step t falls in."""
        i = min(len(self.primary) - 1, max(0, int((t_unix_s - self.t0_unix_s) // self.step_s)))
        return self.primary[i], self.temp_c[i]


class World:
    """Models and devices of one run, from start_unix_s for the scenario's duration."""

    def __init__(self, scenario: Scenario, start_unix_s: float, devices: list[DeviceSpec] | None = None,
                 seq_base: int = 0):
        self.sc = scenario
        # Each device's first seq is seq_base + 1. Firmware keeps seq across reboots and the gateway
        # drops (device_id, seq) it has seen, so a new run must not start again from 1 (see cli.py).
        self.seq_base = int(seq_base)
        self.seed = scenario.seed
        self.start_unix_s = float(start_unix_s)
        self.calendar_shift_s = scenario.calendar_shift_s(self.start_unix_s)
        self.fields: dict[str, FieldSpec] = load_fields(scenario.site_dir)
        registry = load_devices(scenario.site_dir)
        self.devices = devices if devices is not None else fleet_devices(registry, scenario.kinds, scenario.devices)
        for d in self.devices:
            if d.field_id is not None and d.field_id not in self.fields:
                raise ScenarioError(f"device {d.device_id}: field_id {d.field_id!r} is not in fields.json")
        self.paddies: dict[str, Paddy] = {}
        for i, f in enumerate(scenario.paddy_faults):
            fs = self.fields.get(f.field_id)
            if fs is None or fs.crop != "paddy":
                raise ScenarioError(f"{scenario.path or scenario.name}: paddy_fault[{i}].field_id {f.field_id!r} is not a paddy of site {scenario.site}")

    # --- time span -------------------------------------------------------------------------------
    @cached_property
    def end_unix_s(self) -> float:
        """When the run ends: the scenario duration, or earlier once every plow is back (stop_when_done)."""
        end = self.start_unix_s + self.sc.duration_s
        plows = [d for d in self.devices if d.kind == "plow"]
        if plows and self.sc.snow.stop_when_done and self.dispatch_unix_s is not None:
            last = max((self.plow_end_unix_s(d) for d in plows), default=end)
            end = min(end, last + 600)
        return end

    # --- weather -----------------------------------------------------------------------------------
    @cached_property
    def weather(self) -> WeatherSeries:
        """Hourly weather covering the run."""
        w = self.sc.weather
        hours = int(self.sc.duration_s // 3600) + 2
        if w.model == "csv":
            csv_path = Path(w.csv)
            if not csv_path.is_absolute() and self.sc.path is not None:
                csv_path = self.sc.path.parent / csv_path  # relative to the scenario file
            return WeatherSeries.from_csv(csv_path)
        if w.model == "winter":
            return winter_series(self.start_unix_s, hours, self.seed, snowfall_total_cm=w.snowfall_total_cm,
                                 snow_start_h=w.snow_start_h, snow_hours=w.snow_hours, base_depth_cm=w.base_depth_cm)
        return summer_series(self.start_unix_s, hours // 24 + 2, self.seed, yamase_per_day=w.yamase_per_day,
                             calendar_shift_s=self.calendar_shift_s)

    def _et0_step_mm(self, t_unix_s: float, step_s: float, cache: dict) -> float:
        """ET0 over one step: the day's Hargreaves ET0 (FAO-56 eq. 52) shared out by the hour's solar radiation."""
        day = self.weather.daily(t_unix_s)
        if day.day_start_unix_s not in cache:
            et0 = hargreaves_et0_mm_day(day.tmax_c, day.tmin_c, LAT_DEG, day.day_of_year)
            solar = [self.weather.at(day.day_start_unix_s + h * 3600).solar_w_m2 for h in range(24)]
            cache[day.day_start_unix_s] = (et0, solar, sum(solar))
        et0, solar, total = cache[day.day_start_unix_s]
        hour = int((t_unix_s - day.day_start_unix_s) // 3600) % 24
        share = solar[hour] / total if total > 0 else 1 / 24
        return et0 * share * step_s / 3600

    # --- fields ----------------------------------------------------------------------------------
    def _transplant_unix_s(self, f: FieldSpec) -> float:
        if not f.transplant_date:
            return self.start_unix_s
        d = dt.date.fromisoformat(f.transplant_date)
        # Transplanted that many days before the played calendar's date, on the run's own timeline.
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone(dt.timedelta(hours=9))).timestamp() - self.calendar_shift_s

    @cached_property
    def traces(self) -> dict[str, FieldTrace]:
        """Truth of every field some device watches, on the model grid."""
        wanted = sorted({d.field_id for d in self.devices if d.field_id})
        return {fid: self._trace(self.fields[fid]) for fid in wanted}

    def _trace(self, f: FieldSpec) -> FieldTrace:
        step_s = self.sc.paddy.step_s
        dt_h = step_s / 3600
        n = int((self.end_unix_s - self.start_unix_s) // step_s) + 2
        cache: dict = {}
        primary: list[float] = []
        temps: list[float] = []
        soil_temp = self.weather.at(self.start_unix_s).air_temp_c
        if f.crop == "paddy":
            faults = [PaddyFault(PaddyFaultKind(x.kind), self.start_unix_s + x.at_s, self.start_unix_s + x.at_s + x.duration_s,
                                 x.leak_mm_h) for x in self.sc.paddy_faults if x.field_id == f.id]
            paddy = Paddy(area_m2=f.area_m2, gate_flow_l_s=self.sc.paddy.gate_flow_l_s,
                          percolation_mm_day=self.sc.paddy.percolation_mm_day,
                          seepage_mm_day=self.sc.paddy.seepage_mm_day, faults=faults)
            farmer = Farmer(self._transplant_unix_s(f))
            self.paddies[f.id] = paddy
            for k in range(n):
                t = self.start_unix_s + k * step_s
                w = self.weather.at(t)
                stage = farmer.act(paddy, t, dt_h)
                paddy.step(t, dt_h, self._et0_step_mm(t, step_s, cache), self.weather.rain_mm_between(t, t + step_s),
                           kc=RICE_KC[stage])
                day = self.weather.daily(t)
                primary.append(paddy.level_mm)
                temps.append(water_temp_c(w.air_temp_c, (day.tmax_c + day.tmin_c) / 2, w.solar_w_m2, paddy.level_mm))
        else:
            soil = UplandSoil(f.soil_texture, f.root_depth_m, f.crop, f.growth_stage or "mid")
            irrigated = f.crop in self.sc.upland.irrigated_crops
            for k in range(n):
                t = self.start_unix_s + k * step_s
                hour_local = ((t + JST_OFFSET_S) % 86400) / 3600
                irrigation = 0.0
                if irrigated and 6 <= hour_local < 6 + dt_h and soil.depletion_mm > soil.raw_mm:
                    irrigation = self.sc.upland.irrigation_mm
                soil.step(dt_h, self._et0_step_mm(t, step_s, cache), self.weather.rain_mm_between(t, t + step_s), irrigation)
                # Soil at probe depth follows air temperature with about a day's lag (exponential smoothing).
                soil_temp += (self.weather.at(t).air_temp_c - soil_temp) * min(1.0, dt_h / 24)
                primary.append(soil.theta)
                temps.append(soil_temp)
        return FieldTrace(self.start_unix_s, step_s, primary, temps)

    # --- plows -----------------------------------------------------------------------------------
    @cached_property
    def network(self) -> RoadNetwork:
        """The site's road network."""
        return RoadNetwork.from_geojson(self.sc.site_dir / "roads.geojson", GOSHOGAWARA)

    @cached_property
    def dispatch_unix_s(self) -> float | None:
        """When plows are sent out: new snow since the start at the threshold, not before the earliest hour (JST)."""
        sn = self.sc.snow
        t = self.start_unix_s
        while t < self.start_unix_s + self.sc.duration_s:
            hour_local = ((t + JST_OFFSET_S) % 86400) / 3600
            fallen = sn.fallen_before_start_cm + sum(
                h.snowfall_cm for h in self.weather.hours[self.weather.index(self.start_unix_s):self.weather.index(t) + 1])
            early = hour_local < sn.earliest_dispatch_local_hour or hour_local >= 12  # the night's work is in the morning
            if fallen >= sn.dispatch_threshold_cm and not early:
                return t
            t += 60  # dispatch on the minute
        return None

    def _plow_setup(self, d: DeviceSpec) -> tuple[float, list[Leg], tuple[DeadZone, ...]]:
        """(departure, legs, dead zones) of one plow; legs are cached (cheap), fixes are not."""
        cache = self.__dict__.setdefault("_legs", {})
        if d.device_id not in cache:
            assert self.dispatch_unix_s is not None
            plows = [x.device_id for x in self.devices if x.kind == "plow"]
            depart = self.dispatch_unix_s + plows.index(d.device_id) % 10 * self.sc.snow.stagger_s
            depot = GOSHOGAWARA.to_xy(self.sc.snow.depot_lon, self.sc.snow.depot_lat)
            legs = legs_for(self.network, d.route or "", depot, self.seed, d.device_id)
            cache[d.device_id] = (depart, legs)
        zones = tuple(DeadZone(*GOSHOGAWARA.to_xy(z.lon, z.lat), z.radius_m) for z in self.sc.dead_zones)
        return cache[d.device_id][0], cache[d.device_id][1], zones

    def plow_end_unix_s(self, d: DeviceSpec) -> float:
        """When a plow is back at the depot (no fixes computed)."""
        depart, legs, _ = self._plow_setup(d)
        return depart + sum(leg.duration_s for leg in legs)

    def plow_fixes(self, d: DeviceSpec) -> Iterator[Fix]:
        """One plow's logger readings, computed as they are asked for (thousands of plows start at once)."""
        if self.dispatch_unix_s is None:
            return iter(())
        cached = self.__dict__.get("_tracks", {}).get(d.device_id)
        if cached is not None:
            return iter(cached)
        depart, legs, zones = self._plow_setup(d)
        return iter_track(self.network, legs, depart, self.seed, d.device_id,
                          fix_interval_s=self.sc.sampling.plow_fix_interval_s, dead_zones=zones)

    def plow_track(self, d: DeviceSpec) -> list[Fix]:
        """Every reading of one plow's logger, as a list (cached; for tests and firmware in the loop)."""
        cache = self.__dict__.setdefault("_tracks", {})
        if d.device_id not in cache:
            cache[d.device_id] = list(self.plow_fixes(d))
        return cache[d.device_id]

    # --- devices ---------------------------------------------------------------------------------
    def _field_device(self, d: DeviceSpec) -> Iterator[Message]:
        rng = random.Random(f"dev:{self.seed}:{d.device_id}")
        interval = self.sc.sampling.soil_interval_s if d.kind == "soil" else self.sc.sampling.water_interval_s
        trace = self.traces[d.field_id or ""]
        probe = SoilProbe.for_device(d.device_id, self.seed) if d.kind == "soil" else None
        level = LevelSensor.for_device(d.device_id, self.seed) if d.kind == "water" else None
        battery_v = rng.uniform(3.9, 4.1)
        t = self.start_unix_s + rng.uniform(0, interval)
        seq = self.seq_base
        batch: list[dict] = []
        while t < self.end_unix_s:
            seq += 1
            value, temp_c = trace.at(t)
            battery_v = max(3.3, battery_v - rng.uniform(0, 2 * CELL_SPAN_V / CELL_WAKES))
            r: dict = {"seq": seq, "t": round(t, 3)}
            if probe is not None:
                r["vwc_pct"] = probe.read_vwc_pct(value, rng)
                r["soil_temp_c"] = round(temp_c + rng.gauss(0, 0.1), 2)
            elif level is not None:
                r["level_cm"] = level.read_level_cm(value, rng)
                r["water_temp_c"] = round(temp_c + rng.gauss(0, 0.1), 2)
            r["battery_v"] = round(battery_v, 3)
            batch.append(r)
            if len(batch) >= self.sc.sampling.readings_per_message:
                yield Message(t + 2.0, d, tuple(batch))  # about 2 s from wake to publish (Wi-Fi connect)
                batch = []
            t += interval
        if batch:
            yield Message(batch[-1]["t"] + 2.0, d, tuple(batch))

    def _weather_device(self, d: DeviceSpec) -> Iterator[Message]:
        rng = random.Random(f"dev:{self.seed}:{d.device_id}")
        interval = self.sc.sampling.weather_interval_s
        t = self.start_unix_s + rng.uniform(0, interval)
        prev = t - interval
        seq = self.seq_base
        winter = self.sc.weather.model == "winter" or any(h.snow_depth_cm > 0 for h in self.weather.hours[:48])
        while t < self.end_unix_s:
            seq += 1
            w = self.weather.at(t)
            r: dict = {"seq": seq, "t": round(t, 3), "air_temp_c": round(w.air_temp_c + rng.gauss(0, 0.1), 2),
                       "rh_pct": round(min(100.0, max(0.0, w.rh_pct + rng.gauss(0, 1))), 1),
                       "rain_mm": round(self.weather.rain_mm_between(prev, t), 2),
                       "wind_m_s": round(max(0.0, w.wind_m_s + rng.gauss(0, 0.2)), 2), "solar_w_m2": round(w.solar_w_m2, 1)}
            if winter:
                r["snow_depth_cm"] = round(max(0.0, w.snow_depth_cm + rng.gauss(0, 0.3)), 1)
            yield Message(t + 2.0, d, (r,))
            prev = t
            t += interval

    def _plow_device(self, d: DeviceSpec) -> Iterator[Message]:
        every = self.sc.sampling.plow_publish_every_s
        seq = self.seq_base
        held: list[dict] = []
        next_publish: float | None = None
        fixes = self.plow_fixes(d)
        f = next(fixes, None)
        while f is not None and f.t_unix_s < self.end_unix_s:
            if next_publish is None:
                next_publish = f.t_unix_s + every
            seq += 1
            held.append({"seq": seq, "t": round(f.t_unix_s, 3), **f.values})
            nxt = next(fixes, None)
            last = nxt is None or nxt.t_unix_s >= self.end_unix_s
            cur, f = f, nxt
            if cur.t_unix_s >= next_publish or last:
                next_publish = cur.t_unix_s + every
                if cur.in_dead_zone and not last:
                    continue  # no cellular here: keep the readings and try at the next publish time
                for k in range(0, len(held), MAX_READINGS_PER_MESSAGE):
                    yield Message(cur.t_unix_s + 0.5, d, tuple(held[k:k + MAX_READINGS_PER_MESSAGE]))
                held = []

    def device_messages(self, d: DeviceSpec) -> Iterator[Message]:
        """Every message one device sends during the run, in order."""
        if d.kind in ("soil", "water"):
            return self._field_device(d)
        if d.kind == "weather":
            return self._weather_device(d)
        return self._plow_device(d)

    def messages(self) -> Iterator[Message]:
        """Every message of every device, in publish-time order (ties by device id)."""
        streams = [self.device_messages(d) for d in self.devices]
        return heapq.merge(*streams, key=lambda m: (m.publish_t_unix_s, m.device.device_id))

    def registry(self) -> dict:
        """This run's device registry in the shape the gateway and the backend read ({"devices": [...]})."""
        return {"devices": [d.as_json() for d in self.devices]}

    def fault_events(self) -> list[tuple[float, str]]:
        """Scheduled faults in the world's models (paddy leaks, forgotten gates) as (t_unix_s, label)."""
        return sorted((self.start_unix_s + f.at_s, f"{f.kind} @ {f.field_id} ({f.duration_s / 3600:g} h)")
                      for f in self.sc.paddy_faults)
