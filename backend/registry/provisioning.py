"""Provisioning records from `yukimizu flash` into the registry: which firmware and calibration each board got.

`yukimizu flash` appends one JSON line per flashed board (device_id, site, kind, firmware_version,
bundle_sha256, calibration, provisioned_at; never secrets). Applying them updates devices that exist
and adds the ones that do not, with the kind's default reporting interval.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .store import NotFound, Registry, RegistryError

# Reporting interval of a freshly flashed board, by kind, until someone sets it: the firmware's defaults.
DEFAULT_INTERVAL_S = {"soil": 600, "water": 600, "weather": 600, "plow": 5}


@dataclass(frozen=True)
class Applied:
    """What applying a records file did."""

    updated: list[str]
    created: list[str]
    problems: list[str]


def apply_records(registry: Registry, path: Path) -> Applied:
    """Apply every record in order (a later flash of the same board wins); bad lines are reported by number."""
    updated: list[str] = []
    created: list[str] = []
    problems: list[str] = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            device_id = rec["device_id"]
            changes = {
                "firmware_version": f"{rec['firmware_version']}+{rec['bundle_sha256'][:12]}",
                "calibration": rec.get("calibration") or {},
                "provisioned_at": rec["provisioned_at"],
            }
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            problems.append(f"{path}:{line_no}: not a provisioning record ({type(e).__name__}: {e})")
            continue
        try:
            try:
                registry.update("devices", device_id, changes)
                updated.append(device_id)
            except NotFound:
                registry.create("devices", {
                    "device_id": device_id, "kind": rec.get("kind"), "site": rec.get("site"),
                    "expected_interval_s": DEFAULT_INTERVAL_S.get(rec.get("kind"), 600), **changes})
                created.append(device_id)
        except RegistryError as e:
            problems.append(f"{path}:{line_no}: {device_id}: {e}")
    return Applied(updated, created, problems)
