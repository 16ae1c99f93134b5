"""Who may call which route: one line per route in RULES, checked by backend/guard.py before the endpoint runs.

A rule names the roles allowed besides `admin` (who may call every route that has a rule), whether
the route is open to callers without a token (rate limited per client address), and for farmers the
path or query parameter that names a field which must be one of the token's fields. A route that has
no rule is refused with 403 for everyone (fail closed), and tests/backend/test_access.py fails until
the rule is added. Plugins may add rules with a module-level `access_rules` dict of the same shape.

Key: "METHOD /path" exactly as FastAPI declares it (`route.path`; mounts by their prefix; WebSockets as
"WS /path"). HEAD uses GET's rule.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .tokens import Principal, Role

# A check gets the caller and the request's path and query parameters and returns why the request
# is refused, or None when it may go on.
Check = Callable[[Principal, Mapping[str, Any]], "str | None"]


@dataclass(frozen=True)
class Rule:
    """Roles allowed besides admin; `anonymous`: no token needed; `own_field`: farmers only for their fields."""

    roles: frozenset[Role] = frozenset()
    anonymous: bool = False
    own_field: str | None = None  # path or query parameter naming a field the farmer's token must list
    check: Check | None = None  # further conditions (e.g. which measurements a role may read)

    def refusal(self, who: Principal, params: Mapping[str, Any]) -> str | None:
        """Why `who` may not make this request (None: allowed). Assumes a token was checked, or anonymous is fine."""
        if who.role is Role.ADMIN:
            return None
        if who.anonymous or who.role is None:
            return None if self.anonymous else "a token is required"
        if who.role not in self.roles and not self.anonymous:
            return f"a {who.role.value} token may not use this route"
        if who.role is Role.FARMER and self.own_field:
            fid = params.get(self.own_field)
            if fid is None:
                return f"a farmer token must name one of its fields with {self.own_field}"
            if fid not in who.field_ids:
                return f"field {fid!r} is not one of this token's fields"
        if self.check:
            return self.check(who, params)
        return None


def allow(*roles: Role, own_field: str | None = None, check: Check | None = None) -> Rule:
    """A rule for token holders with one of `roles` (admin always)."""
    return Rule(frozenset(roles), own_field=own_field, check=check)


OPEN = Rule(frozenset(Role), anonymous=True)  # anyone; callers without a token are rate limited per address
ADMIN = Rule()


def _history_check(who: Principal, params: Mapping[str, Any]) -> str | None:
    # The road division reads plows and weather, not farmers' soil and water.
    m = str(params.get("measurement", ""))
    if who.role is Role.ROAD and not m.startswith(("plow", "weather")):
        return f"a road token may read plow and weather history, not {m}"
    return None


def registry_rules(table: str, read: tuple[Role, ...], *, key: str = "item_id",
                   farmer_own: bool = False) -> dict[str, Rule]:
    """The five CRUD routes of one registry table: reads for `read` roles, writes for admin.

    With farmer_own, farmers may read the list (the endpoint filters it to their fields), read one of
    theirs and change one of theirs (e.g. the growth stage), but not create or delete.
    """
    one = allow(*read, own_field=key if farmer_own else None)
    return {
        f"GET /api/v1/{table}": allow(*read),
        f"GET /api/v1/{table}/{{{key}}}": one,
        f"POST /api/v1/{table}": ADMIN,
        f"PATCH /api/v1/{table}/{{{key}}}": allow(Role.FARMER, own_field=key) if farmer_own else ADMIN,
        f"DELETE /api/v1/{table}/{{{key}}}": ADMIN,
    }


F, R = Role.FARMER, Role.ROAD

RULES: dict[str, Rule] = {
    # Open: health, the web pages (HTML and scripts only; their data needs a token), the API description.
    "GET /healthz": OPEN,
    "GET /": OPEN,
    "GET /fields": OPEN,
    "GET /fleet": OPEN,
    "GET /static": OPEN,
    "GET /openapi.json": OPEN,
    "GET /docs": OPEN,
    "GET /docs/oauth2-redirect": OPEN,
    "GET /redoc": OPEN,
    # Registry.
    **registry_rules("sites", (F, R)),
    **registry_rules("fields", (F,), farmer_own=True),
    **registry_rules("routes", (R,)),
    **registry_rules("roads", (R,)),
    **registry_rules("vehicles", (R,)),
    **registry_rules("devices", ()),
    "GET /api/v1/registry/devices": ADMIN,
    "GET /api/v1/registry/export": ADMIN,
    "POST /api/v1/registry/import": ADMIN,
    "POST /api/v1/registry/import/{collection}": ADMIN,
    # Readings: farmers name one of their fields; the road division reads plows and weather.
    "GET /api/v1/history/{measurement}": allow(F, R, own_field="field_id", check=_history_check),
    "GET /api/v1/devices/health": ADMIN,
    "GET /api/v1/overview/fields": allow(F),  # filtered to the farmer's fields by the endpoint
    "GET /api/v1/alerts": ADMIN,
    "POST /api/v1/alerts/evaluate": ADMIN,
    "GET /api/v1/alerts/rules": ADMIN,
    "GET /api/v1/downsample/status": ADMIN,
    "POST /api/v1/downsample/run": ADMIN,
    # Snow clearing (routes on main from the coverage and snow API work): the road division's live view,
    # coverage and reports; the public map, delayed and anonymous. Browsers cannot send Authorization on a
    # WebSocket: the road map page needs another way to pass its token to the stream (see the report).
    "GET /map": OPEN,
    "GET /public/map": OPEN,
    "GET /api/v1/public/plows": OPEN,
    "GET /api/v1/public/coverage": OPEN,
    "GET /api/v1/plows/live": allow(R),
    "WS /api/v1/plows/stream": allow(R),
    "GET /api/v1/coverage": allow(R),
    "GET /api/v1/reports/plows": allow(R),
    # Irrigation advice: a farmer asks about one of their fields; the whole site's list is the city's.
    "GET /api/v1/advice": ADMIN,
    "GET /api/v1/fields/{field_id}/advice": allow(F, own_field="field_id"),
    "POST /api/v1/advice/run": ADMIN,
    # Tokens.
    "GET /api/v1/tokens": ADMIN,
    "POST /api/v1/tokens": ADMIN,
    "DELETE /api/v1/tokens/{token_id}": ADMIN,
}


def visible_fields(who: Principal) -> frozenset[str] | None:
    """The field ids a caller may see (None: all of them)."""
    return who.field_ids if who.role is Role.FARMER else None
