"""Irrigation advice for many fields at once: the entry point the API calls.

    advise(fields, history, weather, now_unix_s=...) -> list[Advice]

Inputs are column arrays, one row per field (FieldTable), fields x days (History, WeatherInput). The science
and the decisions are vectorised over fields (engine.compute); this module only wraps each row in an Advice.
Upland crops get irrigate now / in N days / not needed from the FAO-56 water balance; rice gets a target
depth band from the paddy rules table and level alerts. Missing inputs degrade the advice and say so.
Texts (Japanese default, English) come from messages.toml and are rendered when first read.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from backend.agronomy import paddy
from backend.agronomy.codes import Action, ReasonCode, Urgency
from backend.agronomy.engine import ACTIONS, REASONS, AdviceColumns, compute
from backend.agronomy.inputs import FieldTable, History, take_weather
from backend.agronomy.weather import WeatherInput

__all__ = ["Action", "Advice", "FieldTable", "History", "ReasonCode", "Urgency", "advise", "sort_by_urgency",
           "take_weather"]

MESSAGES_PATH = Path(__file__).with_name("messages.toml")
with open(MESSAGES_PATH, "rb") as _fh:
    _MESSAGES: dict[str, dict[str, dict[str, str]]] = tomllib.load(_fh)


class Advice(NamedTuple):
    """One field's advice: what, how urgent, how much, why, in Japanese and English.

    A light immutable row (built 10,000 at a time); `values` holds the figures the texts quote, and the texts
    are rendered from messages.toml when read.
    """

    field_id: str
    action: Action
    urgency: Urgency
    amount_mm: float  # net water to add (upland: to field capacity; paddy: to the middle of the band); 0 if none
    amount_l: float  # amount_mm over the field's area (1 mm on 1 m2 = 1 L)
    days: int | None  # upland: days until irrigating (0 = today)
    target_min_cm: float | None  # paddy depth band
    target_max_cm: float | None
    stage: str | None  # paddy stage id
    reasons: tuple[ReasonCode, ...]
    values: Mapping[str, Any]  # figures behind the text (read-only view into the engine's columns)

    @property
    def message_ja(self) -> str:
        """What to do and why, in Japanese."""
        return _render(self.action, self.reasons, self.values, "ja")

    @property
    def message_en(self) -> str:
        """What to do and why, in English."""
        return _render(self.action, self.reasons, self.values, "en")

    def sort_key(self) -> tuple[int, int, str]:
        """Most urgent first, then soonest, then by field id."""
        return (-int(self.urgency), self.days if self.days is not None else 0, self.field_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (enums as their values), texts included."""
        return {"field_id": self.field_id, "action": self.action.value, "urgency": int(self.urgency),
                "urgency_name": self.urgency.name.lower(), "amount_mm": self.amount_mm, "amount_l": self.amount_l,
                "days": self.days, "target_min_cm": self.target_min_cm, "target_max_cm": self.target_max_cm,
                "stage": self.stage, "reasons": [r.value for r in self.reasons], "message_ja": self.message_ja,
                "message_en": self.message_en}


class _Figures(Mapping[str, Any]):
    """One field's figures, read from per-key column lists shared by all fields (no per-field dict)."""

    __slots__ = ("_columns", "_i")

    def __init__(self, columns: dict[str, Any], i: int) -> None:
        self._columns = columns
        self._i = i

    def __getitem__(self, key: str) -> Any:
        return self._columns[key][self._i]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return repr(dict(self))


def sort_by_urgency(advice: list[Advice]) -> list[Advice]:
    """Advice sorted most urgent first (the order of `GET /api/v1/advice?site=`)."""
    return sorted(advice, key=Advice.sort_key)


_DRAINING = (ReasonCode.DRAIN_UNTIL_CRACKS, ReasonCode.FINAL_DRAINAGE)


def _render(action: Action, reasons: tuple[ReasonCode, ...], values: Mapping[str, Any], lang: str) -> str:
    # Holding a drained paddy means keeping it dry: "hold the level (target 0-0 cm)" says that badly.
    key = "hold_dry" if action is Action.HOLD and any(r in reasons for r in _DRAINING) else action.value
    parts = [_MESSAGES["action"][key][lang].format_map(values)]
    parts += [_MESSAGES["reason"][r.value][lang].format_map(values) for r in reasons]
    return ("" if lang == "ja" else " ").join(parts)


def _date_texts(days: np.ndarray) -> tuple[list[str], list[str]]:
    """Dates as '8月1日' and '1 Aug' ('' for NaT), formatting each distinct date once."""
    uniq, inverse = np.unique(days.astype("datetime64[D]").astype(np.int64), return_inverse=True)
    ja, en = [], []
    for u in uniq:
        day = np.array(u).astype("datetime64[D]")
        if np.isnat(day):
            ja.append("")
            en.append("")
        else:
            d = day.item()
            ja.append(f"{d.month}月{d.day}日")
            en.append(d.strftime("%d %b").lstrip("0"))
    inv = inverse.reshape(-1).tolist()
    return [ja[i] for i in inv], [en[i] for i in inv]


def rows(cols: AdviceColumns, fields: FieldTable, rules: paddy.PaddyRules) -> list[Advice]:
    """One Advice per field from the engine's columns (the only per-field Python in the pipeline)."""
    n = fields.n
    weights = np.left_shift(1, np.arange(len(REASONS), dtype=np.int64))
    codes = (cols.reasons.astype(np.int64) * weights).sum(axis=1)
    uniq, inverse = np.unique(codes, return_inverse=True)
    reason_sets = [tuple(r for j, r in enumerate(REASONS) if (int(c) >> j) & 1) for c in uniq]
    reasons = [reason_sets[i] for i in inverse.reshape(-1).tolist()]
    stage_ids = [s.id for s in rules.stages]
    stage_ja = [s.name_ja for s in rules.stages]
    stage_en = [s.name_en for s in rules.stages]
    # figures stay numpy columns (read one element per rendered text); only the Advice fields become Python values
    columns: dict[str, Any] = dict(cols.numbers)
    for name, dates in cols.dates.items():
        columns[name + "_ja"], columns[name + "_en"] = _date_texts(dates)
    stages = cols.stage.tolist()
    columns["stage_ja"] = [stage_ja[k] if k >= 0 else "" for k in stages]
    columns["stage_en"] = [stage_en[k] if k >= 0 else "" for k in stages]
    days = [None if d < 0 else d for d in cols.days.tolist()]
    columns["days"] = days
    ids = [str(x) for x in fields.field_id]
    actions = [ACTIONS[a] for a in cols.action.tolist()]
    urg_of = {u.value: u for u in Urgency}
    urgencies = [urg_of[u] for u in cols.urgency.tolist()]
    amount_mm = cols.amount_mm.tolist()
    amount_l = cols.numbers["amount_l"].tolist()
    lo = [None if x != x else x for x in cols.target_min_cm.tolist()]  # NaN -> None
    hi = [None if x != x else x for x in cols.target_max_cm.tolist()]
    stage_id_of = [stage_ids[k] if k >= 0 else None for k in stages]
    out = [Advice(ids[i], actions[i], urgencies[i], amount_mm[i], amount_l[i], days[i], lo[i], hi[i],
                  stage_id_of[i], reasons[i], _Figures(columns, i)) for i in range(n)]
    return out


_RULES: paddy.PaddyRules | None = None


def _default_rules() -> paddy.PaddyRules:
    global _RULES
    if _RULES is None:
        _RULES = paddy.load_rules()
    return _RULES


def advise(fields: FieldTable, history: History, weather: WeatherInput, *, now_unix_s: float,
           rules: paddy.PaddyRules | None = None) -> list[Advice]:
    """Advice for every field (in the table's order) at time now_unix_s (UTC); see the module docstring."""
    rules = rules or _default_rules()
    return rows(compute(fields, history, weather, now_unix_s, rules), fields, rules)
