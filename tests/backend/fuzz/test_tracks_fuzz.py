"""Fuzzing the plow tracks CSV reader (backend/snow/tracks.py): no content makes it raise, and every
non-blank line after the header is either a fix or a bad line with its number."""
from __future__ import annotations

import math

import pytest
from fuzzing import FUZZ
from hypothesis import given
from hypothesis import strategies as st

tracks = pytest.importorskip("backend.snow.tracks", reason="the coverage CSV reader is not in this branch yet")

HEADER = ",".join(tracks.COLUMNS)
cell = st.one_of(st.sampled_from(["", "0", "1", "true", "FALSE", "nan", "inf", "-1", "1e999", "40.8", "140.4", "400",
                                  "1795600000", "2026-01-05T05:00:00", "2026-01-05T05:00:00+09:00", "p-01", '"', '""',
                                  "\x00", "\r", " ", "\u3000", "１２"]),
                 st.text(max_size=12))
row = st.lists(cell, min_size=0, max_size=9).map(lambda cells: ",".join(cells))


def _check(text: str) -> None:
    out = tracks.parse_tracks_text(text)
    assert len(out.line) == len(out.t_s) == len(out.lat_deg) == len(out.code)
    for la, lo, t in zip(out.lat_deg.tolist(), out.lon_deg.tolist(), out.t_s.tolist()):
        assert -90 <= la <= 90 and -180 <= lo <= 180 and math.isfinite(t)
    if out.header_ok:
        numbered = {int(n) for n in out.line.tolist()} | {b.line for b in out.bad}
        lines = text.split("\n")
        body = {n for n, raw in enumerate(lines, 1) if raw.rstrip("\r").strip()}
        header_line = min(body)
        assert numbered == body - {header_line}, "every line after the header is a fix or a bad line"


@FUZZ
@given(st.lists(row, max_size=12))
def test_csv_like_files_never_raise(rows: list[str]) -> None:
    _check("\n".join([HEADER, *rows]))


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    _check(text)
