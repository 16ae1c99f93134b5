"""The backend's FastAPI application: `create_app(settings)`.

The lifespan opens the registry (SQLite, migrated), the InfluxDB history reader and the alert
senders, and starts the alert schedule, the downsampling job and the advice job as asyncio tasks when enabled.
Optional modules named in `[api] plugins` add routers (`router`) and alert rules (`alert_rules(settings)`).
"""
from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from yukimizu.influx import InfluxError

from . import devicestatus
from .advisor.service import Advisor
from .access import RULES, Rule
from .alerts.builtin import builtin_rules
from .alerts.engine import AlertEngine
from .alerts.senders import LineSender, Sender, WebhookSender
from .alerts.store import AlertStore
from .downsample import Downsampler
from .guard import WriteGate, authorize
from .history import History
from .ratelimit import RateLimiter
from .registry import Conflict, Database, ImportRejected, Invalid, NotFound, Registry
from .routers import (advice, alerts, coverage, devices, downsample, fields, fleet, health, history, overview, plows,
                      public, registry, reports, roads, routes, sites, tokens, vehicles)
from .settings import BackendSettings
from .snow.tariff import load_tariff
from .snowservice import SnowRequestError, SnowService
from .tokens import TokenStore

log = logging.getLogger("yukimizu.api")
WEB = Path(__file__).with_name("web")


def _plugins(settings: BackendSettings) -> list[Any]:
    return [importlib.import_module(name) for name in settings.api.plugins]


def _senders(settings: BackendSettings, http: httpx.AsyncClient) -> list[Sender]:
    out: list[Sender] = [WebhookSender(u, http) for u in settings.alerts.webhook_urls]
    line = settings.alerts.line
    if line.enabled:
        out.append(LineSender(line.base_url, line.channel_access_token, line.to, http))
    return out


def create_app(settings: BackendSettings) -> FastAPI:
    """Build the app for validated settings; nothing connects until the lifespan starts."""
    plugins = _plugins(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A tariff that cannot be read stops the start with the file and key named (TariffError).
        tariff = load_tariff(settings.snow.tariff) if settings.snow.tariff else None
        db = Database(settings.registry.path)
        inf = settings.influxdb
        hist = History(inf.url, inf.database, username=inf.username, password=inf.password, token=inf.token,
                       raw_retention_policy=inf.raw_retention_policy,
                       aggregate_retention_policy=inf.aggregate_retention_policy,
                       aggregate_database=inf.aggregate_database, timeout_s=inf.timeout_s)
        http = httpx.AsyncClient(timeout=settings.alerts.delivery_timeout_s)
        rules = builtin_rules(settings)
        for p in plugins:
            if hasattr(p, "alert_rules"):
                rules.extend(p.alert_rules(settings))
        store = AlertStore(db)
        registry_ = Registry(db)
        engine = AlertEngine(settings, registry_, hist, store, rules, _senders(settings, http))
        app.state.settings = settings
        app.state.db = db
        app.state.registry = registry_
        app.state.tokens = TokenStore(db)
        app.state.history = hist
        app.state.alert_store = store
        app.state.alerts = engine
        app.state.downsampler = Downsampler(settings, hist, db)
        app.state.snow = SnowService(settings.snow, registry_, hist, tariff)
        app.state.advisor = Advisor(settings, registry_, hist, http)
        stop = asyncio.Event()
        tasks = []
        if settings.alerts.enabled:
            tasks.append(asyncio.create_task(engine.run(stop), name="alerts"))
        if settings.downsample.enabled:
            tasks.append(asyncio.create_task(app.state.downsampler.run_forever(stop), name="downsample"))
        if settings.snow.live_engine:
            tasks.append(asyncio.create_task(app.state.snow.run_live(stop), name="snow-live"))
        if settings.advice.enabled:
            tasks.append(asyncio.create_task(app.state.advisor.run_forever(stop), name="advice"))
        if settings.fleet.status_interval_s > 0:
            tasks.append(asyncio.create_task(
                devicestatus.run_forever(registry_, hist, settings.fleet.status_interval_s, stop), name="device-status"))
        try:
            yield
        finally:
            stop.set()
            for t in tasks:
                try:
                    await asyncio.wait_for(t, timeout=10)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    t.cancel()
            await http.aclose()
            await hist.aclose()
            db.close()

    app = FastAPI(
        title="yukimizu 雪水 backend",
        description="Site registry, reading history, fleet health, alerts and downsampling for yukimizu. "
                    "圃場・道路・機器の台帳、履歴、機器の健全性、警報。",
        version="1",
        lifespan=lifespan,
        dependencies=[Depends(authorize)],  # every route: backend/access.py RULES, enforced by backend/guard.py
    )
    _handlers(app)
    # fleet before devices: /api/v1/devices/health must not be read as the device called 'health'.
    for r in (health.router, fleet.router, sites.router, fields.router, routes.router, roads.router,
              vehicles.router, devices.router, registry.router, history.router, overview.router, alerts.router,
              downsample.router, advice.router, plows.router, coverage.router, reports.router, public.router,
              tokens.router):
        app.include_router(r)
    for p in plugins:
        if hasattr(p, "router"):
            app.include_router(p.router)
    _web(app)
    _security(app, settings, plugins)
    return app


def _security(app: FastAPI, settings: BackendSettings, plugins: list[Any]) -> None:
    """Access rules (backend/access.py plus plugins' `access_rules`), rate limit, write gate, CORS, bearer in OpenAPI."""
    rules: dict[str, Rule] = dict(RULES)
    for p in plugins:
        rules.update(getattr(p, "access_rules", {}))
    app.state.access_rules = rules
    api = settings.api
    app.state.rate_limiter = RateLimiter(api.public_rate_per_min, api.public_burst_n)
    app.add_middleware(WriteGate, app_ref=app, max_body_bytes=api.max_body_bytes)
    if api.cors_origins:
        # Added last, so it runs first: a browser's preflight (OPTIONS, no token) is answered here.
        app.add_middleware(CORSMiddleware, allow_origins=api.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = base_openapi()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "API token (yukimizu api token create); rules per route in backend/access.py"}}
            schema["security"] = [{"bearer": []}, {}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _loc_error(status: int, field: str | None, message: str) -> JSONResponse:
    loc = ["body", field] if field else ["body"]
    return JSONResponse({"detail": [{"loc": loc, "msg": message, "type": "value_error"}]}, status_code=status)


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def _not_found(_r: Request, e: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=404)

    @app.exception_handler(Conflict)
    async def _conflict(_r: Request, e: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(e)}, status_code=409)

    @app.exception_handler(Invalid)
    async def _invalid(_r: Request, e: Invalid) -> JSONResponse:
        return _loc_error(422, e.field, str(e))

    @app.exception_handler(ImportRejected)
    async def _rejected(_r: Request, e: ImportRejected) -> JSONResponse:
        return JSONResponse({"detail": [
            {**p.as_dict(), "loc": ["body", p.collection] + ([p.index] if p.index is not None else [])
             + ([p.field] if p.field else []), "msg": str(p), "type": "import_error"} for p in e.problems]},
            status_code=422)

    @app.exception_handler(SnowRequestError)
    async def _snow_request(_r: Request, e: SnowRequestError) -> JSONResponse:
        loc = ["query", e.param] if e.param else ["query"]
        return JSONResponse({"detail": [{"loc": loc, "msg": str(e), "type": "value_error"}]}, status_code=e.status)

    @app.exception_handler(InfluxError)
    async def _influx(_r: Request, e: InfluxError) -> JSONResponse:
        # 400 from InfluxDB is a query we built wrongly for this input (422, in the shape of a validation
        # error, as the OpenAPI document promises); anything else is InfluxDB being unwell.
        if e.status == 400:
            return JSONResponse({"detail": [{"loc": ["query"], "msg": str(e), "type": "influx_refused"}]}, status_code=422)
        return JSONResponse({"detail": str(e)}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def _validation(_r: Request, e: RequestValidationError) -> JSONResponse:
        # Same shape as FastAPI's, minus echoing whole request bodies (GeoJSON can be megabytes).
        errors = []
        for err in e.errors():
            item = {k: err[k] for k in ("loc", "msg", "type") if k in err}
            inp = err.get("input")
            if isinstance(inp, (str, int, float, bool)) or inp is None:
                item["input"] = inp
            errors.append(item)
        return JSONResponse({"detail": errors}, status_code=422)


def _web(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

    @app.get("/", include_in_schema=False)
    def _root() -> RedirectResponse:
        return RedirectResponse("/fields")

    @app.get("/fields", include_in_schema=False)
    def _fields_page() -> FileResponse:
        return FileResponse(WEB / "fields.html", media_type="text/html; charset=utf-8")

    @app.get("/fleet", include_in_schema=False)
    def _fleet_page() -> FileResponse:
        return FileResponse(WEB / "fleet.html", media_type="text/html; charset=utf-8")
