"""Paddy alerts from the advice engine, as alert rules (backend/alerts/rules.py): deduplicated and delivered
by the alert engine like the built-in ones.

- `paddy_low`: the level is below the stage's band (the advice says fill); only for paddies the built-in
  `water_level` rule cannot judge (no stage or band set in the registry, or no water sensor registered)
- `paddy_overflow`: the level is at the outlet (the field's level_max_cm); likewise only where `water_level`
  has no upper bound to judge (no water sensor registered), since the outlet height is its bound
- `paddy_leak`: the level falls faster than ET and percolation explain (leak or open outlet)
- `paddy_cold_night`: a cold night is forecast (or trended) in a stage that needs deep water then; not while
  the built-in `cold_damage` (a cold week) already asks that paddy for deep water

The four share one advice computation per evaluation. A subject counts as checked only when the advice could
judge it (fresh level readings; for cold nights a station or a forecast), so missing data never clears an alert.
"""
from __future__ import annotations

from dataclasses import dataclass

from backend.agronomy import paddy

from ..alerts.builtin import ColdDamage, judged_by_level_rule
from ..alerts.rules import Condition, Evaluation, Rule, RuleContext, Severity
from ..settings import BackendSettings
from .service import Advisor, FieldAdvice

_UNJUDGED = ("no_data", "off_season")
_LEVEL_SIDE = {"low": "low", "overflow": "high"}  # conditions the built-in water_level rule also alerts


class _PaddyAdvice:
    """Advice for every paddy at one evaluation time, computed once for all four rules."""

    def __init__(self) -> None:
        self._key: tuple[int, int] | None = None
        self._rows: list[FieldAdvice] = []
        self._rules = paddy.load_rules()  # read the stage table once, not at every evaluation

    async def get(self, ctx: RuleContext) -> list[FieldAdvice]:
        key = (id(ctx), ctx.now_ms)
        if key != self._key:
            advisor = Advisor(ctx.settings, ctx.registry, ctx.history, rules=self._rules)
            paddies = ctx.registry.list("fields", crop="paddy")
            rows: list[FieldAdvice] = []
            for site in sorted({f["site"] for f in paddies}):
                report = await advisor.for_rows(site, [f for f in paddies if f["site"] == site], ctx.now_ms)
                rows.extend(report.fields)
            self._rows, self._key = rows, key
        return self._rows


@dataclass
class PaddyRule:
    """One paddy condition read from the field's advice."""

    name: str
    severity: Severity
    shared: _PaddyAdvice
    what: str  # low | overflow | leak | cold_night
    before: tuple[str, ...] = ()

    def _judged(self, f: FieldAdvice) -> bool:
        if self.what == "cold_night":
            return f.stage is not None and "no_cold_check" not in f.reasons
        return f.action not in _UNJUDGED

    def _active(self, f: FieldAdvice) -> bool:
        if self.what == "low":
            return f.action == "fill"
        if self.what == "overflow":
            return "overflow" in f.reasons
        if self.what == "leak":
            return f.action == "check_leak"
        return "cold_night_forecast" in f.reasons or "cold_night_trend" in f.reasons

    async def evaluate(self, ctx: RuleContext) -> Evaluation:
        """Every paddy the advice could judge is checked; those in the condition are active."""
        rows = await self.shared.get(ctx)
        if self.what in _LEVEL_SIDE:
            # Where the built-in level rule has that bound it says "let water in" or "check the outlet"
            # for the same level: one message per paddy, so this rule keeps to the paddies it cannot judge.
            theirs = judged_by_level_rule(ctx.registry, _LEVEL_SIDE[self.what])
            rows = [f for f in rows if f.field_id not in theirs]
        ev = Evaluation(universe={f.field_id for f in rows})
        for f in rows:
            if not self._judged(f):
                continue
            if self.what == "cold_night" and ctx.is_open(ColdDamage.name, f.field_id):
                # The built-in cold alert (a cold week) already asks this paddy for deep water: one message.
                # Left unchecked, an alert raised before it neither repeats nor clears while that one lasts.
                continue
            ev.checked.add(f.field_id)
            if self._active(f):
                ev.active.append(Condition(
                    f.field_id, f.site, self.severity, f"{f.name}: {f.message_ja}", f"{f.name}: {f.message_en}",
                    {"field_id": f.field_id, "action": f.action, "stage": f.stage, "level_cm": f.figures.get("level_cm"),
                     "target_min_cm": f.target_min_cm, "target_max_cm": f.target_max_cm,
                     "fall_cm_h": f.figures.get("fall_cm_h"), "coldest_night_c": f.figures.get("coldest_night_c")}))
        return ev


def paddy_rules(settings: BackendSettings) -> list[Rule]:
    """The four paddy rules, sharing one advice computation per evaluation."""
    shared = _PaddyAdvice()
    return [PaddyRule("paddy_low", Severity.WARNING, shared, "low"),
            PaddyRule("paddy_overflow", Severity.WARNING, shared, "overflow"),
            PaddyRule("paddy_leak", Severity.CRITICAL, shared, "leak"),
            # After cold_damage (it defers to it), before water_level (which reads it).
            PaddyRule("paddy_cold_night", Severity.CRITICAL, shared, "cold_night", before=("water_level",))]
