"""Settings: TOML plus environment overrides, with errors that name the key."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from yukimizu.settings import SettingsError, load


@dataclass
class Mqtt:
    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False


@dataclass
class Influx:
    url: str = "http://127.0.0.1:8086"
    api: Literal["v1", "v2"] = "v1"
    batch_size: int = 5000


@dataclass
class Settings:
    mqtt: Mqtt = field(default_factory=Mqtt)
    influxdb: Influx = field(default_factory=Influx)


def test_file_then_environment_wins(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text('[mqtt]\nport = 1884\n[influxdb]\napi = "v2"\n')
    s = load(Settings, p, "YUKIMIZU_T", {"YUKIMIZU_T__MQTT__PORT": "1999", "YUKIMIZU_T__MQTT__TLS": "true"})
    assert (s.mqtt.port, s.mqtt.tls, s.influxdb.api, s.influxdb.batch_size) == (1999, True, "v2", 5000)


@pytest.mark.parametrize(
    "toml, env, message",
    [
        ("[mqtt]\nport = 'x'\n", {}, "mqtt.port (file): expected an integer"),
        ("", {"YUKIMIZU_T__MQTT__PORT": "abc"}, "mqtt.port (environment YUKIMIZU_T__MQTT__PORT)"),
        ("[influxdb]\napi = 'v3'\n", {}, "influxdb.api (file): 'v3' is not one of 'v1', 'v2'"),
        ("[mqtt]\nhots = 'a'\n", {}, "mqtt.hots (file): unknown setting"),
        ("[mqtt\n", {}, "s.toml"),
    ],
    ids=["wrong type in file", "wrong type in environment", "value not allowed", "misspelt key", "broken TOML"],
)
def test_errors_name_the_key_and_source(tmp_path: Path, toml: str, env: dict, message: str) -> None:
    p = tmp_path / "s.toml"
    p.write_text(toml)
    with pytest.raises(SettingsError) as info:
        load(Settings, p, "YUKIMIZU_T", env)
    assert message in str(info.value)
