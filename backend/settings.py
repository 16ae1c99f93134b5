"""Backend settings: `backend.toml` plus `YUKIMIZU_API__SECTION__KEY` environment overrides, validated at start.

Loaded with yukimizu.settings (typed dataclasses, errors naming the key and its source). Nothing here
opens a socket or a file: `load_settings` only checks; the app connects in its lifespan.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from yukimizu.settings import fail_if, load

ENV_PREFIX = "YUKIMIZU_API"
_PLACEHOLDER = "CHANGE-ME"


@dataclass
class ApiSection:
    """[api]: where uvicorn listens and which optional modules add routers or alert rules."""

    host: str = "127.0.0.1"
    port: int = 8080
    environment: str = "development"  # development | production: production refuses placeholders
    # Modules with an optional `router` (APIRouter) and/or `alert_rules(settings)`; e.g. the agronomy engine.
    plugins: list[str] = field(default_factory=list)
    # Web origins (scheme://host[:port]) whose pages may call the API from a browser; empty: same origin only.
    cors_origins: list[str] = field(default_factory=list)
    # Largest request body accepted (413 above it); a registry import with field outlines is a few MB.
    max_body_bytes: int = 10_485_760
    # Routes open without a token (health, web pages, the public plow map): per client address, a
    # burst of public_burst_n requests, then public_rate_per_min. Behind a reverse proxy, run uvicorn
    # with --forwarded-allow-ips so the address is the visitor's, not the proxy's.
    public_rate_per_min: float = 120.0
    public_burst_n: int = 60

    def validate(self) -> None:
        """Check ranges and origins."""
        fail_if(not 0 < self.port < 65536, "api.port", f"{self.port} is not a TCP port")
        for i, o in enumerate(self.cors_origins):
            fail_if(not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", o), f"api.cors_origins[{i}]",
                    f"{o!r} is not an origin like https://example.jp (no '*', no path)")
        fail_if(self.max_body_bytes < 1024, "api.max_body_bytes", "must be at least 1024")
        fail_if(self.public_rate_per_min <= 0, "api.public_rate_per_min", "must be positive")
        fail_if(self.public_burst_n < 1, "api.public_burst_n", "must be at least 1")
        fail_if(self.environment not in ("development", "production"), "api.environment",
                f"{self.environment!r} is not 'development' or 'production'")


@dataclass
class InfluxSection:
    """[influxdb]: the InfluxQL /query and /write endpoint (InfluxDB 1.8, 2.x with DBRP, 3.x)."""

    url: str = "http://127.0.0.1:8086"
    database: str = "yukimizu"
    username: str = ""
    password: str = ""
    token: str = ""  # InfluxDB 2.x/3.x API token, sent as "Authorization: Token ..." (instead of username/password)
    # Retention policy that holds raw readings (empty: the database default). On 1.x create it with
    # `CREATE RETENTION POLICY "raw" ON "yukimizu" DURATION 580d REPLICATION 1 DEFAULT`; on 2.x/3.x set
    # the bucket's retention instead (see backend.example.toml).
    raw_retention_policy: str = ""
    # Retention policy for the hourly/daily aggregates (empty: the database default; keep it infinite).
    aggregate_retention_policy: str = ""
    # Database for the aggregates (empty: the same). On InfluxDB 3.x, where retention is per database,
    # keep raw readings in a database with a retention period and the aggregates in one without.
    aggregate_database: str = ""
    timeout_s: float = 30.0

    def validate(self) -> None:
        """Check the URL scheme and timeout."""
        fail_if(not self.url.startswith(("http://", "https://")), "influxdb.url", f"{self.url!r} is not an http(s) URL")
        fail_if(self.timeout_s <= 0, "influxdb.timeout_s", "must be positive")


@dataclass
class RegistrySection:
    """[registry]: the SQLite file with the site registry, alert history and job checkpoints."""

    path: Path = Path("var/backend/registry.sqlite3")


@dataclass
class FleetSection:
    """[fleet]: when a device counts as silent and when its battery is low."""

    silent_after_intervals: float = 3.0
    battery_low_v: float = 3.45  # one Li-ion cell: about 10 % left
    battery_cutoff_v: float = 3.3  # the ESP32 regulator drops out near here
    battery_trend_days: float = 7.0
    battery_warn_days: float = 14.0  # warn when the projected days left fall below this
    lookback_days: float = 30.0  # how far back "last seen" looks
    gateway_interval_s: float = 10.0  # how often edge gateways write their `gateway` measurement ([health] interval_s)

    def validate(self) -> None:
        """Check ordering of the thresholds."""
        fail_if(self.silent_after_intervals <= 0, "fleet.silent_after_intervals", "must be positive")
        fail_if(self.battery_cutoff_v >= self.battery_low_v, "fleet.battery_cutoff_v",
                f"{self.battery_cutoff_v} V must be below fleet.battery_low_v {self.battery_low_v} V")
        fail_if(self.battery_trend_days <= 0, "fleet.battery_trend_days", "must be positive")
        fail_if(self.gateway_interval_s <= 0, "fleet.gateway_interval_s", "must be positive")


@dataclass
class LineSection:
    """[alerts.line]: LINE Messaging API push (the city's LINE official account)."""

    enabled: bool = False
    base_url: str = "https://api.line.me"
    channel_access_token: str = ""
    to: list[str] = field(default_factory=list)  # user, group or room ids

    def validate(self) -> None:
        """A LINE sender needs a token and at least one recipient."""
        if self.enabled:
            fail_if(not self.channel_access_token, "alerts.line.channel_access_token", "required when alerts.line.enabled")
            fail_if(not self.to, "alerts.line.to", "at least one recipient id when alerts.line.enabled")


@dataclass
class AlertsSection:
    """[alerts]: the rule schedule, thresholds and where notifications go."""

    enabled: bool = True
    interval_s: float = 60.0
    webhook_urls: list[str] = field(default_factory=list)  # generic HTTP JSON receivers
    delivery_timeout_s: float = 10.0
    max_delivery_attempts: int = 10
    level_hysteresis_cm: float = 0.5  # a low-water alert clears only this far back inside the band
    cold_mean_c: float = 17.0  # NARO Tohoku: 7-day mean under 17 C -> deep water
    cold_mean_sensitive_c: float = 20.0  # 17-20 C -> deep water for cold-sensitive varieties
    plow_stopped_min: float = 10.0
    plow_stopped_speed_km_h: float = 2.0
    line: LineSection = field(default_factory=LineSection)

    def validate(self) -> None:
        """Check the schedule and receivers."""
        fail_if(self.interval_s < 1, "alerts.interval_s", "must be at least 1 s")
        for i, u in enumerate(self.webhook_urls):
            fail_if(not u.startswith(("http://", "https://")), f"alerts.webhook_urls[{i}]", f"{u!r} is not an http(s) URL")
        fail_if(self.max_delivery_attempts < 1, "alerts.max_delivery_attempts", "must be at least 1")


@dataclass
class DownsampleSection:
    """[downsample]: the hourly/daily aggregation job run by the backend."""

    enabled: bool = True
    interval_s: float = 900.0
    measurements: list[str] = field(default_factory=lambda: ["soil", "water", "weather", "plow", "gateway"])
    # Where the job starts when it has no checkpoint yet.
    start: str = "2024-01-01T00:00:00Z"
    # Lag behind now before a bucket counts as complete (late readings from devices that batch).
    settle_s: float = 3600.0
    raw_retention_days: int = 580  # the longest season (paddy, April-October, about 214 d) plus a year

    def validate(self) -> None:
        """Check the schedule."""
        fail_if(self.interval_s < 1, "downsample.interval_s", "must be at least 1 s")
        fail_if(self.raw_retention_days < 1, "downsample.raw_retention_days", "must be at least 1 day")


@dataclass
class BackendSettings:
    """Everything `yukimizu api` needs."""

    api: ApiSection = field(default_factory=ApiSection)
    influxdb: InfluxSection = field(default_factory=InfluxSection)
    registry: RegistrySection = field(default_factory=RegistrySection)
    fleet: FleetSection = field(default_factory=FleetSection)
    alerts: AlertsSection = field(default_factory=AlertsSection)
    downsample: DownsampleSection = field(default_factory=DownsampleSection)

    def validate(self) -> None:
        """Refuse placeholder secrets outside development."""
        if self.api.environment == "production":
            fail_if(_PLACEHOLDER in self.influxdb.password, "influxdb.password", "still the placeholder")
            fail_if(_PLACEHOLDER in self.influxdb.token, "influxdb.token", "still the placeholder")
            fail_if(_PLACEHOLDER in self.alerts.line.channel_access_token, "alerts.line.channel_access_token",
                    "still the placeholder")


def load_settings(path: str | Path | None, environ: Mapping[str, str] | None = None) -> BackendSettings:
    """Load and validate backend settings from TOML (optional) and YUKIMIZU_API__* variables."""
    return load(BackendSettings, path, ENV_PREFIX, environ)
