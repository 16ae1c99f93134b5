"""`yukimizu coverage` and `yukimizu report plows`: the snow engine offline, from files.

Outputs are written atomically (a temporary file in the same folder, then a rename), all of them only
after everything was computed, so an error never leaves a half-written or mismatched result.
Exit codes: 0 done (bad track lines are skipped and listed on stderr), 2 unusable input.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from yukimizu.jst import iso_to_unix_s

from .coverage import CoverageEngine, CoverageParams
from .report import plows_report, report_csv
from .result import coverage_geojson, coverage_result
from .roads import RoadNetworkError, load_roads
from .tariff import TariffError, load_tariff
from .tracks import Tracks, TracksError, read_tracks

_SHOW_BAD = 20


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `coverage` and `report` subcommands."""
    p = sub.add_parser("coverage", help="除雪済み道路の判定 / which roads were plowed, from a tracks CSV",
                       description="GPS の軌跡から除雪済みの道路を判定します / compute road clearing coverage from "
                                   "plow tracks. ISO times without an offset are JST.")
    p.add_argument("--roads", required=True, help="roads GeoJSON (LineString/MultiLineString, WGS84, properties.id)")
    p.add_argument("--tracks", required=True, help="CSV: device_id,t,lat,lon,blade_down,speed_km_h,heading_deg")
    p.add_argument("--since", help="only fixes at or after this ISO 8601 time (JST when no offset)")
    p.add_argument("--until", help="only fixes before this ISO 8601 time (JST when no offset)")
    p.add_argument("--buffer-m", type=float, default=12.0, help="distance from a road piece that clears it (12)")
    p.add_argument("--max-gap-s", type=float, default=30.0, help="longest interval between fixes that is joined (30)")
    p.add_argument("--min-fraction", type=float, default=0.9, help="cleared fraction for a road to count as cleared (0.9)")
    p.add_argument("--out", required=True, help="result JSON file")
    p.add_argument("--geojson", help="also write the roads with their coverage as GeoJSON")
    p.set_defaults(func=run_coverage)

    r = sub.add_parser("report", help="報告書 / reports")
    rsub = r.add_subparsers(metavar="REPORT", required=True)
    pl = rsub.add_parser("plows", help="稼働日報と出来高内訳 / daily plow work report and payment breakdown",
                         description="車両ごとの稼働日報 (JST の1日) / per-vehicle daily work report for one JST day")
    pl.add_argument("--date", required=True, help="JST day, YYYY-MM-DD")
    pl.add_argument("--tracks", required=True, help="tracks CSV")
    pl.add_argument("--roads", required=True, help="roads GeoJSON (for routes and coverage contributed)")
    pl.add_argument("--format", choices=("csv", "json"), default="csv")
    pl.add_argument("--tariff", help="tariff TOML for the payment breakdown (see backend/snow/tariff.example.toml)")
    pl.add_argument("--max-gap-s", type=float, default=30.0, help="longest interval between fixes that is joined (30)")
    pl.add_argument("--out", help="write here (atomically) instead of stdout")
    pl.set_defaults(func=run_report)


def _fail(message: str) -> int:
    print(f"エラー / error: {message}", file=sys.stderr)
    return 2


def parse_iso(text: str, what: str) -> float:
    """Unix seconds from an ISO 8601 argument; no offset means JST."""
    try:
        return iso_to_unix_s(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an ISO 8601 time (e.g. 2026-01-15T05:00+09:00)") from None


def write_atomically(files: dict[Path, str]) -> None:
    """Write every file to a temporary sibling, then rename them all into place."""
    temps: list[tuple[str, Path]] = []
    try:
        for path, text in files.items():
            fd, tmp = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.", suffix=".tmp")
            temps.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
        for tmp, path in temps:
            os.replace(tmp, path)
    finally:
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _report_bad(tracks: Tracks) -> None:
    if not tracks.bad:
        return
    print(f"注意 / note: {len(tracks.bad)} line(s) of the tracks skipped:", file=sys.stderr)
    for b in tracks.bad[:_SHOW_BAD]:
        print(f"  line {b.line}: {b.reason}", file=sys.stderr)
    if len(tracks.bad) > _SHOW_BAD:
        print(f"  ... and {len(tracks.bad) - _SHOW_BAD} more", file=sys.stderr)


def _check_out_dirs(*paths: str | None) -> None:
    for p in paths:
        if p is not None and not Path(p).resolve().parent.is_dir():
            raise ValueError(f"the folder of {p} does not exist")
        if p is not None and Path(p).is_dir():
            raise ValueError(f"{p} is a folder; give a file name")


def run_coverage(args: argparse.Namespace) -> int:
    """The `coverage` subcommand."""
    try:
        params = CoverageParams(buffer_m=args.buffer_m, max_gap_s=args.max_gap_s, min_fraction=args.min_fraction)
        since = parse_iso(args.since, "--since") if args.since else -np.inf
        until = parse_iso(args.until, "--until") if args.until else np.inf
        _check_out_dirs(args.out, args.geojson)
        network = load_roads(args.roads)
        tracks = read_tracks(args.tracks, network)
    except (ValueError, RoadNetworkError, TracksError) as e:
        return _fail(str(e))
    _report_bad(tracks)
    tracks = tracks.select((tracks.t_s >= since) & (tracks.t_s < until))
    engine = CoverageEngine(network, params)
    stats = engine.update_codes(tracks.code, tracks.names, tracks.t_s, tracks.lat_deg, tracks.lon_deg,
                                tracks.blade_down, tracks.heading_deg)
    state = engine.roads()
    result: dict[str, Any] = coverage_result(network, state)
    result["input"] = {"fixes_used": stats.used, "fixes_repeated": stats.late_or_duplicate,
                       "lines_skipped": len(tracks.bad),
                       "skipped": [{"line": b.line, "reason": b.reason} for b in tracks.bad[:1000]],
                       "params": {"buffer_m": params.buffer_m, "max_gap_s": params.max_gap_s,
                                  "min_fraction": params.min_fraction, "max_heading_deg": params.max_heading_deg}}
    files = {Path(args.out): json.dumps(result, ensure_ascii=False, indent=1) + "\n"}
    if args.geojson:
        files[Path(args.geojson)] = json.dumps(coverage_geojson(network, state, result), ensure_ascii=False) + "\n"
    try:
        write_atomically(files)
    except OSError as e:
        return _fail(f"cannot write the results: {e}")
    t = result["total"]
    print(f"除雪済み / cleared: {sum(s['cleared'] for s in result['segments'])} of {len(result['segments'])} roads, "
          f"{t['cleared_length_m'] / 1000:.2f} of {t['length_m'] / 1000:.2f} km ({t['coverage_pct']} %) -> {args.out}",
          file=sys.stderr)
    return 0


def run_report(args: argparse.Namespace) -> int:
    """The `report plows` subcommand."""
    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        return _fail(f"--date {args.date!r} is not a date YYYY-MM-DD")
    try:
        params = CoverageParams(max_gap_s=args.max_gap_s)
        _check_out_dirs(args.out)
        tariff = load_tariff(args.tariff) if args.tariff else None
        network = load_roads(args.roads)
        tracks = read_tracks(args.tracks, network)
    except (ValueError, RoadNetworkError, TracksError, TariffError) as e:
        return _fail(str(e))
    _report_bad(tracks)
    report = plows_report(tracks, network, day, params, tariff)
    text = report_csv(report) if args.format == "csv" else json.dumps(report, ensure_ascii=False, indent=1) + "\n"
    if args.out:
        try:
            write_atomically({Path(args.out): text})
        except OSError as e:
            return _fail(f"cannot write the report: {e}")
    else:
        sys.stdout.write(text)
    if not report["vehicles"]:
        print(f"注意 / note: no vehicle has fixes on {day.isoformat()} (JST)", file=sys.stderr)
    return 0
