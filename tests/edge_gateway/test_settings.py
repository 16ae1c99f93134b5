"""The gateway's settings: the example file documents every key with its default; errors name the key."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from edge_gateway import settings as gs
from yukimizu.settings import SettingsError

EXAMPLE = Path(gs.__file__).with_name("gateway.example.toml")


def test_example_file_names_every_key_with_its_default():
    text = EXAMPLE.read_text()
    sections = {f.name: f.default_factory() for f in dataclasses.fields(gs.GatewaySettings)}  # type: ignore[misc]
    loaded = gs.load(EXAMPLE, environ={})
    for name, default in sections.items():
        body = re.search(rf"^\[{name}\]\n(.*?)(?=^\[|\Z)", text, re.S | re.M)
        assert body, f"[{name}] missing from the example"
        for f in dataclasses.fields(default):
            assert re.search(rf"^#? ?{f.name} = ", body.group(1), re.M), f"{name}.{f.name} is not documented"
            if (name, f.name) in {("registry", "path"), ("mqtt", "client_id")}:
                continue  # the example names a file / the default depends on the host
            assert getattr(getattr(loaded, name), f.name) == getattr(default, f.name), f"{name}.{f.name} default"


def test_environment_overrides_the_file(tmp_path):
    s = gs.load(EXAMPLE, environ={"YUKIMIZU_GATEWAY__MQTT__PORT": "8883", "YUKIMIZU_GATEWAY__SPOOL__WHEN_FULL": "drop_oldest",
                                  "YUKIMIZU_GATEWAY__INFLUXDB__API": "v2"})
    assert (s.mqtt.port, s.spool.when_full, s.influxdb.api) == (8883, gs.WhenFull.DROP_OLDEST, "v2")
    assert gs.load(EXAMPLE, environ={"YUKIMIZU_GATEWAY__MQTT__SHARED_GROUP": "g1"}).mqtt.subscription == \
        "$share/g1/yukimizu/v1/#"


@pytest.mark.parametrize("env, message", [
    ({"YUKIMIZU_GATEWAY__SPOOL__WHEN_FULL": "panic"}, "spool.when_full"),
    ({"YUKIMIZU_GATEWAY__MQTT__SHARED_GROUP": "a/b"}, "mqtt.shared_group"),
    ({"YUKIMIZU_GATEWAY__REGISTRY__PATH": ""}, "registry.require_known_devices"),
    ({"YUKIMIZU_GATEWAY__INFLUXDB__BATCH_SIZE": "0"}, "influxdb.batch_size"),
    ({"YUKIMIZU_GATEWAY__INFLUXDB__URL": "influx:8086"}, "influxdb.url"),
    ({"YUKIMIZU_GATEWAY__MQTT__TLS": "true", "YUKIMIZU_GATEWAY__MQTT__CA_FILE": "/nonexistent/ca.pem"}, "mqtt.ca_file"),
], ids=["unknown spool policy", "shared group with a slash", "known devices required but no registry source",
        "empty batches", "url without a scheme", "a CA file that is not there"])
def test_bad_settings_are_refused_naming_the_key(env, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        gs.load(EXAMPLE, environ=env)


def test_cli_reports_a_bad_config_before_connecting(tmp_path):
    import subprocess
    import sys
    p = tmp_path / "g.toml"
    p.write_text("[mqtt]\nport = 'eighty'\n")
    r = subprocess.run([sys.executable, "-m", "edge_gateway", "--config", str(p)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2 and "mqtt.port" in r.stderr
