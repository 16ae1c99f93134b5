"""Inputs of the advice engine as column arrays: the field registry rows and what the fields recorded."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from backend.agronomy.weather import DailyObserved, Forecast, WeatherInput

F = NDArray[np.float64]


def column(values: ArrayLike | None, n: int, default: Any, dtype: Any = float) -> NDArray[Any]:
    """An optional per-field column as an array of length n (default where absent); wrong length raises."""
    if values is None:
        return np.full(n, default, dtype=dtype)
    arr = np.asarray(values, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"field table: column has shape {arr.shape}, expected ({n},)")
    return arr


@dataclass(frozen=True)
class FieldTable:
    """The fields to advise, one row each (columns as arrays of length n). Optional columns may be None."""

    field_id: NDArray[np.str_]
    crop: NDArray[np.str_]  # crops.Crop codes
    area_m2: F
    latitude_deg: F
    elevation_m: F
    season_start: NDArray[np.datetime64]  # planting; green tip for apples; transplanting for rice
    soil_texture: NDArray[np.str_] | None = None  # FAO-56 Table 19 keys; needed unless theta_fc/theta_wp given
    theta_fc: F | None = None  # measured field capacity, m3/m3 (NaN: from texture)
    theta_wp: F | None = None
    root_depth_m: F | None = None  # NaN: crop table
    sensor_trust: F | None = None  # 0-1 weight of the soil moisture sensor against the model
    coastal: NDArray[np.bool_] | None = None  # FAO-56 eq. 50 kRs 0.19 instead of 0.16
    heading_date: NDArray[np.datetime64] | None = None  # rice; NaT: transplant + rules default
    stage_override: NDArray[np.str_] | None = None  # rice stage id set by the farmer ('' none)
    cold_sensitive: NDArray[np.bool_] | None = None  # rice variety weak against cold
    outlet_height_cm: F | None = None  # rice: level at which water leaves over the outlet / levee
    percolation_mm_day: F | None = None  # rice: measured percolation (NaN: rules default)

    @property
    def n(self) -> int:
        """Number of fields."""
        return len(self.field_id)

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> FieldTable:
        """Columns from registry rows (dicts keyed like the columns; dates as 'YYYY-MM-DD').

        A missing required key or a value of the wrong kind raises ValueError naming the field id and the key.
        """
        optional: dict[str, tuple[Any, Any]] = {
            "soil_texture": (str, ""), "theta_fc": (float, np.nan), "theta_wp": (float, np.nan),
            "root_depth_m": (float, np.nan), "sensor_trust": (float, np.nan), "coastal": (bool, False),
            "heading_date": ("datetime64[D]", "NaT"), "stage_override": (object, ""), "cold_sensitive": (bool, False),
            "outlet_height_cm": (float, np.nan), "percolation_mm_day": (float, np.nan)}
        kinds: dict[str, Any] = {"field_id": str, "crop": str, "area_m2": float, "latitude_deg": float,
                                 "elevation_m": float, "season_start": "datetime64[D]"}
        said = {str: "text", object: "text", float: "number", bool: "true/false", "datetime64[D]": "date (YYYY-MM-DD)"}
        columns: dict[str, Any] = {}
        for key in (*kinds, *optional):
            kind: Any
            default: Any
            kind, default = (kinds[key], None) if key in kinds else optional[key]
            values: list[Any] = []
            for i, rec in enumerate(records):
                fid = rec.get("field_id", f"row {i}")
                if key in kinds and rec.get(key) is None:
                    raise ValueError(f"field {fid}: missing {key}")
                value = rec.get(key, default)
                value = default if value is None else value
                try:
                    np.asarray(value, dtype=kind)
                except (TypeError, ValueError):
                    raise ValueError(f"field {fid}: {key}={value!r} is not a {said[kind]}") from None
                values.append(value)
            present = key in kinds or any(key in rec for rec in records)
            columns[key] = np.array(values, dtype=kind) if present else None
        return cls(**columns)

    def take(self, idx: Any) -> FieldTable:
        """The rows at idx (e.g. one field for `GET /api/v1/fields/{id}/advice`)."""
        kw = {k: (None if v is None else np.asarray(v)[idx]) for k, v in self.__dict__.items()}
        return FieldTable(**kw)  # type: ignore[arg-type]  # same columns, rows picked


@dataclass(frozen=True)
class History:
    """What the fields recorded: consecutive JST days (d,) ending yesterday, and level series for paddies."""

    days: NDArray[np.datetime64]
    vwc_pct: F | None = None  # (n, d) daily mean soil moisture, % (NaN: none)
    irrigation_mm: F | None = None  # (n, d) water applied
    level_t_unix_s: F | None = None  # (m,) or (n, m) times of paddy level readings, UTC
    level_cm: F | None = None  # (n, m) paddy water level (NaN gaps)
    start_depletion_mm: F | None = None  # (n,) depletion before the first day (default: field capacity)

    def take(self, idx: Any) -> History:
        """The rows at idx."""
        def rows(a: Any) -> Any:
            return None if a is None else np.asarray(a)[idx]
        t = self.level_t_unix_s
        t_rows = None if t is None else (np.asarray(t)[idx] if np.ndim(t) == 2 else t)
        return History(self.days, rows(self.vwc_pct), rows(self.irrigation_mm), t_rows, rows(self.level_cm),
                       None if self.start_depletion_mm is None else np.asarray(self.start_depletion_mm)[idx])


def take_weather(weather: WeatherInput, idx: Any) -> WeatherInput:
    """Weather rows at idx (arrays shared by all fields, with a first axis of 1, stay shared)."""
    def rows(a: Any) -> Any:
        if a is None:
            return None
        arr = np.asarray(a)
        return arr if arr.ndim < 2 or arr.shape[0] == 1 else arr[np.atleast_1d(idx)]
    o = weather.observed
    obs = None if o is None else DailyObserved(*(rows(getattr(o, k)) for k in o.__dataclass_fields__))
    f = weather.forecast
    fc = None if f is None else Forecast(f.days, rows(f.tmin_c), rows(f.tmax_c), rows(f.rain_mm))
    return WeatherInput(obs, fc)


def check_shapes(fields: FieldTable, history: History, weather: WeatherInput) -> None:
    """Refuse arrays that do not line up with n fields x d days, naming the array and both shapes."""
    n, d = fields.n, len(history.days)
    for name in ("crop", "area_m2", "latitude_deg", "elevation_m", "season_start"):
        shape = np.shape(getattr(fields, name))
        if shape != (n,):
            raise ValueError(f"field table: {name} has shape {shape}, expected ({n},) like field_id")

    def fits(name: str, a: Any, cols: int | None) -> None:
        if a is None:
            return
        shape = np.shape(a)
        ok_rows = len(shape) == 2 and shape[0] in (1, n)
        if not ok_rows or (cols is not None and shape[1] != cols):
            want = f"({n} or 1, {cols if cols is not None else 'm'})"
            raise ValueError(f"{name} has shape {shape}, expected {want}: one row per field (or one shared row)")

    fits("history.vwc_pct", history.vwc_pct, d)
    fits("history.irrigation_mm", history.irrigation_mm, d)
    fits("history.level_cm", history.level_cm, None)
    if history.level_cm is not None and history.level_t_unix_s is not None:
        t_shape, l_shape = np.shape(history.level_t_unix_s), np.shape(history.level_cm)
        if t_shape[-1] != l_shape[-1]:
            raise ValueError(f"history.level_t_unix_s has shape {t_shape} but level_cm {l_shape}: one time per column")
    o = weather.observed
    if o is not None:
        for k in o.__dataclass_fields__:
            fits(f"weather.observed.{k}", getattr(o, k), d)
    f = weather.forecast
    if f is not None:
        for k in ("tmin_c", "tmax_c", "rain_mm"):
            shape = np.shape(getattr(f, k))
            if shape[-1:] != (len(f.days),):
                raise ValueError(f"weather.forecast.{k} has shape {shape}, expected {len(f.days)} days last")
