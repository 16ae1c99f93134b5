"""`[api] plugins = ["backend.advisor.plugin"]`: the paddy alerts of the advice engine (too low, overflow, leak,
cold night ahead) join the alert rules. The advice endpoints themselves are always served."""
from __future__ import annotations

from ..alerts.rules import Rule
from ..settings import BackendSettings
from .rules import paddy_rules


def alert_rules(settings: BackendSettings) -> list[Rule]:
    """paddy_low, paddy_overflow, paddy_leak, paddy_cold_night."""
    return paddy_rules(settings)
