"""The gateway service: wires the MQTT source, the intake, the spool, the flusher and the health side.

Processes and threads: paho runs in the receiver process (`receiver.py`); here a reader thread takes
its frames, the intake makes group commits and then asks it for the PUBACKs, the flusher
(spool to InfluxDB), the health HTTP server; the main thread supervises: registry refresh, the
`gateway` measurement, the silence alarm and the systemd watchdog.
"""
from __future__ import annotations

import logging
import queue
import signal
import subprocess
import threading
import time
from typing import Any

from . import systemd
from .decoding import DecoderPool
from .flusher import Flusher
from .health import HealthServer
from .intake import ROW_MAX_LINES, Intake, IntakeWorker
from .metrics import Gauges, gateway_line, snapshot
from .mqtt_source import MqttSource
from .registry import Registry
from .settings import GatewaySettings
from .sink import SinkError, make_sink
from .spool import Spool

log = logging.getLogger("edge_gateway.service")

STALL_S = 60.0  # a worker thread silent this long is stuck: stop feeding the watchdog


class Gateway:
    """One gateway process. `run()` blocks until SIGTERM/SIGINT or `stop()`."""

    def __init__(self, settings: GatewaySettings, receiver: subprocess.Popen[bytes] | None = None):
        """`receiver`: an MQTT receiver process already started with `receiver.spawn`, if any."""
        self.s = settings
        self._receiver = receiver
        self.stop_event = threading.Event()
        self._stop_requests: queue.SimpleQueue[None] = queue.SimpleQueue()
        self.wake_flusher = threading.Event()
        self.gauges = Gauges()
        self.registry = Registry(settings.registry)
        self._read_spool: Spool | None = None
        self._read_lock = threading.Lock()  # the HTTP threads and the supervisor share one read connection
        self.health: HealthServer | None = None
        self.failed = False

    def snapshot(self) -> dict[str, Any]:
        """The current health snapshot (counters read from the spool file)."""
        assert self._read_spool is not None
        sp = self._read_spool
        with self._read_lock:
            counters, oldest = sp.counters(), sp.oldest_received_s()
        return snapshot(counters, self.gauges, oldest, self.s.mqtt.client_id, len(self.registry),
                        self.registry.last_error)

    def stop(self) -> None:
        """Ask the service to stop (from a signal handler or another thread)."""
        # Not stop_event.set(): a signal handler runs in the main thread, which may be inside
        # stop_event.wait() holding the event's lock, and set() would wait for it forever (seen: a
        # gateway that never exited on SIGTERM). SimpleQueue.put is reentrant; the supervisor,
        # waiting on this queue, sets the event.
        self._stop_requests.put(None)

    def run(self) -> int:
        """Start everything, supervise until stopped, shut down in order. Exit status 1 after an intake failure."""
        s = self.s
        # The receiver process first (unless `yukimizu gateway` started it before importing us): its
        # Python start-up and broker connection overlap the rest of ours, so after a power cut or
        # kill -9 the backlog starts to drain sooner. Messages it takes before the intake runs wait,
        # unacknowledged, in the queue.
        source = MqttSource(s.mqtt, self.gauges, self._receiver)
        source.start()
        # Then the intake, before the flusher, the sinks and the health endpoint: on a restart with a
        # backlog, messages are waiting in the receiver's pipe by now, and committing them to the
        # spool (so the broker can let go of them) is what everything else waits for.
        spool_w = Spool(s.spool.path, synchronous=s.spool.synchronous)
        self.registry.refresh()
        pool = DecoderPool(s.intake.workers) if s.intake.workers else None
        intake = Intake(spool_w, self.registry, s.spool, pool, row_lines=min(ROW_MAX_LINES, s.influxdb.batch_size))
        worker = IntakeWorker(intake, source, s.spool, s.registry.require_known_devices)
        intake_thread = threading.Thread(target=self._guard, args=(worker.run,), name="intake", daemon=True)
        intake_thread.start()
        # The flusher reads each row once and the health reader only counters: small caches, less RSS.
        spool_f = Spool(s.spool.path, synchronous=s.spool.synchronous, cache_kb=256)
        self._read_spool = Spool(s.spool.path, synchronous=s.spool.synchronous, cache_kb=256)
        sink = make_sink(s.influxdb)
        health_sink = make_sink(s.influxdb)
        flusher = Flusher(spool_f, sink, s.influxdb, s.spool, self.gauges, self.stop_event, self.wake_flusher)
        if s.health.port:
            self.health = HealthServer(s.health.port, self.snapshot)
            self.health.start()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())
        snap = self.snapshot()
        log.info("gateway starting", extra={
            "event": "start", "client_id": s.mqtt.client_id, "subscription": s.mqtt.subscription,
            "influxdb": s.influxdb.url, "api": s.influxdb.api, "spool": str(s.spool.path),
            "spool_depth_lines": snap["spool_depth_lines"], "registry_devices": len(self.registry),
            "health_port": self.health.port if self.health else None})
        flusher.start()
        if s.lora.port:
            from .lora import LoraSource  # pyserial only where a receiver is attached

            LoraSource(s.lora, source.put, self.stop_event, self.gauges).start()
        systemd.notify("READY=1")
        try:
            self._supervise(worker, flusher, health_sink)
        finally:
            log.info("gateway stopping", extra={"event": "stop"})
            systemd.notify("STOPPING=1")
            self.stop_event.set()
            self.wake_flusher.set()
            source.stop()
            intake_thread.join(10)
            flusher.join(10)
            if self.health:
                self.health.stop()
            sink.close()
            health_sink.close()
            if pool is not None:
                pool.close()
            for sp in (spool_w, spool_f, self._read_spool):
                sp.close()
        return 1 if self.failed else 0

    def _guard(self, target: Any) -> None:
        try:
            target(self.stop_event, self.wake_flusher)
        except Exception:
            # A spool that cannot be written is fatal: exit so systemd restarts us; nothing unsafe was acked.
            log.exception("intake failed; stopping so the service manager restarts the gateway",
                          extra={"event": "intake_failed"})
            self.failed = True
            self.stop()

    def _supervise(self, worker: IntakeWorker, flusher: Flusher, health_sink: Any) -> None:
        s = self.s
        wd_s = systemd.watchdog_interval_s() if s.health.watchdog else None
        next_health = next_registry = time.monotonic()
        silence_alarmed = False
        while not self.stop_event.is_set():
            now = time.monotonic()
            if wd_s is not None and now - worker.heartbeat_s < STALL_S and now - flusher.heartbeat_s < STALL_S:
                systemd.notify("WATCHDOG=1")
            if now >= next_registry and (s.registry.url or s.registry.path):
                next_registry = now + s.registry.refresh_s
                self.registry.refresh()
            if now >= next_health:
                next_health = now + s.health.interval_s
                snap = self.snapshot()
                try:
                    health_sink.write(gateway_line(snap))
                except SinkError as e:
                    log.debug("gateway measurement not written", extra={"event": "health_write_failed", "error": str(e)})
                age = snap["last_message_age_s"] if snap["last_message_age_s"] is not None else snap["uptime_s"]
                if age >= s.health.silence_alarm_s and not silence_alarmed:
                    silence_alarmed = True
                    log.error("no telemetry for a long time: devices, broker or subscription may be down",
                              extra={"event": "silence", "silent_s": age, "mqtt_connected": snap["mqtt_connected"]})
                elif age < s.health.silence_alarm_s:
                    silence_alarmed = False
            try:
                self._stop_requests.get(timeout=min(1.0, wd_s or 1.0))
                self.stop_event.set()
            except queue.Empty:
                pass
