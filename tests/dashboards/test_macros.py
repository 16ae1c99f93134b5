"""The documented stand-in for Grafana's InfluxQL interpolation used to run panel queries without Grafana."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboards.macros import UnresolvedVariable, format_duration, interval_ms, regex_escape, render

H_MS = 3_600_000


@pytest.mark.parametrize(("range_ms", "points", "min_interval", "expected"), [
    (48 * H_MS, 1000, None, "2m"),      # 172.8 s rounds to 2 min
    (7 * 24 * H_MS, 1000, None, "10m"),  # 604.8 s rounds to 10 min
    (6 * H_MS, 1000, "1m", "1m"),        # 21.6 s would be 20 s; the data source's 1 min floor wins
    (48 * H_MS, 1000, "1h", "1h"),       # a panel's min interval (hourly rain bars)
], ids=["two days on a 1000 px panel group by 2 minutes", "a week groups by 10 minutes",
        "the data source minimum interval raises short steps", "a panel minimum interval wins over the range"])
def test_interval_follows_grafana_rounding(range_ms: int, points: int, min_interval: str | None, expected: str) -> None:
    """$__interval as Grafana computes it."""
    assert format_duration(interval_ms(0, range_ms, points, min_interval)) == expected


def test_render_substitutes_time_filter_interval_and_variables() -> None:
    """$timeFilter in ms, $__interval, a single-value variable raw, a multi-value one as an escaped (a|b)."""
    q = 'SELECT mean("x") FROM "m" WHERE "site" =~ /^$site$/ AND "field_id" =~ /^${field}$/ AND $timeFilter ' \
        'GROUP BY time($__interval)'
    out = render(q, variables={"site": "goshogawara", "field": ["paddy-01", "a.b"]}, from_ms=1000, to_ms=2_001_000)
    assert out == ('SELECT mean("x") FROM "m" WHERE "site" =~ /^goshogawara$/ AND "field_id" =~ /^(paddy-01|a\\.b)$/ '
                   'AND time >= 1000ms and time <= 2001000ms GROUP BY time(2s)')


def test_one_selected_value_of_a_multi_variable_is_escaped_without_parentheses() -> None:
    """A repeated row gets one value: Grafana inserts it alone."""
    assert render("/^[[field]]$/", variables={"field": ["f+1"]}, from_ms=0, to_ms=1) == "/^f\\+1$/"


def test_an_undefined_variable_is_an_error_naming_it() -> None:
    """A typo in a variable name fails loudly instead of reaching InfluxDB as text."""
    with pytest.raises(UnresolvedVariable, match=r"\$feild"):
        render("SELECT 1 FROM m WHERE f =~ /^$feild$/", variables={"field": "x"}, from_ms=0, to_ms=1)


@given(st.text(min_size=1, max_size=40))
def test_an_escaped_value_matches_itself_and_only_itself(value: str) -> None:
    """regex_escape makes any tag value a literal inside /^...$/."""
    assert re.fullmatch(regex_escape(value), value)
    assert not re.fullmatch(regex_escape(value), value + "x")
