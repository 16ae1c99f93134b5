"""The device registry: parsing, served by the backend URL, and the cache that outlives the backend."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from gateway_harness import registry_doc, soil_message, wait_for
from hypothesis import given
from hypothesis import strategies as st

from edge_gateway.registry import RegistryError, parse
from yukimizu.contract import Kind

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                           max_leaves=12)
entry = st.fixed_dictionaries({}, optional={k: json_values | st.sampled_from(["soil", "soil-001", "goshogawara", "f 1"])
                                            for k in ("device_id", "site", "kind", "field_id", "vehicle_id", "route",
                                                      "expected_interval_s")})


@given(st.one_of(json_values, st.fixed_dictionaries({"devices": st.lists(entry, max_size=5)})))
def test_any_json_gives_devices_or_a_registry_error(doc):
    try:
        devices, problems = parse(doc, "test")
    except RegistryError:
        return
    assert len(devices) + len(problems) == len(doc["devices"])
    for d in devices.values():
        assert all(isinstance(v, str) and v and "\n" not in v for v in d.tags.values())


@pytest.mark.parametrize("entry_, problem", [
    ({"device_id": "Soil 1", "site": "goshogawara", "kind": "soil"}, "device_id"),
    ({"device_id": "soil-1", "site": "goshogawara", "kind": "tractor"}, "kind"),
    ({"device_id": "soil-1", "site": "goshogawara", "kind": "soil", "route": "r\\1"}, "route"),
    ({"device_id": "soil-1", "site": "goshogawara", "kind": "soil", "expected_interval_s": -5}, "expected_interval_s"),
], ids=["device id with upper case and a space", "unknown kind", "tag with a backslash",
        "negative expected interval"])
def test_bad_entries_are_skipped_and_named(entry_, problem):
    good = {"device_id": "plow-01", "site": "goshogawara", "kind": "plow", "vehicle_id": "v-3", "route": "国道101"}
    devices, problems = parse({"devices": [entry_, good]}, "devices.json")
    assert list(devices) == ["plow-01"] and devices["plow-01"].kind is Kind.PLOW
    assert devices["plow-01"].tags == {"vehicle_id": "v-3", "route": "国道101"}
    assert len(problems) == 1 and "devices.json: devices[0]" in problems[0] and problem in problems[0]


class _Backend:
    """A real HTTP server answering GET /api/v1/registry/devices, as the backend does."""

    def __init__(self, doc):
        body = json.dumps(doc).encode()

        class H(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200 if self.path == "/api/v1/registry/devices" else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/registry/devices"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_registry_from_the_backend_keeps_working_from_its_cache_when_the_backend_is_gone(
        mosquitto, influx, make_gateway, publisher):
    backend = _Backend(registry_doc([{"device_id": "soil-000", "field_id": "f-12"}]))
    gw = make_gateway(mosquitto.port, influx.url, influx.database,
                      settings={"registry": {"url": backend.url, "require_known_devices": True, "refresh_s": 1}}).start()
    pub = publisher(mosquitto.port)
    pub.publish([soil_message("soil-000", 0, 10)])
    wait_for(lambda: gw.health()["written"] == 10, 20, "first readings")
    backend.stop()
    gw.kill9()
    gw.start()  # the backend is gone: the cached list must do
    h = gw.health()
    assert h["registry_devices"] == 1 and "unusable" in h["registry_error"]
    pub.publish([soil_message("soil-000", 10, 10), soil_message("soil-555", 0, 10)])
    wait_for(lambda: gw.health()["received_msgs"] == 3 and gw.health()["spool_depth_lines"] == 0, 20, "second batch")
    rows = influx.query('SELECT count("seq") FROM "soil" GROUP BY "device_id", "field_id"')
    assert [(s["tags"]["device_id"], s["tags"]["field_id"], s["values"][0][1]) for s in rows] == [("soil-000", "f-12", 20)]
    assert [c for _t, c, _r, _p in gw.dead_letters()] == ["unknown_device"]
