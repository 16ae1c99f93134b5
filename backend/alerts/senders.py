"""Where alert notifications go: a generic HTTP JSON webhook and the LINE Messaging API push endpoint.

A sender raises on any failure (unreachable, non-2xx) so the outbox keeps the notification and
tries again on the next tick. Message text is Japanese first, then English.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

import httpx

from yukimizu.jst import JST

LINE_TEXT_MAX = 5000  # LINE Messaging API limit for a text message


class DeliveryError(RuntimeError):
    """A receiver refused or could not be reached; the outbox retries."""


class Sender(Protocol):
    """Delivers one notification; `name` is stored with each delivery."""

    name: str

    async def send(self, event: str, alert: dict[str, Any], delivery_id: int) -> None:
        """Deliver or raise DeliveryError."""
        ...


def jst(iso_utc: str | None) -> str:
    """'2026-07-10 05:12 JST' from a stored UTC ISO time."""
    if not iso_utc:
        return ""
    t = datetime.fromisoformat(iso_utc.replace("Z", "+00:00")).astimezone(JST)
    return t.strftime("%Y-%m-%d %H:%M JST")


def message_text(event: str, alert: dict[str, Any]) -> str:
    """The human text of a notification, Japanese then English."""
    if event == "raised":
        return (f"【警報】{alert['message_ja']}\n{jst(alert['raised_at'])}\n\n"
                f"[ALERT] {alert['message_en']}")
    return (f"【解除】{alert['message_ja']}(この状態は解消しました)\n{jst(alert.get('cleared_at'))}\n\n"
            f"[CLEARED] {alert['message_en']} (no longer the case)")


def payload(event: str, alert: dict[str, Any]) -> dict[str, Any]:
    """The generic webhook's JSON body."""
    return {
        "event": event,
        "text": message_text(event, alert),
        "alert": {k: alert.get(k) for k in ("id", "rule", "subject", "site", "severity", "message_ja", "message_en",
                                            "details", "raised_at", "cleared_at")},
    }


class WebhookSender:
    """POSTs the JSON payload to a URL; any 2xx counts as delivered."""

    def __init__(self, url: str, http: httpx.AsyncClient):
        self.url = url
        self.http = http
        self.name = f"webhook:{url}"

    async def send(self, event: str, alert: dict[str, Any], delivery_id: int) -> None:
        """POST the payload."""
        try:
            r = await self.http.post(self.url, json=payload(event, alert),
                                     headers={"X-Yukimizu-Delivery": str(delivery_id)})
        except httpx.HTTPError as e:
            raise DeliveryError(f"{self.url} unreachable: {e!r}") from e
        if not 200 <= r.status_code < 300:
            raise DeliveryError(f"{self.url} answered {r.status_code}: {r.text[:200]}")


class LineSender:
    """LINE Messaging API push message (POST {base_url}/v2/bot/message/push) to each recipient id."""

    def __init__(self, base_url: str, channel_access_token: str, to: list[str], http: httpx.AsyncClient):
        self.url = base_url.rstrip("/") + "/v2/bot/message/push"
        self.token = channel_access_token
        self.to = list(to)
        self.http = http
        self.name = "line"

    async def send(self, event: str, alert: dict[str, Any], delivery_id: int) -> None:
        """Push the text to every recipient; X-Line-Retry-Key makes a retried push arrive once."""
        text = message_text(event, alert)[:LINE_TEXT_MAX]
        for to in self.to:
            retry_key = uuid.uuid5(uuid.NAMESPACE_URL, f"yukimizu-delivery:{delivery_id}:{to}")
            try:
                r = await self.http.post(
                    self.url, json={"to": to, "messages": [{"type": "text", "text": text}]},
                    headers={"Authorization": f"Bearer {self.token}", "X-Line-Retry-Key": str(retry_key)})
            except httpx.HTTPError as e:
                raise DeliveryError(f"LINE push unreachable: {e!r}") from e
            # 409: this retry key was already accepted, i.e. delivered before.
            if not (200 <= r.status_code < 300 or r.status_code == 409):
                raise DeliveryError(f"LINE push to {to} answered {r.status_code}: {r.text[:200]}")
