"""Daily work report per vehicle per JST day (稼働日報) and the payment breakdown (出来高内訳書).

From the same fixes and the same joining rule as the coverage engine: consecutive fixes at most
max_gap_s apart are joined; a joined segment's time and distance count as blade-down when its starting
fix is blade down, otherwise as transit (回送); a longer interval is a data gap and counts as neither.
Segments crossing midnight are cut at the day's edges (shares of time and distance are proportional).
Operating hours are split over the tariff's time bands of that day and priced by the day's type.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from yukimizu.jst import JST

from .coverage import CoverageEngine, CoverageParams
from .grid import PieceGrid
from .result import iso_jst
from .roads import RoadNetwork
from .tariff import DAY_TYPE_LABELS, Tariff
from .tracks import Tracks

LABELS = {
    "vehicle": "車両 / vehicle",
    "machine_class": "機種 / machine class",
    "start": "開始 / start",
    "end": "終了 / end",
    "blade_down_h": "除雪時間(h) / blade-down hours",
    "transit_h": "回送時間(h) / transit hours",
    "blade_down_km": "除雪距離(km) / blade-down km",
    "transit_km": "回送距離(km) / transit km",
    "cleared_km": "除雪延長(km) / road length cleared (km)",
    "routes": "路線 / routes",
    "gaps": "欠測回数 / data gaps",
    "gap_min": "欠測時間(分) / gap minutes",
    "day_type": "日種別 / day type",
    "band": "時間帯 / time band",
    "hours": "稼働時間(h) / operating hours",
    "yen_per_hour": "単価(円/h) / yen per hour",
    "amount_yen": "金額(円) / amount (yen)",
}


@dataclass
class VehicleDay:
    """One vehicle's day."""

    device: str
    start_t_s: float
    end_t_s: float
    blade_down_h: float = 0.0
    transit_h: float = 0.0
    blade_down_km: float = 0.0
    transit_km: float = 0.0
    cleared_km: float = 0.0
    routes: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[tuple[float, float]] = field(default_factory=list)
    band_h: dict[str, float] = field(default_factory=dict)  # paid hours per band key


def day_bounds_s(day: date) -> tuple[float, float]:
    """[start, end) of a JST calendar day in Unix seconds."""
    d0 = datetime(day.year, day.month, day.day, tzinfo=JST)
    return d0.timestamp(), (d0 + timedelta(days=1)).timestamp()


def _overlap(a0: np.ndarray, a1: np.ndarray, b0: float, b1: float) -> np.ndarray:
    return np.clip(np.minimum(a1, b1) - np.maximum(a0, b0), 0.0, None)


def vehicle_day(tracks: Tracks, device: str, network: RoadNetwork, day: date, params: CoverageParams,
                tariff: Tariff | None = None, grid: PieceGrid | None = None) -> VehicleDay | None:
    """The day's figures for one vehicle, or None when it has no fix that day."""
    d0, d1 = day_bounds_s(day)
    tr = tracks.device(device)
    o = np.argsort(tr.t_s, kind="stable")
    t = tr.t_s[o]
    keep = np.r_[True, t[1:] > t[:-1]]  # a repeated time is one fix
    o, t = o[keep], t[keep]
    in_day = (t >= d0) & (t < d1)
    if not in_day.any():
        return None
    x, y = network.projection.to_xy(tr.lat_deg[o], tr.lon_deg[o])
    blade = tr.blade_down[o]
    vd = VehicleDay(device, float(t[in_day].min()), float(t[in_day].max()))
    dt = np.diff(t)
    dist_km = np.sqrt(np.diff(x) ** 2 + np.diff(y) ** 2) / 1000.0
    joined = dt <= params.max_gap_s
    share = _overlap(t[:-1], t[1:], d0, d1) / np.where(dt > 0, dt, 1.0)
    down, up = joined & blade[:-1], joined & ~blade[:-1]
    vd.blade_down_h = float((dt * share)[down].sum() / 3600.0)
    vd.transit_h = float((dt * share)[up].sum() / 3600.0)
    vd.blade_down_km = float((dist_km * share)[down].sum())
    vd.transit_km = float((dist_km * share)[up].sum())
    gap = np.flatnonzero(~joined & (t[:-1] >= d0) & (t[1:] < d1))
    vd.gaps = [(float(t[k]), float(t[k + 1])) for k in gap]
    if tariff is not None:
        paid = down | up if tariff.paid_hours == "operating" else down
        for band in tariff.bands:
            h = 0.0
            for a, b in band.windows_min():
                h += float(_overlap(t[:-1][paid], t[1:][paid], d0 + a * 60.0, d0 + b * 60.0).sum())
            vd.band_h[band.key] = h / 3600.0
    # Coverage this vehicle alone contributed that day: its own engine over its own fixes.
    sel = (t >= d0 - params.max_gap_s) & (t < d1)
    eng = CoverageEngine(network, params, grid=grid)
    idx = o[sel]
    eng.update_codes(np.zeros(len(idx), dtype=np.int64), [device], tr.t_s[idx], tr.lat_deg[idx], tr.lon_deg[idx],
                     tr.blade_down[idx], tr.heading_deg[idx])
    hit = np.isfinite(eng.piece_first_t_s) & (eng.piece_first_t_s >= d0)
    vd.cleared_km = float(network.piece_length_m[hit].sum() / 1000.0)
    per_road = np.bincount(network.piece_road[hit], weights=network.piece_length_m[hit], minlength=network.n_roads)
    routes: dict[str, float] = {}
    for r in np.flatnonzero(per_road > 0):
        name = network.routes[r] or "(路線なし / no route)"
        routes[name] = routes.get(name, 0.0) + float(per_road[r]) / 1000.0
    vd.routes = [{"route": k, "cleared_km": round(v, 3)} for k, v in sorted(routes.items())]
    return vd


def plows_report(tracks: Tracks, network: RoadNetwork, day: date, params: CoverageParams | None = None,
                 tariff: Tariff | None = None) -> dict[str, Any]:
    """The JSON report of every vehicle with fixes that JST day."""
    params = params or CoverageParams()
    grid = CoverageEngine(network, params).grid  # built once, shared by every vehicle's engine
    vehicles = []
    for dev in sorted(tracks.names):
        vd = vehicle_day(tracks, dev, network, day, params, tariff, grid)
        if vd is None:
            continue
        entry: dict[str, Any] = {
            "vehicle": dev,
            "start": iso_jst(vd.start_t_s), "end": iso_jst(vd.end_t_s),
            "blade_down_h": round(vd.blade_down_h, 3), "transit_h": round(vd.transit_h, 3),
            "blade_down_km": round(vd.blade_down_km, 3), "transit_km": round(vd.transit_km, 3),
            "cleared_km": round(vd.cleared_km, 3), "routes": vd.routes,
            "gaps": [{"start": iso_jst(a), "end": iso_jst(b), "minutes": round((b - a) / 60.0, 1)} for a, b in vd.gaps],
        }
        if tariff is not None:
            entry["payment"] = _payment(tariff, dev, day, vd)
        vehicles.append(entry)
    out: dict[str, Any] = {"date": day.isoformat(), "timezone": "+09:00", "labels": LABELS, "vehicles": vehicles}
    if tariff is not None:
        out["day_type"] = tariff.day_type(day)
        out["paid_hours"] = tariff.paid_hours
        out["tariff_is_example"] = tariff.example
    return out


def _payment(tariff: Tariff, device: str, day: date, vd: VehicleDay) -> dict[str, Any]:
    cls = tariff.machine_class(device)
    day_type = tariff.day_type(day)
    if cls is None:
        return {"machine_class": None, "error": f"no machine class for {device} in the tariff ([vehicles] or "
                                                "default_machine_class)", "lines": [], "total_yen": None}
    lines = []
    for band in tariff.bands:
        hours = round(vd.band_h.get(band.key, 0.0), 3)
        price = tariff.classes[cls][day_type][band.key]
        lines.append({"day_type": day_type, "band": band.key, "band_label": band.label, "hours": hours,
                      "yen_per_hour": price, "amount_yen": int(round(hours * price))})
    return {"machine_class": cls, "machine_class_label": tariff.classes[cls]["label"], "lines": lines,
            "total_yen": sum(line["amount_yen"] for line in lines)}


def report_csv(report: dict[str, Any]) -> str:
    """The daily report as CSV; with a tariff, the payment breakdown follows after an empty line."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = ["vehicle", "start", "end", "blade_down_h", "transit_h", "blade_down_km", "transit_km", "cleared_km",
            "routes", "gaps", "gap_min"]
    w.writerow([LABELS[c] for c in cols])
    for v in report["vehicles"]:
        w.writerow([v["vehicle"], v["start"], v["end"], v["blade_down_h"], v["transit_h"], v["blade_down_km"],
                    v["transit_km"], v["cleared_km"], " ".join(r["route"] for r in v["routes"]), len(v["gaps"]),
                    round(sum(g["minutes"] for g in v["gaps"]), 1)])
    if any("payment" in v for v in report["vehicles"]):
        w.writerow([])
        w.writerow([LABELS[c] for c in ("vehicle", "machine_class", "day_type", "band", "hours", "yen_per_hour",
                                         "amount_yen")])
        for v in report["vehicles"]:
            pay = v["payment"]
            for line in pay["lines"]:
                w.writerow([v["vehicle"], pay.get("machine_class_label"), DAY_TYPE_LABELS[line["day_type"]],
                            line["band_label"], line["hours"], line["yen_per_hour"], line["amount_yen"]])
            w.writerow([v["vehicle"], pay.get("machine_class_label") or pay.get("error"), "", "合計 / total",
                        round(sum(x["hours"] for x in pay["lines"]), 3), "", pay["total_yen"]])
    return buf.getvalue()
