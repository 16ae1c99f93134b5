"""Snow clearing (issue 8): road coverage from plow GPS tracks, daily work reports, payment breakdown.

Modules, each one concept:
- roads.py: GeoJSON road import and validation, cut into pieces of at most 10 m (local projection).
- grid.py: uniform grid hash of the pieces (candidate pieces per cell).
- coverage.py: CoverageEngine, the incremental coverage state; the definition of "cleared" is there.
- tracks.py: tracks.csv reader (bad lines skipped and numbered).
- result.py: result.json and GeoJSON documents (times in JST).
- report.py, tariff.py, holidays.py: 稼働日報 and 出来高内訳書 with time bands, day types and unit prices.
- cli.py: `yukimizu coverage` and `yukimizu report plows`.

For the live API: build one CoverageEngine per network at start-up (the grid takes about a second
for 20,000 roads), feed it with `update_codes(codes, names, t_s, lat, lon, blade_down, heading_deg)`
or `update(device_names, ...)` as fixes arrive, and answer with
`coverage_result(network, engine.roads(), route=...)` / `coverage_geojson(...)`.
"""
