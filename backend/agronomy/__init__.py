"""Irrigation advice: FAO-56 reference ET, upland water balance, cold-region paddy water management.

The API calls one function with column arrays (one row per field) and gets one Advice per field:

    from backend.agronomy.advice import FieldTable, History, advise, sort_by_urgency
    from backend.agronomy.weather import WeatherInput, DailyObserved, parse_forecast_csv

    advice = advise(fields, history, WeatherInput(observed, forecast), now_unix_s=time.time())
    sort_by_urgency(advice)[0].message_ja   # "深水にしてください: 15 cm 以上 ..."

Modules, one concept each:
- et0: FAO-56 Penman-Monteith (daily, hourly), Hargreaves, wind height conversion.
- crops, soils: FAO-56 Tables 11/12/22 and 19 for the crops and soils here.
- waterbalance: root-zone depletion (eqs. 82-88), sensor correction, irrigate now / in N days.
- paddy + paddy_rules.toml: growth stage, depth band, NARO cold trigger, leak/overflow checks (rules as data).
- weather: station readings to JST days, forecast feeds (CSV/JSON), what is missing.
- engine: every field's decision as arrays; advice: the Advice rows and their texts (messages.toml).
"""
