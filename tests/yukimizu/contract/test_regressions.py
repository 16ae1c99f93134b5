"""Inputs that once broke the decoder, kept so they never do again."""
from __future__ import annotations

from yukimizu.contract import decode

TOPIC = "yukimizu/v1/goshogawara/soil/soil-001/telemetry"


def test_an_integer_too_large_for_a_float_is_out_of_range_not_a_crash() -> None:
    payload = b'{"v":1,"readings":[{"seq":1,"t":1795600000,"vwc_pct":1' + b"0" * 400 + b',"battery_v":3.7}]}'
    out = decode(TOPIC, payload, now_unix_s=1795700000)
    assert out.readings[0].values == {"battery_v": 3.7}
    assert [(r.field, r.code) for r in out.rejections] == [("vwc_pct", "out_of_range")]


def test_a_time_too_large_for_a_float_is_a_bad_time_not_a_crash() -> None:
    payload = b'{"v":1,"readings":[{"seq":1,"t":1' + b"0" * 400 + b',"vwc_pct":3}]}'
    out = decode(TOPIC, payload, now_unix_s=1795700000)
    assert not out.readings and out.rejections[0].code in ("bad_time", "clock")
