"""The part of Grafana's server-side expressions our alert rules use: `reduce` (last) and `math`.

- reduce last: each series (one per tag set) becomes its last non-null value, labelled by its tags.
- math: `$X` refers to a reduced result; numbers of two inputs are paired when their label sets are
  equal or one is a subset of the other (Grafana's SSE union rule); `&&`, `||` and comparisons give
  1 or 0. A pair missing from any input yields no result (no alert instance).
"""
from __future__ import annotations

import re
from typing import Any

Labels = frozenset[tuple[str, str]]


def reduce_last(series: list[dict[str, Any]]) -> dict[Labels, float]:
    """Last non-null value of each series' single value column, by tag set."""
    out: dict[Labels, float] = {}
    for s in series:
        assert len(s["columns"]) == 2, f"an alert query must return one value column: {s['columns']}"
        values = [v[1] for v in s["values"] if v[1] is not None]
        if values:
            out[frozenset((s.get("tags") or {}).items())] = float(values[-1])
    return out


def math(expression: str, inputs: dict[str, dict[Labels, float]]) -> dict[Labels, float]:
    """Evaluate an SSE math expression over reduced inputs; one result per matched label set."""
    refs = sorted(set(re.findall(r"\$(\w+)", expression)))
    driver = max(refs, key=lambda r: max((len(k) for k in inputs[r]), default=0))
    out: dict[Labels, float] = {}
    for labels in inputs[driver]:
        values: dict[str, float] = {}
        for r in refs:
            match = [v for k, v in inputs[r].items() if k <= labels or labels <= k]
            if len(match) != 1:
                break
            values[r] = match[0]
        else:
            py = re.sub(r"\$(\w+)", lambda m: repr(values[m.group(1)]), expression)
            py = py.replace("&&", " and ").replace("||", " or ")
            assert re.fullmatch(r"[\d.\s<>=!()a-z-]*", py), py  # numbers, comparisons, and/or only
            out[labels] = float(bool(eval(py, {"__builtins__": {}})))  # noqa: S307 (checked above)
    return out
