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
    status_interval_s: float = 300.0  # how often the registry's device facts are written as `device_status` (0: never)

    def validate(self) -> None:
        """Check ordering of the thresholds."""
        fail_if(self.silent_after_intervals <= 0, "fleet.silent_after_intervals", "must be positive")
        fail_if(self.battery_cutoff_v >= self.battery_low_v, "fleet.battery_cutoff_v",
                f"{self.battery_cutoff_v} V must be below fleet.battery_low_v {self.battery_low_v} V")
        fail_if(self.battery_trend_days <= 0, "fleet.battery_trend_days", "must be positive")
        fail_if(self.gateway_interval_s <= 0, "fleet.gateway_interval_s", "must be positive")
        fail_if(self.status_interval_s < 0, "fleet.status_interval_s", "must be 0 (off) or positive")


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
class SnowSection:
    """[snow]: the coverage thresholds, the tariff, the live and public plow views, and the map's basemap."""

    buffer_m: float = 12.0  # a road piece within this of a blade-down track is cleared (issue 8)
    max_gap_s: float = 30.0  # fixes further apart are not joined
    min_fraction: float = 0.9  # a road counts as cleared from this cleared fraction
    tariff: str = ""  # tariff TOML for the payment breakdown (backend/snow/tariff.example.toml); empty: none
    night_start_jst: str = "18:00"  # tonight began at the latest such JST time: /api/v1/coverage's default since
    live_engine: bool = True  # keep tonight's coverage per site up to date in the background (answers instantly)
    live_interval_s: float = 5.0  # how often the background task reads the points written since its last read
    live_read_lag_s: float = 5.0  # it reads up to now minus this, so a gateway batch in flight is not missed
    # ... and reads the whole night again this often (0: never), so points that arrive later than the lag
    # (a plow's backlog from a dead zone, a gateway that was offline) reach the live map too.
    live_rebuild_s: float = 300.0
    coverage_cache_s: float = 10.0  # a computed coverage is reused this long
    live_cache_s: float = 1.0  # latest positions are reused this long (100 clients, one query)
    live_lookback_h: float = 12.0  # plows not heard from for longer are not on the live map
    stream_interval_s: float = 1.0  # how often the WebSocket stream looks for new positions
    public_delay_min: float = 30.0  # the public view shows positions and clearing this much later
    # Raster tiles under the map ({z}/{x}/{y}); empty: roads and plows only. GSI, Japan's official basemap.
    basemap_url: str = "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"
    basemap_attribution: str = "地理院タイル / GSI tiles"

    def validate(self) -> None:
        """Check ranges (the tariff file is read when the app starts)."""
        fail_if(not self.buffer_m > 0, "snow.buffer_m", "must be positive")
        fail_if(not self.max_gap_s > 0, "snow.max_gap_s", "must be positive")
        fail_if(not 0 < self.min_fraction <= 1, "snow.min_fraction", "must be in (0, 1]")
        hh, _, mm = self.night_start_jst.partition(":")
        fail_if(not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60 and len(mm) == 2),
                "snow.night_start_jst", f"{self.night_start_jst!r} is not a time HH:MM")
        fail_if(self.live_interval_s < 0.1, "snow.live_interval_s", "must be at least 0.1 s")
        fail_if(self.live_read_lag_s < 0, "snow.live_read_lag_s", "must be 0 or more")
        fail_if(self.live_rebuild_s < 0, "snow.live_rebuild_s", "must be 0 (never) or more")
        fail_if(self.coverage_cache_s < 0, "snow.coverage_cache_s", "must be 0 or more")
        fail_if(self.live_cache_s < 0, "snow.live_cache_s", "must be 0 or more")
        fail_if(self.live_lookback_h <= 0, "snow.live_lookback_h", "must be positive")
        fail_if(self.stream_interval_s < 0.1, "snow.stream_interval_s", "must be at least 0.1 s")
        fail_if(self.public_delay_min < 0, "snow.public_delay_min", "must be 0 or more")
        fail_if(bool(self.basemap_url) and not (self.basemap_url.startswith(("http://", "https://", "/"))
                                               and all(k in self.basemap_url for k in ("{z}", "{x}", "{y}"))),
                "snow.basemap_url", f"{self.basemap_url!r} is not an http(s) URL template with {{z}}, {{x}} and {{y}}")


@dataclass
class AdviceSection:
    """[advice]: irrigation advice (backend/advisor): its schedule, history windows and forecast feeds."""

    enabled: bool = True  # compute and write the `advice` measurement every interval_s
    interval_s: float = 3600.0
    # Advice written within one bucket replaces the earlier one (same timestamp: the bucket start), so a
    # re-run or an on-demand run in the same hour never adds a second point.
    bucket_s: float = 3600.0
    # Daily weather and soil moisture looked back: at least history_days, and back to the earliest upland season
    # start (the water balance starts at field capacity: snowmelt fills the soil in spring), at most
    # max_history_days; never before the site's station began reporting in that window.
    history_days: int = 30
    max_history_days: int = 250
    level_hours: float = 12.0  # paddy level window (leak trend, latest level)
    level_every: str = "10m"  # level resolution asked of InfluxDB (GROUP BY time); sensors report every 10-20 min
    station_wind_height_m: float = 2.0  # anemometer height of the sites' weather stations (FAO-56 eq. 47 to 2 m)
    # Per-site daily forecast feed (JMA-style min/max and rain), "site=source": a CSV or JSON file path, or an
    # http(s) URL answering CSV or JSON; see backend/agronomy/weather.py for the columns.
    forecast_feeds: list[str] = field(default_factory=list)
    forecast_timeout_s: float = 10.0

    def feeds(self) -> dict[str, str]:
        """{site: source} from forecast_feeds."""
        return dict(f.split("=", 1) for f in self.forecast_feeds)

    def validate(self) -> None:
        """Check the schedule, windows and the feed list."""
        fail_if(self.interval_s < 1, "advice.interval_s", "must be at least 1 s")
        fail_if(self.bucket_s < 1, "advice.bucket_s", "must be at least 1 s")
        fail_if(not 1 <= self.history_days <= 366, "advice.history_days", "must be 1-366 days")
        fail_if(not self.history_days <= self.max_history_days <= 366, "advice.max_history_days",
                f"must be between advice.history_days ({self.history_days}) and 366 days")
        fail_if(self.level_hours <= 0, "advice.level_hours", "must be positive")
        fail_if(not re.fullmatch(r"\d+(s|m|h)", self.level_every), "advice.level_every",
                f"{self.level_every!r} is not an InfluxQL duration like 10m")
        fail_if(self.station_wind_height_m <= 0, "advice.station_wind_height_m", "must be positive")
        seen: set[str] = set()
        for i, f in enumerate(self.forecast_feeds):
            site, sep, source = f.partition("=")
            fail_if(not sep or not site.strip() or not source.strip(), f"advice.forecast_feeds[{i}]",
                    f"{f!r} is not 'site=path-or-url'")
            fail_if(site in seen, f"advice.forecast_feeds[{i}]", f"second feed for site {site!r}")
            seen.add(site)


@dataclass
class BackendSettings:
    """Everything `yukimizu api` needs."""

    api: ApiSection = field(default_factory=ApiSection)
    influxdb: InfluxSection = field(default_factory=InfluxSection)
    registry: RegistrySection = field(default_factory=RegistrySection)
    fleet: FleetSection = field(default_factory=FleetSection)
    alerts: AlertsSection = field(default_factory=AlertsSection)
    downsample: DownsampleSection = field(default_factory=DownsampleSection)
    snow: SnowSection = field(default_factory=SnowSection)
    advice: AdviceSection = field(default_factory=AdviceSection)

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
