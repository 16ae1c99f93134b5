"""Schemathesis against the backend's own OpenAPI document, as an administrator and without a token.

Every operation gets API_EXAMPLES generated requests per caller (fuzzing.py: a few in CI, hundreds
under `make fuzz`). No request may get a 5xx; an admin's answers must match the documented schema;
without a token only the open routes (backend/access.py) may answer 2xx.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from backend_helpers import admin_headers, seed_site, serve, write_readings
from fuzzing import API_EXAMPLES, FUZZ, PROFILE
from hypothesis import settings
from schemathesis.config import SchemathesisConfig
from schemathesis.checks import not_a_server_error, response_schema_conformance

from backend.access import RULES
from backend.app import create_app
from backend.settings import load_settings
from yukimizu.influx import InfluxV1
from yukimizu.servers import InfluxDB, free_port

API_FUZZ = settings(FUZZ, max_examples=API_EXAMPLES)


@dataclass
class Api:
    """The app served by uvicorn on a free port, and an admin token."""

    url: str
    admin: dict[str, str]


@pytest.fixture(scope="module")
def api(influxdb: InfluxDB, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """A backend with a seeded registry and some readings, on its own database, over real HTTP."""
    tmp: Path = tmp_path_factory.mktemp("api_fuzz")
    influx = InfluxV1(influxdb.url, "api_fuzz")
    influx.create_database()
    port = free_port()
    settings_ = load_settings(None, {
        "YUKIMIZU_API__INFLUXDB__URL": influx.url, "YUKIMIZU_API__INFLUXDB__DATABASE": influx.database,
        "YUKIMIZU_API__REGISTRY__PATH": str(tmp / "registry.sqlite3"), "YUKIMIZU_API__API__PORT": str(port),
        "YUKIMIZU_API__ALERTS__ENABLED": "false", "YUKIMIZU_API__DOWNSAMPLE__ENABLED": "false",
        "YUKIMIZU_API__DOWNSAMPLE__START": "2026-01-01T00:00:00Z", "YUKIMIZU_API__API__PUBLIC_BURST_N": "1000000"})
    admin = admin_headers(settings_)
    with serve(create_app(settings_), port) as url:
        with httpx.Client(base_url=url, headers=admin) as c:
            seed_site(c)  # type: ignore[arg-type]
        write_readings(influx, "water", "w-01", [(1_790_000_000, {"level_cm": 3.0})], tags={"field_id": "paddy-1"})
        yield Api(url, admin)
    influx.close()


CLIENT = httpx.Client(timeout=30)  # one keep-alive connection for every case


def send(case: schemathesis.Case, base_url: str, headers: dict[str, str]) -> httpx.Response:
    """The case over real HTTP with httpx (schemathesis's requests transport does not run on this machine's urllib3)."""
    kw = case.as_transport_kwargs(base_url=base_url, headers=headers)
    body = {"json": kw["json"]} if "json" in kw else {"content": kw["data"]} if "data" in kw else {}
    hdrs = {k: v for k, v in kw["headers"].items() if k.lower() != "connection"}
    if kw.get("cookies"):
        hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in kw["cookies"].items())
    return CLIENT.request(kw["method"], kw["url"], params=kw.get("params"), headers=hdrs, **body)


# The document as any client downloads it (building it needs no database; the fixture serves the same app).
# CI runs the fuzzing phase only; `make fuzz` adds schemathesis's coverage phase (boundary values, every
# enum member, missing required parameters, wrong types): thousands of requests.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": PROFILE == "fuzz"}}})
schema = schemathesis.openapi.from_dict(create_app(load_settings(None, {})).openapi(), config=CONFIG)


# Revoking tokens by id could revoke the fuzzer's own; token revocation has its own tests (test_tokens.py).
@schema.exclude(method="DELETE", path="/api/v1/tokens/{token_id}").parametrize()
@API_FUZZ
def test_admin_requests_never_fail_the_server_and_match_the_schema(case: schemathesis.Case, api: Api) -> None:
    response = send(case, api.url, api.admin)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


@schema.parametrize()
@API_FUZZ
def test_requests_without_a_token_are_refused_except_open_routes(case: schemathesis.Case, api: Api) -> None:
    response = send(case, api.url, {})
    assert response.status_code < 500, response.text
    rule = RULES.get(f"{case.method.upper()} {case.operation.path}")
    if rule is None:  # a method the route does not have (the coverage phase tries TRACE, PUT, ...)
        assert response.status_code in (401, 405), (response.status_code, response.text)
        return
    if not rule.anonymous:
        # Whatever the body: 401 before anything parses it (backend/guard.py WriteGate).
        assert response.status_code == 401, (response.status_code, response.text)
