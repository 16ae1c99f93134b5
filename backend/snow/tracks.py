"""Plow tracks CSV: `device_id,t,lat,lon,blade_down,speed_km_h,heading_deg`, one GPS fix per line.

`t` is Unix seconds or ISO 8601 (an ISO time without an offset is JST, the city's time);
`blade_down` is 0/1/true/false; speed and heading may be empty (the engine derives heading from the
track). A bad line never stops the run: it is skipped and reported with its line number and reason.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from yukimizu.jst import iso_to_unix_s

from .roads import RoadNetwork
COLUMNS = ("device_id", "t", "lat", "lon", "blade_down", "speed_km_h", "heading_deg")
_T_MIN_S = 946684800.0  # 2000-01-01: earlier times are a unit mistake (ms? s?) or a dead GPS clock
_T_MAX_S = 4102444800.0  # 2100-01-01
_BLADE = {"1": True, "true": True, "0": False, "false": False}


class TracksError(ValueError):
    """The tracks file cannot be read at all (missing, unreadable, or without the header)."""


@dataclass
class BadRow:
    """A skipped line: its 1-based line number in the file and why."""

    line: int
    reason: str


@dataclass
class Tracks:
    """Parsed fixes (arrays of equal length; device is names[code]) and the lines that were skipped."""

    names: list[str]
    code: np.ndarray
    t_s: np.ndarray
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    blade_down: np.ndarray
    speed_km_h: np.ndarray
    heading_deg: np.ndarray
    line: np.ndarray
    bad: list[BadRow] = field(default_factory=list)
    header_ok: bool = True

    def __len__(self) -> int:
        return len(self.t_s)

    def select(self, mask: np.ndarray) -> Tracks:
        """The fixes where mask is true (same names table, same bad rows)."""
        return Tracks(self.names, self.code[mask], self.t_s[mask], self.lat_deg[mask], self.lon_deg[mask],
                      self.blade_down[mask], self.speed_km_h[mask], self.heading_deg[mask], self.line[mask],
                      self.bad, self.header_ok)

    def device(self, name: str) -> Tracks:
        """The fixes of one device."""
        if name not in self.names:
            return self.select(np.zeros(len(self), dtype=bool))
        return self.select(self.code == self.names.index(name))


def parse_time(text: str) -> float:
    """Unix seconds from Unix seconds or ISO 8601 (no offset means JST); ValueError says why not."""
    s = text.strip()
    try:
        v = float(s)
    except ValueError:
        try:
            v = iso_to_unix_s(s)
        except ValueError:
            raise ValueError(f"t {text!r} is neither Unix seconds nor an ISO 8601 time") from None
    if not math.isfinite(v):
        raise ValueError(f"t {text!r} is not a finite number")
    if not (_T_MIN_S <= v < _T_MAX_S):
        raise ValueError(f"t {text!r} is outside 2000-2099 (Unix seconds expected, not milliseconds)")
    return v


def _number(text: str, name: str, lo: float, hi: float) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} {text!r} is not finite")
    if not lo <= v <= hi:
        raise ValueError(f"{name} {v} is outside {lo}..{hi}")
    return v


def parse_tracks_text(text: str, network: RoadNetwork | None = None, margin_km: float = 2.0) -> Tracks:
    """Parse the CSV text; never raises on content: bad lines go to .bad with their numbers."""
    lines = text.split("\n")
    names: dict[str, int] = {}
    code: list[int] = []
    lineno: list[int] = []
    t: list[float] = []
    lat: list[float] = []
    lon: list[float] = []
    speed: list[float] = []
    heading: list[float] = []
    blade: list[bool] = []
    bad: list[BadRow] = []
    header: dict[str, int] | None = None
    for n, raw in enumerate(lines, start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if not line.strip():
            continue
        try:
            fields = next(csv.reader([line])) if '"' in line else line.split(",")
        except csv.Error as e:
            bad.append(BadRow(n, f"not CSV: {e}"))
            continue
        fields = [f.strip() for f in fields]
        if header is None:
            if set(COLUMNS) <= set(fields):
                header = {name: fields.index(name) for name in COLUMNS}
                continue
            bad.append(BadRow(n, "the first line must be the header " + ",".join(COLUMNS)))
            empty = np.zeros(0)
            return Tracks([], np.zeros(0, dtype=np.int64), empty, empty, empty, np.zeros(0, dtype=bool), empty, empty,
                          np.zeros(0, dtype=np.int64), bad=bad, header_ok=False)
        if len(fields) < len(COLUMNS):
            bad.append(BadRow(n, f"{len(fields)} fields; expected {len(COLUMNS)}"))
            continue
        try:
            dev = fields[header["device_id"]]
            if not dev:
                raise ValueError("device_id is empty")
            tv = parse_time(fields[header["t"]])
            la = _number(fields[header["lat"]], "lat", -90.0, 90.0)
            lo = _number(fields[header["lon"]], "lon", -180.0, 180.0)
            b = _BLADE.get(fields[header["blade_down"]].lower())
            if b is None:
                raise ValueError(f"blade_down {fields[header['blade_down']]!r} is not 0, 1, true or false")
            sp_text, hd_text = fields[header["speed_km_h"]], fields[header["heading_deg"]]
            sp = _number(sp_text, "speed_km_h", 0.0, 300.0) if sp_text else math.nan
            hd = _number(hd_text, "heading_deg", 0.0, 360.0) % 360.0 if hd_text else math.nan
        except ValueError as e:
            bad.append(BadRow(n, str(e)))
            continue
        code.append(names.setdefault(dev, len(names)))
        t.append(tv)
        lat.append(la)
        lon.append(lo)
        blade.append(b)
        speed.append(sp)
        heading.append(hd)
        lineno.append(n)
    if header is None:
        bad.append(BadRow(1, "empty file: no header " + ",".join(COLUMNS)))
    tracks = Tracks(list(names), np.array(code, dtype=np.int64), np.array(t, dtype=np.float64),
                    np.array(lat, dtype=np.float64), np.array(lon, dtype=np.float64), np.array(blade, dtype=bool),
                    np.array(speed, dtype=np.float64), np.array(heading, dtype=np.float64),
                    np.array(lineno, dtype=np.int64), bad=bad, header_ok=header is not None)
    if network is not None and len(tracks):
        inside = network.contains_lonlat(tracks.lat_deg, tracks.lon_deg, margin_km)
        for k in np.flatnonzero(~inside):
            bad.append(BadRow(int(tracks.line[k]), f"position {tracks.lat_deg[k]:.6f}, {tracks.lon_deg[k]:.6f} is more "
                                                   f"than {margin_km:g} km outside the road network's area"))
        tracks = tracks.select(inside)
        bad.sort(key=lambda b: b.line)
    return tracks


def read_tracks(path: str | Path, network: RoadNetwork | None = None, margin_km: float = 2.0) -> Tracks:
    """Read a tracks CSV file; TracksError only when the file itself cannot be read or has no header."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise TracksError(f"cannot read {path}: {e}") from None
    tracks = parse_tracks_text(data.decode("utf-8-sig", errors="replace"), network, margin_km)
    if not tracks.header_ok:
        raise TracksError(f"{path}: line {tracks.bad[0].line}: {tracks.bad[0].reason}")
    return tracks
