"""`yukimizu flash` (one board or a CSV batch) and `yukimizu virtual-board`."""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ..contract import Kind
from .board import BoardError
from .provision import (
    DeviceSpec,
    ProvisionError,
    broker_secret,
    flash,
    make_plan,
    record,
)

DEFAULT_RECORDS = Path("var/provisioning/records.jsonl")
CALIBRATION_OPTIONS = {"raw_dry": int, "raw_wet": int, "mount_height_cm": float, "interval_s": int}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `flash` and `virtual-board` subcommands."""
    p = sub.add_parser("flash", help="書き込み / flash firmware and a device config onto a board (or a CSV batch)",
                       description="Build the app bundle, copy it and a per-device config to the board over the raw REPL, "
                                   "verify every file by hash, then activate. Secrets are never printed.")
    p.add_argument("--port", help="serial device (/dev/ttyUSB0) or pyserial URL (socket://host:port, rfc2217://...)")
    p.add_argument("--device-id")
    p.add_argument("--kind", choices=[k.value for k in Kind])
    p.add_argument("--site", default="goshogawara")
    p.add_argument("--broker", help="mqtt://host:port or mqtts://host:port")
    p.add_argument("--broker-dir", type=Path, help="folder of `yukimizu broker config`: the device's own MQTT secret comes from here")
    p.add_argument("--broker-user", default="")
    p.add_argument("--broker-password", default="", help="prefer --broker-dir; never shown")
    p.add_argument("--wifi-ssid", default="")
    p.add_argument("--wifi-password", default="", help="never shown")
    p.add_argument("--raw-dry", type=int, help="soil probe ADC reading in dry air (calibration)")
    p.add_argument("--raw-wet", type=int, help="soil probe ADC reading in water (calibration)")
    p.add_argument("--mount-height-cm", type=float, help="water sensor height above the field surface")
    p.add_argument("--interval-s", type=int, help="reporting interval")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any other config key (JSON value)")
    p.add_argument("--batch", type=Path, help="CSV with a row per board (port,device_id,kind,site,...); options above are defaults")
    p.add_argument("--records", type=Path, default=DEFAULT_RECORDS, help=f"provisioning records (default {DEFAULT_RECORDS})")
    p.add_argument("--install-micropython", type=Path, metavar="IMAGE",
                   help="first erase the ESP32 and write this MicroPython image with esptool")
    p.add_argument("--dry-run", action="store_true", help="show the plan, touch nothing")
    p.set_defaults(func=run)
    v = sub.add_parser("virtual-board", help="仮想ボード / a MicroPython unix port on a pty, reachable as socket://127.0.0.1:PORT")
    v.add_argument("--dir", default="var/virtual-board", help="the board's filesystem")
    v.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    v.set_defaults(func=_virtual_board)


def _virtual_board(args: argparse.Namespace) -> int:
    from .virtual_board import serve

    args.port = args.port or None
    return serve(args)


def _extra(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ProvisionError(f"--set {pair!r}: expected KEY=VALUE")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _spec(row: dict[str, Any], defaults: argparse.Namespace) -> DeviceSpec:
    def pick(key: str) -> Any:
        value = row.get(key)
        return value if value not in (None, "") else getattr(defaults, key, None)

    device_id = pick("device_id")
    if not device_id:
        raise ProvisionError("--device-id is required")
    kind = pick("kind")
    if not kind:
        raise ProvisionError(f"{device_id}: --kind is required")
    broker = pick("broker")
    if not broker:
        raise ProvisionError(f"{device_id}: --broker is required (mqtt://host:port or mqtts://host:port)")
    calibration = _extra(defaults.set)
    for key, conv in CALIBRATION_OPTIONS.items():
        value = pick(key)
        if value not in (None, ""):
            try:
                calibration[key] = conv(value)
            except ValueError:
                raise ProvisionError(f"{device_id}: {key} {value!r} is not a number") from None
    user, password = pick("broker_user") or "", pick("broker_password") or ""
    broker_dir = pick("broker_dir")
    if broker_dir:
        user, password = device_id, broker_secret(Path(broker_dir), device_id)
    try:
        kind_enum = Kind(kind)
    except ValueError:
        raise ProvisionError(f"{device_id}: kind {kind!r} is not one of {', '.join(k.value for k in Kind)}") from None
    spec = DeviceSpec(device_id=device_id, kind=kind_enum, site=pick("site"), broker_url=broker,
                      wifi_ssid=pick("wifi_ssid") or "", wifi_password=pick("wifi_password") or "",
                      broker_user=user, broker_password=password, calibration=calibration)
    spec.validate()
    return spec


def _one(row: dict[str, Any], args: argparse.Namespace, console: Console) -> tuple[str, str]:
    """Flash one board; return (status, detail) for the summary."""
    port = row.get("port") or args.port
    spec = _spec(row, args)
    plan = make_plan(spec)
    if args.dry_run or not port:
        for line in plan.describe():
            console.print(line, markup=False)
        if not port:
            raise ProvisionError(f"{spec.device_id}: --port is required to flash (plan shown)")
        return "plan", "dry run: nothing written"
    if args.install_micropython:
        from .esp import install_micropython

        install_micropython(port, args.install_micropython)
    result = flash(port, plan)
    record(args.records, plan, port, result)
    detail = f"{len(result.written)} written, {len(result.unchanged)} unchanged, firmware {plan.version}"
    return "ok", detail


def run(args: argparse.Namespace) -> int:
    """Flash one board or a batch; a failed board never stops the rest."""
    from .esp import EspError

    console = Console(stderr=False)
    failures = (ProvisionError, BoardError, EspError, OSError)
    if not args.batch:
        try:
            status, detail = _one({}, args, console)
        except failures as e:
            console.print(f"[red]失敗 / failed:[/red] {e}", highlight=False)
            return 1
        console.print(f"{args.device_id}: {detail}", highlight=False)
        return 0
    try:
        with open(args.batch, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        console.print(f"[red]{args.batch}: {e}[/red]")
        return 1
    table = Table(title="書き込み結果 / flash results")
    for col in ("line", "device_id", "port", "status", "detail"):
        table.add_column(col)
    failed = 0
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("flashing", total=len(rows))
        for line_no, row in enumerate(rows, start=2):
            try:
                status, detail = _one(row, args, console)
            except failures as e:
                status, detail = "FAILED", str(e)
                failed += 1
            table.add_row(str(line_no), row.get("device_id", ""), row.get("port") or args.port or "", status, detail)
            progress.advance(task)
    console.print(table)
    console.print(f"{len(rows) - failed} ok, {failed} failed")
    return 1 if failed else 0
