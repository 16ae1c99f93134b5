"""Scenario files (simulators/scenarios/*.toml): typed, validated before anything starts, errors name the key.

A scenario says which site, which device kinds, how long, how fast, which weather, and what goes
wrong when (paddy faults; outages of the broker, the gateway's uplink, InfluxDB, the devices' uplink).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from yukimizu.settings import SettingsError, build  # the project's typed loader: one way to read TOML

from .clock import anchored_start_unix_s, default_start_unix_s

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
SITE_DIR = Path(__file__).resolve().parent / "site"
KINDS = ("soil", "water", "weather", "plow")
OUTAGE_ACTIONS = ("stop", "kill", "start", "restart", "down", "up")
# Inverse action run when an outage with duration_s ends.
RECOVERY = {"stop": "start", "kill": "start", "down": "up"}


class ScenarioError(ValueError):
    """A scenario file is missing, unreadable or has a bad key; the message names the file and the key."""


@dataclass
class WeatherSection:
    """[weather]: which generator, and its knobs."""

    model: Literal["summer", "winter", "csv"] = "summer"
    csv: str = ""  # hourly CSV (WeatherSeries.from_csv columns); a relative path is relative to the scenario file
    yamase_per_day: float = 0.04
    snowfall_total_cm: float = 20.0
    snow_start_h: float = 1.0
    snow_hours: float = 8.0
    base_depth_cm: float = 40.0

    def validate(self) -> None:
        """Check ranges."""
        if self.model == "csv" and not self.csv:
            raise SettingsError("weather.csv: required when weather.model = \"csv\"")
        if not 0 <= self.yamase_per_day <= 1:
            raise SettingsError(f"weather.yamase_per_day: {self.yamase_per_day} is not a probability 0..1")
        if self.snowfall_total_cm < 0 or self.snow_hours <= 0:
            raise SettingsError("weather.snowfall_total_cm must be >= 0 and weather.snow_hours > 0")


@dataclass
class SamplingSection:
    """[sampling]: how often devices measure and publish (what the firmware is configured to do)."""

    soil_interval_s: float = 600.0
    water_interval_s: float = 600.0
    weather_interval_s: float = 600.0
    readings_per_message: int = 1
    plow_fix_interval_s: float = 1.0
    plow_publish_every_s: float = 10.0

    def validate(self) -> None:
        """Check ranges."""
        for name in ("soil_interval_s", "water_interval_s", "weather_interval_s", "plow_fix_interval_s", "plow_publish_every_s"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"sampling.{name}: must be > 0, got {getattr(self, name)}")
        if not 1 <= self.readings_per_message <= 100:
            raise SettingsError(f"sampling.readings_per_message: {self.readings_per_message} is outside 1..100")


@dataclass
class PaddySection:
    """[paddy]: field water parameters shared by every paddy."""

    percolation_mm_day: float = 10.0
    seepage_mm_day: float = 3.0
    gate_flow_l_s: float = 8.0
    step_s: float = 600.0


@dataclass
class UplandSection:
    """[upland]: which crops the farmer irrigates, and how much at a time."""

    irrigated_crops: list[str] = field(default_factory=lambda: ["vegetable"])
    irrigation_mm: float = 15.0


@dataclass
class SnowSection:
    """[snow]: dispatch rule and where the plows start."""

    dispatch_threshold_cm: float = 10.0
    earliest_dispatch_local_hour: float = 2.0
    fallen_before_start_cm: float = 0.0  # new snow since the evening before the run starts (counts for dispatch)
    depot_lon: float = 140.4430
    depot_lat: float = 40.8080
    stagger_s: float = 60.0
    stop_when_done: bool = True


@dataclass
class DeadZone:
    """[[dead_zone]]: a circle without cellular coverage."""

    lon: float
    lat: float
    radius_m: float


@dataclass
class PaddyFaultSpec:
    """[[paddy_fault]]: a leak or a forgotten open gate in one field, from at_s for duration_s."""

    field_id: str
    kind: Literal["leak", "gate_forgotten_open"]
    at_s: float
    duration_s: float
    leak_mm_h: float = 3.0


@dataclass
class OutageSpec:
    """[[outage]]: at at_s (simulated seconds from the start) run `action` on `target`; undo after duration_s."""

    at_s: float
    target: str
    action: Literal["stop", "kill", "start", "restart", "down", "up"]
    duration_s: float = 0.0

    def validate(self) -> None:
        """Check that the outage can be undone."""
        if self.duration_s and self.action not in RECOVERY:
            raise SettingsError(f"duration_s: action {self.action!r} has no inverse to run afterwards")


@dataclass
class Scenario:
    """One scenario file."""

    name: str
    description: str
    duration_s: float
    site: str = "goshogawara"
    seed: int = 1
    speed: float = 1.0
    start: str = ""  # ISO 8601 with offset; empty: computed so that no timestamp is in the future
    start_local_hour: float | None = None  # with start empty: the latest such time of day (JST) that fits
    # The date whose season the models play (weather climate, crop calendar), ISO with offset; empty: the
    # start itself. Lets an accelerated June season end today: stamped now, with June inside.
    calendar_start: str = ""
    # Never ahead of the present: play at `speed` from `start` until the simulated clock reaches now,
    # then go on in real time (a season replayed up to today that carries on live, in one run).
    catch_up: bool = False
    kinds: list[str] = field(default_factory=lambda: list(KINDS))
    devices: int = 0  # 0: the site registry's devices; N: scale the fleet to N devices
    weather: WeatherSection = field(default_factory=WeatherSection)
    sampling: SamplingSection = field(default_factory=SamplingSection)
    paddy: PaddySection = field(default_factory=PaddySection)
    upland: UplandSection = field(default_factory=UplandSection)
    snow: SnowSection = field(default_factory=SnowSection)
    dead_zone: list[dict] = field(default_factory=list)
    paddy_fault: list[dict] = field(default_factory=list)
    outage: list[dict] = field(default_factory=list)
    # Typed versions of the lists above, filled by load().
    dead_zones: list[DeadZone] = field(default_factory=list, init=False)
    paddy_faults: list[PaddyFaultSpec] = field(default_factory=list, init=False)
    outages: list[OutageSpec] = field(default_factory=list, init=False)
    path: Path | None = field(default=None, init=False)

    def validate(self) -> None:
        """Check values that types alone do not catch."""
        if self.duration_s <= 0:
            raise SettingsError(f"duration_s: must be > 0, got {self.duration_s}")
        if self.speed <= 0:
            raise SettingsError(f"speed: must be > 0, got {self.speed}")
        if self.devices < 0:
            raise SettingsError(f"devices: must be >= 0, got {self.devices}")
        for i, k in enumerate(self.kinds):
            if k not in KINDS:
                raise SettingsError(f"kinds[{i}]: {k!r} is not one of {', '.join(KINDS)}")
        if self.start:
            try:
                parsed = dt.datetime.fromisoformat(self.start)
            except ValueError:
                raise SettingsError(f"start: {self.start!r} is not an ISO 8601 time") from None
            if parsed.tzinfo is None:
                raise SettingsError(f"start: {self.start!r} needs a UTC offset, e.g. +09:00")
        if self.calendar_start:
            try:
                cal = dt.datetime.fromisoformat(self.calendar_start)
            except ValueError:
                raise SettingsError(f"calendar_start: {self.calendar_start!r} is not an ISO 8601 time") from None
            if cal.tzinfo is None:
                raise SettingsError(f"calendar_start: {self.calendar_start!r} needs a UTC offset, e.g. +09:00")
        if self.start_local_hour is not None and not 0 <= self.start_local_hour < 24:
            raise SettingsError(f"start_local_hour: {self.start_local_hour} is outside 0..24")
        if not (SITE_DIR / self.site).is_dir():
            raise SettingsError(f"site: no site folder {SITE_DIR / self.site}")

    def calendar_start_unix_s(self) -> float | None:
        """The date whose season the models play, or None for the start itself."""
        return dt.datetime.fromisoformat(self.calendar_start).timestamp() if self.calendar_start else None

    def start_unix_s(self) -> float | None:
        """The fixed start time, or None when the runner chooses it."""
        return dt.datetime.fromisoformat(self.start).timestamp() if self.start else None

    def run_start_unix_s(self) -> float:
        """When a run starts: the fixed start, else the latest `start_local_hour`, else so that it ends now."""
        start = self.start_unix_s()
        if start is not None:
            return start
        if self.start_local_hour is not None:
            return anchored_start_unix_s(self.start_local_hour, self.duration_s, self.speed)
        return default_start_unix_s(self.duration_s, self.speed)

    def calendar_shift_s(self, start_unix_s: float) -> float:
        """From a run's start to the calendar date its season plays, in whole days (0 without calendar_start)."""
        cal = self.calendar_start_unix_s()
        # Whole days, so that hours of the day (sun, farmer's visits, dispatch) stay where they are.
        return 0.0 if cal is None else round((cal - start_unix_s) / 86400) * 86400.0

    @property
    def site_dir(self) -> Path:
        """Folder of the site's data files."""
        return SITE_DIR / self.site


def _items(cls: type, rows: list[Any], key: str) -> list[Any]:
    out: list[Any] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise SettingsError(f"{key}[{i}]: expected a [[{key}]] table")
        try:
            out.append(build(cls, row, {}, f"{key}[{i}]."))
        except SettingsError as e:
            msg = str(e)
            raise SettingsError(msg if msg.startswith(f"{key}[") else f"{key}[{i}].{msg}") from None
    return out


def parse(text: str, source: str = "<scenario>") -> Scenario:
    """Parse and validate scenario TOML text; raises ScenarioError naming the source and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{source}: not valid TOML: {e}") from None
    derived = {f.name for f in dataclasses.fields(Scenario) if not f.init}
    for key in sorted(derived & set(data)):
        hint = f" (write [[{key[:-1]}]] tables)" if key.endswith("s") else ""
        raise ScenarioError(f"{source}: {key}: unknown setting{hint}")
    try:
        sc = build(Scenario, data, {}, "")
        sc.dead_zones = _items(DeadZone, sc.dead_zone, "dead_zone")
        sc.paddy_faults = _items(PaddyFaultSpec, sc.paddy_fault, "paddy_fault")
        sc.outages = _items(OutageSpec, sc.outage, "outage")
    except SettingsError as e:
        raise ScenarioError(f"{source}: {e}") from None
    for i, f in enumerate(sc.paddy_faults):
        if f.at_s < 0 or f.duration_s <= 0:
            raise ScenarioError(f"{source}: paddy_fault[{i}]: at_s must be >= 0 and duration_s > 0")
    for i, o in enumerate(sc.outages):
        if not 0 <= o.at_s <= sc.duration_s:
            raise ScenarioError(f"{source}: outage[{i}].at_s: {o.at_s} is outside the run (0..{sc.duration_s:g})")
    return sc


def load(name_or_path: str | Path) -> Scenario:
    """Load a scenario by name (file in simulators/scenarios/) or by path."""
    p = Path(name_or_path)
    if not p.suffix:
        p = SCENARIO_DIR / f"{name_or_path}.toml"
    if not p.is_file():
        known = ", ".join(sorted(x.stem for x in SCENARIO_DIR.glob("*.toml")))
        raise ScenarioError(f"scenario {str(name_or_path)!r} not found (known: {known})")
    sc = parse(p.read_text(encoding="utf-8"), str(p))
    sc.path = p
    return sc


def replace(sc: Scenario, **changes: Any) -> Scenario:
    """A copy with some top-level values changed (command-line overrides), validated again."""
    new = dataclasses.replace(sc, **changes)
    new.dead_zones, new.paddy_faults, new.outages, new.path = sc.dead_zones, sc.paddy_faults, sc.outages, sc.path
    try:
        new.validate()
    except SettingsError as e:
        raise ScenarioError(f"{sc.path or sc.name}: {e}") from None
    return new
