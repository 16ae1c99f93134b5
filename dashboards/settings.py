"""Settings of `yukimizu dashboards`: where InfluxDB is, how Grafana authenticates to it, where files go.

Credentials are never settings here: only the NAMES of the environment variables Grafana reads
them from at start (`$__env{NAME}` in the provisioning file), so no secret is ever written into a
generated file. Loaded with yukimizu.settings (TOML file + YUKIMIZU_DASHBOARDS__SECTION__KEY).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from yukimizu.settings import fail_if, load

ENV_PREFIX = "YUKIMIZU_DASHBOARDS"
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")


@dataclass
class InfluxSettings:
    """[influx]: the data source Grafana queries with InfluxQL (1.x, 2.x via DBRP, 3.x)."""

    url: str = "http://127.0.0.1:8086"
    database: str = "yukimizu"
    # none: open 1.x; password: 1.x user + password; token: 2.x/3.x `Authorization: Token ...`.
    auth: Literal["none", "password", "token"] = "none"
    user_env: str = "YUKIMIZU_INFLUX_USER"
    password_env: str = "YUKIMIZU_INFLUX_PASSWORD"
    token_env: str = "YUKIMIZU_INFLUX_TOKEN"
    http_method: Literal["GET", "POST"] = "POST"
    min_interval: str = "1m"

    def validate(self) -> None:
        """Refuse a URL without scheme and env names that look like values (a pasted secret)."""
        fail_if(not re.match(r"https?://", self.url), "influx.url", f"{self.url!r} must start with http:// or https://")
        fail_if(not self.database, "influx.database", "must not be empty")
        for key in ("user_env", "password_env", "token_env"):
            fail_if(not _ENV_NAME.fullmatch(getattr(self, key)), f"influx.{key}",
                    "must be the NAME of an environment variable (A-Z, 0-9, _), never the secret itself")


@dataclass
class GrafanaSettings:
    """[grafana]: the folder dashboards land in and the path Grafana reads provisioned files from."""

    folder: str = "yukimizu"
    dashboards_path: str = "/var/lib/grafana/dashboards/yukimizu"

    def validate(self) -> None:
        """The folder needs a name."""
        fail_if(not self.folder.strip(), "grafana.folder", "must not be empty")


@dataclass
class FarmSettings:
    """[farm]: soil water limits for the soil-moisture panel, % by volume (FAO-56 eqs. 82-83)."""

    field_capacity_pct: float = 32.0
    wilting_point_pct: float = 12.0
    depletion_fraction: float = 0.5

    def validate(self) -> None:
        """Wilting point below field capacity, p in (0, 1)."""
        fail_if(not 0 <= self.wilting_point_pct < self.field_capacity_pct <= 100, "farm.field_capacity_pct",
                "needs 0 <= wilting_point_pct < field_capacity_pct <= 100")
        fail_if(not 0 < self.depletion_fraction < 1, "farm.depletion_fraction", "must be between 0 and 1")


@dataclass
class DashboardsSettings:
    """Everything `yukimizu dashboards build` needs."""

    influx: InfluxSettings = field(default_factory=InfluxSettings)
    grafana: GrafanaSettings = field(default_factory=GrafanaSettings)
    farm: FarmSettings = field(default_factory=FarmSettings)
    backend_url: str = "http://127.0.0.1:8000"

    def validate(self) -> None:
        """The backend link must be a URL."""
        fail_if(not re.match(r"https?://", self.backend_url), "backend_url", f"{self.backend_url!r} is not an http(s) URL")


def load_settings(path: str | Path | None = None) -> DashboardsSettings:
    """Settings from an optional TOML file and YUKIMIZU_DASHBOARDS__... variables."""
    return load(DashboardsSettings, path, ENV_PREFIX)
