"""Daily work report and payment breakdown for a constructed day whose figures are known by construction."""
from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from backend.snow.holidays import japanese_holidays
from backend.snow.report import plows_report, report_csv
from backend.snow.tariff import TariffError, load_tariff, parse_tariff
from backend.snow.tracks import parse_tracks_text
from snow_builders import ORIGIN, network, road

# 2026-01-13 (Tuesday) 06:30:00 JST
T_START_S = 1768253400.0
LOOP = [(0, 0), (500, 0), (500, 400), (0, 400), (0, 0)]  # a 1.8 km block, plowed round and round
NET = network(*(road(f"r{k}", LOOP[k], LOOP[k + 1], route="A" if k % 2 == 0 else "B") for k in range(4)))

TARIFF = {
    "bands": {"early": {"label": "早朝 / early morning", "start": "03:00", "end": "08:00"},
              "day": {"label": "日中 / daytime", "start": "08:00", "end": "17:00"},
              "night": {"label": "夜間 / night", "start": "17:00", "end": "03:00"}},
    "machine_classes": {"dozer": {"label": "除雪ドーザ", "weekday": {"early": 16800, "day": 13400, "night": 17500},
                                  "holiday": {"early": 19300, "day": 16100, "night": 20100}}},
    "default_machine_class": "dozer",
}


def _day_csv() -> str:
    """1 Hz at 10 m/s round the loop: blade down 06:30-07:30, transit 07:30-08:30, no fixes 08:10-08:12."""
    t = np.arange(0, 7201, dtype=float)
    t = t[~((t > 6000) & (t < 6120))]  # 08:10:00 to 08:12:00 lost: a 120 s gap
    pts = np.array(LOOP, dtype=float)
    cum = np.r_[0, np.cumsum(np.hypot(*np.diff(pts, axis=0).T))]
    s = (t * 10.0) % cum[-1]
    lat, lon = ORIGIN.to_latlon(np.interp(s, cum, pts[:, 0]), np.interp(s, cum, pts[:, 1]))
    rows = ["device_id,t,lat,lon,blade_down,speed_km_h,heading_deg"]
    rows += [f"plow-001,{T_START_S + a:.0f},{la:.8f},{lo:.8f},{int(a < 3600)},36," for a, la, lo in zip(t, lat, lon)]
    return "\n".join(rows) + "\n"


TRACKS = parse_tracks_text(_day_csv(), NET)


def test_hours_and_km_of_a_constructed_day():
    rep = plows_report(TRACKS, NET, date(2026, 1, 13), tariff=parse_tariff(TARIFF))
    (v,) = rep["vehicles"]
    assert v["start"] == "2026-01-13T06:30:00+09:00" and v["end"] == "2026-01-13T08:30:00+09:00"
    assert v["blade_down_h"] == pytest.approx(1.0, abs=1e-6)
    assert v["transit_h"] == pytest.approx(1.0 - 120 / 3600, abs=1e-3)
    # Straight-line distance between 1 Hz fixes cuts the block's corners by a few centimetres.
    assert v["blade_down_km"] == pytest.approx(36.0, abs=0.01)
    assert v["transit_km"] == pytest.approx(36.0 - 1.2, abs=0.01)
    assert v["gaps"] == [{"start": "2026-01-13T08:10:00+09:00", "end": "2026-01-13T08:12:00+09:00", "minutes": 2.0}]
    assert v["cleared_km"] == pytest.approx(1.8, abs=0.001)  # the whole loop, once counted
    assert [r["route"] for r in v["routes"]] == ["A", "B"]
    # Band boundary at 08:00: 06:30-08:00 early (1.5 h), 08:00-08:30 daytime less the 2 min gap.
    lines = {line["band"]: line for line in v["payment"]["lines"]}
    assert lines["early"]["hours"] == pytest.approx(1.5, abs=1e-3)
    assert lines["day"]["hours"] == pytest.approx(0.5 - 2 / 60, abs=1e-3)
    assert lines["night"]["hours"] == 0.0
    assert lines["early"]["amount_yen"] == 25200  # 1.5 h x 16,800 yen
    assert lines["day"]["amount_yen"] == round(0.467 * 13400)
    assert v["payment"]["total_yen"] == 25200 + round(0.467 * 13400)
    assert rep["day_type"] == "weekday"


def test_a_public_holiday_uses_holiday_prices():
    shifted = parse_tracks_text(_day_csv().replace("plow-001,17682", "plow-001,17681"), NET)  # 100,000 s earlier
    rep = plows_report(shifted, NET, date(2026, 1, 12), tariff=parse_tariff(TARIFF))  # 成人の日
    assert rep["day_type"] == "holiday"
    assert {line["yen_per_hour"] for line in rep["vehicles"][0]["payment"]["lines"]} == {19300, 16100, 20100}


def test_a_day_without_fixes_has_no_vehicles():
    assert plows_report(TRACKS, NET, date(2026, 1, 14))["vehicles"] == []


def test_csv_has_japanese_and_english_columns():
    text = report_csv(plows_report(TRACKS, NET, date(2026, 1, 13), tariff=parse_tariff(TARIFF)))
    header, row = text.splitlines()[:2]
    assert "除雪時間(h) / blade-down hours" in header and "回送距離(km) / transit km" in header
    assert row.startswith("plow-001,2026-01-13T06:30:00+09:00")
    assert "金額(円) / amount (yen)" in text and "合計 / total" in text


def test_example_tariff_loads():
    from pathlib import Path

    import backend.snow

    t = load_tariff(Path(backend.snow.__file__).parent / "tariff.example.toml")
    assert t.example and t.day_type(date(2026, 12, 30)) == "holiday" and t.day_type(date(2026, 12, 28)) == "weekday"


@pytest.mark.parametrize("change,message", [
    ({"bands": {"early": {"start": "03:00", "end": "08:00"}}}, "bands: 00:00 is in no band"),
    ({"machine_classes": {"dozer": {"weekday": {"early": 1}, "holiday": {}}}}, "machine_classes.dozer.weekday.day"),
    ({"vehicles": {"plow-001": "crane"}}, "vehicles.plow-001: unknown machine class 'crane'"),
], ids=["bands not covering the day", "a missing price", "a vehicle of an unknown class"])
def test_invalid_tariff_names_the_key(change, message):
    with pytest.raises(TariffError, match=message):
        parse_tariff({**TARIFF, **change})


def test_japanese_holidays_2026():
    # Cabinet Office list of 2026 national holidays (incl. 振替休日 5/6 and 国民の休日 9/22).
    expected = ["01-01", "01-12", "02-11", "02-23", "03-20", "04-29", "05-03", "05-04", "05-05", "05-06",
                "07-20", "08-11", "09-21", "09-22", "09-23", "10-12", "11-03", "11-23"]
    assert [d.strftime("%m-%d") for d in japanese_holidays(2026)] == expected


def test_japanese_holidays_2025():
    expected = ["01-01", "01-13", "02-11", "02-23", "02-24", "03-20", "04-29", "05-03", "05-04", "05-05", "05-06",
                "07-21", "08-11", "09-15", "09-23", "10-13", "11-03", "11-23", "11-24"]
    assert [d.strftime("%m-%d") for d in japanese_holidays(2025)] == expected
