"""Coverage engine: which road pieces a blade-down plow has cleared, and when, from GPS fixes.

Definition (issue 8; no standard defines "plowed", so these are ours and every threshold is a parameter):
- Consecutive fixes of one device at most `max_gap_s` apart are joined by a straight track segment;
  a longer gap is not joined (nothing between those fixes is cleared).
- A segment is blade-down when its starting fix is (the logger's state holds until the next fix).
- A segment's heading is the reported heading of its starting fix, or else derived from the track:
  the direction from the previous joined fix to the segment's end (two segments of baseline, which
  halves the heading error of 5 m GPS noise at 1 Hz). With less than `min_move_m` of movement and no
  reported heading the plow is standing, not moving along anything, and clears nothing.
- A piece (<= 10 m, see roads.py) is cleared by a blade-down segment that passes within `buffer_m` of
  the piece's midpoint while heading within `max_heading_deg` of the piece's bearing, in either
  direction. Either direction counts for every road, one-way or not (issue 8): a two-way road
  plowed in one direction only is cleared. The hit time is when the segment is closest to the midpoint.
- A road's cleared_fraction is its cleared pieces' length over its length; it is cleared at
  >= `min_fraction`. first_cleared is when its cleared length first reached min_fraction;
  last_cleared is the latest time any of its pieces was cleared (only for cleared roads).
- passes: per road, the runs of consecutive segments of one device clearing it in one direction,
  runs of the same device and direction at most `pass_gap_s` apart counted as one (a noisy fix that
  breaks a run, or a stop at a crossing, does not make a second pass).

Incremental: `update()` keeps each device's last two fixes, so a batch joins the previous one; the
state after any split of the points into batches equals the state after one batch of them all, as
long as each device's fixes arrive in time order (a fix not later than its device's last fix is
dropped and counted as late, in both cases).

Implementation: road pieces sit in a uniform grid hash (grid.py); a track segment looks up the one cell
of its midpoint and tests every candidate piece with vectorised float32 arithmetic, in chunks of
segments that two threads compute and the caller folds into the state in order. Hits are reduced to
runs per (device, road, direction) before the only sort, so a night's work sorts runs, not hits.
"""
from __future__ import annotations

import math
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .grid import PieceGrid
from .roads import RoadNetwork

_SEG_MAX_M = 16.0  # longer track segments are split so a grid cell lookup at their midpoint suffices
_CHUNK = 32768  # segments per vectorised chunk: pair arrays of a few MB, and few enough numpy calls
_SLICE = 262144  # fixes per internal slice of a long update


@dataclass(frozen=True)
class CoverageParams:
    """Thresholds of the coverage definition (module docstring)."""

    buffer_m: float = 12.0
    max_gap_s: float = 30.0
    max_heading_deg: float = 45.0
    min_fraction: float = 0.9
    min_move_m: float = 1.0
    pass_gap_s: float = 120.0

    def __post_init__(self) -> None:
        checks = {
            "buffer_m": self.buffer_m > 0 and math.isfinite(self.buffer_m),
            "max_gap_s": self.max_gap_s > 0 and math.isfinite(self.max_gap_s),
            "max_heading_deg": 0 <= self.max_heading_deg <= 90,
            "min_fraction": 0 < self.min_fraction <= 1,
            "min_move_m": self.min_move_m >= 0,
            "pass_gap_s": self.pass_gap_s >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"{name} = {getattr(self, name)!r} is out of range")


@dataclass
class RoadState:
    """Per-road coverage, arrays indexed like network.ids."""

    length_m: np.ndarray
    cleared_length_m: np.ndarray
    cleared_fraction: np.ndarray
    cleared: np.ndarray
    first_cleared_t_s: np.ndarray  # NaN where not cleared
    last_cleared_t_s: np.ndarray
    passes: np.ndarray
    devices: list[list[str]]


@dataclass
class UpdateStats:
    """What one update did with its points."""

    points: int = 0
    used: int = 0
    late_or_duplicate: int = 0
    segments_blade_down: int = 0
    hits: int = 0


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1)), thread_name_prefix="coverage")
    return _POOL


def _changes(a: np.ndarray) -> np.ndarray:
    """Indices where a sorted-by-group array starts a new value."""
    m = np.empty(len(a), dtype=bool)
    m[:1] = True
    np.not_equal(a[1:], a[:-1], out=m[1:])
    return np.flatnonzero(m)


def _present(key: np.ndarray, delta: int, window: int = 4) -> np.ndarray:
    """For sorted unique keys, whether key + delta is also a key.

    The wanted key is usually a few places away (items of the neighbouring segment), so a window of
    shifted comparisons answers most; binary search answers the rest exactly.
    """
    want = key + delta
    found = np.zeros(len(key), dtype=bool)
    step = 1 if delta > 0 else -1
    for d in range(1, window + 1):
        if d >= len(key):
            break
        if step > 0:
            found[:-d] |= key[d:] == want[:-d]
        else:
            found[d:] |= key[:-d] == want[d:]
    # Undecided: the window did not reach past the wanted key.
    if len(key) > window:
        if step > 0:
            beyond = np.r_[key[window:] >= want[:-window], np.ones(window, dtype=bool)]
        else:
            beyond = np.r_[np.ones(window, dtype=bool), key[:-window] <= want[window:]]
    else:
        beyond = np.zeros(len(key), dtype=bool)
    rest = np.flatnonzero(~found & ~beyond)
    if len(rest):
        pos = np.minimum(np.searchsorted(key, want[rest]), len(key) - 1)
        found[rest] = key[pos] == want[rest]
    return found


class CoverageEngine:
    """Incremental coverage of one road network; feed fixes with update(), read roads with roads()."""

    def __init__(self, network: RoadNetwork, params: CoverageParams | None = None, cell_m: float = 8.0,
                 chunk_segments: int = _CHUNK, slice_fixes: int = _SLICE, grid: PieceGrid | None = None):
        self.network = network
        self.chunk_segments = chunk_segments
        self.slice_fixes = slice_fixes
        self.params = params or CoverageParams()
        p = self.params
        mx, my = network.piece_mid_m
        # float32 in the hot loop: 1 mm resolution 10 km from the centre, half the memory traffic.
        self._piece_cols = tuple(a.astype(np.float32) for a in (mx, my, network.piece_ux, network.piece_uy))
        reach = p.buffer_m + max(_SEG_MAX_M, float(network.piece_length_m.max())) / 2.0
        # A grid from another engine on the same network and buffer can be shared (it is read-only).
        if grid is None or grid.reach_m != reach or grid.n_pieces != len(mx):
            grid = PieceGrid(mx, my, reach, cell_m)
        self.grid: PieceGrid = grid
        self._piece_seg = np.stack([network.piece_x0_m, network.piece_y0_m, network.piece_ux, network.piece_uy,
                                    network.piece_length_m], axis=1)
        self._cos_max = np.float32(math.cos(math.radians(p.max_heading_deg)))
        self._buf2 = np.float32(p.buffer_m * p.buffer_m)
        n_pieces = len(network.piece_road)
        self.piece_first_t_s = np.full(n_pieces, np.inf)
        self.piece_last_t_s = np.full(n_pieces, -np.inf)
        self._g_count = 2 * network.n_roads  # g = road * 2 + direction (0 along, 1 against)
        self.road_passes = np.zeros(network.n_roads, dtype=np.int64)
        self._pass_key = np.zeros(0, dtype=np.int64)  # device * g_count + g, sorted
        self._pass_end_t = np.zeros(0)
        self._dev_road = np.zeros((0, network.n_roads), dtype=bool)  # [device, road]: cleared some of it
        self.device_names: list[str] = []
        self._dev_code: dict[str, int] = {}
        # Each device's last two fixes (index 0 = previous, 1 = last); t = -inf when absent.
        self._fix_t = np.full((0, 2), -np.inf)
        self._fix_x = np.zeros((0, 2))
        self._fix_y = np.zeros((0, 2))
        self._fix_blade = np.zeros((0, 2), dtype=bool)
        self._fix_heading = np.full((0, 2), np.nan)

    # ---- input -----------------------------------------------------------------------------------
    def _engine_codes(self, names: list[str]) -> np.ndarray:
        codes = np.empty(len(names), dtype=np.int64)
        for k, name in enumerate(names):
            c = self._dev_code.get(name)
            if c is None:
                c = self._dev_code[name] = len(self.device_names)
                self.device_names.append(name)
            codes[k] = c
        n = len(self.device_names)
        if len(self._dev_road) < n:
            grown = np.zeros((max(n, 2 * len(self._dev_road)), self.network.n_roads), dtype=bool)
            grown[: len(self._dev_road)] = self._dev_road
            self._dev_road = grown
        if len(self._fix_t) < n:
            m = max(n, 2 * len(self._fix_t))
            for attr, fill in (("_fix_t", -np.inf), ("_fix_x", 0.0), ("_fix_y", 0.0), ("_fix_blade", False), ("_fix_heading", np.nan)):
                old = getattr(self, attr)
                new = np.full((m, 2), fill, dtype=old.dtype)
                new[: len(old)] = old
                setattr(self, attr, new)
        return codes

    @property
    def _code_dtype(self) -> type:
        # numpy's stable sort is a radix sort for 16-bit integers.
        return np.int16 if len(self.device_names) < 32767 else np.int64

    def update(self, device: Any, t_s: Any, lat_deg: Any, lon_deg: Any, blade_down: Any,
               heading_deg: Any = None) -> UpdateStats:
        """Add fixes given with one device name per fix (any order) and update the coverage state."""
        table: dict[str, int] = {}
        seq = device.tolist() if isinstance(device, np.ndarray) else list(device)
        codes = np.fromiter((table.setdefault(d, len(table)) for d in map(str, seq)), dtype=np.int64, count=len(seq))
        return self.update_codes(codes, list(table), t_s, lat_deg, lon_deg, blade_down, heading_deg)

    def update_codes(self, code: Any, names: list[str], t_s: Any, lat_deg: Any, lon_deg: Any, blade_down: Any,
                     heading_deg: Any = None) -> UpdateStats:
        """Add fixes whose device is names[code[k]] (the tracks reader's form) and update the state."""
        t = np.asarray(t_s, dtype=np.float64)
        x, y = self.network.projection.to_xy(np.asarray(lat_deg), np.asarray(lon_deg))
        blade = np.asarray(blade_down, dtype=bool)
        hd = np.full(len(t), np.nan) if heading_deg is None else np.asarray(heading_deg, dtype=np.float64)
        stats = UpdateStats(points=len(t))
        if len(t) == 0:
            return stats
        code = self._engine_codes(list(names))[np.asarray(code, dtype=np.int64)]
        if len(t) > self.slice_fixes:
            # A long batch goes through in time slices: the same state (each device's fixes stay in
            # order, see the module docstring), with working arrays small enough to stay in cache.
            order = np.flatnonzero(np.isfinite(t))
            if not np.all(t[order][1:] >= t[order][:-1]):
                order = order[np.argsort(t[order], kind="stable")]
            # Pipelined: while the worker threads match slice k, this thread sorts slice k + 1 and
            # then folds slice k's results in. Folds stay in slice order; a slice's preparation
            # reads only the last-fix state, which the previous preparation already stored.
            pending = None
            for s0 in range(0, len(order), self.slice_fixes):
                sl = order[s0:s0 + self.slice_fixes]
                started = self._start_slice(code[sl], t[sl], x[sl], y[sl], blade[sl], hd[sl])
                if pending is not None:
                    self._fold_slice(*pending, into=stats)
                pending = started
            if pending is not None:
                self._fold_slice(*pending, into=stats)
            stats.late_or_duplicate = len(t) - stats.used
            return stats
        part, results = self._start_slice(code, t, x, y, blade, hd)
        return self._fold_slice(part, results)

    def _fold_slice(self, part: UpdateStats, results: list, into: UpdateStats | None = None) -> UpdateStats:
        """Fold a started slice's chunk results into the state, in order; adds its counts to `into`."""
        self._fold(results, part)
        if into is not None:
            into.used += part.used
            into.segments_blade_down += part.segments_blade_down
            into.hits += part.hits
        return part

    def _start_slice(self, code, t, x, y, blade, hd) -> tuple[UpdateStats, list]:  # type: ignore[no-untyped-def]
        """Prepare one slice of fixes (engine device codes) and start matching it: (its stats, chunk results)."""
        stats = UpdateStats(points=len(t))
        finite = np.isfinite(t) & np.isfinite(x) & np.isfinite(y)
        keep = finite & (t > self._fix_t[code, 1])  # late or repeated fixes cannot be joined in order
        order = np.flatnonzero(keep)
        if np.all(t[order][1:] >= t[order][:-1]):
            # Usual case, fixes in time order: a stable sort by device keeps time order (radix sort).
            order = order[np.argsort(code[order].astype(self._code_dtype), kind="stable")]
        else:
            order = order[np.lexsort((t[order], code[order]))]
        c, tt = code[order], t[order]
        dup = np.zeros(len(order), dtype=bool)  # a repeated time: keep the first fix
        dup[1:] = (c[1:] == c[:-1]) & (tt[1:] == tt[:-1])
        order = order[~dup]
        stats.used = len(order)
        stats.late_or_duplicate = len(t) - len(order)
        if len(order) == 0:
            return stats, []
        # Prepend the stored fixes of these devices so segments join across batches; they are older
        # than every kept fix, so a stable sort by device puts them in front of their device's fixes.
        devs = np.flatnonzero(np.bincount(code[order], minlength=len(self.device_names)))
        old_c = np.repeat(devs, 2)
        old_k = np.tile([0, 1], len(devs))
        have = np.isfinite(self._fix_t[old_c, old_k])
        old_c, old_k = old_c[have], old_k[have]
        if len(old_c) == 0:
            c, tt, xx, yy, bb, hh = code[order], t[order], x[order], y[order], blade[order], hd[order]
            is_new = np.ones(len(order), dtype=bool)
        else:
            c = np.concatenate([old_c, code[order]])
            o = np.argsort(c.astype(self._code_dtype), kind="stable")
            c = c[o]
            tt = np.concatenate([self._fix_t[old_c, old_k], t[order]])[o]
            xx = np.concatenate([self._fix_x[old_c, old_k], x[order]])[o]
            yy = np.concatenate([self._fix_y[old_c, old_k], y[order]])[o]
            bb = np.concatenate([self._fix_blade[old_c, old_k], blade[order]])[o]
            hh = np.concatenate([self._fix_heading[old_c, old_k], hd[order]])[o]
            is_new = np.concatenate([np.zeros(len(old_c), dtype=bool), np.ones(len(order), dtype=bool)])[o]
        self._store_last_fixes(c, tt, xx, yy, bb, hh)
        return stats, self._segments(c, tt, xx, yy, bb, hh, is_new)

    def _store_last_fixes(self, c, tt, xx, yy, bb, hh) -> None:  # type: ignore[no-untyped-def]
        last = np.flatnonzero(np.r_[c[1:] != c[:-1], True])
        for k, idx in ((1, last), (0, last - 1)):
            ok = (idx >= 0) & (c[np.maximum(idx, 0)] == c[last])
            d, i = c[last][ok], idx[ok]
            self._fix_t[d, k], self._fix_x[d, k], self._fix_y[d, k] = tt[i], xx[i], yy[i]
            self._fix_blade[d, k], self._fix_heading[d, k] = bb[i], hh[i]
            if k == 0:
                self._fix_t[c[last][~ok], 0] = -np.inf

    # ---- segments and hits -------------------------------------------------------------------------
    def _segments(self, c, tt, xx, yy, bb, hh, is_new) -> list:  # type: ignore[no-untyped-def]
        """Start matching the blade-down joined segments that end at a new fix, in cache-sized chunks.

        Returns one entry per chunk, in order: a future of the worker thread computing it, or the
        result itself when there is a single chunk. Nothing in the state changes until _fold.
        """
        p = self.params
        joined = (c[1:] == c[:-1]) & (tt[1:] - tt[:-1] <= p.max_gap_s)
        seg = np.flatnonzero(joined & is_new[1:] & bb[:-1])
        # Chunks end only where a drive breaks, so a run of hits never spans two chunks (see _runs).
        breaks = np.r_[np.flatnonzero(np.r_[True, seg[1:] != seg[:-1] + 1]), len(seg)]
        bounds = []
        s0 = 0
        while s0 < len(seg):
            s1 = int(breaks[min(np.searchsorted(breaks, s0 + self.chunk_segments), len(breaks) - 1)])
            bounds.append((s0, s1))
            s0 = s1
        if len(bounds) == 1:
            return [self._chunk(seg[bounds[0][0]:bounds[0][1]], c, tt, xx, yy, hh, joined)]
        # Chunks are independent until they are folded in, in order; numpy releases the GIL in its
        # array loops, so the worker threads use the other cores.
        pool = _pool()
        return [pool.submit(self._chunk, seg[a:b], c, tt, xx, yy, hh, joined) for a, b in bounds]

    def _fold(self, results: list, stats: UpdateStats) -> None:
        """Fold chunk results (futures or values, in order) into the coverage state."""
        out = []
        for res in results:
            if isinstance(res, Future):
                res = res.result()
            if res is None:
                continue
            n_seg, pc, th, items = res
            stats.segments_blade_down += n_seg
            if len(pc):
                stats.hits += len(pc)
                np.minimum.at(self.piece_first_t_s, pc, th)
                np.maximum.at(self.piece_last_t_s, pc, th)
                out.append(items)
        if out:
            self._passes(*(np.concatenate(col) for col in zip(*out)))

    def _chunk(self, i, c, tt, xx, yy, hh, joined) -> tuple | None:  # type: ignore[no-untyped-def]
        """Hits of segments (fix i to fix i + 1): (segments, hit pieces, hit times, run items); no state changed."""
        p = self.params
        # Heading baseline starts at the previous joined fix when there is one (module docstring).
        base = np.where((i > 0) & joined[np.maximum(i - 1, 0)], i - 1, i)
        bx, by = xx[i + 1] - xx[base], yy[i + 1] - yy[base]
        bl = np.sqrt(bx * bx + by * by)  # not np.hypot: ten times slower here
        h = hh[i]
        rep = np.isfinite(h)
        with np.errstate(invalid="ignore", divide="ignore"):
            hx, hy = bx / bl, by / bl
        if rep.any():
            rad = np.radians(h[rep])
            hx[rep], hy[rep] = np.sin(rad), np.cos(rad)
        moving = rep | (bl >= max(p.min_move_m, 1e-9))
        if not moving.all():
            i, hx, hy = i[moving], hx[moving], hy[moving]
        if len(i) == 0:
            return None
        ax, ay, t0 = xx[i], yy[i], tt[i]
        vx, vy, dt = xx[i + 1] - ax, yy[i + 1] - ay, tt[i + 1] - t0
        dev = c[i]
        cont = np.r_[False, i[1:] == i[:-1] + 1]  # the next segment of the same drive
        # Split segments longer than _SEG_MAX_M into equal sub-segments.
        k = np.ceil(np.sqrt(vx * vx + vy * vy) * (1.0 / _SEG_MAX_M))
        if np.any(k > 1):
            k = np.maximum(k, 1).astype(np.int64)
            par = np.repeat(np.arange(len(i)), k)
            j = np.arange(len(par)) - np.repeat(np.cumsum(k) - k, k)
            f = j / k[par]
            ax, ay = ax[par] + vx[par] * f, ay[par] + vy[par] * f
            vx, vy = vx[par] / k[par], vy[par] / k[par]
            t0, dt = t0[par] + dt[par] * f, dt[par] / k[par]
            hx, hy, dev = hx[par], hy[par], dev[par]
            cont = np.where(j > 0, True, cont[par])
        cells = self.grid.cells_of(ax + vx * 0.5, ay + vy * 0.5)
        f32 = np.float32
        vx32, vy32 = vx.astype(f32), vy.astype(f32)
        vv = vx32 * vx32 + vy32 * vy32
        inv_vv = np.divide(f32(1), vv, out=np.zeros_like(vv), where=vv > 0)
        q, pos = self.grid.pairs(cells)
        n = np.bincount(q, minlength=len(ax)) if len(q) else np.zeros(len(ax), dtype=np.int64)
        pc = np.take(self.grid.pieces, pos)
        # Segment side by np.repeat (pairs are grouped by segment), piece side by np.take from small
        # per-piece columns: both far cheaper than gathering rows.
        mx, my, ux, uy = self._piece_cols
        dot = np.take(ux, pc) * np.repeat(hx.astype(f32), n)
        dot += np.take(uy, pc) * np.repeat(hy.astype(f32), n)  # cosine between heading and piece bearing
        sx, sy = np.repeat(vx32, n), np.repeat(vy32, n)
        wx = np.take(mx, pc)
        wx -= np.repeat(ax.astype(f32), n)
        wy = np.take(my, pc)
        wy -= np.repeat(ay.astype(f32), n)
        u = wx * sx
        u += wy * sy
        u *= np.repeat(inv_vv, n)
        np.clip(u, f32(0), f32(1), out=u)  # closest point on the segment, as a fraction of it
        sx *= u
        wx -= sx
        sy *= u
        wy -= sy
        wx *= wx
        wy *= wy
        wx += wy  # squared distance from the piece midpoint to the segment
        hit = np.flatnonzero((wx <= self._buf2) & (np.abs(dot, out=wy) >= self._cos_max))
        if len(hit) == 0:
            return len(i), hit, hit, None
        q, pc, u, dot = np.take(q, hit), np.take(pc, hit), np.take(u, hit), np.take(dot, hit)
        th = t0[q] + u * dt[q]
        g = self.network.piece_road[pc].astype(np.int64) * 2 + (dot < 0)
        return len(i), pc, th, self._runs(q, g, t0, t0 + dt, cont, dev)

    def _runs(self, q, g, seg_t0, seg_t1, cont, dev) -> tuple[np.ndarray, ...]:  # type: ignore[no-untyped-def]
        """Reduce one chunk's hits to the first and last (segment, road, direction) item of each run.

        A run is timed from its first segment's start to its last segment's end, so the two halves of
        a run split between two update() calls touch in time and merge into one pass (_passes).
        """
        G = self._g_count
        key = q * G + g
        first = _changes(key)
        key, g, q = key[first], g[first], q[first]
        if np.any(key[1:] < key[:-1]):
            o = np.argsort(key, kind="stable")
            key, g, q = key[o], g[o], q[o]
            keep = _changes(key)
            key, g, q = key[keep], g[keep], q[keep]
        nxt_cont = np.r_[cont[1:], False]
        is_start = ~(cont[q] & _present(key, -G))
        is_end = ~(nxt_cont[q] & _present(key, G))
        keep = np.flatnonzero(is_start | is_end)
        qk = q[keep]
        return dev[qk] * G + g[keep], seg_t0[qk], seg_t1[qk], is_start[keep], is_end[keep]

    def _passes(self, gk, lo, hi, is_start, is_end) -> None:  # type: ignore[no-untyped-def]
        """Fold run items (device, road, direction) into passes and into the stored pass state."""
        G = self._g_count
        # Items come in (device, time) order, so a stable sort by key keeps each key's items in time order.
        o = np.argsort(gk, kind="stable")
        gk, lo, hi, is_start, is_end = gk[o], lo[o], hi[o], is_start[o], is_end[o]
        # Each run is [its start item's tmin, the next end item's tmax] (runs of one key are disjoint).
        pos = np.where(is_end, np.arange(len(gk)), len(gk))
        next_end = np.minimum.accumulate(pos[::-1])[::-1]
        s = np.flatnonzero(is_start)
        rk, r_lo, r_hi = gk[s], lo[s], hi[next_end[s]]
        first_in_key = np.r_[True, rk[1:] != rk[:-1]]
        gap = self.params.pass_gap_s
        new_pass = np.zeros(len(rk), dtype=bool)
        new_pass[1:] = r_lo[1:] > r_hi[:-1] + gap
        # The first run of each key continues the stored pass of that key when close enough.
        prev_end = np.full(len(rk), -np.inf)
        if len(self._pass_key):
            at = np.minimum(np.searchsorted(self._pass_key, rk), len(self._pass_key) - 1)
            known = self._pass_key[at] == rk
            prev_end[known] = self._pass_end_t[at[known]]
        new_pass[first_in_key] = r_lo[first_in_key] > prev_end[first_in_key] + gap
        road = (rk % G) // 2
        self.road_passes += np.bincount(road[new_pass], minlength=len(self.road_passes))
        # Stored state: each key's latest run end. Keys are sorted, so known keys are updated in place
        # and new ones inserted where they belong: no sort of the whole state per update.
        last_in_key = np.r_[rk[1:] != rk[:-1], True]
        k_new, e_new = rk[last_in_key], r_hi[last_in_key]
        at = np.searchsorted(self._pass_key, k_new)
        known = np.zeros(len(k_new), dtype=bool)
        inside = at < len(self._pass_key)
        known[inside] = self._pass_key[at[inside]] == k_new[inside]
        self._pass_end_t[at[known]] = np.maximum(self._pass_end_t[at[known]], e_new[known])
        self._pass_key = np.insert(self._pass_key, at[~known], k_new[~known])
        self._pass_end_t = np.insert(self._pass_end_t, at[~known], e_new[~known])
        self._dev_road[rk // G, road] = True

    # ---- queries -----------------------------------------------------------------------------------
    def roads(self) -> RoadState:
        """Per-road coverage now."""
        net, p = self.network, self.params
        cleared_piece = np.isfinite(self.piece_first_t_s)
        cl = np.bincount(net.piece_road, weights=net.piece_length_m * cleared_piece, minlength=net.n_roads)
        length = net.length_m
        frac = np.minimum(cl / length, 1.0)
        need = p.min_fraction * length
        cleared = cl >= need - 1e-9 * length
        # first_cleared: when the road's cleared length, pieces taken in order of first hit, reached need.
        o = np.lexsort((self.piece_first_t_s, net.piece_road))
        r = net.piece_road[o]
        cum = np.cumsum(net.piece_length_m[o])
        road_first_idx = np.searchsorted(r, np.arange(net.n_roads))
        before = np.r_[0.0, cum][road_first_idx]
        within = cum - before[r]
        reached = within >= need[r] - 1e-9 * length[r]
        rr, first_idx = np.unique(r[reached], return_index=True)
        first_t = np.full(net.n_roads, np.nan)
        first_t[rr] = self.piece_first_t_s[o][np.flatnonzero(reached)[first_idx]]
        last_t = np.full(net.n_roads, -np.inf)
        np.maximum.at(last_t, net.piece_road, self.piece_last_t_s)
        first_t = np.where(cleared, first_t, np.nan)
        last_t = np.where(cleared, last_t, np.nan)
        # Device names per road, in name order: one split of the (road, device) pairs, not a loop over them.
        by_name = np.argsort(np.array(self.device_names, dtype=object)) if self.device_names else np.zeros(0, int)
        road_idx, dev_rank = np.nonzero(self._dev_road[by_name].T)
        names = np.array(self.device_names, dtype=object)[by_name][dev_rank]
        bounds = np.searchsorted(road_idx, np.arange(net.n_roads + 1)).tolist()
        names_list = names.tolist()
        devices = [names_list[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        return RoadState(length, cl, frac, cleared, first_t, last_t, self.road_passes.copy(),
                         devices)

    def match_nearest(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest road to each point within buffer_m: (road index or -1, distance m or inf).

        Distances in float64, exact to the piece geometry, so the answers are comparable with any
        nearest-segment search; of equally near roads the lowest index wins.
        """
        x_m, y_m = np.asarray(x_m, dtype=np.float64), np.asarray(y_m, dtype=np.float64)
        net = self.network
        road = np.full(len(x_m), -1, dtype=np.int64)
        dist = np.full(len(x_m), np.inf)
        buf2 = self.params.buffer_m ** 2
        cells = self.grid.cells_of(x_m, y_m)
        step = 2 * _CHUNK
        for s0 in range(0, len(x_m), step):
            s1 = min(s0 + step, len(x_m))
            q, pos = self.grid.pairs(cells[s0:s1])
            if len(q) == 0:
                continue
            pc = np.take(self.grid.pieces, pos)
            C = np.take(self._piece_seg, pc, axis=0).T.copy()
            wx = np.take(x_m[s0:s1], q) - C[0]
            wy = np.take(y_m[s0:s1], q) - C[1]
            a = wx * C[2]
            a += wy * C[3]
            np.clip(a, 0.0, C[4], out=a)  # distance along the piece to the closest point
            wx -= a * C[2]
            wy -= a * C[3]
            d2 = wx * wx
            d2 += wy * wy
            best = np.full(s1 - s0, np.inf)
            np.minimum.at(best, q, d2)
            # First candidate (lowest piece index: pairs are in that order) at each query's minimum.
            at_min = np.flatnonzero((d2 == np.take(best, q)) & (d2 <= buf2))
            first = at_min[_changes(q[at_min])]
            road[s0 + q[first]] = net.piece_road[pc[first]]
            dist[s0 + q[first]] = np.sqrt(d2[first])
        return road, dist
