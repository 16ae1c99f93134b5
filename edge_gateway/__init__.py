"""Edge gateway: MQTT to InfluxDB through a durable spool, on the Raspberry Pi."""
