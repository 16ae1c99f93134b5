"""Grafana's InfluxQL interpolation, the part our dashboards use, so their queries can run without Grafana.

Grafana rewrites a raw InfluxQL query before sending it to InfluxDB. What this module reproduces
(Grafana 10/11 InfluxDB data source, InfluxQL mode):

- `$timeFilter` -> `time >= <from>ms and time <= <to>ms` (epoch milliseconds of the panel's range).
- `$__interval` -> the GROUP BY step: (to - from) / max data points, raised to the panel's or data
  source's minimum interval, rounded to Grafana's nice steps (`round_interval`). `$__interval_ms`
  is the same in milliseconds. `$interval` is the legacy spelling of `$__interval`.
- `$__from` / `$__to` -> epoch milliseconds.
- Template variables `$name`, `${name}`, `[[name]]`: the value of a single-value variable (given
  here as a str) is inserted as it is; the selection of a multi-value or "All" variable (given as
  a list) is regex-escaped, one value alone or several as `(a|b)`, as Grafana's
  `interpolateQueryExpr` does. Our queries use multi-value variables only inside `/^...$/`.

Anything still looking like a variable afterwards raises UnresolvedVariable naming it, so a query
that mentions an undefined variable fails the tests instead of reaching InfluxDB as text.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# Grafana's rangeutil.roundInterval: (upper bound of the raw interval in ms, rounded interval in ms).
_ROUND_STEPS_MS: tuple[tuple[int, int], ...] = (
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1_500, 1_000), (3_500, 2_000),
    (7_500, 5_000), (12_500, 10_000), (17_500, 15_000), (25_000, 20_000), (45_000, 30_000),
    (90_000, 60_000), (210_000, 120_000), (450_000, 300_000), (750_000, 600_000), (1_050_000, 900_000),
    (1_500_000, 1_200_000), (2_700_000, 1_800_000), (5_400_000, 3_600_000), (9_000_000, 7_200_000),
    (16_200_000, 10_800_000), (27_000_000, 21_600_000), (43_200_000, 43_200_000),
)
_DAY_MS = 86_400_000
_UNITS_MS = (("d", _DAY_MS), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1))
_REGEX_SPECIAL = set("\\^$*+?.()|{}[]/")
_VAR = re.compile(r"\$\{(\w+)\}|\[\[(\w+)\]\]|\$(\w+)")


class UnresolvedVariable(KeyError):
    """A query names a template variable or macro that was not given."""


def round_interval(raw_ms: float) -> int:
    """The interval Grafana would pick for a raw interval, ms (rangeutil.roundInterval)."""
    for upper, rounded in _ROUND_STEPS_MS:
        if raw_ms < upper:
            return rounded
    return max(_DAY_MS, int(raw_ms // _DAY_MS) * _DAY_MS)


def format_duration(ms: int) -> str:
    """An InfluxQL duration literal for a whole number of ms: 60000 -> '1m'."""
    for suffix, size in _UNITS_MS:
        if ms % size == 0:
            return f"{ms // size}{suffix}"
    return f"{ms}ms"


def parse_duration_ms(text: str) -> int:
    """A Grafana duration ('10s', '5m', '12h', '7d') in ms."""
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d|w)", text.strip())
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    size = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": _DAY_MS, "w": 7 * _DAY_MS}[m.group(2)]
    return int(m.group(1)) * size


def regex_escape(value: str) -> str:
    """Escape a value for use inside an InfluxQL /regex/ (Grafana's influxSpecialRegexEscape)."""
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in value)


def interval_ms(from_ms: int, to_ms: int, max_data_points: int = 1000, min_interval: str | None = None) -> int:
    """The `$__interval` Grafana computes for a range, in ms."""
    raw = (to_ms - from_ms) / max(1, max_data_points)
    if min_interval:
        raw = max(raw, parse_duration_ms(min_interval))
    return round_interval(raw)


def render(query: str, *, variables: Mapping[str, str | Sequence[str]], from_ms: int, to_ms: int,
           max_data_points: int = 1000, min_interval: str | None = None) -> str:
    """The query as Grafana would send it to InfluxDB for this range and these variable values."""
    step_ms = interval_ms(from_ms, to_ms, max_data_points, min_interval)
    macros = {
        "timeFilter": f"time >= {from_ms}ms and time <= {to_ms}ms",
        "__interval": format_duration(step_ms),
        "interval": format_duration(step_ms),
        "__interval_ms": str(step_ms),
        "__from": str(from_ms),
        "__to": str(to_ms),
    }

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name in macros:
            return macros[name]
        if name not in variables:
            raise UnresolvedVariable(f"query uses ${name}, which is neither a Grafana macro nor a given variable: "
                                     f"{query!r}")
        v = variables[name]
        if isinstance(v, str):
            return v
        escaped = [regex_escape(x) for x in v]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"

    # `$` inside a regex anchor (`/^...$/`) is followed by `/`, never by a word character, so the
    # variable pattern cannot mistake it for a variable.
    return _VAR.sub(value, query)
