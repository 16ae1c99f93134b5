"""The broker side: a persistent QoS 1 subscription whose messages are acknowledged only on request.

paho-mqtt 2.x with a fixed client id, clean_session=False (the broker keeps our subscription and
queues QoS 1 messages while we are away) and manual_ack=True (no PUBACK until `ack()`), so a
message the gateway has not committed to its spool is redelivered after any crash.
"""
from __future__ import annotations

import logging
import queue
import ssl
import time
from typing import Any

import paho.mqtt.client as mqtt

from .intake import Incoming
from .metrics import Gauges
from .settings import MqttSettings

log = logging.getLogger("edge_gateway.mqtt")


class MqttSource:
    """Subscribes and feeds `self.queue` with Incoming messages; `ack()` sends their PUBACKs."""

    def __init__(self, s: MqttSettings, gauges: Gauges):
        self.s = s
        self.gauges = gauges
        self.queue: queue.Queue[Incoming] = queue.Queue()
        self.generation = 0
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=s.client_id, clean_session=False,
                        protocol=mqtt.MQTTv311, manual_ack=True)
        if s.username:
            c.username_pw_set(s.username, s.password or None)
        if s.tls:
            c.tls_set(ca_certs=s.ca_file or None, cert_reqs=ssl.CERT_REQUIRED)
        c.reconnect_delay_set(1, s.reconnect_max_s)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        self.client = c

    def start(self) -> None:
        """Connect in the background (retried until the broker answers) and start paho's network thread."""
        self.client.connect_async(self.s.host, self.s.port, keepalive=self.s.keepalive_s)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect; unacknowledged messages stay with the broker for next time."""
        self.client.disconnect()
        self.client.loop_stop()

    def ack(self, m: Incoming) -> None:
        """PUBACK one message, if the connection it came on is still the current one.

        After a reconnect the broker redelivers every unacknowledged message itself; those copies
        are acknowledged when they come through (dedup drops their readings).
        """
        if m.qos and m.generation == self.generation and self.gauges.mqtt_connected:
            self.client.ack(m.mid, m.qos)

    def _on_connect(self, c: mqtt.Client, _u: Any, flags: Any, rc: Any, _p: Any = None) -> None:
        if rc.is_failure:
            log.error("broker refused the connection", extra={"event": "mqtt_refused", "reason": str(rc)})
            self.gauges.error(f"MQTT connect refused: {rc}")
            return
        self.generation += 1
        self.gauges.mqtt_connected = True
        self.gauges.mqtt_connects += 1
        log.info("connected to the broker", extra={
            "event": "mqtt_connected", "host": self.s.host, "port": self.s.port, "client_id": self.s.client_id,
            "session_present": bool(getattr(flags, "session_present", False)), "subscription": self.s.subscription})
        c.subscribe(self.s.subscription, qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, rcs: Any, _p: Any = None) -> None:
        self.gauges.mqtt_subscribed = not any(rc.is_failure for rc in rcs)
        for rc in rcs:
            if rc.is_failure:
                log.error("subscription refused", extra={"event": "mqtt_subscribe_refused", "reason": str(rc),
                                                          "subscription": self.s.subscription})
                self.gauges.error(f"MQTT subscription {self.s.subscription} refused: {rc}")

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        self.gauges.mqtt_connected = False
        self.gauges.mqtt_subscribed = False
        log.warning("disconnected from the broker, reconnecting", extra={"event": "mqtt_disconnected", "reason": str(rc)})

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.time()
        self.gauges.last_message_s = now
        try:
            topic = msg.topic
        except UnicodeDecodeError:  # the contract decoder explains bad topics; keep the bytes readable
            topic = msg._topic.decode("utf-8", "replace")
        self.queue.put(Incoming(topic, bytes(msg.payload), msg.mid, msg.qos, self.generation, now))
