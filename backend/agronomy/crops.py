"""Crops grown around Goshogawara with their FAO-56 single crop coefficients, stage lengths and rooting.

Sources (FAO-56, Allen et al. 1998):
- Kc ini / mid / end: Table 12 (single crop coefficient, sub-humid climate, RHmin about 45 %, u2 about 2 m/s).
- Stage lengths (initial, development, mid-season, late season, days): Table 11, the row nearest to Tsugaru.
  (Values checked against pyfao56's transcription of Tables 11, 12 and 22, tools/tables.py.)
- Maximum root depth Zr (lower end of the range, for the shallow volcanic-ash and alluvial soils here) and the
  depletion fraction p: Table 22.
A field can override root depth; everything else is per crop. Adjusting Kc mid/end for climate (eq. 62) is
left out:
Tsugaru summers sit close to the table's standard climate (RHmin about 45-60 %, u2 about 2 m/s).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray


class Crop(str, Enum):
    """Crop codes used in the field registry."""

    APPLE = "apple"  # orchard with grass ground cover (sod culture, usual in Aomori)
    APPLE_BARE = "apple_bare"  # orchard with bare, weeded soil
    VEGETABLES = "vegetables"  # small vegetables (cabbage, etc.)
    SOYBEAN = "soybean"
    RICE = "rice"  # paddy rice: water managed by depth rules (paddy.py), Kc used for its water loss


@dataclass(frozen=True)
class CropParams:
    """FAO-56 parameters of one crop."""

    kc_ini: float
    kc_mid: float
    kc_end: float
    stage_days: tuple[int, int, int, int]  # initial, development, mid-season, late season
    root_depth_m: float
    p: float  # depletion fraction before stress, RAW = p TAW
    source: str


CROPS: dict[Crop, CropParams] = {
    # Table 12 "Apples, cherries, pears: active ground cover, killing frost" 0.50/1.20/0.95; Table 11 deciduous
    # orchard (apples, cherries, pears), high-latitude row 20/70/90/30 counted from green tip (late April here,
    # so the season ends with leaf fall in late November); Table 22 apples 1.0-2.0 m, p 0.5.
    Crop.APPLE: CropParams(0.50, 1.20, 0.95, (20, 70, 90, 30), 1.0, 0.50,
                           "FAO-56 Tables 11, 12 (active ground cover, killing frost), 22"),
    # Table 12 "no ground cover, killing frost" 0.45/0.95/0.70.
    Crop.APPLE_BARE: CropParams(0.45, 0.95, 0.70, (20, 70, 90, 30), 1.0, 0.50,
                                "FAO-56 Tables 11, 12 (no ground cover, killing frost), 22"),
    # Table 12 "small vegetables" 0.7/1.05/0.95; Table 11 cabbage 40/60/50/15; Table 22 cabbage 0.5-0.8 m, p 0.45.
    Crop.VEGETABLES: CropParams(0.70, 1.05, 0.95, (40, 60, 50, 15), 0.5, 0.45,
                                "FAO-56 Tables 11 (cabbage), 12 (small vegetables), 22 (cabbage)"),
    # Table 12 soybeans 0.50/1.15/0.50; Table 11 soybeans, Japan (June planting) 20/25/75/30; Table 22 0.6-1.3 m,
    # p 0.5.
    Crop.SOYBEAN: CropParams(0.50, 1.15, 0.50, (20, 25, 75, 30), 0.6, 0.50, "FAO-56 Tables 11 (Japan), 12, 22"),
    # Table 12 rice 1.05/1.20/0.90-0.60 (0.75 mid of range); Table 11 rice 30/30/60/30; Table 22 0.5-1.0 m, p 0.20.
    Crop.RICE: CropParams(1.05, 1.20, 0.75, (30, 30, 60, 30), 0.5, 0.20, "FAO-56 Tables 11, 12, 22"),
}

CROP_ORDER: tuple[Crop, ...] = tuple(CROPS)
_KC = np.array([[c.kc_ini, c.kc_mid, c.kc_end] for c in CROPS.values()])
_STAGES = np.array([c.stage_days for c in CROPS.values()], dtype=np.float64)
ROOT_DEPTH_M = np.array([c.root_depth_m for c in CROPS.values()])
DEPLETION_FRACTION = np.array([c.p for c in CROPS.values()])


def crop_index(codes: list[str] | NDArray[np.str_]) -> NDArray[np.intp]:
    """Index into CROP_ORDER for each crop code; an unknown code raises ValueError naming it."""
    lookup = {c.value: i for i, c in enumerate(CROP_ORDER)}
    codes_arr = np.asarray(codes, dtype=str)
    uniq, inverse = np.unique(codes_arr, return_inverse=True)
    for u in uniq:
        if u not in lookup:
            row = int(np.flatnonzero(codes_arr == u)[0])
            raise ValueError(f"field row {row}: unknown crop {str(u)!r}; known: {sorted(lookup)}")
    return np.array([lookup[str(u)] for u in uniq], dtype=np.intp)[inverse.reshape(-1)]


def crop_coefficient(crop_idx: NDArray[np.intp], days_since_start: NDArray[np.float64]) -> NDArray[np.float64]:
    """Single crop coefficient Kc for each field x day, 0 outside the season - FAO-56 eq. 66 and Fig. 25.

    `crop_idx` has shape (n,), `days_since_start` shape (n, d) counted from planting (green tip for apples).
    Kc is Kc ini through the initial stage, rises linearly to Kc mid over development, holds, then falls
    linearly to Kc end over the late season (eq. 66 is this linear interpolation).
    """
    t = np.asarray(days_since_start, dtype=np.float64)
    out = np.zeros(t.shape)
    idx = np.asarray(crop_idx)
    for c in np.unique(idx):  # a handful of crops: one np.interp over all fields of each
        rows = idx == c
        ini, mid, end = _KC[c]
        ends = np.cumsum(_STAGES[c])
        knots = np.array([0.0, ends[0], ends[1], ends[2], ends[3]])
        values = np.array([ini, ini, mid, mid, end])
        tc = t[rows]
        kc = np.interp(tc, knots, values)  # FAO-56 eq. 66: linear between stage knots
        out[rows] = np.where((tc >= 0.0) & (tc <= knots[-1]), kc, 0.0)  # 0 outside the season
    return out


def season_length_days(crop_idx: NDArray[np.intp]) -> NDArray[np.float64]:
    """Total season length, days (sum of the four FAO-56 Table 11 stages)."""
    return _STAGES[crop_idx].sum(axis=-1)
