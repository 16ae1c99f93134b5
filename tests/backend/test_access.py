"""Every route of the API, called by every kind of caller: allowed, or 401 (no token) / 403 (wrong token).

EXPECTED below is written independently of backend/access.py RULES: a route added to the app fails
test_every_route_has_a_rule until RULES has its line, and test_every_route_is_in_this_table until this
table has its line (what the route should allow, decided by a person, not copied from the code).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from backend_helpers import seed_site
from fastapi import WebSocket
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from backend.access import RULES, allow
from backend.app import create_app
from backend.guard import route_keys
from backend.registry import Database
from backend.settings import BackendSettings, load_settings
from backend.tokens import Role, TokenStore
from yukimizu.influx import InfluxV1
from yukimizu.servers import InfluxDB

NONE, PUBLIC, OWN, OTHER, ROAD, ADMIN = "no token", "public", "farmer-own", "farmer-other", "road", "admin"
CALLERS = (NONE, PUBLIC, OWN, OTHER, ROAD, ADMIN)
EVERYONE = CALLERS
# farmer-own holds a token for paddy-1 and asks about paddy-1; farmer-other holds a token for apple-1
# and asks about paddy-1 (someone else's field).
EXPECTED: dict[str, tuple[str, ...]] = {
    "GET /healthz": EVERYONE,
    "GET /": EVERYONE,
    "GET /fields": EVERYONE,  # the page itself; its data needs a token
    "GET /fleet": EVERYONE,
    "GET /static": EVERYONE,
    "GET /openapi.json": EVERYONE,
    "GET /docs": EVERYONE,
    "GET /docs/oauth2-redirect": EVERYONE,
    "GET /redoc": EVERYONE,
    "GET /api/v1/sites": (OWN, OTHER, ROAD, ADMIN),
    "GET /api/v1/sites/{item_id}": (OWN, OTHER, ROAD, ADMIN),
    "POST /api/v1/sites": (ADMIN,),
    "PATCH /api/v1/sites/{item_id}": (ADMIN,),
    "DELETE /api/v1/sites/{item_id}": (ADMIN,),
    "GET /api/v1/fields": (OWN, OTHER, ADMIN),  # filtered: see test_a_farmer_lists_only_their_fields
    "GET /api/v1/fields/{item_id}": (OWN, ADMIN),
    "POST /api/v1/fields": (ADMIN,),
    "PATCH /api/v1/fields/{item_id}": (OWN, ADMIN),  # the farmer sets the growth stage
    "DELETE /api/v1/fields/{item_id}": (ADMIN,),
    **{f"{m} /api/v1/{t}{p}": ((ROAD, ADMIN) if m == "GET" else (ADMIN,))
       for t in ("routes", "roads", "vehicles")
       for m, p in (("GET", ""), ("GET", "/{item_id}"), ("POST", ""), ("PATCH", "/{item_id}"), ("DELETE", "/{item_id}"))},
    **{f"{m} /api/v1/devices{p}": (ADMIN,)
       for m, p in (("GET", ""), ("GET", "/{item_id}"), ("POST", ""), ("PATCH", "/{item_id}"), ("DELETE", "/{item_id}"))},
    "GET /api/v1/devices/health": (ADMIN,),
    "GET /api/v1/registry/devices": (ADMIN,),
    "GET /api/v1/registry/export": (ADMIN,),
    "POST /api/v1/registry/import": (ADMIN,),
    "POST /api/v1/registry/import/{collection}": (ADMIN,),
    "GET /api/v1/history/{measurement}": (OWN, ROAD, ADMIN),  # weather readings of paddy-1
    "GET /api/v1/overview/fields": (OWN, OTHER, ADMIN),  # filtered to the farmer's fields
    "GET /api/v1/alerts": (ADMIN,),
    "POST /api/v1/alerts/evaluate": (ADMIN,),
    "GET /api/v1/alerts/rules": (ADMIN,),
    "GET /api/v1/downsample/status": (ADMIN,),
    "POST /api/v1/downsample/run": (ADMIN,),
    "GET /api/v1/tokens": (ADMIN,),
    "POST /api/v1/tokens": (ADMIN,),
    "DELETE /api/v1/tokens/{token_id}": (ADMIN,),
    # Snow clearing: the road division's live view, coverage and reports; the public map, delayed and anonymous.
    "GET /map": EVERYONE,  # the page; its data needs a road token
    "GET /public/map": EVERYONE,
    "GET /api/v1/public/plows": EVERYONE,
    "GET /api/v1/public/coverage": EVERYONE,
    "GET /api/v1/plows/live": (ROAD, ADMIN),
    "WS /api/v1/plows/stream": (ROAD, ADMIN),
    "GET /api/v1/coverage": (ROAD, ADMIN),
    "GET /api/v1/reports/plows": (ROAD, ADMIN),
    # Irrigation advice: a farmer asks about their own field; the site-wide list is the city's.
    "GET /api/v1/advice": (ADMIN,),
    "POST /api/v1/advice/run": (ADMIN,),
    "GET /api/v1/fields/{field_id}/advice": (OWN, ADMIN),
}

# Path parameter values per caller: farmers ask about paddy-1; the others about ids that need not exist
# (an allowed call may then get 404 or 422: what matters here is that it got past the access check).
PATH_VALUES = {"item_id": "paddy-1", "measurement": "weather", "collection": "fields", "token_id": "999999",
               "field_id": "paddy-1"}
QUERY = {"GET /api/v1/history/{measurement}": {"field": "air_temp_c", "field_id": "paddy-1"}}


@dataclass
class World:
    """One app with a seeded registry and a token per kind of caller."""

    client: TestClient
    tokens: dict[str, str | None]

    def call(self, key: str, caller: str, **kw: object) -> int:
        """Status of `key` ("METHOD /path/{param}") called as `caller`."""
        method, template = key.split(" ", 1)
        path = template.format(**PATH_VALUES)
        if key == "GET /static":
            path = "/static/style.css"
        token = self.tokens[caller]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"json": {}} if method in ("POST", "PATCH") else {}
        return self.client.request(method, path, headers=headers, params=QUERY.get(key), **body, **kw).status_code


@pytest.fixture(scope="module")
def world(influxdb: InfluxDB, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The app on its own InfluxDB database and registry, with paddy-1 and apple-1 and six callers."""
    tmp = tmp_path_factory.mktemp("access")
    influx = InfluxV1(influxdb.url, "access_table")
    influx.create_database()
    settings = load_settings(None, {
        "YUKIMIZU_API__INFLUXDB__URL": influx.url, "YUKIMIZU_API__INFLUXDB__DATABASE": influx.database,
        "YUKIMIZU_API__REGISTRY__PATH": str(tmp / "registry.sqlite3"),
        "YUKIMIZU_API__ALERTS__ENABLED": "false", "YUKIMIZU_API__DOWNSAMPLE__ENABLED": "false",
        "YUKIMIZU_API__API__PUBLIC_BURST_N": "10000",  # the rate limit has its own test
        "YUKIMIZU_API__DOWNSAMPLE__START": "2026-01-01T00:00:00Z"})
    db = Database(settings.registry.path)
    store = TokenStore(db)
    tokens: dict[str, str | None] = {
        NONE: None, PUBLIC: store.create(Role.PUBLIC)[0], OWN: store.create(Role.FARMER, ["paddy-1"])[0],
        OTHER: store.create(Role.FARMER, ["apple-1"])[0], ROAD: store.create(Role.ROAD)[0],
        ADMIN: store.create(Role.ADMIN)[0]}
    db.close()
    with TestClient(create_app(settings)) as c:
        c.headers["Authorization"] = f"Bearer {tokens[ADMIN]}"
        seed_site(c)
        del c.headers["Authorization"]
        yield World(c, tokens)
    influx.close()


def _app_keys(settings: BackendSettings) -> set[str]:
    return {k for keys in route_keys(create_app(settings)).values() for k in keys}


def test_every_route_has_a_rule() -> None:
    missing = _app_keys(load_settings(None, {})) - set(RULES)
    assert not missing, f"routes without an access rule; add a line to backend/access.py RULES: {sorted(missing)}"


def test_every_route_is_in_this_table() -> None:
    keys = _app_keys(load_settings(None, {}))
    assert keys - set(EXPECTED) == set(), "add the new routes to EXPECTED in this file"
    assert set(EXPECTED) - keys == set(), "EXPECTED lists routes the app no longer has"


HTTP_KEYS = sorted(k for k in EXPECTED if not k.startswith("WS "))  # WebSockets: test_the_plow_stream_is_for_the_road_division


@pytest.mark.parametrize("key", HTTP_KEYS, ids=[f"{k} answers only {', '.join(EXPECTED[k]) if EXPECTED[k] != EVERYONE else 'everyone'}"
                                                for k in HTTP_KEYS])
def test_each_caller_is_allowed_or_refused(world: World, key: str) -> None:
    wrong = {}
    for caller in CALLERS:
        status = world.call(key, caller)
        if caller in EXPECTED[key]:
            ok = status not in (401, 403) and status < 500
        else:
            ok = status == (401 if caller == NONE else 403)
        if not ok:
            wrong[caller] = status
    assert not wrong, f"{key}: unexpected statuses {wrong}"


def test_a_farmer_lists_only_their_fields(world: World) -> None:
    own = {"Authorization": f"Bearer {world.tokens[OWN]}"}
    assert [f["id"] for f in world.client.get("/api/v1/fields", headers=own).json()] == ["paddy-1"]
    assert [f["id"] for f in world.client.get("/api/v1/overview/fields", headers=own).json()["fields"]] == ["paddy-1"]
    admin = {"Authorization": f"Bearer {world.tokens[ADMIN]}"}
    assert sorted(f["id"] for f in world.client.get("/api/v1/fields", headers=admin).json()) == ["apple-1", "paddy-1"]


@pytest.mark.parametrize("caller, params, status, reason", [
    (OWN, {"field": "level_cm"}, 403, "must name one of its fields with field_id"),
    (OTHER, {"field": "level_cm", "field_id": "paddy-1"}, 403, "'paddy-1' is not one of this token's fields"),
    (ROAD, {"field": "level_cm"}, 403, "plow and weather history, not water"),
    (OWN, {"field": "level_cm", "field_id": "paddy-1"}, 200, ""),
    (OWN, {"field": "level_cm", "field_id": ["apple-1", "paddy-1"]}, 403, "give field_id once"),
], ids=["a farmer who names no field is refused", "a farmer asking for someone else's paddy is refused",
        "the road division cannot read paddy water levels", "a farmer reads their own paddy's level",
        "a farmer cannot smuggle a second field id past the check"])
def test_history_is_scoped_to_the_caller(world: World, caller: str, params: dict, status: int, reason: str) -> None:
    r = world.client.get("/api/v1/history/water", params=params,
                         headers={"Authorization": f"Bearer {world.tokens[caller]}"})
    assert r.status_code == status, r.text
    assert reason in r.text


def test_a_route_without_a_rule_is_refused_to_everyone(settings: BackendSettings, admin_token: str) -> None:
    app = create_app(settings)
    app.add_api_route("/api/v1/forgotten", lambda: {"secret": 1})
    with TestClient(app) as c:
        r = c.get("/api/v1/forgotten", headers={"Authorization": f"Bearer {admin_token}"})
        assert r.status_code == 403 and "no access rule for GET /api/v1/forgotten" in r.text
        assert c.get("/api/v1/forgotten").status_code == 403


def test_malformed_authorization_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    for value in ("Basic dXNlcjpwdw==", "Bearer", "Bearer yk_not-a-real-token", "yk_" + "a" * 43):
        r = client.get("/api/v1/sites", headers={"Authorization": value})
        assert r.status_code == 401, value
        assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_docs_offer_bearer_authentication(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"] == {**spec["components"]["securitySchemes"]["bearer"],
                                                               "type": "http", "scheme": "bearer"}



@pytest.mark.parametrize("content, content_type", [
    (b"{not json", "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b"--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--\r\n", "multipart/form-data; boundary=y"),
    (b"x" * 20_000_000, "application/json"),
], ids=["malformed JSON", "bytes that are not UTF-8", "a broken multipart body", "a body over the size limit"])
def test_a_write_without_a_token_is_401_whatever_the_body(world: World, content: bytes, content_type: str) -> None:
    # Regression (found by schemathesis): FastAPI parses a body before dependencies run, so these got
    # 400/422 from the parser instead of 401; the write gate now refuses them before anything reads them.
    for path in ("/api/v1/sites", "/api/v1/registry/import"):
        r = world.client.post(path, content=content, headers={"Content-Type": content_type})
        assert r.status_code == 401, (path, r.status_code, r.text)


def test_a_websocket_needs_the_right_token_before_it_opens(settings: BackendSettings, admin_token: str) -> None:
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    app = create_app(settings)
    app.add_api_websocket_route("/api/v1/test-stream", echo)
    app.state.access_rules["WS /api/v1/test-stream"] = allow(Role.ROAD)
    assert "WS /api/v1/test-stream" in {k for keys in route_keys(app).values() for k in keys}
    db = Database(settings.registry.path)
    road = TokenStore(db).create(Role.ROAD)[0]
    farmer = TokenStore(db).create(Role.FARMER, ["f-1"])[0]
    db.close()
    with TestClient(app) as c:
        with c.websocket_connect("/api/v1/test-stream", headers={"Authorization": f"Bearer {road}"}) as ws:
            assert ws.receive_text() == "hello"
        for headers in ({}, {"Authorization": f"Bearer {farmer}"}):
            with pytest.raises(WebSocketDisconnect) as e:
                with c.websocket_connect("/api/v1/test-stream", headers=headers) as ws:
                    ws.receive_text()
            assert e.value.code == 1008


def test_the_plow_stream_is_for_the_road_division(world: World) -> None:
    """WS /api/v1/plows/stream: road and admin connect; everyone else is closed with 1008 before it opens."""
    for caller in CALLERS:
        token = world.tokens[caller]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if caller in EXPECTED["WS /api/v1/plows/stream"]:
            with world.client.websocket_connect("/api/v1/plows/stream", headers=headers) as ws:
                assert ws.receive_json() is not None, caller
        else:
            with pytest.raises(WebSocketDisconnect) as e:
                with world.client.websocket_connect("/api/v1/plows/stream", headers=headers) as ws:
                    ws.receive_json()
            assert e.value.code == 1008, caller
