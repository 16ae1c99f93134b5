"""The alert engine: evaluate every rule, raise what is new, clear what recovered, deliver the outbox.

Run on a schedule by the app (an asyncio task in its lifespan, every `alerts.interval_s`), or once
by tests and tools with an explicit `now_ms`.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..history import History
from ..registry import Registry
from ..settings import BackendSettings
from .rules import Rule, RuleContext, in_evaluation_order
from .senders import DeliveryError, Sender
from .store import AlertStore

log = logging.getLogger("yukimizu.alerts")


@dataclass
class TickReport:
    """What one evaluation did: alerts raised and cleared, rules that failed, deliveries made and failed."""

    raised: list[tuple[str, str]] = field(default_factory=list)
    cleared: list[tuple[str, str]] = field(default_factory=list)
    rule_errors: dict[str, str] = field(default_factory=dict)
    delivered: int = 0
    delivery_errors: list[str] = field(default_factory=list)


class AlertEngine:
    """Rules + store + senders."""

    def __init__(self, settings: BackendSettings, registry: Registry, history: History, store: AlertStore,
                 rules: Sequence[Rule], senders: Sequence[Sender]):
        self.settings = settings
        self.registry = registry
        self.history = history
        self.store = store
        self.rules = in_evaluation_order(list(rules))
        self.senders = {s.name: s for s in senders}
        self.last_tick: TickReport | None = None
        self._lock = asyncio.Lock()

    async def tick(self, now_ms: int | None = None) -> TickReport:
        """Evaluate every rule at now_ms (default: the clock), update alerts, then deliver pending notifications."""
        async with self._lock:
            now_ms = int(time.time() * 1000) if now_ms is None else now_ms
            report = TickReport()
            open_all = self.store.open_alerts()
            # What the rules evaluated so far in this tick found: a later rule may depend on it (the water
            # level's upper bound gives way to deep water while cold damage threatens, from the first tick).
            found: set[tuple[str, str]] = set()
            ctx = RuleContext(self.registry, self.history, self.settings, now_ms,
                              is_open=lambda rule, subject: (rule, subject) in open_all or (rule, subject) in found)
            senders = list(self.senders)
            for rule in self.rules:
                try:
                    ev = await rule.evaluate(ctx)
                except Exception as e:  # one broken rule or an InfluxDB outage must not stop the others
                    report.rule_errors[rule.name] = f"{type(e).__name__}: {e}"
                    log.warning("alert rule %s failed: %s", rule.name, e)
                    continue
                active = {c.subject: c for c in ev.active}
                found.update((rule.name, subject) for subject in active)
                for subject, c in active.items():
                    if (rule.name, subject) not in open_all:
                        self.store.raise_alert(rule.name, c, now_ms, senders)
                        report.raised.append((rule.name, subject))
                for (r, subject), row in open_all.items():
                    gone = ev.universe is not None and subject not in ev.universe
                    if r == rule.name and (gone or subject in ev.checked) and subject not in active:
                        self.store.clear_alert(row["id"], now_ms, senders)
                        report.cleared.append((rule.name, subject))
            await self._deliver(report, now_ms)
            self.last_tick = report
            return report

    async def _deliver(self, report: TickReport, now_ms: int) -> None:
        max_attempts = self.settings.alerts.max_delivery_attempts
        blocked: set[tuple[str, int]] = set()  # keep order per (sender, alert): no 'cleared' before 'raised'
        for d in self.store.pending():
            sender = self.senders.get(d["sender"])
            key = (d["sender"], d["id"])
            if sender is None or key in blocked:
                if sender is None:
                    self.store.mark(d["delivery_id"], False, f"sender {d['sender']} is no longer configured",
                                    max_attempts, now_ms)
                continue
            try:
                await sender.send(d["event"], d, d["delivery_id"])
            except DeliveryError as e:
                blocked.add(key)
                self.store.mark(d["delivery_id"], False, str(e), max_attempts, now_ms)
                report.delivery_errors.append(str(e))
                log.warning("alert delivery %s via %s failed: %s", d["delivery_id"], d["sender"], e)
                continue
            self.store.mark(d["delivery_id"], True, "", max_attempts, now_ms)
            report.delivered += 1

    async def run(self, stop: asyncio.Event) -> None:
        """Tick every alerts.interval_s until `stop` is set (the app's lifespan task)."""
        interval = self.settings.alerts.interval_s
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # keep the schedule alive; the error is in the log and /healthz
                log.exception("alert evaluation failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
