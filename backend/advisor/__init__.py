"""Irrigation advice served by the backend: the agronomy engine (backend.agronomy) fed from the registry and InfluxDB.

- fields: registry rows -> the engine's FieldTable (the one place where registry names meet engine names).
- readings: InfluxDB history -> the engine's History and DailyObserved (aggregation done by InfluxDB).
- forecast: the per-site forecast feed (file or URL, CSV or JSON).
- service: `Advisor` computes advice for a site or a field, writes the `advice` measurement, runs the schedule.
- writeback: advice rows -> line protocol.
- rules: paddy alerts (too low, overflow, leak, cold night) as alert rules; `plugin` registers them.
"""
