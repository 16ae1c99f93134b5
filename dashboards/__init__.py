"""Grafana dashboards as code, proven against the real InfluxDB."""
