"""FastAPI dependencies with short aliases: what an endpoint needs, taken from the app's state."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .alerts.engine import AlertEngine
from .alerts.store import AlertStore
from .downsample import Downsampler
from .history import History
from .registry import Registry
from .settings import BackendSettings
from .snowservice import SnowService
from .tokens import ANONYMOUS, Principal, TokenStore


def get_settings(request: Request) -> BackendSettings:
    """The validated settings the app was created with."""
    return request.app.state.settings


def get_registry(request: Request) -> Registry:
    """The site registry."""
    return request.app.state.registry


def get_history(request: Request) -> History:
    """The InfluxDB history reader."""
    return request.app.state.history


def get_alerts(request: Request) -> AlertEngine:
    """The alert engine."""
    return request.app.state.alerts


def get_alert_store(request: Request) -> AlertStore:
    """Alert history."""
    return request.app.state.alert_store


def get_downsampler(request: Request) -> Downsampler:
    """The downsampling job."""
    return request.app.state.downsampler


def get_snow(request: Request) -> SnowService:
    """The snow-clearing service (networks, coverage, reports, live plows)."""
    return request.app.state.snow


def get_principal(request: Request) -> Principal:
    """Who is calling (set by backend/guard.py; anonymous when no token was sent)."""
    return getattr(request.state, "principal", ANONYMOUS)


def get_tokens(request: Request) -> TokenStore:
    """The API token store."""
    return request.app.state.tokens


SettingsDep = Annotated[BackendSettings, Depends(get_settings)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
HistoryDep = Annotated[History, Depends(get_history)]
AlertsDep = Annotated[AlertEngine, Depends(get_alerts)]
AlertStoreDep = Annotated[AlertStore, Depends(get_alert_store)]
DownsamplerDep = Annotated[Downsampler, Depends(get_downsampler)]
SnowDep = Annotated[SnowService, Depends(get_snow)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
TokenStoreDep = Annotated[TokenStore, Depends(get_tokens)]
