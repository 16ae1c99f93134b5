"""Uniform grid hash of road pieces: for any point, the pieces whose midpoint may lie within `reach_m`.

Each cell lists (CSR layout) every piece whose midpoint is within reach_m of the cell's rectangle, so
one lookup of the cell a query point falls in returns a superset of the pieces within reach_m of it,
with no neighbour-cell walk at query time. A dense array of cells covers the network's bounding box;
the cell grows when the box would need more than MAX_CELLS cells.
"""
from __future__ import annotations

import math

import numpy as np

MAX_CELLS = 16_000_000


class PieceGrid:
    """Candidate pieces per grid cell for points within the network's bounding box (plus reach)."""

    def __init__(self, mid_x_m: np.ndarray, mid_y_m: np.ndarray, reach_m: float, cell_m: float):
        span_x = float(mid_x_m.max() - mid_x_m.min()) + 2 * reach_m
        span_y = float(mid_y_m.max() - mid_y_m.min()) + 2 * reach_m
        while (span_x / cell_m + 2) * (span_y / cell_m + 2) > MAX_CELLS:
            cell_m *= 1.5
        self.cell_m = cell_m
        self.reach_m = reach_m
        self.n_pieces = len(mid_x_m)
        self.x0_m = float(mid_x_m.min()) - reach_m - cell_m
        self.y0_m = float(mid_y_m.min()) - reach_m - cell_m
        self.nx = int(math.ceil(span_x / cell_m)) + 3
        self.ny = int(math.ceil(span_y / cell_m)) + 3
        cx = np.floor((mid_x_m - self.x0_m) / cell_m).astype(np.int64)
        cy = np.floor((mid_y_m - self.y0_m) / cell_m).astype(np.int64)
        r = int(math.ceil(reach_m / cell_m))
        cells, pieces = [], []
        idx = np.arange(len(mid_x_m), dtype=np.int64)
        for ox in range(-r - 1, r + 2):
            for oy in range(-r - 1, r + 2):
                gx, gy = cx + ox, cy + oy
                # Distance from the midpoint to the cell's rectangle (0 inside).
                left = self.x0_m + gx * cell_m
                bottom = self.y0_m + gy * cell_m
                ddx = np.maximum(np.maximum(left - mid_x_m, mid_x_m - (left + cell_m)), 0.0)
                ddy = np.maximum(np.maximum(bottom - mid_y_m, mid_y_m - (bottom + cell_m)), 0.0)
                ok = (ddx * ddx + ddy * ddy <= reach_m * reach_m) & (gx >= 0) & (gx < self.nx) & (gy >= 0) & (gy < self.ny)
                cells.append(gy[ok] * self.nx + gx[ok])
                pieces.append(idx[ok])
        n_pieces = len(mid_x_m)
        # One sort of cell * n_pieces + piece: cells in order, pieces ascending within a cell (callers rely on it).
        key = np.sort(np.concatenate(cells) * n_pieces + np.concatenate(pieces))
        cell = key // n_pieces
        self.pieces = key - cell * n_pieces  # int64: numpy gathers with int64 indices fastest
        counts = np.bincount(cell, minlength=self.nx * self.ny)
        self.start = np.zeros(self.nx * self.ny + 1, dtype=np.int64)
        np.cumsum(counts, out=self.start[1:])

    def cells_of(self, x_m: np.ndarray, y_m: np.ndarray) -> np.ndarray:
        """Cell index of each point, or -1 outside the grid (such points have no candidates)."""
        with np.errstate(invalid="ignore"):
            gx = (x_m - self.x0_m) * (1.0 / self.cell_m)
            gy = (y_m - self.y0_m) * (1.0 / self.cell_m)
            inside = (gx >= 0) & (gx < self.nx) & (gy >= 0) & (gy < self.ny)
        cell = gy.astype(np.int64) * self.nx + gx.astype(np.int64)
        cell[~inside] = -1
        return cell

    def pairs(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query index, position in self.pieces) for every candidate of every query cell, grouped by query in order."""
        c = np.maximum(cells, 0)
        lo = self.start[c]
        n = self.start[c + 1] - lo
        n[cells < 0] = 0
        # Position of each pair inside its query's run: global index minus the run's first index.
        first = np.cumsum(n) - n
        pos = np.arange(int(first[-1] + n[-1]) if len(n) else 0, dtype=np.int64)
        pos -= np.repeat(first - lo, n)
        return np.repeat(np.arange(len(cells), dtype=np.int64), n), pos
