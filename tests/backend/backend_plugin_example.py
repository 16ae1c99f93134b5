"""A plugin as the agronomy engine would write one: a router and an alert rule, named in [api] plugins."""
from __future__ import annotations

from fastapi import APIRouter

from backend.access import ADMIN
from backend.alerts import Condition, Evaluation, RuleContext
from backend.alerts.rules import Severity
from backend.deps import RegistryDep

router = APIRouter(prefix="/api/v1/example-plugin", tags=["example"])
access_rules = {"GET /api/v1/example-plugin/paddies": ADMIN}  # every route needs a rule (backend/access.py)


@router.get("/paddies")
def paddies(registry: RegistryDep) -> dict:
    """Paddy ids, read through the backend's own registry dependency."""
    return {"paddies": [f["id"] for f in registry.list("fields", crop="paddy")]}


class StageNotSet:
    """Paddies whose farmer has not set a growth stage cannot get stage advice."""

    name = "example_stage_not_set"

    async def evaluate(self, ctx: RuleContext) -> Evaluation:
        ev = Evaluation()
        for f in ctx.registry.list("fields", crop="paddy"):
            ev.checked.add(f["id"])
            if not f["growth_stage"]:
                ev.active.append(Condition(f["id"], f["site"], Severity.WARNING, "生育段階を設定してください",
                                           "Set the growth stage"))
        return ev


def alert_rules(settings: object) -> list:
    return [StageNotSet()]
