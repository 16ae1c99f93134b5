"""A small synchronous InfluxDB 1.x-API client: /write (line protocol) and /query (InfluxQL).

The same two endpoints exist on InfluxDB 1.8, on 2.x (v1 compatibility with DBRP mapping) and on
3.x, so everything that reads or writes through here works on all three. No Flux.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx


class InfluxError(RuntimeError):
    """InfluxDB refused a write or a query; `status` is the HTTP status (0 when unreachable)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status


def quote_ident(name: str) -> str:
    """Quote an InfluxQL identifier (measurement, tag or field key)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_literal(value: str) -> str:
    """Quote an InfluxQL string literal (tag values in WHERE clauses)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class InfluxV1:
    """InfluxDB over its 1.x HTTP API for one database."""

    def __init__(self, url: str, database: str, *, username: str | None = None, password: str | None = None,
                 retention_policy: str | None = None, timeout_s: float = 30.0):
        self.url = url.rstrip("/")
        self.database = database
        self.retention_policy = retention_policy
        auth = (username, password or "") if username else None
        self.http = httpx.Client(timeout=timeout_s, auth=auth)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.http.close()

    def ping(self) -> bool:
        """True when the server answers /ping."""
        try:
            return self.http.get(f"{self.url}/ping").status_code in (200, 204)
        except httpx.HTTPError:
            return False

    def create_database(self) -> None:
        """CREATE DATABASE (idempotent)."""
        self._post_query(f"CREATE DATABASE {quote_ident(self.database)}")

    def write(self, lines: Iterable[str], precision: str = "ms") -> None:
        """Write line protocol; raises InfluxError with InfluxDB's own message on refusal."""
        body = "\n".join(lines).encode("utf-8")
        params = {"db": self.database, "precision": precision}
        if self.retention_policy:
            params["rp"] = self.retention_policy
        try:
            r = self.http.post(f"{self.url}/write", params=params, content=body)
        except httpx.HTTPError as e:
            raise InfluxError(f"InfluxDB at {self.url} unreachable: {e}") from e
        if r.status_code != 204:
            raise InfluxError(f"InfluxDB write refused ({r.status_code}): {r.text.strip()[:500]}", r.status_code)

    def _post_query(self, q: str) -> dict[str, Any]:
        try:
            r = self.http.post(f"{self.url}/query", params={"q": q, "db": self.database})
        except httpx.HTTPError as e:
            raise InfluxError(f"InfluxDB at {self.url} unreachable: {e}") from e
        if r.status_code != 200:
            raise InfluxError(f"InfluxDB query refused ({r.status_code}): {r.text.strip()[:500]}", r.status_code)
        return r.json()

    def query(self, q: str, epoch: str = "ms") -> list[dict[str, Any]]:
        """Run one InfluxQL statement; return its series ({name, tags, columns, values}); [] when empty."""
        try:
            r = self.http.get(f"{self.url}/query", params={"q": q, "db": self.database, "epoch": epoch})
        except httpx.HTTPError as e:
            raise InfluxError(f"InfluxDB at {self.url} unreachable: {e}") from e
        if r.status_code != 200:
            raise InfluxError(f"InfluxDB query refused ({r.status_code}): {r.text.strip()[:500]}", r.status_code)
        doc = r.json()
        results = doc.get("results") or [{}]
        res = results[0]
        if "error" in res:
            raise InfluxError(f"InfluxQL error: {res['error']} in {q!r}", 400)
        return list(res.get("series") or [])

    def rows(self, q: str, epoch: str = "ms") -> list[dict[str, Any]]:
        """Run a query and flatten its series into dicts, tags included."""
        out: list[dict[str, Any]] = []
        for s in self.query(q, epoch):
            tags = s.get("tags") or {}
            for v in s["values"]:
                row = dict(zip(s["columns"], v))
                row.update(tags)
                out.append(row)
        return out
