"""Tariff for the payment breakdown (出来高内訳書): time bands, day types and yen per hour per machine class.

A TOML file (example: backend/snow/tariff.example.toml) with:
- `[bands.KEY]` label, start, end ("HH:MM" JST; end before start wraps past midnight). The bands must
  cover the 24 hours exactly once.
- `weekend_is_holiday`, `japanese_public_holidays` (bool) and `extra_holidays` (["YYYY-MM-DD", ...]).
- `[machine_classes.KEY]` label and, per day type (`weekday`, `holiday`), yen per hour for every band.
- `[vehicles]` device_id = machine class KEY; `default_machine_class` for the others.
- `paid_hours` = "operating" (blade down + transit) or "blade_down".
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from .holidays import is_japanese_holiday

DAY_TYPES = ("weekday", "holiday")
DAY_TYPE_LABELS = {"weekday": "平日 / weekday", "holiday": "休日 / holiday"}


class TariffError(ValueError):
    """The tariff file is invalid; the message names the key."""


@dataclass(frozen=True)
class Band:
    """A daily time band, minutes after JST midnight; end <= start wraps past midnight."""

    key: str
    label: str
    start_min: int
    end_min: int

    def windows_min(self) -> list[tuple[int, int]]:
        """The band as one or two [start, end) windows within 0..1440 minutes."""
        if self.start_min < self.end_min:
            return [(self.start_min, self.end_min)]
        return [(self.start_min, 1440), (0, self.end_min)]


@dataclass(frozen=True)
class Tariff:
    """Validated tariff."""

    bands: list[Band]
    classes: dict[str, dict[str, Any]]  # key -> {"label": str, "weekday": {band: yen}, "holiday": {band: yen}}
    vehicles: dict[str, str]
    default_class: str | None
    weekend_is_holiday: bool
    japanese_public_holidays: bool
    extra_holidays: frozenset[date]
    paid_hours: str
    example: bool

    def day_type(self, day: date) -> str:
        """weekday or holiday for a JST date."""
        if day in self.extra_holidays:
            return "holiday"
        if self.weekend_is_holiday and day.weekday() >= 5:
            return "holiday"
        if self.japanese_public_holidays and is_japanese_holiday(day):
            return "holiday"
        return "weekday"

    def machine_class(self, device: str) -> str | None:
        """The machine class key of a vehicle, or None when it has none."""
        return self.vehicles.get(device, self.default_class)


def _hhmm(value: Any, key: str) -> int:
    try:
        h, m = str(value).split(":")
        minutes = int(h) * 60 + int(m)
        if not (0 <= int(h) <= 24 and 0 <= int(m) < 60 and minutes <= 1440):
            raise ValueError
    except ValueError:
        raise TariffError(f"{key}: {value!r} is not a time HH:MM") from None
    return minutes % 1440


def parse_tariff(data: dict[str, Any]) -> Tariff:
    """Validate a parsed TOML tariff."""
    bands_raw = data.get("bands")
    if not isinstance(bands_raw, dict) or not bands_raw:
        raise TariffError("bands: at least one [bands.KEY] table is needed")
    bands = []
    for key, b in bands_raw.items():
        if not isinstance(b, dict):
            raise TariffError(f"bands.{key}: must be a table")
        bands.append(Band(key, str(b.get("label", key)), _hhmm(b.get("start"), f"bands.{key}.start"),
                          _hhmm(b.get("end"), f"bands.{key}.end")))
    cover = [0] * 1440
    for band in bands:
        if band.start_min == band.end_min:
            raise TariffError(f"bands.{band.key}: start equals end")
        for a, b in band.windows_min():
            for m in range(a, b):
                cover[m] += 1
    if any(c != 1 for c in cover):
        m = next(i for i, c in enumerate(cover) if c != 1)
        what = "no band" if cover[m] == 0 else "more than one band"
        raise TariffError(f"bands: {m // 60:02d}:{m % 60:02d} is in {what}; the bands must cover 24 h exactly once")
    classes_raw = data.get("machine_classes")
    if not isinstance(classes_raw, dict) or not classes_raw:
        raise TariffError("machine_classes: at least one [machine_classes.KEY] table is needed")
    classes: dict[str, dict[str, Any]] = {}
    for key, c in classes_raw.items():
        entry: dict[str, Any] = {"label": str(c.get("label", key)) if isinstance(c, dict) else key}
        for dt in DAY_TYPES:
            prices = c.get(dt) if isinstance(c, dict) else None
            if not isinstance(prices, dict):
                raise TariffError(f"machine_classes.{key}.{dt}: a table of yen per hour per band is needed")
            for band in bands:
                v = prices.get(band.key)
                if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                    raise TariffError(f"machine_classes.{key}.{dt}.{band.key}: yen per hour missing or not a number >= 0")
            entry[dt] = {band.key: prices[band.key] for band in bands}  # yen as written (int stays int)
        classes[key] = entry
    vehicles = data.get("vehicles", {})
    if not isinstance(vehicles, dict):
        raise TariffError("vehicles: must be a table device_id = machine class")
    for dev, cls in vehicles.items():
        if cls not in classes:
            raise TariffError(f"vehicles.{dev}: unknown machine class {cls!r}")
    default = data.get("default_machine_class")
    if default is not None and default not in classes:
        raise TariffError(f"default_machine_class: unknown machine class {default!r}")
    extra = set()
    for i, d in enumerate(data.get("extra_holidays", [])):
        try:
            extra.add(date.fromisoformat(str(d)))
        except ValueError:
            raise TariffError(f"extra_holidays[{i}]: {d!r} is not a date YYYY-MM-DD") from None
    paid = data.get("paid_hours", "operating")
    if paid not in ("operating", "blade_down"):
        raise TariffError(f"paid_hours: {paid!r} is not 'operating' or 'blade_down'")
    return Tariff(bands, classes, {str(k): str(v) for k, v in vehicles.items()}, default,
                  bool(data.get("weekend_is_holiday", True)), bool(data.get("japanese_public_holidays", True)),
                  frozenset(extra), paid, bool(data.get("example", False)))


def load_tariff(path: str | Path) -> Tariff:
    """Read and validate a tariff TOML file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise TariffError(f"cannot read {path}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise TariffError(f"{path} is not TOML: {e}") from None
    return parse_tariff(data)
