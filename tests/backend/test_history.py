"""History: readings written through the contract come back from InfluxDB as written, raw and aggregated."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from backend_helpers import SITE, seed_site, write_readings
from fastapi.testclient import TestClient

from backend.history import History
from yukimizu.influx import InfluxV1

T0_S = 1_780_000_000 - 1_780_000_000 % 3600  # 2026-05-28T20:00Z, an hour boundary


def scenario(influx: InfluxV1) -> tuple[np.ndarray, np.ndarray]:
    """A paddy sensor every 10 min for 3 h with a falling level; a soil probe that sometimes omits temperature."""
    t = T0_S + 600 * np.arange(18)
    level = np.round(6.0 - 0.2 * np.arange(18), 2)
    write_readings(influx, "water", "w-01", [(float(ti), {"level_cm": float(lv), "water_temp_c": 18.5, "battery_v": 3.9})
                                             for ti, lv in zip(t, level)], tags={"field_id": "paddy-1"})
    write_readings(influx, "soil", "s-01", [(float(T0_S + 600 * i), {"vwc_pct": 30.0 + i, **({"soil_temp_c": 15.0}
                                            if i % 2 == 0 else {})}) for i in range(6)], tags={"field_id": "apple-1"})
    return t, level


def test_api_returns_raw_readings_exactly_as_written(client: TestClient, influx: InfluxV1) -> None:
    seed_site(client)
    t, level = scenario(influx)
    r = client.get("/api/v1/history/water", params={"field": ["level_cm", "water_temp_c"], "start": str(T0_S * 1000),
                                                    "end": "2026-05-29T12:00:00+09:00", "field_id": "paddy-1"})
    assert r.status_code == 200, r.text
    (s,) = r.json()["series"]
    assert s["tags"] == {"device_id": "w-01"}
    assert s["times_ms"] == (t * 1000).tolist()
    assert s["values"]["level_cm"] == level.tolist()
    assert s["values"]["water_temp_c"] == [18.5] * 18


def test_api_aggregates_per_hour_in_influxdb(client: TestClient, influx: InfluxV1) -> None:
    seed_site(client)
    t, level = scenario(influx)
    for agg, fn in (("mean", np.mean), ("min", np.min), ("max", np.max), ("last", lambda a: a[-1])):
        r = client.get("/api/v1/history/water", params={"field": "level_cm", "start": str(T0_S * 1000),
                                                        "end": str((T0_S + 3 * 3600) * 1000), "every": "1h", "agg": agg})
        (s,) = r.json()["series"]
        assert s["times_ms"] == [(T0_S + h * 3600) * 1000 for h in range(3)]
        np.testing.assert_allclose(s["values"]["level_cm"], [fn(level[6 * h:6 * h + 6]) for h in range(3)], rtol=1e-12)


def test_reader_gives_numpy_arrays_with_nan_for_missing_values(influx: InfluxV1) -> None:
    scenario(influx)

    async def read() -> list:
        h = History(influx.url, influx.database)
        try:
            return await h.raw("soil", ["vwc_pct", "soil_temp_c"], start_ms=T0_S * 1000, end_ms=(T0_S + 7200) * 1000,
                               tags={"site": SITE})
        finally:
            await h.aclose()

    (s,) = asyncio.run(read())
    assert s.times_ms.dtype == np.int64 and s.values["soil_temp_c"].dtype == np.float64
    np.testing.assert_array_equal(s.times_ms, (T0_S + 600 * np.arange(6)) * 1000)
    np.testing.assert_array_equal(s.values["vwc_pct"], 30.0 + np.arange(6))
    np.testing.assert_array_equal(np.isnan(s.values["soil_temp_c"]), [False, True] * 3)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"field": "depth_m"}, "field"),
        ({"field": "level_cm", "start": "yesterday"}, "start"),
        ({"field": "level_cm", "start": "2026-06-01T00:00:00"}, "start"),
        ({"field": "level_cm", "every": "hourly"}, "every"),
        ({"field": "level_cm", "group_by": "colour"}, "group_by"),
    ],
    ids=["unknown field", "unreadable time", "time without zone", "bucket that is not a duration", "unknown tag"],
)
def test_bad_history_queries_name_the_parameter(client: TestClient, params: dict, field: str) -> None:
    r = client.get("/api/v1/history/water", params=params)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == field
