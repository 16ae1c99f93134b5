"""MQTT topic scheme v1: yukimizu/v1/{site}/{kind}/{device_id}/{channel}."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from .errors import ContractError
from .fields import Kind

PREFIX = "yukimizu"
VERSION = "v1"
# Ids are one topic level each, safe in ACL patterns (%u/%c), file names and InfluxDB tags.
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class Channel(str, Enum):
    """What a topic carries."""

    TELEMETRY = "telemetry"  # QoS 1, not retained, device -> server
    STATUS = "status"  # retained, device -> server; the last will sets it offline
    CONFIG = "config"  # retained, server -> device


@dataclass(frozen=True)
class Topic:
    """A parsed topic: who published and on which channel."""

    site: str
    kind: Kind
    device_id: str
    channel: Channel

    def __str__(self) -> str:
        return topic(self.site, self.kind, self.device_id, self.channel)


def check_id(what: str, value: str) -> str:
    """Return value if it is a valid site or device id, else raise ContractError naming `what`."""
    if not isinstance(value, str) or not ID_RE.match(value):
        raise ContractError(
            "bad_id", f"{what} {value!r} must be 1-64 of a-z 0-9 _ - starting with a letter or digit", field=what
        )
    return value


def topic(site: str, kind: Kind | str, device_id: str, channel: Channel | str = Channel.TELEMETRY) -> str:
    """Build a topic string, validating each level."""
    check_id("site", site)
    check_id("device_id", device_id)
    k = Kind(kind).value
    c = Channel(channel).value
    return f"{PREFIX}/{VERSION}/{site}/{k}/{device_id}/{c}"


def parse_topic(value: str | bytes) -> Topic:
    """Parse a topic string or raise ContractError with code `bad_topic` saying which level is wrong."""
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ContractError("bad_topic", "topic is not valid UTF-8", field="topic") from None
    parts = value.split("/")
    if len(parts) != 6:
        raise ContractError("bad_topic", f"topic {value[:200]!r} must have 6 levels, has {len(parts)}", field="topic")
    prefix, version, site, kind, device_id, channel = parts
    if prefix != PREFIX:
        raise ContractError("bad_topic", f"topic must start with {PREFIX}/, got {prefix[:64]!r}", field="topic")
    if version != VERSION:
        raise ContractError("version", f"topic version {version[:16]!r} is not {VERSION}", field="topic")
    try:
        k = Kind(kind)
    except ValueError:
        raise ContractError(
            "bad_topic", f"kind {kind[:32]!r} is not one of {', '.join(x.value for x in Kind)}", field="kind"
        ) from None
    try:
        ch = Channel(channel)
    except ValueError:
        raise ContractError(
            "bad_topic", f"channel {channel[:32]!r} is not one of telemetry, status, config", field="topic"
        ) from None
    return Topic(check_id("site", site), k, check_id("device_id", device_id), ch)
