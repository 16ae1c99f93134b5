"""Local metric coordinates around a site: an equirectangular tangent plane, good to about 0.1 % over a few km."""
from __future__ import annotations

import math

M_PER_DEG_LAT = 110_574.0  # metres per degree of latitude near 40 N (WGS84 meridian arc, rounded)
M_PER_DEG_LON_EQUATOR = 111_320.0  # metres per degree of longitude at the equator


class LocalFrame:
    """Convert between (lon, lat) degrees and (x east, y north) metres around an origin."""

    def __init__(self, lon0_deg: float, lat0_deg: float):
        self.lon0_deg = lon0_deg
        self.lat0_deg = lat0_deg
        self.m_per_deg_lon = M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0_deg))

    def to_xy(self, lon_deg: float, lat_deg: float) -> tuple[float, float]:
        """(x_m, y_m) of a point."""
        return (lon_deg - self.lon0_deg) * self.m_per_deg_lon, (lat_deg - self.lat0_deg) * M_PER_DEG_LAT

    def to_lonlat(self, x_m: float, y_m: float) -> tuple[float, float]:
        """(lon_deg, lat_deg) of a point."""
        return self.lon0_deg + x_m / self.m_per_deg_lon, self.lat0_deg + y_m / M_PER_DEG_LAT


# The demo site's origin: central Goshogawara, approximately (synthetic site, not surveyed).
GOSHOGAWARA = LocalFrame(140.4430, 40.8080)
