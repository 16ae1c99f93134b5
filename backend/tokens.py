"""API tokens: random bearer tokens with a role, stored only as their SHA-256 hash.

A token is `yk_` followed by 43 URL-safe characters (32 random bytes, 256 bits). It is shown once,
when created; the database keeps its SHA-256 hex digest. Why not bcrypt or argon2: those are slow on
purpose so that guessing a human-chosen password from a stolen hash costs years; a 256-bit random
token cannot be guessed whatever the hash speed, and a slow hash would cost every request tens of
milliseconds of a Raspberry Pi's CPU and, being salted, could not be looked up by an index. The
`yk_` prefix lets secret scanners (and tests/backend/test_secrets.py) recognise a leaked token.
"""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .registry.db import Database, utc_now_iso

PREFIX = "yk_"
TOKEN_RE = re.compile(r"yk_[A-Za-z0-9_-]{43}")


class Role(str, Enum):
    """What a token may do (the rules per route are in backend/access.py)."""

    ADMIN = "admin"  # registry, devices, tokens; and every other route
    ROAD = "road"  # plows, routes, roads, coverage, reports
    FARMER = "farmer"  # only the fields the token names
    PUBLIC = "public"  # the delayed anonymous plow map, without the per-address rate limit


class TokenError(ValueError):
    """A token request that cannot be honoured; the message names the field and the reason."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a token's id, role and fields, or nobody (token_id None)."""

    role: Role | None
    token_id: int | None = None
    field_ids: frozenset[str] = field(default_factory=frozenset)
    label: str = ""

    @property
    def anonymous(self) -> bool:
        """True when the request carried no valid token."""
        return self.token_id is None


ANONYMOUS = Principal(role=None)


def digest(token: str) -> str:
    """SHA-256 hex digest of a token (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token: `yk_` + 32 random bytes, URL-safe base64 without padding."""
    return PREFIX + secrets.token_urlsafe(32)


def _row(r: Any) -> dict[str, Any]:
    return {"id": r["id"], "role": r["role"], "field_ids": json.loads(r["field_ids"]), "label": r["label"],
            "created_at": r["created_at"], "revoked_at": r["revoked_at"]}


class TokenStore:
    """Create, list, revoke and check API tokens in the registry database."""

    def __init__(self, db: Database):
        self.db = db

    def create(self, role: Role | str, field_ids: list[str] | None = None, label: str = "") -> tuple[str, dict[str, Any]]:
        """A new token and its row (without the secret); the token itself is never stored."""
        try:
            role = Role(role)
        except ValueError:
            raise TokenError(f"role: {role!r} is not one of {', '.join(r.value for r in Role)}") from None
        ids = sorted({f.strip() for f in (field_ids or []) if f.strip()})
        if role is Role.FARMER and not ids:
            raise TokenError("field_ids: a farmer token needs at least one field id")
        if role is not Role.FARMER and ids:
            raise TokenError(f"field_ids: only farmer tokens are tied to fields, not {role.value} tokens")
        token = new_token()
        cur = self.db.execute(
            "INSERT INTO api_tokens (token_sha256, role, field_ids, label, created_at) VALUES (?, ?, ?, ?, ?)",
            (digest(token), role.value, json.dumps(ids), label, utc_now_iso()))
        return token, self.get(int(cur.lastrowid or 0))

    def get(self, token_id: int) -> dict[str, Any]:
        """One token's row (no secret); KeyError when there is none."""
        rows = self.db.query("SELECT * FROM api_tokens WHERE id = ?", (token_id,))
        if not rows:
            raise KeyError(token_id)
        return _row(rows[0])

    def list(self, *, include_revoked: bool = False) -> list[dict[str, Any]]:
        """Every token's row (no secrets), oldest first."""
        sql = "SELECT * FROM api_tokens" + ("" if include_revoked else " WHERE revoked_at IS NULL") + " ORDER BY id"
        return [_row(r) for r in self.db.query(sql)]

    def revoke(self, token_id: int) -> dict[str, Any]:
        """Mark a token revoked (kept for the record); KeyError when there is none."""
        self.get(token_id)
        self.db.execute("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                        (utc_now_iso(), token_id))
        return self.get(token_id)

    def check(self, token: str) -> Principal | None:
        """The principal for a presented token, or None when it is unknown or revoked."""
        if not TOKEN_RE.fullmatch(token):
            return None
        rows = self.db.query("SELECT * FROM api_tokens WHERE token_sha256 = ? AND revoked_at IS NULL", (digest(token),))
        if not rows:
            return None
        r = rows[0]
        return Principal(Role(r["role"]), r["id"], frozenset(json.loads(r["field_ids"])), r["label"])
