"""Soil water characteristics by texture, FAO-56 Table 19 (midpoints of the printed ranges).

A field with a measured field capacity / wilting point (lab or sensor calibration) should use those instead:
`FieldTable` accepts them per field, and these midpoints fill only the gaps.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# texture: (theta_FC range, theta_WP range), m3/m3 - FAO-56 Table 19
TABLE_19: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "sand": ((0.07, 0.17), (0.02, 0.07)),
    "loamy_sand": ((0.11, 0.19), (0.03, 0.10)),
    "sandy_loam": ((0.18, 0.28), (0.06, 0.16)),
    "loam": ((0.20, 0.30), (0.07, 0.17)),
    "silt_loam": ((0.22, 0.36), (0.09, 0.21)),
    "silt": ((0.28, 0.36), (0.12, 0.22)),
    "silty_clay_loam": ((0.30, 0.37), (0.17, 0.24)),
    "silty_clay": ((0.30, 0.42), (0.17, 0.29)),
    "clay": ((0.32, 0.40), (0.20, 0.24)),
}


def theta_fc_wp(textures: list[str] | NDArray[np.str_]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Field capacity and wilting point, m3/m3, for each texture (Table 19 midpoints); unknown texture raises."""
    tex_arr = np.asarray(textures, dtype=str)
    uniq, inverse = np.unique(tex_arr, return_inverse=True)
    fc_u, wp_u = np.empty(len(uniq)), np.empty(len(uniq))
    for j, tex in enumerate(uniq):
        if tex not in TABLE_19:
            row = int(np.flatnonzero(tex_arr == tex)[0])
            raise ValueError(f"field row {row}: unknown soil texture {str(tex)!r}; known: {sorted(TABLE_19)}")
        (fc_lo, fc_hi), (wp_lo, wp_hi) = TABLE_19[str(tex)]
        fc_u[j], wp_u[j] = (fc_lo + fc_hi) / 2.0, (wp_lo + wp_hi) / 2.0
    inv = inverse.reshape(-1)
    return fc_u[inv], wp_u[inv]
