"""`yukimizu demo` (`make demo`): a living Goshogawara on one machine.

Starts the site's own Mosquitto and InfluxDB under ./var/, the edge gateway, the backend API, and the
simulators on the demo site: plows clearing snow on their routes, paddies and orchards reporting
water and soil. Prints the pages to open and keeps a live count until Ctrl-C, which stops everything.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import time
from pathlib import Path

import httpx
from rich.cells import cell_len
from rich.console import Console
from rich.live import Live
from rich.table import Table

from simulators import scenario as scenario_mod
from simulators.forecast import forecast_csv
from simulators.world import World

from .influx import InfluxV1
from .servers import stop_like_ctrl_c_on_termination
from .stack import DATABASE, Stack

MEASUREMENTS = ("plow", "water", "soil", "weather")
LIVE_FARM_S = 30 * 86400  # once the season's replay reaches today, the farm goes on in real time for 30 days
FORECAST_DAYS = 30  # the feed covers the whole live part; the backend reads the days from today on


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `demo` subcommand."""
    p = sub.add_parser("demo", help="デモ: 一台で全体を動かす / run the whole pipeline on this machine")
    p.add_argument("--var", default="var/demo", help="folder for the demo's servers and data (default ./var/demo)")
    p.add_argument("--plow-speed", type=float, default=20.0,
                   help="snowstorm night: simulated seconds per second (default 20: plows leave within a minute; "
                        "the night takes about 4 minutes and then starts again)")
    p.add_argument("--farm-speed", type=float, default=20000.0,
                   help="paddy season: simulated seconds per second (default 20000: four weeks of June in about "
                        "2 minutes, ending now, so the farmers' page and dashboards fill at once)")
    p.add_argument("--smoke", action="store_true", help="start, wait for the first readings in InfluxDB, then stop (CI)")
    p.add_argument("--timeout-s", type=float, default=120.0, help="how long --smoke waits for plow and field readings")
    p.set_defaults(func=run)


def farm_timeline(speed: float) -> tuple[float, int]:
    """When the paddy season's run starts at `speed`, and the days to add to the registry's field dates.

    The season is June's, played so that it ends now. The simulated farmers transplant on the
    registry's dates moved onto that timeline; the backend, counting the crops' stages from today,
    needs the same move, or its advice would be November's (final drainage) about June's water."""
    farm = scenario_mod.replace(scenario_mod.load("paddy-season"), speed=speed)
    start_s = farm.run_start_unix_s()
    return start_s, -round(farm.calendar_shift_s(start_s) / 86400)


def farm_run(start_s: float, speed: float) -> scenario_mod.Scenario:
    """The demo's farm: the season from `start_s` at `speed` up to the present, then on in real time for
    LIVE_FARM_S, in one run (one model: the paddies carry on from where the replay left them)."""
    farm = scenario_mod.load("paddy-season")
    return scenario_mod.replace(farm, speed=speed, duration_s=farm.duration_s + LIVE_FARM_S, catch_up=True,
                                start=dt.datetime.fromtimestamp(start_s, dt.UTC).isoformat())


def farm_args(farm: scenario_mod.Scenario) -> list[str]:
    """`yukimizu simulate` arguments for `farm_run(...)`."""
    return ["--speed", str(farm.speed), "--start", farm.start, "--duration-s", str(farm.duration_s), "--catch-up"]


def write_forecast(path: Path, farm: scenario_mod.Scenario) -> str:
    """Write the farm's weather from today on as the site's forecast feed; return the `forecast_feeds` entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    world = World(farm, farm.run_start_unix_s())
    path.write_text(forecast_csv(world, FORECAST_DAYS, from_unix_s=time.time()), encoding="utf-8")
    return f"{farm.site}={path}"


# What a demo run leaves under --var that the next one must not inherit: each run replays the last four
# weeks, and two replays in one InfluxDB interleave into one zig-zag per sensor (different seq ranges, so
# the gateway's dedup cannot merge them). Logs stay; nothing else in the folder is touched.
RUN_STATE = ("mosquitto", "influxdb", "gateway", "backend", "registry.json", "forecast-goshogawara.csv",
             "sent-farm.jsonl", "sent-plows.jsonl")


def clear_previous_run(var: Path) -> bool:
    """Remove a previous demo run's servers' data under `var`; True if there was any."""
    found = False
    for name in RUN_STATE:
        path = var / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        found = True
    return found


def _counts(db: InfluxV1) -> dict[str, int]:
    out = {}
    for m in MEASUREMENTS:
        try:
            rows = db.rows(f'SELECT count("seq") AS n FROM "{m}" WHERE time > now() - 30d')
            out[m] = int(rows[0]["n"]) if rows else 0
        except Exception:  # noqa: BLE001 - the count is a display, never a reason to stop the demo
            out[m] = -1
    return out


def _table(counts: dict[str, int], started: float) -> Table:
    t = Table(title=f"雪水 demo: 稼働 {time.monotonic() - started:.0f} 秒 / running {time.monotonic() - started:.0f} s")
    t.add_column("測定 / measurement")
    t.add_column("InfluxDB の読み取り数 / readings stored", justify="right")
    for m, n in counts.items():
        t.add_row(m, "-" if n < 0 else str(n))
    return t


def run(args: argparse.Namespace) -> int:
    """Start the stack and the simulators; show live counts until Ctrl-C (or until readings land, with --smoke)."""
    console = Console()
    stop_like_ctrl_c_on_termination()  # a closed terminal or a kill stops the stack as Ctrl-C does
    var = Path(args.var).resolve()
    if clear_previous_run(var):
        console.print(f"前回のデモのデータを消去しました / cleared the previous demo run's data in {var}")
    farm_start_s, shift_days = farm_timeline(args.farm_speed)
    farm = farm_run(farm_start_s, args.farm_speed)
    # No JMA forecast to fetch here: the backend reads the weather the farm will play from today on.
    feed = write_forecast(var / "forecast-goshogawara.csv", farm)
    stack = Stack(var, field_date_shift_days=shift_days, forecast_feeds=[feed])
    console.print(f"starting in {var} ...")
    try:
        stack.start()
        def plows() -> None:
            stack.simulate("sim-plows", "snowstorm-night", "--speed", str(args.plow_speed),
                           "--sent-log", str(var / "sent-plows.jsonl"))

        plows()
        stack.simulate("sim-farm", "paddy-season", *farm_args(farm), "--sent-log", str(var / "sent-farm.jsonl"))
        assert stack.broker is not None and stack.influxdb is not None
        db = InfluxV1(stack.influxdb.url, DATABASE)
        # The demo's own admin token rides in the link's fragment: the pages keep it, browsers never send it on.
        key = f"#token={stack.admin_token}"
        links = [
            ("除雪マップ / live plow map", f"{stack.api_url}/map{key}"),
            ("公開マップ / public map (delayed)", f"{stack.api_url}/public/map"),
            ("圃場 / fields (farmers)", f"{stack.api_url}/fields{key}"),
            ("機器の状態 / fleet health", f"{stack.api_url}/fleet{key}"),
            ("API docs", f"{stack.api_url}/docs"),
            ("health", f"{stack.api_url}/healthz"),
        ]
        # soft_wrap: a link is never broken into lines (a narrow terminal wraps it on screen, and a
        # copied link keeps its whole token); labels padded by display width, kana being two cells.
        for label, url in links:
            console.print(f"  {label}{' ' * max(1, 37 - cell_len(label))}{url}", highlight=False, soft_wrap=True)
        console.print(f"  MQTT {stack.broker_url}   InfluxDB {stack.influxdb.url} (database {DATABASE})",
                      highlight=False, soft_wrap=True)
        if shutil.which("grafana-server") or shutil.which("grafana"):
            console.print("  Grafana: `yukimizu dashboards build --out /etc/grafana/provisioning` then restart Grafana")
        else:
            console.print("  Grafana is not installed here; `yukimizu dashboards build --out DIR` writes its provisioning")
        # What the pages will show, so nobody takes a replay for a fault: the plows' last fixes are from
        # last night, and the farm's first weeks arrive in a rush.
        replay_s = farm.duration_s - LIVE_FARM_S
        console.print(f"  除雪車: 昨夜の大雪を {args.plow_speed:g} 倍速で再生 / plows: last night's storm replayed "
                      f"at {args.plow_speed:g}x", highlight=False, soft_wrap=True)
        console.print(f"  圃場: 過去 {replay_s / 86400:.0f} 日を約 {replay_s / args.farm_speed / 60:.0f} 分で再生、その後は実時間 / "
                      f"fields: the past {replay_s / 86400:.0f} days in about {replay_s / args.farm_speed / 60:.0f} min, "
                      "then in real time", highlight=False, soft_wrap=True)
        started = time.monotonic()
        if args.smoke:
            deadline = started + args.timeout_s
            while time.monotonic() < deadline:
                counts = _counts(db)
                if counts.get("plow", 0) > 0 and counts.get("water", 0) > 0 and counts.get("soil", 0) > 0:
                    health = httpx.get(f"{stack.api_url}/healthz", timeout=5)
                    console.print(f"smoke ok: {counts}, /healthz {health.status_code}")
                    return 0 if health.status_code == 200 else 1
                time.sleep(1)
            console.print(f"smoke failed: no readings within {args.timeout_s} s: {_counts(db)}")
            console.print(stack.log_tail("gateway"))
            return 1
        console.print("Ctrl-C で停止 / Ctrl-C stops everything")
        with Live(_table(_counts(db), started), console=console, refresh_per_second=1) as live:
            while True:
                time.sleep(2)
                if stack.procs["sim-plows"].poll() is not None:
                    plows()  # the night is over: another storm, so there is always something moving
                live.update(_table(_counts(db), started))
    except KeyboardInterrupt:
        console.print("stopping ...")
        return 0
    finally:
        stack.stop()
