"""The gateway's typed settings: gateway.toml plus YUKIMIZU_GATEWAY__SECTION__KEY variables.

Every key, its default and its meaning is in edge_gateway/gateway.example.toml. `load()` checks
every value and names the bad key; nothing here opens a socket.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Literal

from yukimizu.settings import fail_if
from yukimizu.settings import load as _load

ENV_PREFIX = "YUKIMIZU_GATEWAY"


class WhenFull(str, Enum):
    """What the gateway does when the spool holds `max_bytes`."""

    BLOCK = "block"  # stop acknowledging: the broker keeps the backlog (lossless while it has room)
    DROP_OLDEST = "drop_oldest"  # delete the oldest spooled readings to make room (counted)
    DROP_NEWEST = "drop_newest"  # acknowledge and discard new readings (counted)


@dataclass
class MqttSettings:
    """[mqtt]: the broker and the persistent QoS 1 subscription."""

    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    ca_file: str = ""
    username: str = ""
    password: str = ""
    client_id: str = field(default_factory=lambda: f"yukimizu-gateway-{socket.gethostname()}")
    topic: str = "yukimizu/v1/#"
    shared_group: str = ""
    keepalive_s: int = 30
    reconnect_max_s: int = 30

    def validate(self) -> None:
        fail_if(not 0 < self.port < 65536, "mqtt.port", f"{self.port} is not a TCP port")
        fail_if(not self.client_id or len(self.client_id) > 128, "mqtt.client_id", "must be 1-128 characters")
        fail_if(not self.topic or self.topic.startswith("$share/"), "mqtt.topic",
                "must be a topic filter; set shared_group instead of writing $share/ here")
        fail_if("/" in self.shared_group or "+" in self.shared_group or "#" in self.shared_group,
                "mqtt.shared_group", "must be one topic level without / + #")
        fail_if(self.keepalive_s < 5, "mqtt.keepalive_s", "must be at least 5")
        fail_if(self.reconnect_max_s < 1, "mqtt.reconnect_max_s", "must be at least 1")
        # Checked here: the receiver process would otherwise fail on it again and again, out of sight.
        fail_if(self.tls and bool(self.ca_file) and not Path(self.ca_file).is_file(), "mqtt.ca_file",
                f"{self.ca_file!r} is not a file")

    @property
    def subscription(self) -> str:
        """The topic filter actually subscribed: `$share/GROUP/TOPIC` when a group is set."""
        return f"$share/{self.shared_group}/{self.topic}" if self.shared_group else self.topic


@dataclass
class InfluxSettings:
    """[influxdb]: where readings go and how they are batched."""

    url: str = "http://127.0.0.1:8086"
    api: Literal["v1", "v2"] = "v1"
    database: str = "yukimizu"
    retention_policy: str = ""
    username: str = ""
    password: str = ""
    bucket: str = "yukimizu"
    org: str = "yukimizu"
    token: str = ""
    batch_size: int = 5000
    flush_interval_ms: int = 200
    timeout_ms: int = 10_000
    retry_min_ms: int = 250
    retry_max_ms: int = 30_000

    def validate(self) -> None:
        fail_if(not self.url.startswith(("http://", "https://")), "influxdb.url", f"{self.url!r} is not http(s)://")
        fail_if(self.api == "v1" and not self.database, "influxdb.database", "required when api = \"v1\"")
        fail_if(self.api == "v2" and not self.bucket, "influxdb.bucket", "required when api = \"v2\"")
        fail_if(not 1 <= self.batch_size <= 100_000, "influxdb.batch_size", "must be 1..100000 lines")
        fail_if(self.flush_interval_ms < 0, "influxdb.flush_interval_ms", "must not be negative")
        fail_if(self.timeout_ms < 100, "influxdb.timeout_ms", "must be at least 100")
        fail_if(not 0 < self.retry_min_ms <= self.retry_max_ms, "influxdb.retry_min_ms",
                "must be positive and at most retry_max_ms")


@dataclass
class SpoolSettings:
    """[spool]: the on-disk queue between the broker's PUBACK and InfluxDB's confirmation."""

    path: Path = Path("/var/lib/yukimizu/gateway-spool.sqlite3")
    max_bytes: int = 256 * 1024 * 1024
    when_full: WhenFull = WhenFull.BLOCK
    synchronous: Literal["full", "normal"] = "full"
    commit_max_messages: int = 1000
    commit_interval_ms: int = 20
    dedup_window_h: int = 24 * 30
    dead_letter_max_rows: int = 10_000
    dead_letter_max_payload_bytes: int = 8192

    def validate(self) -> None:
        fail_if(self.max_bytes < 4096, "spool.max_bytes", "must be at least 4096")
        fail_if(not 1 <= self.commit_max_messages <= 100_000, "spool.commit_max_messages", "must be 1..100000")
        fail_if(self.commit_interval_ms < 0, "spool.commit_interval_ms", "must not be negative")
        fail_if(self.dedup_window_h < 1, "spool.dedup_window_h", "must be at least 1 hour")
        fail_if(self.dead_letter_max_rows < 1, "spool.dead_letter_max_rows", "must be at least 1")
        fail_if(self.dead_letter_max_payload_bytes < 64, "spool.dead_letter_max_payload_bytes", "must be at least 64")


@dataclass
class IntakeSettings:
    """[intake]: where decoding runs."""

    workers: int = 0

    def validate(self) -> None:
        fail_if(not 0 <= self.workers <= 16, "intake.workers", "must be 0..16 (0: decode in the gateway process)")


@dataclass
class RegistrySettings:
    """[registry]: device metadata (field, vehicle, route) and which devices may write."""

    path: str = ""
    url: str = ""
    token: str = ""
    refresh_s: int = 300
    timeout_ms: int = 5000
    cache_path: Path = Path("/var/lib/yukimizu/gateway-registry.json")
    require_known_devices: bool = True

    def validate(self) -> None:
        fail_if(bool(self.path) and bool(self.url), "registry.path", "set path or url, not both")
        fail_if(bool(self.url) and not self.url.startswith(("http://", "https://")), "registry.url",
                f"{self.url!r} is not http(s)://")
        fail_if(self.refresh_s < 1, "registry.refresh_s", "must be at least 1")
        fail_if(self.require_known_devices and not (self.path or self.url), "registry.require_known_devices",
                "is true (the default) but neither registry.path nor registry.url is set; "
                "set one, or set require_known_devices = false to accept any device")


@dataclass
class HealthSettings:
    """[health]: the local status endpoint, the `gateway` measurement and the silence alarm."""

    port: int = 8181
    interval_s: float = 10.0
    silence_alarm_s: int = 3600
    watchdog: bool = True

    def validate(self) -> None:
        fail_if(not 0 <= self.port < 65536, "health.port", f"{self.port} is not a TCP port (0 turns it off)")
        fail_if(self.interval_s <= 0, "health.interval_s", "must be positive")


@dataclass
class LoraSettings:
    """[lora]: optional serial-attached LoRa receiver feeding the same spool (empty port: off)."""

    port: str = ""
    baudrate: int = 115200

    def validate(self) -> None:
        fail_if(self.baudrate <= 0, "lora.baudrate", "must be positive")


@dataclass
class LogSettings:
    """[log]: structured JSON lines on stderr (the journal keeps them under systemd)."""

    level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass
class GatewaySettings:
    """Everything the gateway reads from gateway.toml and the environment."""

    mqtt: MqttSettings = field(default_factory=MqttSettings)
    influxdb: InfluxSettings = field(default_factory=InfluxSettings)
    spool: SpoolSettings = field(default_factory=SpoolSettings)
    intake: IntakeSettings = field(default_factory=IntakeSettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    lora: LoraSettings = field(default_factory=LoraSettings)
    log: LogSettings = field(default_factory=LogSettings)


def load(path: str | Path | None, environ: dict[str, str] | None = None) -> GatewaySettings:
    """Load and check the gateway's settings from `path` and YUKIMIZU_GATEWAY__SECTION__KEY variables."""
    return _load(GatewaySettings, path, ENV_PREFIX, environ)
