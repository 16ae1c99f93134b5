"""The device registry: which devices may write, and the tags (field, vehicle, route) they carry.

Shape (shared with the backend's GET /api/v1/registry/devices):
    {"devices": [{"device_id": "soil-001", "site": "goshogawara", "kind": "soil", "field_id": "f-12",
                  "vehicle_id": null, "route": null, "expected_interval_s": 600}]}
Read from a file or the backend URL, refreshed in the background, and cached on disk so the gateway
keeps working (with the last list it had) while the backend is unreachable.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yukimizu.contract import ContractError, Kind
from yukimizu.contract.lineproto import escape_key
from yukimizu.contract.topics import check_id

from .settings import RegistrySettings

log = logging.getLogger("edge_gateway.registry")

TAG_KEYS = ("field_id", "vehicle_id", "route")


class RegistryError(ValueError):
    """The registry document is unusable; the message says where."""


@dataclass(frozen=True)
class Device:
    """One registered device and the enrichment tags its readings get."""

    device_id: str
    site: str
    kind: Kind
    tags: dict[str, str]
    expected_interval_s: int | None


def parse(doc: Any, source: str) -> tuple[dict[str, Device], list[str]]:
    """Parse a registry document into devices by id; bad entries are skipped and described."""
    if not isinstance(doc, dict) or not isinstance(doc.get("devices"), list):
        raise RegistryError(f"{source}: expected an object with a \"devices\" list")
    devices: dict[str, Device] = {}
    problems: list[str] = []
    for i, e in enumerate(doc["devices"]):
        where = f"{source}: devices[{i}]"
        try:
            if not isinstance(e, dict):
                raise RegistryError("is not an object")
            device_id = check_id("device_id", e.get("device_id"))  # type: ignore[arg-type]  # checked inside
            site = check_id("site", e.get("site"))  # type: ignore[arg-type]
            try:
                kind = Kind(e.get("kind"))
            except ValueError:
                raise RegistryError(f"kind {e.get('kind')!r} is not one of {', '.join(k.value for k in Kind)}") from None
            tags: dict[str, str] = {}
            for k in TAG_KEYS:
                v = e.get(k)
                if v is None or v == "":
                    continue
                if not isinstance(v, str):
                    raise RegistryError(f"{k} must be text or null, got {type(v).__name__}")
                escape_key(v, k)  # refuses newlines and backslashes, which line protocol cannot carry
                tags[k] = v
            interval = e.get("expected_interval_s")
            if interval is not None and (not isinstance(interval, int) or isinstance(interval, bool) or interval <= 0):
                raise RegistryError(f"expected_interval_s must be a positive integer or null, got {interval!r}")
            if device_id in devices:
                raise RegistryError(f"device_id {device_id!r} is listed twice")
            devices[device_id] = Device(device_id, site, kind, tags, interval)
        except (RegistryError, ContractError) as err:
            problems.append(f"{where}: {err}")
    return devices, problems


class Registry:
    """The cached registry. `check()` is what the intake asks for every message."""

    def __init__(self, settings: RegistrySettings):
        self.settings = settings
        self._devices: dict[str, Device] | None = None
        self._lock = threading.Lock()
        self._file_mtime: float | None = None
        self.last_error = ""
        self.source = settings.url or settings.path or ""

    @property
    def loaded(self) -> bool:
        """True once a device list is in hand (from the source or the on-disk cache)."""
        return self._devices is not None

    def __len__(self) -> int:
        return len(self._devices or {})

    def _install(self, doc: Any, source: str) -> None:
        devices, problems = parse(doc, source)
        for p in problems:
            log.warning("registry entry skipped", extra={"event": "registry_entry_skipped", "problem": p})
        with self._lock:
            self._devices = devices

    def refresh(self) -> bool:
        """Reload from the source; on failure keep what we have (or the disk cache). True on success."""
        s = self.settings
        try:
            if s.url:
                doc = self._fetch(s.url, s.token, s.timeout_ms / 1000)
                self._install(doc, s.url)
                self._write_cache(doc)
            elif s.path:
                p = Path(s.path)
                mtime = p.stat().st_mtime
                if mtime == self._file_mtime and self._devices is not None:
                    return True
                self._install(json.loads(p.read_text(encoding="utf-8")), s.path)
                self._file_mtime = mtime
            else:
                return False
            self.last_error = ""
            return True
        except (OSError, ValueError, RegistryError) as e:
            self.last_error = f"registry {self.source} unusable: {e}"
            log.error("registry unreachable, keeping the cached list",
                      extra={"event": "registry_error", "error": self.last_error, "devices": len(self)})
            if self._devices is None:
                self._read_cache()
            return False

    @staticmethod
    def _fetch(url: str, token: str, timeout_s: float) -> Any:
        """GET the backend's registry document; httpx errors come out as RegistryError."""
        import httpx  # only a gateway with registry.url pays for httpx (~11 MB RSS); a file registry never imports it

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            r = httpx.get(url, headers=headers, timeout=timeout_s)
        except httpx.HTTPError as e:
            raise RegistryError(str(e)) from e
        if r.status_code != 200:
            raise RegistryError(f"{url} answered {r.status_code}")
        return r.json()

    def _write_cache(self, doc: Any) -> None:
        path = self.settings.cache_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as e:
            log.warning("registry cache not written", extra={"event": "registry_cache_error", "error": str(e)})

    def _read_cache(self) -> None:
        path = self.settings.cache_path
        try:
            self._install(json.loads(path.read_text(encoding="utf-8")), f"cache {path}")
            log.warning("registry loaded from the cache", extra={"event": "registry_cache_used", "path": str(path)})
        except (OSError, ValueError, RegistryError):
            pass

    def check(self, site: str, kind: Kind, device_id: str) -> tuple[dict[str, str] | None, str, str]:
        """Return (tags, "", "") for an acceptable sender, else (None, code, reason) for the dead letter."""
        devices = self._devices
        dev = devices.get(device_id) if devices is not None else None
        if not self.settings.require_known_devices:
            return (dev.tags if dev is not None else {}), "", ""
        if dev is None:
            return None, "unknown_device", f"device {device_id!r} is not in the registry ({self.source})"
        if dev.kind is not kind:
            return None, "wrong_kind", f"device {device_id!r} is registered as {dev.kind.value}, topic says {kind.value}"
        if dev.site != site:
            return None, "wrong_site", f"device {device_id!r} is registered at site {dev.site!r}, topic says {site!r}"
        return dev.tags, "", ""
