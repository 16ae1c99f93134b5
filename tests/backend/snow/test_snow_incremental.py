"""Incremental updates give the same state as one batch of the same fixes, however they are split."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.snow.coverage import CoverageEngine, CoverageParams
from snow_builders import T0_S, drive, join, network, road

NET = network(
    road("main", (0, 0), (600, 0), route="A"),
    road("parallel", (0, 22), (600, 22), route="A"),
    road("cross", (300, -300), (300, 300), route="B"),
    road("bend", (0, -150), (300, -150), (450, -60), route="B"),
)


def _night() -> dict[str, np.ndarray]:
    a = drive("p1", [(-50, 0), (650, 0), (650, -150), (-50, -150)], 40, noise_m=5.0, seed=1)
    a["blade"][200:230] = False  # blade raised for 30 s
    b = drive("p2", [(300, -350), (300, 350)], 30, t0_s=T0_S + 20, noise_m=5.0, seed=2)
    b = {k: np.delete(v, np.s_[30:55]) for k, v in b.items()}  # a 25 s hole: joined
    c = drive("p3", [(650, 0), (-50, 0)], 45, t0_s=T0_S + 40, every_s=2.0, seed=3)
    c = {k: np.delete(v, np.s_[10:60]) for k, v in c.items()}  # a 100 s hole: not joined
    c["heading"] = np.full(len(c["t_s"]), 270.0)  # this logger reports its heading
    for d in (a, b):
        d["heading"] = np.full(len(d["t_s"]), np.nan)
    return join(a, b, c)


NIGHT = _night()
N = len(NIGHT["t_s"])


def _state(eng: CoverageEngine) -> tuple:
    r = eng.roads()
    def plain(a: np.ndarray) -> list:
        return [None if np.isnan(v) else float(v) for v in a]  # NaN != NaN would hide equality

    return (eng.piece_first_t_s.tolist(), eng.piece_last_t_s.tolist(), r.passes.tolist(), r.devices,
            r.cleared.tolist(), plain(r.first_cleared_t_s), plain(r.last_cleared_t_s))


def _feed(eng: CoverageEngine, idx: np.ndarray) -> None:
    f = NIGHT
    eng.update(f["device"][idx], f["t_s"][idx], f["lat"][idx], f["lon"][idx], f["blade"][idx], f["heading"][idx])


BATCH = CoverageEngine(NET, CoverageParams())
_feed(BATCH, np.arange(N))
EXPECTED = _state(BATCH)


def test_the_batch_clears_what_was_driven():
    r = BATCH.roads()
    assert {NET.ids[k] for k in np.flatnonzero(r.cleared)} == {"main", "cross"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.integers(min_value=1, max_value=N - 1), max_size=12, unique=True),
       seed=st.integers(0, 2**16))
def test_incremental_equals_batch(cuts, seed):
    """Fixes in time order cut anywhere into batches, each batch shuffled, give the batch's state."""
    rng = np.random.default_rng(seed)
    eng = CoverageEngine(NET, CoverageParams())
    bounds = [0, *sorted(cuts), N]
    for a, b in zip(bounds[:-1], bounds[1:]):
        _feed(eng, rng.permutation(np.arange(a, b)))
    assert _state(eng) == EXPECTED


def test_one_fix_at_a_time_equals_batch():
    eng = CoverageEngine(NET, CoverageParams())
    for k in range(0, N, 7):
        _feed(eng, np.arange(k, min(k + 7, N)))
    assert _state(eng) == EXPECTED


def test_late_and_repeated_fixes_are_dropped_and_counted():
    eng = CoverageEngine(NET, CoverageParams())
    _feed(eng, np.arange(N // 2, N))
    stats = eng.update(NIGHT["device"][:5], NIGHT["t_s"][:5], NIGHT["lat"][:5], NIGHT["lon"][:5], NIGHT["blade"][:5])
    assert stats.used == 0 and stats.late_or_duplicate == 5


@pytest.mark.parametrize("options", [{"chunk_segments": 16}, {"slice_fixes": 50}, {"slice_fixes": 1},
                                     {"slice_fixes": 60, "chunk_segments": 8}],
                         ids=["small chunks on two threads", "a long update in slices of 50 fixes",
                              "a long update in slices of one fix",
                              "slices matched on two threads while the next slice is prepared"])
def test_internal_splitting_does_not_change_the_answer(options):
    eng = CoverageEngine(NET, CoverageParams(), **options)
    _feed(eng, np.random.default_rng(5).permutation(N))  # in any order: slices are cut in time order
    assert _state(eng) == EXPECTED
