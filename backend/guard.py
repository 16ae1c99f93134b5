"""Enforcement of backend/access.py: the `authorize` dependency on every route, and the write gate.

`authorize` is an app-wide dependency, so every endpoint (plugins' too) runs it before its own
dependencies and parameters; it finds the rule for the route FastAPI selected, reads the bearer
token, refuses (401 no or bad token, 403 wrong role or someone else's field, 429 too many requests
without a token) or records the caller in `request.state.principal`.

`WriteGate` is ASGI middleware in front of the app: a write (POST, PUT, PATCH, DELETE) without a valid
token gets 401 and a body over `api.max_body_bytes` gets 413, before anything reads or parses the body.
FastAPI parses a body before dependencies run, so without the gate a caller with no token could make
the server parse whatever it sends (schemathesis found this: a malformed body got 400/422, not 401).
Every write needs a token; no rule can open one to anonymous callers.

Tokens and Authorization headers are never logged; refusals are logged with the method, path, client
address, token id (a number) and the reason.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, HTTPException, WebSocketException, status
from starlette.requests import HTTPConnection
from fastapi.routing import iter_route_contexts
from fastapi.routing import APIWebSocketRoute
from starlette.routing import Mount, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .access import Rule
from .ratelimit import RateLimiter
from .tokens import ANONYMOUS, Principal, TokenStore

log = logging.getLogger("yukimizu.api.access")
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def route_keys(app: FastAPI) -> dict[int, list[str]]:
    """id(original route) -> its rule keys ("METHOD /full/path"), for every route of the app (mounts as GET)."""
    out: dict[int, list[str]] = {}
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, Mount):
            methods = {"GET"}
        elif isinstance(ctx.original_route, (APIWebSocketRoute, WebSocketRoute)):
            methods = {"WS"}
        else:
            methods = set(ctx.methods or ()) - {"HEAD"}
        out.setdefault(id(ctx.original_route), []).extend(f"{m} {ctx.path}" for m in sorted(methods))
    return out


def _method(conn: HTTPConnection) -> str:
    if conn.scope["type"] == "websocket":
        return "WS"
    return "GET" if conn.scope["method"] == "HEAD" else conn.scope["method"]


def _key(request: HTTPConnection) -> str:
    app: FastAPI = request.app
    route = request.scope["route"]
    method = _method(request)
    paths: dict[int, str] | None = getattr(app.state, "route_paths", None)
    if paths is None or id(route) not in paths:  # routes added after the first request (plugins, tests)
        paths = {i: keys[0].split(" ", 1)[1] for i, keys in route_keys(app).items() if keys}
        app.state.route_paths = paths
    return f"{method} {paths.get(id(route), route.path)}"


def principal_for(auth: str | None, tokens: TokenStore) -> Principal | None:
    """The caller for an Authorization header value (ANONYMOUS when absent), or None for a bad or unknown token."""
    if auth is None:
        return ANONYMOUS
    scheme, _, token = auth.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return tokens.check(token.strip())


def authorize(request: HTTPConnection) -> None:
    """Refuse the request unless the route's rule allows this caller; else set request.state.principal.

    HTTP refusals are 401/403/429 responses; a WebSocket is closed with 1008 (policy violation) before it opens.
    """
    key = _key(request)
    client = request.client.host if request.client else "?"
    where = f"{_method(request)} {request.url.path} from {client}"
    is_ws = request.scope["type"] == "websocket"

    def refuse(status_code: int, detail: str, headers: dict[str, str] | None = None) -> Exception:
        if is_ws:
            return WebSocketException(status.WS_1008_POLICY_VIOLATION, reason=f"{status_code} {detail}"[:120])
        return HTTPException(status_code, detail=detail, headers=headers)

    rules: Mapping[str, Rule] = request.app.state.access_rules
    rule = rules.get(key)
    if rule is None:
        log.error("refused %s: no access rule for %r", where, key)
        raise refuse(403, f"アクセス規則がありません / no access rule for {key}; every route needs "
                          "one in backend/access.py RULES")
    who = principal_for(request.headers.get("authorization"), request.app.state.tokens)
    if who is None:
        log.info("refused %s: unknown, revoked or malformed token", where)
        raise refuse(401, "トークンが無効です / the token is unknown or revoked (send Authorization: Bearer <token>)",
                     {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    params: dict[str, Any] = {**request.query_params, **request.path_params}
    reason = rule.refusal(who, params)
    if reason is None and rule.own_field and len(request.query_params.getlist(rule.own_field)) > 1:
        # One field per request: a repeated parameter must not let the check see one value and the endpoint another.
        reason = f"give {rule.own_field} once"
    if reason is not None:
        log.info("refused %s (token %s): %s", where, who.token_id, reason)
        if who.anonymous:
            raise refuse(401, f"トークンが必要です / {reason}: send Authorization: Bearer <token>",
                         {"WWW-Authenticate": "Bearer"})
        raise refuse(403, f"権限がありません / {reason}")
    if who.anonymous:
        # Only open routes get here without a token: limited per address. Any token lifts the limit (a
        # public token serves a proxy such as the city's web site, where many people share one address).
        limiter: RateLimiter = request.app.state.rate_limiter
        wait_s = limiter.take(client)
        if wait_s:
            log.info("rate limited %s", where)
            raise refuse(429, f"リクエストが多すぎます / too many requests; retry in {wait_s} s",
                         {"Retry-After": str(wait_s)})
    request.state.principal = who


class WriteGate:
    """ASGI middleware: 401 for a write without a valid token, 413 for a body over `max_body_bytes`."""

    def __init__(self, app: ASGIApp, *, app_ref: FastAPI, max_body_bytes: int):
        self.app = app
        self.app_ref = app_ref  # whose state.tokens checks the token
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        if scope["method"] in _WRITES:
            auth = headers.get(b"authorization")
            who = principal_for(auth.decode("latin-1") if auth is not None else None, self.app_ref.state.tokens)
            if who is None or who.anonymous:
                client = (scope.get("client") or ("?",))[0]
                log.info("refused %s %s from %s: a write without a valid token", scope["method"], scope["path"], client)
                await _send_json(send, 401, {"detail": "トークンが必要です / every write needs a valid token: send "
                                                       "Authorization: Bearer <token>"},
                                 [(b"www-authenticate", b"Bearer")])
                return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await self._too_large(send, f"{int(length)} bytes")
            return
        if length is not None:
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read up to the limit before the app sees any of it.
        chunks, size = [], 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                break
            chunks.append(msg.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body_bytes:
                await self._too_large(send, "larger")
                return
            if not msg.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _too_large(self, send: Send, got: str) -> None:
        await _send_json(send, 413, {"detail": f"リクエストが大きすぎます / request body is {got}; the limit is "
                                               f"{self.max_body_bytes} bytes (api.max_body_bytes)"})


async def _send_json(send: Send, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": raw})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
