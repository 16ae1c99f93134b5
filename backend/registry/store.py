"""The site registry: create, read, update, delete of sites, fields, routes, roads, vehicles, devices.

Values arrive already checked by the request models (backend.schemas.registry); this layer checks
what needs the database: ids that must exist (site, field, vehicle, route), ids that must be new,
and rows still referenced by others when deleting. Errors name the column and the id.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from enum import Enum
from typing import Any

from .db import Database
from .geo import polygon_area_m2


class RegistryError(ValueError):
    """Base class: `field` is the column the message is about (None when it is the whole row)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(RegistryError):
    """No row with that id (HTTP 404)."""


class Conflict(RegistryError):
    """The id is taken, or the row is still referenced (HTTP 409)."""


class Invalid(RegistryError):
    """A value refers to something that does not exist (HTTP 422, naming the field)."""


@dataclass(frozen=True)
class Table:
    """How one resource is stored."""

    name: str
    key: str
    columns: tuple[str, ...]
    json_columns: frozenset[str] = frozenset()
    bool_columns: frozenset[str] = frozenset()
    refs: tuple[tuple[str, str], ...] = ()  # (column, table it refers to)
    singular: str = ""


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table("sites", "id", ("id", "name", "latitude_deg", "longitude_deg", "elevation_m"), singular="site"),
        Table(
            "fields", "id",
            ("id", "site", "name", "crop", "soil_texture", "area_m2", "root_depth_m", "transplant_date", "bloom_date",
             "growth_stage", "cold_sensitive_variety", "level_min_cm", "level_max_cm", "geometry"),
            json_columns=frozenset({"geometry"}), bool_columns=frozenset({"cold_sensitive_variety"}),
            refs=(("site", "sites"),), singular="field",
        ),
        Table("routes", "id", ("id", "site", "name", "priority"), refs=(("site", "sites"),), singular="route"),
        Table(
            "roads", "id", ("id", "site", "name", "route", "priority", "oneway", "geometry"),
            json_columns=frozenset({"geometry"}), bool_columns=frozenset({"oneway"}),
            refs=(("site", "sites"), ("route", "routes")), singular="road",
        ),
        Table("vehicles", "id", ("id", "site", "name", "machine_class", "contractor"), refs=(("site", "sites"),),
              singular="vehicle"),
        Table(
            "devices", "device_id",
            ("device_id", "kind", "site", "field_id", "vehicle_id", "route", "expected_interval_s", "calibration",
             "firmware_version", "provisioned_at"),
            json_columns=frozenset({"calibration"}),
            refs=(("site", "sites"), ("field_id", "fields"), ("vehicle_id", "vehicles"), ("route", "routes")),
            singular="device",
        ),
    ]
}

# Who refers to whom, for "still used by" on delete: table -> [(referring table, column)].
_REFERRERS: dict[str, list[tuple[str, str]]] = {}
for _t in TABLES.values():
    for _col, _target in _t.refs:
        _REFERRERS.setdefault(_target, []).append((_t.name, _col))


def _to_db(table: Table, col: str, value: Any) -> Any:
    if value is None:
        return None
    if col in table.json_columns:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if col in table.bool_columns:
        return 1 if value else 0
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _from_db(table: Table, row: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in table.columns:
        v = row[col]
        if v is not None and col in table.json_columns:
            v = json.loads(v)
        elif col in table.bool_columns:
            v = bool(v)
        out[col] = v
    return out


class Registry:
    """CRUD over the registry tables of one Database."""

    def __init__(self, db: Database):
        self.db = db

    def table(self, name: str) -> Table:
        """The Table description for a resource name."""
        return TABLES[name]

    def list(self, name: str, **filters: Any) -> list[dict[str, Any]]:
        """All rows of a table, optionally filtered by equality on columns (None filters are ignored)."""
        t = TABLES[name]
        where, params = [], []
        for col, val in filters.items():
            if val is None:
                continue
            if col not in t.columns:
                raise ValueError(f"{name} has no column {col}")
            where.append(f"{col} = ?")
            params.append(_to_db(t, col, val))
        sql = f"SELECT * FROM {t.name}" + (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY {t.key}"
        return [_from_db(t, r) for r in self.db.query(sql, params)]

    def get(self, name: str, key: str) -> dict[str, Any]:
        """One row by id, or NotFound."""
        t = TABLES[name]
        rows = self.db.query(f"SELECT * FROM {t.name} WHERE {t.key} = ?", (key,))
        if not rows:
            raise NotFound(f"{t.singular} {key!r} does not exist", t.key)
        return _from_db(t, rows[0])

    def _check_refs(self, conn: sqlite3.Connection, t: Table, values: Mapping[str, Any]) -> None:
        for col, target in t.refs:
            v = values.get(col)
            if v is None:
                continue
            tt = TABLES[target]
            if conn.execute(f"SELECT 1 FROM {tt.name} WHERE {tt.key} = ?", (v,)).fetchone() is None:
                raise Invalid(f"{col}: {tt.singular} {v!r} does not exist", col)
        site = values.get("site")
        for col, target in t.refs:
            # A field, vehicle or route of another site would leak one site's data into another's tags.
            v = values.get(col)
            if v is None or col == "site" or site is None:
                continue
            tt = TABLES[target]
            row = conn.execute(f"SELECT site FROM {tt.name} WHERE {tt.key} = ?", (v,)).fetchone()
            if row is not None and row["site"] != site:
                raise Invalid(f"{col}: {tt.singular} {v!r} belongs to site {row['site']!r}, not {site!r}", col)

    @staticmethod
    def _check_row(t: Table, values: Mapping[str, Any]) -> None:
        """Rules across columns that PATCH could break (create checks them in the request model too)."""
        if t.name == "devices":
            kind = getattr(values.get("kind"), "value", values.get("kind"))
            if kind == "plow" and values.get("field_id") is not None:
                raise Invalid("field_id: a plow logger belongs to a vehicle, not a field", "field_id")
            if kind != "plow" and values.get("vehicle_id") is not None:
                raise Invalid(f"vehicle_id: a {kind} sensor belongs to a field, not a vehicle", "vehicle_id")
        if t.name == "fields":
            lo, hi = values.get("level_min_cm"), values.get("level_max_cm")
            if lo is not None and hi is not None and lo > hi:
                raise Invalid(f"level_min_cm: {lo} is above level_max_cm {hi}", "level_min_cm")

    @staticmethod
    def _derive(t: Table, values: dict[str, Any]) -> dict[str, Any]:
        if t.name == "fields" and values.get("area_m2") is None and values.get("geometry"):
            values["area_m2"] = round(polygon_area_m2(values["geometry"]), 1)
        return values

    def create(self, name: str, values: Mapping[str, Any], *, conn: sqlite3.Connection | None = None,
               upsert: bool = False) -> dict[str, Any]:
        """Insert a row (Conflict if the id exists, unless upsert), checking references first."""
        t = TABLES[name]
        vals = self._derive(t, {c: values.get(c) for c in t.columns if c in values})
        if conn is None:
            with self.db.transaction() as c:
                return self.create(name, vals, conn=c, upsert=upsert)
        self._check_refs(conn, t, vals)
        exists = conn.execute(f"SELECT 1 FROM {t.name} WHERE {t.key} = ?", (vals[t.key],)).fetchone()
        if exists and not upsert:
            raise Conflict(f"{t.singular} {vals[t.key]!r} already exists", t.key)
        cols = list(vals)
        sql = f"INSERT INTO {t.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        if exists:
            sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c != t.key)
            sql += f" ON CONFLICT({t.key}) DO UPDATE SET {sets}" if sets else " ON CONFLICT DO NOTHING"
        try:
            conn.execute(sql, [_to_db(t, c, vals[c]) for c in cols])
        except sqlite3.IntegrityError as e:
            raise Invalid(f"{t.singular} {vals[t.key]!r}: {e}") from None
        row = conn.execute(f"SELECT * FROM {t.name} WHERE {t.key} = ?", (vals[t.key],)).fetchone()
        return _from_db(t, row)

    def update(self, name: str, key: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change some columns of one row (NotFound if absent), checking references."""
        t = TABLES[name]
        with self.db.transaction() as conn:
            row = conn.execute(f"SELECT * FROM {t.name} WHERE {t.key} = ?", (key,)).fetchone()
            if row is None:
                raise NotFound(f"{t.singular} {key!r} does not exist", t.key)
            merged = _from_db(t, row)
            merged.update({c: v for c, v in changes.items() if c in t.columns})
            if t.name == "fields" and "geometry" in changes and "area_m2" not in changes:
                merged["area_m2"] = None  # recompute from the new outline
            merged = self._derive(t, merged)
            self._check_row(t, merged)
            self._check_refs(conn, t, merged)
            cols = [c for c in t.columns if c != t.key]
            try:
                conn.execute(f"UPDATE {t.name} SET {', '.join(c + ' = ?' for c in cols)} WHERE {t.key} = ?",
                             [_to_db(t, c, merged[c]) for c in cols] + [key])
            except sqlite3.IntegrityError as e:
                raise Invalid(f"{t.singular} {key!r}: {e}") from None
            return _from_db(t, conn.execute(f"SELECT * FROM {t.name} WHERE {t.key} = ?", (key,)).fetchone())

    def delete(self, name: str, key: str) -> None:
        """Delete one row; Conflict naming the referrers if others still point at it."""
        t = TABLES[name]
        with self.db.transaction() as conn:
            if conn.execute(f"SELECT 1 FROM {t.name} WHERE {t.key} = ?", (key,)).fetchone() is None:
                raise NotFound(f"{t.singular} {key!r} does not exist", t.key)
            for ref_table, col in _REFERRERS.get(name, []):
                if col == "route":
                    continue  # roads and devices just lose their route (ON DELETE SET NULL)
                rt = TABLES[ref_table]
                users = [r[0] for r in conn.execute(
                    f"SELECT {rt.key} FROM {rt.name} WHERE {col} = ? ORDER BY {rt.key} LIMIT 6", (key,))]
                if users:
                    shown = ", ".join(users[:5]) + (", ..." if len(users) > 5 else "")
                    raise Conflict(f"{t.singular} {key!r} is still used by {ref_table} {shown}; delete or move them first")
            conn.execute(f"DELETE FROM {t.name} WHERE {t.key} = ?", (key,))
