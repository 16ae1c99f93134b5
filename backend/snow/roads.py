"""Road network: import GeoJSON roads (WGS84), validate them, and cut them into pieces of at most 10 m.

Projection: a local equirectangular projection around the network's centre, scaled by the WGS84
radii of curvature at the centre's latitude (meridional M and prime-vertical N; Snyder 1987,
"Map Projections: A Working Manual", eqs. 4-18 and 4-20):

    x_m = N(lat0) * cos(lat0) * (lon - lon0)      y_m = M(lat0) * (lat - lat0)      (angles in radians)

Error: the east-west scale is exact only at lat0; at a latitude offset dlat it is off by a relative
tan(lat0) * dlat. At Goshogawara (lat0 = 40.8 deg, tan = 0.86) 10 km north or south of the centre
(dlat = 0.0016 rad) that is 0.14 %: 1.7 cm on the 12 m buffer and 14 cm on a 100 m road. Fine for a
city; split a prefecture-sized network into several.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAX_PIECE_M = 10.0
ZERO_LENGTH = "zero length (all its points are the same)"
_WGS84_A_M = 6378137.0  # semi-major axis
_WGS84_E2 = 6.69437999014e-3  # first eccentricity squared


class RoadNetworkError(ValueError):
    """The GeoJSON cannot be imported; `problems` lists (feature index, id, reason) for every bad feature."""

    def __init__(self, problems: list[tuple[int | None, Any, str]]):
        self.problems = problems
        lines = []
        for index, fid, reason in problems[:50]:
            where = "file" if index is None else f"feature {index}" + ("" if fid is None else f" (id {fid!r})")
            lines.append(f"{where}: {reason}")
        if len(problems) > 50:
            lines.append(f"... and {len(problems) - 50} more")
        super().__init__("道路データを読み込めません / cannot import roads:\n  " + "\n  ".join(lines))


@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular projection around (lat0, lon0) in metres east (x) and north (y)."""

    lat0_deg: float
    lon0_deg: float

    @property
    def m_per_rad(self) -> tuple[float, float]:
        """(east, north) metres per radian of longitude and latitude at lat0."""
        phi = math.radians(self.lat0_deg)
        w = 1.0 - _WGS84_E2 * math.sin(phi) ** 2
        n = _WGS84_A_M / math.sqrt(w)  # prime-vertical radius N - Snyder eq. 4-20
        m = _WGS84_A_M * (1.0 - _WGS84_E2) / w**1.5  # meridional radius M - Snyder eq. 4-18
        return n * math.cos(phi), m

    def to_xy(self, lat_deg: np.ndarray, lon_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project degrees to local metres (x east, y north)."""
        kx, ky = self.m_per_rad
        x = (np.asarray(lon_deg, dtype=np.float64) - self.lon0_deg) * (math.pi / 180.0 * kx)
        y = (np.asarray(lat_deg, dtype=np.float64) - self.lat0_deg) * (math.pi / 180.0 * ky)
        return x, y

    def to_latlon(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of to_xy: local metres to (lat, lon) degrees."""
        kx, ky = self.m_per_rad
        lat = self.lat0_deg + np.asarray(y_m, dtype=np.float64) / (math.pi / 180.0 * ky)
        lon = self.lon0_deg + np.asarray(x_m, dtype=np.float64) / (math.pi / 180.0 * kx)
        return lat, lon


@dataclass(frozen=True)
class RoadNetwork:
    """Roads (one entry per GeoJSON feature) and the pieces of at most max_piece_m they are cut into."""

    ids: list[Any]
    routes: list[str | None]
    names: list[str | None]
    priorities: list[Any]
    oneway: np.ndarray  # bool per road
    length_m: np.ndarray  # per road
    lines_lonlat: list[list[list[tuple[float, float]]]]  # per road, its parts, as (lon, lat)
    projection: LocalProjection
    bbox_lonlat: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    piece_road: np.ndarray  # int32 road index per piece
    piece_x0_m: np.ndarray
    piece_y0_m: np.ndarray
    piece_ux: np.ndarray  # unit direction east component (the road's bearing as drawn)
    piece_uy: np.ndarray
    piece_length_m: np.ndarray

    @property
    def n_roads(self) -> int:
        """Number of roads."""
        return len(self.ids)

    @property
    def piece_mid_m(self) -> tuple[np.ndarray, np.ndarray]:
        """Midpoints of the pieces in local metres."""
        half = self.piece_length_m / 2.0
        return self.piece_x0_m + self.piece_ux * half, self.piece_y0_m + self.piece_uy * half

    @property
    def piece_bearing_deg(self) -> np.ndarray:
        """Bearing of each piece, degrees clockwise from north in [0, 360)."""
        return np.degrees(np.arctan2(self.piece_ux, self.piece_uy)) % 360.0

    def contains_lonlat(self, lat_deg: np.ndarray, lon_deg: np.ndarray, margin_km: float) -> np.ndarray:
        """True where a position lies within margin_km of the network's bounding box."""
        x, y = self.projection.to_xy(lat_deg, lon_deg)
        bx0, by0 = self.projection.to_xy(np.array(self.bbox_lonlat[1]), np.array(self.bbox_lonlat[0]))
        bx1, by1 = self.projection.to_xy(np.array(self.bbox_lonlat[3]), np.array(self.bbox_lonlat[2]))
        m = margin_km * 1000.0
        with np.errstate(invalid="ignore"):
            return (x >= bx0 - m) & (x <= bx1 + m) & (y >= by0 - m) & (y <= by1 + m)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_line(coords: Any, what: str) -> tuple[list[tuple[float, float]] | None, str | None]:
    """Validate one LineString's coordinates; return (lon, lat) pairs or the reason it is invalid."""
    if not isinstance(coords, list):
        return None, f"{what}: coordinates must be a list of [lon, lat] positions"
    if len(coords) < 2:
        return None, f"{what}: has {len(coords)} point(s); a line needs at least 2 positions"
    out = []
    for k, pos in enumerate(coords):
        if not isinstance(pos, list) or len(pos) < 2 or not all(_is_number(v) for v in pos[:2]):
            return None, f"{what}: position {k} is not [lon, lat] numbers: {pos!r}"
        lon, lat = float(pos[0]), float(pos[1])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return None, f"{what}: position {k} is not finite (NaN or infinity): {pos!r}"
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            return None, f"{what}: position {k} {pos!r} is outside WGS84 (lon -180..180, lat -90..90; is it [lon, lat]?)"
        out.append((lon, lat))
    return out, None


def _oneway(value: Any) -> tuple[bool | None, str | None]:
    if value is None:
        return False, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, str)) and str(value).strip().lower() in ("1", "yes", "true"):
        return True, None
    if isinstance(value, (int, str)) and str(value).strip().lower() in ("0", "no", "false", ""):
        return False, None
    return None, f"oneway must be true or false, got {value!r}"


class RoadGeometryError(ValueError):
    """One road's geometry is invalid; the message is the reason (without the feature)."""


def road_lines(geom: Any) -> list[list[tuple[float, float]]]:
    """Validate one road's GeoJSON geometry; its lines as (lon, lat) pairs, or RoadGeometryError with the reason.

    The one definition of a valid road: the offline tools and the backend's registry both use it.
    """
    gtype = geom.get("type") if isinstance(geom, dict) else None
    parts: list[Any]
    if gtype == "LineString":
        parts = [geom.get("coordinates")]  # type: ignore[union-attr]
    elif gtype == "MultiLineString":
        coords = geom.get("coordinates")  # type: ignore[union-attr]
        if not isinstance(coords, list) or not coords:
            raise RoadGeometryError("MultiLineString has no lines")
        parts = coords
    else:
        raise RoadGeometryError(f"geometry type {gtype!r}; roads must be LineString or MultiLineString")
    lines: list[list[tuple[float, float]]] = []
    for k, part in enumerate(parts):
        line, bad = _check_line(part, "line" if gtype == "LineString" else f"line {k}")
        if bad:
            raise RoadGeometryError(bad)
        lines.append(line)  # type: ignore[arg-type]
    first = lines[0][0]
    if all(p == first for line in lines for p in line):
        raise RoadGeometryError(ZERO_LENGTH)
    return lines


def load_roads(path: str | Path, max_piece_m: float = MAX_PIECE_M) -> RoadNetwork:
    """Read a GeoJSON file of roads; raise RoadNetworkError naming every bad feature and why."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise RoadNetworkError([(None, None, f"cannot read {path}: {e}")]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise RoadNetworkError([(None, None, f"{path} is not JSON: {e}")]) from None
    return parse_roads(data, max_piece_m=max_piece_m)


def parse_roads(data: Any, max_piece_m: float = MAX_PIECE_M) -> RoadNetwork:
    """Validate a GeoJSON FeatureCollection of roads and build the network; all problems are reported at once."""
    if not (max_piece_m > 0):
        raise ValueError(f"max_piece_m must be positive, got {max_piece_m}")
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RoadNetworkError([(None, None, "not a GeoJSON FeatureCollection (needs \"type\": \"FeatureCollection\")")])
    features = data.get("features")
    if not isinstance(features, list):
        raise RoadNetworkError([(None, None, "\"features\" must be a list")])
    problems: list[tuple[int | None, Any, str]] = []
    seen: dict[str, int] = {}
    roads: list[tuple[Any, dict, list[list[tuple[float, float]]]]] = []
    for i, feat in enumerate(features):
        if not isinstance(feat, dict) or feat.get("type") != "Feature":
            problems.append((i, None, "not a GeoJSON Feature"))
            continue
        props = feat.get("properties")
        props = props if isinstance(props, dict) else {}
        fid = props.get("id")
        if fid is None or isinstance(fid, (bool, dict, list)) or (isinstance(fid, float) and not math.isfinite(fid)) or str(fid) == "":
            problems.append((i, fid, "properties.id is missing or not a text/number"))
            continue
        key = str(fid)
        if key in seen:
            problems.append((i, fid, f"duplicate id (also feature {seen[key]})"))
            continue
        seen[key] = i
        try:
            lines = road_lines(feat.get("geometry"))
        except RoadGeometryError as e:
            problems.append((i, fid, str(e)))
            continue
        oneway, bad = _oneway(props.get("oneway"))
        if bad:
            problems.append((i, fid, bad))
            continue
        route = props.get("route")
        name = props.get("name")
        roads.append((fid, {"route": None if route is None else str(route), "name": None if name is None else str(name),
                            "priority": props.get("priority"), "oneway": oneway}, lines))
    if not roads and not problems:
        problems.append((None, None, "the FeatureCollection has no roads"))
    if problems:
        raise RoadNetworkError(problems)

    all_lon = np.array([p[0] for _, _, lines in roads for line in lines for p in line])
    all_lat = np.array([p[1] for _, _, lines in roads for line in lines for p in line])
    bbox = (float(all_lon.min()), float(all_lat.min()), float(all_lon.max()), float(all_lat.max()))
    proj = LocalProjection((bbox[1] + bbox[3]) / 2.0, (bbox[0] + bbox[2]) / 2.0)

    # Vertex-to-vertex legs of every road, then each leg cut into equal pieces of at most max_piece_m.
    leg_road, leg_x0, leg_y0, leg_x1, leg_y1 = [], [], [], [], []
    for r, (_, _, lines) in enumerate(roads):
        for line in lines:
            lon = np.array([p[0] for p in line])
            lat = np.array([p[1] for p in line])
            x, y = proj.to_xy(lat, lon)
            leg_road.append(np.full(len(x) - 1, r, dtype=np.int32))
            leg_x0.append(x[:-1])
            leg_y0.append(y[:-1])
            leg_x1.append(x[1:])
            leg_y1.append(y[1:])
    lr = np.concatenate(leg_road)
    lx0, ly0 = np.concatenate(leg_x0), np.concatenate(leg_y0)
    dx, dy = np.concatenate(leg_x1) - lx0, np.concatenate(leg_y1) - ly0
    leg_len = np.hypot(dx, dy)
    road_len = np.bincount(lr, weights=leg_len, minlength=len(roads))
    zero = np.flatnonzero(road_len <= 0.0)
    if len(zero):
        raise RoadNetworkError([(seen[str(roads[r][0])], roads[r][0], ZERO_LENGTH) for r in zero])
    keep = leg_len > 0.0
    lr, lx0, ly0, dx, dy, leg_len = lr[keep], lx0[keep], ly0[keep], dx[keep], dy[keep], leg_len[keep]
    n_pieces = np.ceil(leg_len / max_piece_m).astype(np.int64)
    leg_of_piece = np.repeat(np.arange(len(lr)), n_pieces)
    k = np.arange(len(leg_of_piece)) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    frac = k / n_pieces[leg_of_piece]
    ux, uy = dx / leg_len, dy / leg_len
    return RoadNetwork(
        ids=[r[0] for r in roads],
        routes=[r[1]["route"] for r in roads],
        names=[r[1]["name"] for r in roads],
        priorities=[r[1]["priority"] for r in roads],
        oneway=np.array([r[1]["oneway"] for r in roads], dtype=bool),
        length_m=road_len,
        lines_lonlat=[r[2] for r in roads],
        projection=proj,
        bbox_lonlat=bbox,
        piece_road=lr[leg_of_piece].astype(np.int32),
        piece_x0_m=lx0[leg_of_piece] + dx[leg_of_piece] * frac,
        piece_y0_m=ly0[leg_of_piece] + dy[leg_of_piece] * frac,
        piece_ux=ux[leg_of_piece],
        piece_uy=uy[leg_of_piece],
        piece_length_m=(leg_len / n_pieces)[leg_of_piece],
    )
