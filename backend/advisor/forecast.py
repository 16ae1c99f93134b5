"""A site's daily forecast feed ([advice] forecast_feeds): a CSV or JSON file, or an http(s) URL answering either.

The feed is read at every computation (the file is replaced daily by whoever fetches the JMA forecast). A feed
that cannot be read or parsed is no forecast: the advice goes on without it, and `FeedResult.error` says why.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from backend.agronomy.weather import Forecast, parse_forecast_csv, parse_forecast_json


@dataclass(frozen=True)
class FeedResult:
    """The forecast (None when there is none) and, when the feed failed, the reason naming the source."""

    forecast: Forecast | None
    source: str | None
    error: str | None = None


def parse(text: str, name: str) -> Forecast:
    """JSON when the name ends .json or the text starts with '{', else CSV."""
    if name.lower().endswith(".json") or text.lstrip("\ufeff \n\r\t").startswith("{"):
        return parse_forecast_json(text)
    return parse_forecast_csv(text)


async def load(source: str | None, http: httpx.AsyncClient, timeout_s: float = 10.0) -> FeedResult:
    """Read and parse the feed; errors become FeedResult.error, never exceptions."""
    if not source:
        return FeedResult(None, None)
    try:
        if source.startswith(("http://", "https://")):
            r = await http.get(source, timeout=timeout_s)
            if r.status_code != 200:
                return FeedResult(None, source, f"forecast feed {source} answered {r.status_code}")
            name = source.split("?", 1)[0]
            if "json" in r.headers.get("content-type", ""):
                name += ".json"
            text = r.text
        else:
            name = source
            text = Path(source).read_text(encoding="utf-8")
        return FeedResult(parse(text, name), source)
    except (OSError, httpx.HTTPError) as e:
        return FeedResult(None, source, f"forecast feed {source} unreadable: {e}")
    except ValueError as e:
        return FeedResult(None, source, f"forecast feed {source}: {e}")
