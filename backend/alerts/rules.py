"""The rule interface: a rule looks at the registry and history and says which conditions hold now.

A rule returns an Evaluation: the subjects it could check (`checked`) and the conditions active
among them. The engine raises an alert for a newly active (rule, subject) and clears an open one
only when its subject was checked and is no longer active, so a rule that cannot see its data (InfluxDB
down, a sensor gone quiet) never clears an alert by accident.

Other parts add rules by listing a module in `[api] plugins` with `alert_rules(settings) -> list[Rule]`.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from ..fleet import DeviceHealth, fleet_health
from ..history import History
from ..registry import Registry
from ..settings import BackendSettings


class Severity(str, Enum):
    """How urgent: critical wants someone out now (crop or road at risk), warning within the day."""

    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Condition:
    """A condition that holds now for one subject (a field, device, vehicle...), with its message."""

    subject: str
    site: str
    severity: Severity
    message_ja: str
    message_en: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Evaluation:
    """What one rule found: every subject it checked, and the active conditions among them."""

    checked: set[str] = field(default_factory=set)
    active: list[Condition] = field(default_factory=list)
    # Every subject the rule still watches (None: not stated). An open alert whose subject left it
    # (field deleted, sensor removed from the registry) is cleared instead of staying open for ever.
    universe: set[str] | None = None


@dataclass
class RuleContext:
    """What rules may look at for one evaluation at `now_ms` (UTC ms)."""

    registry: Registry
    history: History
    settings: BackendSettings
    now_ms: int
    is_open: Callable[[str, str], bool]  # (rule, subject) -> an alert is open
    _fleet: list[DeviceHealth] | None = None

    async def fleet(self) -> list[DeviceHealth]:
        """Fleet health at now_ms, computed once per evaluation and shared by the rules."""
        if self._fleet is None:
            self._fleet = await fleet_health(self.registry, self.history, self.settings.fleet, now_ms=self.now_ms)
        return self._fleet


class Rule(Protocol):
    """An alert rule: a stable `name` (the dedup key with the subject) and `evaluate`.

    A rule may also have `before`: names of rules that read its alerts through `is_open`, so the
    engine evaluates it ahead of them and they see what it found in the same tick."""

    name: str

    def evaluate(self, ctx: RuleContext) -> Awaitable[Evaluation]:
        """Check the rule at ctx.now_ms."""
        ...


def in_evaluation_order(rules: list[Rule]) -> list[Rule]:
    """The rules as given, except that each one with `before` moves ahead of the first rule it names."""
    ordered = list(rules)
    for rule in rules:
        later = [i for i, r in enumerate(ordered) if r.name in getattr(rule, "before", ())]
        at = ordered.index(rule)
        if later and min(later) < at:
            ordered.insert(min(later), ordered.pop(at))
    return ordered
