"""Run a scenario: pace the world's messages on a simulated clock, inject faults on schedule, report progress."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .clock import SimClock
from .faults import FaultRecord, FaultWorker, Hook
from .fleet import Fleet
from .scenario import RECOVERY
from .world import World

MAX_IN_FLIGHT = 20_000  # back-pressure: stop pulling messages while this many wait for PUBACK


@dataclass
class Progress:
    """What the progress display shows."""

    sim_t_unix_s: float
    end_unix_s: float
    devices: int
    devices_online: int
    messages_acked: int
    readings_acked: int
    in_flight: int
    held: int
    lag_s: float  # simulated seconds the publisher is behind the clock
    faults: list[FaultRecord] = field(default_factory=list)
    model_events: int = 0


@dataclass
class RunReport:
    """The outcome of a run."""

    messages_published: int
    messages_acked: int
    readings_acked: int
    unacked: int
    faults: list[FaultRecord]
    start_unix_s: float
    end_unix_s: float
    wall_s: float


def _schedule(world: World) -> list[tuple[float, str, str]]:
    """Outage actions in time order; an outage starting after the end is left out, a recovery after it runs at the end."""
    out: list[tuple[float, str, str]] = []
    for o in world.sc.outages:
        t = world.start_unix_s + o.at_s
        if t >= world.end_unix_s:
            continue
        out.append((t, o.target, o.action))
        if o.duration_s:
            out.append((t + o.duration_s, o.target, RECOVERY[o.action]))
    return sorted(out, key=lambda x: x[0])


def run(world: World, fleet: Fleet, *, speed: float, hooks: dict[str, Hook] | None = None,
        on_progress: Callable[[Progress], None] | None = None, stop: threading.Event | None = None,
        progress_every_s: float = 0.25, drain_timeout_s: float = 30.0) -> RunReport:
    """Publish every message at its simulated time, run outages through hooks, and wait for the last PUBACK."""
    all_hooks: dict[str, Hook] = {"devices-uplink": lambda a: fleet.set_uplink(a in ("up", "start"))}
    all_hooks.update(hooks or {})
    worker = FaultWorker(all_hooks).start()
    schedule = _schedule(world)
    model_events = [t for t, _ in world.fault_events()]
    clock = SimClock(world.start_unix_s, speed, catch_up=world.sc.catch_up)
    wall0 = time.monotonic()
    msgs = world.messages()
    nxt = next(msgs, None)
    fi = 0
    last_progress = 0.0
    end = world.end_unix_s
    interval = {d.device_id: d.expected_interval_s for d in world.devices}

    def progress(now: float) -> Progress:
        st = fleet.refresh()
        up = fleet.uplink_up and st.connections_up == st.connections
        online = sum(1 for d, t in fleet.last_acked_t.items() if now - t <= 2 * interval.get(d, 600)) if up else 0
        lag = max(0.0, now - nxt.publish_t_unix_s) if nxt is not None else 0.0
        return Progress(now, end, len(world.devices), online, st.messages_acked, st.readings_acked, fleet.in_flight(),
                        st.held_messages, lag, list(worker.records), sum(t <= now for t in model_events))

    try:
        while not (stop and stop.is_set()):
            now = min(clock.now(), end)
            busy = False
            # Anything due after the end is done at the end: a last batch, an outage's recovery.
            while fi < len(schedule) and min(schedule[fi][0], end) <= now and (
                    nxt is None or schedule[fi][0] <= nxt.publish_t_unix_s):
                worker.submit(FaultRecord(*schedule[fi]))
                fi += 1
            while nxt is not None and min(nxt.publish_t_unix_s, end) <= now and fleet.in_flight() < MAX_IN_FLIGHT:
                while fi < len(schedule) and schedule[fi][0] <= nxt.publish_t_unix_s:
                    worker.submit(FaultRecord(*schedule[fi]))
                    fi += 1
                fleet.publish(nxt)
                nxt = next(msgs, None)
                busy = True
                if on_progress and time.monotonic() - last_progress > progress_every_s:
                    break  # keep the display moving while catching up
            if on_progress and time.monotonic() - last_progress > progress_every_s:
                last_progress = time.monotonic()
                on_progress(progress(now))
            if now >= end and nxt is None and fi >= len(schedule):
                break
            if not busy:
                wait = clock.wall_s_until(min(nxt.publish_t_unix_s if nxt else end, schedule[fi][0] if fi < len(schedule) else end))
                time.sleep(min(0.1, max(0.001, wait)))
        worker.stop()
        if not fleet.uplink_up:
            fleet.set_uplink(True)  # the run is over: let held readings go before counting
        fleet.drain(drain_timeout_s)
        if on_progress:
            on_progress(progress(min(clock.now(), end)))
    finally:
        worker.stop(1.0)
    st = fleet.refresh()
    return RunReport(st.messages_published, st.messages_acked, st.readings_acked, fleet.in_flight(),
                     list(worker.records), world.start_unix_s, end, time.monotonic() - wall0)


class ScenarioHandle:
    """A scenario running in a background thread (for `make demo`): watch `progress`, `stop()`, `join()`."""

    def __init__(self, world: World, fleet: Fleet, speed: float, hooks: dict[str, Hook] | None):
        self.world = world
        self.fleet = fleet
        self.progress: Progress | None = None
        self.report: RunReport | None = None
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(speed, hooks), name=f"sim-{world.sc.name}", daemon=True)

    def _run(self, speed: float, hooks: dict[str, Hook] | None) -> None:
        try:
            if not self.fleet.wait_connected(10):
                raise ConnectionError("cannot reach the broker within 10 s")
            self.report = run(self.world, self.fleet, speed=speed, hooks=hooks, stop=self._stop,
                              on_progress=lambda p: setattr(self, "progress", p))
        except BaseException as e:  # noqa: BLE001 - kept for the caller, who decides what to say
            self.error = e
        finally:
            self.fleet.close()

    def start(self) -> "ScenarioHandle":
        """Start the thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to end now (what was already published is still drained and logged)."""
        self._stop.set()

    def join(self, timeout_s: float | None = None) -> RunReport | None:
        """Wait for the end; the report, or None while still running."""
        self._thread.join(timeout_s)
        return self.report

    @property
    def running(self) -> bool:
        """True until the run has ended."""
        return self._thread.is_alive()


def start_scenario(name: str, broker_url: str, *, speed: float | None = None, devices: int | None = None,
                   seed: int | None = None, duration_s: float | None = None, sent_log: str | None = None,
                   hooks: dict[str, Hook] | None = None, seq_base: int | None = None) -> ScenarioHandle:
    """Load a scenario by name or path and run it against a broker in a background thread."""
    from . import scenario as scenario_mod

    sc = scenario_mod.load(name)
    changes = {k: v for k, v in (("speed", speed), ("devices", devices), ("seed", seed), ("duration_s", duration_s))
               if v is not None}
    if changes:
        sc = scenario_mod.replace(sc, **changes)
    world = World(sc, sc.run_start_unix_s(), seq_base=int(time.time()) * 1_000_000 if seq_base is None else seq_base)
    fleet = Fleet(broker_url, [d.device_id for d in world.devices], sent_log=sent_log,
                  client_prefix=f"yukimizu-sim-{sc.name}-{int(time.time())}")
    return ScenarioHandle(world, fleet, sc.speed, hooks).start()
