"""Provision one board: the app's bundle plus a generated per-device config, verified, then activated.

What a board gets:
    main.py, lib/*.mpy     the app's bundle (`yukimizu firmware build`)
    config.json            identity, Wi-Fi, broker and calibration (the firmware's config schema)
What a board keeps across a re-flash: everything else on its filesystem, in particular the
firmware's seq reservation and its spool, so readings after a re-flash are not mistaken for
replays and nothing waiting to be sent is lost.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..contract import Kind
from ..contract.topics import check_id
from .board import Board, BoardError

REPO = Path(__file__).resolve().parents[2]
# Which firmware app runs each device kind. Weather stations have no yukimizu app yet.
APP_FOR_KIND = {Kind.SOIL: "soil", Kind.WATER: "soil", Kind.PLOW: "plow"}
SECRET_KEYS = ("wifi_password", "broker_password")
CONFIG_PATH = "config.json"


class ProvisionError(ValueError):
    """The device's settings cannot be turned into a board config; names the device and the key."""


@dataclass
class DeviceSpec:
    """Everything one board needs to know about itself."""

    device_id: str
    kind: Kind
    site: str
    broker_url: str
    wifi_ssid: str = ""
    wifi_password: str = ""
    broker_user: str = ""
    broker_password: str = ""
    calibration: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Check ids, kind and broker URL, naming the device and the key."""
        try:
            check_id("device_id", self.device_id)
            check_id("site", self.site)
        except ValueError as e:
            raise ProvisionError(f"{self.device_id!r}: {e}") from None
        if self.kind not in APP_FOR_KIND:
            raise ProvisionError(f"{self.device_id}: kind {self.kind.value} has no yukimizu firmware app "
                                 f"(apps exist for {', '.join(k.value for k in APP_FOR_KIND)})")
        if not self.broker_url.startswith(("mqtt://", "mqtts://")):
            raise ProvisionError(f"{self.device_id}: broker {self.broker_url!r} must be mqtt://host:port or mqtts://host:port")

    @property
    def app(self) -> str:
        """The firmware app this device runs."""
        return APP_FOR_KIND[self.kind]


def device_config(spec: DeviceSpec) -> dict[str, Any]:
    """The config.json for a device (keys of the firmware's config schema)."""
    spec.validate()
    cfg: dict[str, Any] = {
        "device_id": spec.device_id,
        "site": spec.site,
        "kind": spec.kind.value,
        "broker_url": spec.broker_url,
    }
    for key in ("wifi_ssid", "wifi_password", "broker_user", "broker_password"):
        value = getattr(spec, key)
        if value:
            cfg[key] = value
    for key, value in spec.calibration.items():
        if key in cfg:
            raise ProvisionError(f"{spec.device_id}: calibration key {key!r} would overwrite the device's identity")
        cfg[key] = value
    return cfg


def masked(cfg: dict[str, Any]) -> dict[str, Any]:
    """The config as it may be shown or logged: secrets replaced."""
    return {k: ("********" if k in SECRET_KEYS and v else v) for k, v in cfg.items()}


def broker_secret(broker_dir: Path, device_id: str) -> str:
    """The device's MQTT secret from `yukimizu broker config`'s folder, or a ProvisionError saying what to run."""
    path = broker_dir / "credentials" / f"{device_id}.secret"
    if not path.exists():
        raise ProvisionError(f"{device_id}: no broker identity in {broker_dir}; add the device to the registry and run "
                             f"`yukimizu broker config --out {broker_dir} ...` first")
    return path.read_text().strip()


def firmware_version() -> str:
    """`git describe` of this checkout, or 'unknown' outside one."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=REPO, capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _sources_hash(app: str) -> str:
    h = hashlib.sha256()
    fw = REPO / "firmware"
    for src in sorted([*(fw / "lib").glob("*.py"), fw / "apps" / app / "main.py"]):
        h.update(src.name.encode() + b"\0" + src.read_bytes())
    return h.hexdigest()[:16]


def bundle_files(app: str, build_dir: Path | None = None) -> dict[str, bytes]:
    """The app's bundle as {path on board: bytes}, rebuilt whenever a firmware source changed."""
    from .. import firmware

    out = build_dir or (REPO / "firmware" / "build" / "by-source" / f"{app}-{_sources_hash(app)}")
    done = out / app / ".complete"
    if not done.exists():
        firmware.build(app, out)
        done.write_text("")
    root = out / app
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p != done}


def bundle_hash(files: dict[str, bytes]) -> str:
    """SHA-256 over the bundle's paths and contents, the firmware's identity in provisioning records."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


@dataclass
class Plan:
    """What flashing one board will do."""

    spec: DeviceSpec
    files: dict[str, bytes]
    config: dict[str, Any]
    version: str
    bundle_sha256: str

    def describe(self) -> list[str]:
        """Human-readable lines, secrets masked."""
        lines = [f"{self.spec.device_id} ({self.spec.kind.value}, site {self.spec.site}): app {self.spec.app}, "
                 f"firmware {self.version}, bundle {self.bundle_sha256[:12]}"]
        lines += [f"  write {name} ({len(data)} B)" for name, data in sorted(self.files.items())]
        lines.append(f"  write {CONFIG_PATH}: {json.dumps(masked(self.config), ensure_ascii=False)}")
        return lines


def make_plan(spec: DeviceSpec, build_dir: Path | None = None) -> Plan:
    """Build (or rebuild) the bundle and the config for one device."""
    cfg = device_config(spec)
    files = bundle_files(spec.app, build_dir)
    return Plan(spec, files, cfg, firmware_version(), bundle_hash(files))


@dataclass
class Result:
    """What happened on one board."""

    device_id: str
    written: list[str]
    unchanged: list[str]
    platform: str


def flash(port: str, plan: Plan, *, timeout_s: float = 10.0) -> Result:
    """Copy the plan to the board on `port`: stage and verify every file, then activate, config last."""
    config_bytes = (json.dumps(plan.config, separators=(",", ":"), sort_keys=True) + "\n").encode()
    everything = dict(plan.files)
    everything[CONFIG_PATH] = config_bytes
    with Board(port, timeout_s=timeout_s) as board:
        info = board.info()
        if info.platform != "esp32" and not info.is_virtual:
            raise BoardError(f"{port}: board runs MicroPython on {info.platform!r}, not an ESP32; refusing to flash")
        order = sorted(everything, key=lambda n: (n == CONFIG_PATH, n))
        on_board = board.hashes(order)
        unchanged = [n for n in order if on_board.get(n) == hashlib.sha256(everything[n]).hexdigest()]
        written = [n for n in order if n not in unchanged]
        board.stage({n: everything[n] for n in written})
        board.activate(written)  # in order, config.json last
    return Result(plan.spec.device_id, written, unchanged, info.platform)


def record(records: Path, plan: Plan, port: str, result: Result) -> dict[str, Any]:
    """Append a provisioning record (no secrets) that the backend's registry imports."""
    calibration = {k: v for k, v in plan.config.items() if k in plan.spec.calibration}
    rec = {
        "device_id": plan.spec.device_id,
        "site": plan.spec.site,
        "kind": plan.spec.kind.value,
        "app": plan.spec.app,
        "firmware_version": plan.version,
        "bundle_sha256": plan.bundle_sha256,
        "calibration": calibration,
        "provisioned_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "port": port,
        "board_platform": result.platform,
    }
    records.parent.mkdir(parents=True, exist_ok=True)
    with open(records, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return rec
