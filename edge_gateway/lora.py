"""Optional ingest from a serial-attached LoRa receiver (pyserial), for paddies beyond Wi-Fi reach.

The receiver prints one packet per line: the MQTT topic the device would have used, one space, the
same JSON payload: `yukimizu/v1/goshogawara/water/paddy-08/telemetry {"v":1,"readings":[...]}`.
Lines go into the same intake queue as MQTT messages, so decoding, registry checks, dedup, the spool
and dead letters are the same. Serial has no acknowledgement: a line is safe once the intake commits
it; a line still in memory at a crash is lost unless the device repeats it (its seq makes the
repeat harmless).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import serial

from .intake import Incoming
from .metrics import Gauges
from .settings import LoraSettings

log = logging.getLogger("edge_gateway.lora")

MAX_LINE_BYTES = 300 * 1024  # above the contract's payload limit, so too_large is reported, not cut


def parse_frame(line: bytes) -> tuple[str, bytes]:
    """Split one receiver line into (topic, payload); a line without a space is all topic."""
    line = line.rstrip(b"\r\n")
    topic, _, payload = line.partition(b" ")
    return topic.decode("utf-8", "replace"), payload


class LoraSource(threading.Thread):
    """Reads receiver lines and queues them for the intake; reopens the port when it goes away."""

    def __init__(self, s: LoraSettings, out: Callable[[list[Incoming]], None], stop: threading.Event,
                 gauges: Gauges):
        super().__init__(name="lora", daemon=True)
        self.s = s
        self.out = out
        self.stop_event = stop
        self.gauges = gauges
        self.frames = 0
        gauges.lora_open = False

    def run(self) -> None:
        """Loop until stopped: open, read lines, queue them; on a serial error wait and reopen."""
        delay_s = 1.0
        while not self.stop_event.is_set():
            try:
                # Opening drops whatever the port held before (pyserial flushes its input), so the
                # health endpoint says when the port is open: lines sent before that are not ours.
                with serial.serial_for_url(self.s.port, baudrate=self.s.baudrate, timeout=0.5) as port:
                    log.info("LoRa receiver open", extra={"event": "lora_open", "port": self.s.port})
                    self.gauges.lora_open = True
                    delay_s = 1.0
                    self._read(port)
            except (serial.SerialException, OSError) as e:
                self.gauges.lora_open = False
                log.warning("LoRa receiver unavailable, retrying", extra={
                    "event": "lora_error", "port": self.s.port, "error": str(e), "retry_in_s": delay_s})
                self.stop_event.wait(delay_s)
                delay_s = min(delay_s * 2, 30.0)

    def _read(self, port: serial.SerialBase) -> None:
        while not self.stop_event.is_set():
            line = port.readline(MAX_LINE_BYTES)
            if not line or not line.strip():
                continue
            topic, payload = parse_frame(line)
            self.frames += 1
            self.out([Incoming(topic, payload, 0, 0, -1, time.time())])
