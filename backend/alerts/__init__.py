"""Alerts: pluggable rules evaluated on a schedule, deduplicated, stored with history, sent to webhooks and LINE."""
from .engine import AlertEngine
from .rules import Condition, Evaluation, Rule, RuleContext
from .senders import LineSender, Sender, WebhookSender

__all__ = ["AlertEngine", "Condition", "Evaluation", "LineSender", "Rule", "RuleContext", "Sender", "WebhookSender"]
