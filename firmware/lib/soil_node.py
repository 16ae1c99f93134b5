"""Soil / paddy-water node: wake, read, connect, publish every unacknowledged reading, deep sleep.

kind "soil": vwc_pct (capacitive probe, two-point calibration), soil_temp_c (DS18B20).
kind "water": level_cm (JSN-SR04T, mounting height minus echo distance), water_temp_c (DS18B20).
Both: battery_v, rssi_dbm. One cycle is one process run on the unix port, one wake on an ESP32.

The 750 ms DS18B20 conversion overlaps the Wi-Fi and MQTT connection. Readings the broker did
not acknowledge go to the flash spool and leave oldest first on a later wake; when the broker
acknowledges at once, flash is not written at all.
"""
import asyncio
import json
import time

from micropython import const

import clock
import config
import encoder
import sensors
from seqno import Seq
from spool import Spool

_ECHO_PINGS = const(5)
_NTP_EVERY_CYCLES = const(36)  # re-sync about every 6 h at 10 min: the deep-sleep RC clock drifts


def read_fields(board, cfg):
    """This wake's measurements as (name, value) pairs; a sensor fault leaves its field out."""
    fields = []
    temp_c, why = sensors.ds18b20_c(board.ds18b20_scratch())
    if cfg["kind"] == "soil":
        fields.append(("vwc_pct", sensors.vwc_pct(board.soil_raw(), cfg["raw_dry"], cfg["raw_wet"])))
        fields.append(("soil_temp_c", temp_c))
    else:
        # The DS18B20 sits at the water surface: its temperature stands in for the air under the
        # sensor (sound speed changes 0.18 %/C, 3.5 cm over a metre for a 20 C error).
        air_c = temp_c if temp_c is not None else 10.0
        dists = []
        for _ in range(_ECHO_PINGS):
            d = sensors.distance_cm(board.echo_us(), air_c)
            if d is not None:
                dists.append(d)
            time.sleep_ms(0 if board.is_sim else 60)  # let the echo die down between pings
        if dists:
            fields.append(("level_cm", sensors.level_cm(cfg["mount_height_cm"], sensors.median(dists))))
        fields.append(("water_temp_c", temp_c))
    fields.append(("battery_v", sensors.battery_v(board.battery_mv(), cfg["battery_divider"])))
    return fields, why


async def cycle(board, board_cfg, cfg):
    """One wake. Returns the milliseconds to sleep."""
    t_wake = time.ticks_ms()
    board.wdt_start(cfg["wdt_ms"])
    remote = config.Remote(board_cfg, cfg)
    state = board.rtc_load() or {}
    seq = Seq("seq", cfg["seq_block"], state.get("seq"))
    spool = Spool("spool", cfg["spool_max_readings"], cfg["spool_segment_readings"])
    stamper = clock.Stamper("held", cfg["max_held"])
    board.ds18b20_start()
    from link import Link  # lazy: the MQTT client is loaded after the sensors have been started

    link = Link(board, cfg, remote)
    conn = asyncio.create_task(link.up())
    await asyncio.sleep_ms(board.ds18b20_conversion_ms)
    fields, sensor_fault = read_fields(board, cfg)
    t_s = board.time_s()
    online = await conn
    board.heap_mark()
    if online:
        fields.append(("rssi_dbm", board.rssi_dbm()))
    rec = stamper.record(seq.take(), t_s, 0, seq.boot, encoder.tail(fields))
    fields = None
    if rec is not None:
        spool.append(rec)
        rec = None
    cycles = state.get("cycles", 0) + 1
    last_ntp = state.get("ntp", -_NTP_EVERY_CYCLES)
    if online and (not clock.is_set(board.time_s()) or cycles - last_ntp >= _NTP_EVERY_CYCLES):
        offset_s = await board.ntp_sync(cfg["ntp_host"])
        if offset_s is not None:
            last_ntp = cycles
            stamper.release(seq.boot, offset_s, spool)
    sent = 0
    if online:
        sent = await link.drain(spool)
        board.heap_mark()
        await link.status("asleep", {
            "seq_next": seq.next, "pending": spool.pending, "on_flash": spool.on_flash,
            "dropped": spool.dropped, "held": stamper.held, "sensor_fault": sensor_fault or None,
            "interval_s": remote.cfg["interval_s"], "heap_b": board.heap_peak_b,
        })
        await link.close()
    spool.flush()
    state["seq"] = seq.state()
    state["cycles"] = cycles
    state["ntp"] = last_ntp
    board.rtc_save(state)
    board.heap_mark()
    # One line a test or a person on the serial console can read.
    print("CYCLE", json.dumps({
        "online": online, "sent": sent, "pending": spool.pending, "on_flash": spool.on_flash,
        "dropped": spool.dropped, "held": stamper.held, "seq_next": seq.next,
        "awake_ms": time.ticks_diff(time.ticks_ms(), t_wake), "heap_peak_b": board.heap_peak_b,
        "config_error": remote.error, "interval_s": remote.cfg["interval_s"],
        "link_error": link.client.last_error,
    }))
    return remote.cfg["interval_s"] * 1000


def main():
    """Entry point from main.py: run one wake, then deep sleep."""
    import hw

    try:
        board_cfg, cfg = config.load()
    except ValueError as e:
        # Without a valid identity nothing can be published: say why on the console, retry later.
        print("CONFIG ERROR", e)
        board = hw.board({"battery_divider": 2.0})
        board.deepsleep(600000)
        return
    board = hw.board(cfg)
    sleep_ms = asyncio.run(cycle(board, board_cfg, cfg))
    board.deepsleep(sleep_ms)
