"""The device's link to the broker: Wi-Fi, MQTT session, config subscription, spool draining, status.

Status (retained, on .../status; docs/contract.md) is one JSON object:
{"v":1,"online":true,"state":"online|asleep","seq_next":N,"pending":N,"on_flash":N,
 "dropped":N,"held":N,"config_error":null|"why","heap_b":N, ...app extras}. A soil node says
"asleep" with its `interval_s` before each deep sleep (it disconnects cleanly, so its will does
not fire: the gateway judges staleness from the interval). The last will publishes
{"v":1,"online":false} when a device vanishes without saying goodbye.
"""
import json

import config
import encoder
from mqtt import MQTTClient

WILL = b'{"v":1,"online":false}'


class Link:
    """Wi-Fi + MQTT for one device, configured from a validated config."""

    def __init__(self, board, cfg, remote):
        self.board = board
        self.remote = remote
        self.telemetry = encoder.topic(cfg["site"], cfg["kind"], cfg["device_id"], "telemetry")
        self.status_topic = encoder.topic(cfg["site"], cfg["kind"], cfg["device_id"], "status")
        self.config_topic = encoder.topic(cfg["site"], cfg["kind"], cfg["device_id"], "config")
        host, port, tls = config.broker(cfg["broker_url"])
        self.connect_timeout_ms = cfg["connect_timeout_ms"]
        ca_der = None
        if tls and cfg["broker_ca_file"]:
            with open(cfg["broker_ca_file"], "rb") as f:
                ca_der = f.read()
        self.client = MQTTClient(
            cfg["device_id"], host, port, cfg["broker_user"], cfg["broker_password"], cfg["keepalive_s"], tls,
            (self.status_topic, WILL, 1, True), True, cfg["ack_timeout_ms"], 1, cfg["connect_timeout_ms"],
            backoff_max_ms=cfg["backoff_max_ms"], on_message=self._on_message, ca_der=ca_der,
        )
        self.sent = 0
        self.reported_error = None

    def _on_message(self, topic, payload, retained):
        if topic == self.config_topic:
            self.remote.apply(payload)

    async def up(self):
        """Wi-Fi and MQTT up, config topic subscribed. False (never an exception) when the link is down."""
        if self.client.connected:
            return True
        if not await self.board.wifi_up(self.connect_timeout_ms):
            return False
        if not await self.client.connect():
            return False
        await self.client.subscribe(self.config_topic, 1)
        return True

    async def drain(self, spool, max_batches=1000):
        """Publish spooled batches oldest first until empty or the link fails; returns readings sent."""
        n = 0
        while max_batches > 0:
            max_batches -= 1
            batch = spool.next_batch()
            if batch is None:
                break
            key, parts, count = batch
            try:
                ok = await self.client.publish(self.telemetry, parts, 1)
            except BaseException:  # cancelled or failed mid-publish: the batch is not lost, only not sent yet
                spool.nack(key)
                raise
            if not ok:
                spool.nack(key)
                break
            spool.ack(key)
            n += count
        self.sent += n
        return n

    async def status(self, state, extra):
        """Publish the retained status (QoS 1). True when the broker has it."""
        doc = {"v": 1, "online": True, "state": state, "config_error": self.remote.error}
        doc.update(extra)
        self.reported_error = self.remote.error
        return await self.client.publish(self.status_topic, json.dumps(doc).encode(), 1, True)

    async def close(self):
        """DISCONNECT (so the will is not sent) and radio off."""
        await self.client.disconnect()
        self.board.wifi_down()
