"""Alert history and the notification outbox, in the backend's SQLite database.

One row per episode of a condition (raised_at .. cleared_at); a partial unique index allows at most
one open row per (rule, subject), which is the deduplication. Notifications go through an outbox
(`deliveries`) so a receiver that is down gets them later, in order, and nothing is sent twice once
it has answered.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ..registry.db import Database
from .rules import Condition


def iso_ms(t_ms: int) -> str:
    """UTC ISO 8601 with Z from epoch ms."""
    return datetime.fromtimestamp(t_ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _row(r: Any) -> dict[str, Any]:
    d = dict(r)
    if "details" in d:
        d["details"] = json.loads(d["details"])
    return d


class AlertStore:
    """Alerts and deliveries tables."""

    def __init__(self, db: Database):
        self.db = db

    def open_alerts(self, rule: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        """Open alerts keyed by (rule, subject)."""
        sql = "SELECT * FROM alerts WHERE cleared_at IS NULL" + (" AND rule = ?" if rule else "")
        return {(r["rule"], r["subject"]): _row(r) for r in self.db.query(sql, (rule,) if rule else ())}

    def raise_alert(self, rule: str, c: Condition, now_ms: int, senders: list[str]) -> int:
        """Open an alert for a condition and queue a 'raised' notification per sender; returns its id."""
        with self.db.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO alerts (rule, subject, site, severity, message_ja, message_en, details, raised_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (rule, c.subject, c.site, c.severity.value, c.message_ja, c.message_en,
                 json.dumps(c.details, ensure_ascii=False), iso_ms(now_ms)))
            alert_id = int(cur.lastrowid or 0)
            self._queue(conn, alert_id, "raised", senders, now_ms)
        return alert_id

    def clear_alert(self, alert_id: int, now_ms: int, senders: list[str]) -> None:
        """Close an alert and queue a 'cleared' notification per sender."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE alerts SET cleared_at = ? WHERE id = ? AND cleared_at IS NULL", (iso_ms(now_ms), alert_id))
            self._queue(conn, alert_id, "cleared", senders, now_ms)

    @staticmethod
    def _queue(conn: Any, alert_id: int, event: str, senders: list[str], now_ms: int) -> None:
        for s in senders:
            conn.execute("INSERT INTO deliveries (alert_id, event, sender, status, created_at) "
                         "VALUES (?, ?, ?, 'pending', ?)", (alert_id, event, s, iso_ms(now_ms)))

    def pending(self) -> list[dict[str, Any]]:
        """Pending deliveries with their alert, oldest first."""
        rows = self.db.query(
            "SELECT d.id AS delivery_id, d.event, d.sender, d.attempts, a.* FROM deliveries d "
            "JOIN alerts a ON a.id = d.alert_id WHERE d.status = 'pending' ORDER BY d.id")
        return [_row(r) for r in rows]

    def mark(self, delivery_id: int, ok: bool, error: str, max_attempts: int, now_ms: int) -> None:
        """Record an attempt: sent, or still pending (failed after max_attempts)."""
        if ok:
            self.db.execute("UPDATE deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?, "
                            "last_error = '' WHERE id = ?", (iso_ms(now_ms), delivery_id))
        else:
            self.db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, "
                "status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END WHERE id = ?",
                (error[:500], max_attempts, delivery_id))

    def history(self, *, site: str | None = None, rule: str | None = None, open_only: bool = False,
                limit: int = 200) -> list[dict[str, Any]]:
        """Alerts newest first, with their delivery states."""
        where, params = [], []
        if site:
            where.append("site = ?")
            params.append(site)
        if rule:
            where.append("rule = ?")
            params.append(rule)
        if open_only:
            where.append("cleared_at IS NULL")
        sql = ("SELECT * FROM alerts" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY raised_at DESC, id DESC LIMIT ?")
        alerts = [_row(r) for r in self.db.query(sql, (*params, limit))]
        if alerts:
            ids = [a["id"] for a in alerts]
            marks = ",".join("?" * len(ids))
            deliveries: dict[int, list[dict[str, Any]]] = {}
            for d in self.db.query(f"SELECT alert_id, event, sender, status, attempts, last_error, sent_at "
                                   f"FROM deliveries WHERE alert_id IN ({marks}) ORDER BY id", ids):
                deliveries.setdefault(d["alert_id"], []).append({k: d[k] for k in d.keys() if k != "alert_id"})
            for a in alerts:
                a["deliveries"] = deliveries.get(a["id"], [])
        return alerts
