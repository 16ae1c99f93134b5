"""Outage hooks: what the scenario runner calls to break and heal the pipeline on schedule.

A hook is a callable taking the action name ("stop", "kill", "start", "restart", "down", "up").
Targets the simulator owns get hooks built in:
- a yukimizu.servers.ManagedServer (the Mosquitto or InfluxDB it started) via `server_hook`: stop
  (SIGTERM), kill (kill -9), start, restart for real;
- "devices-uplink": the simulated devices lose their cellular/Wi-Fi link (they hold readings, keep t).
Everything else (the gateway's uplink, the gateway process) is a hook the caller passes in, e.g.
`make demo` wiring "gateway-uplink" to its gateway. An outage whose target has no hook is reported
as skipped, never silently dropped.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from yukimizu.servers import ManagedServer

Hook = Callable[[str], None]


def server_hook(server: ManagedServer) -> Hook:
    """A hook that really stops, kills and starts a server we own."""

    def act(action: str) -> None:
        if action == "stop":
            server.stop()
        elif action == "kill":
            server.kill()
        elif action in ("start", "up"):
            server.start()
        elif action == "restart":
            server.restart()
        elif action == "down":
            server.stop()
        else:
            raise ValueError(f"{server.name}: unknown action {action!r}")

    return act


@dataclass
class FaultRecord:
    """One fault action: when (simulated), what, and how it went."""

    t_unix_s: float
    target: str
    action: str
    outcome: str = "pending"  # done | skipped: no hook | failed: reason
    wall_done_s: float | None = None


@dataclass
class FaultWorker:
    """Runs fault actions one after another off the publishing loop (a server start can take seconds)."""

    hooks: dict[str, Hook]
    records: list[FaultRecord] = field(default_factory=list)
    _q: "queue.Queue[FaultRecord | None]" = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None

    def start(self) -> "FaultWorker":
        """Start the worker thread."""
        self._thread = threading.Thread(target=self._run, name="sim-faults", daemon=True)
        self._thread.start()
        return self

    def submit(self, rec: FaultRecord) -> None:
        """Queue an action."""
        self.records.append(rec)
        if rec.target not in self.hooks:
            rec.outcome = "skipped: no hook for this target"
            return
        self._q.put(rec)

    def _run(self) -> None:
        while True:
            rec = self._q.get()
            if rec is None:
                return
            try:
                self.hooks[rec.target](rec.action)
                rec.outcome = "done"
            except Exception as e:  # noqa: BLE001 - a failed hook is reported, the run goes on
                rec.outcome = f"failed: {type(e).__name__}: {e}"
            rec.wall_done_s = time.monotonic()

    def stop(self, timeout_s: float = 60.0) -> None:
        """Finish queued actions and stop."""
        if self._thread is not None:
            self._q.put(None)
            self._thread.join(timeout_s)

    @property
    def injected(self) -> int:
        """Actions done so far."""
        return sum(r.outcome == "done" for r in self.records)
