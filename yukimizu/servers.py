"""Own instances of the real servers (Mosquitto, InfluxDB 1.x, VictoriaMetrics) on free loopback ports.

Used by the test harness (temp folders) and by `make demo` (under ./var/). Never touches the
system's services: every instance has its own config, data folder and port, bound to 127.0.0.1.
"""
from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """A server could not be found, started or reached."""


def stop_like_ctrl_c_on_termination() -> None:
    """Make SIGTERM and SIGHUP raise KeyboardInterrupt in a command that owns servers.

    The servers run in sessions of their own (a Ctrl-C in the terminal is the command's to handle), so
    Python's default for these signals, exit at once, would leave them running: ports held, data folders
    in use. Raised as KeyboardInterrupt, the command's own Ctrl-C path stops them in order."""
    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def find_binary(name: str, *candidates: str) -> str:
    """Locate a server binary on PATH or at Debian's install paths, or say which package to install."""
    found = shutil.which(name)
    if found:
        return found
    for c in candidates:
        if os.access(c, os.X_OK):
            return c
    raise ServerError(f"{name} not found; run `make setup` (installs the Debian package) or install it yourself")


class ManagedServer:
    """A server process we own: start, wait until it answers, stop, kill -9, restart on the same port."""

    name = "server"

    def __init__(self, root: Path, port: int | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.root / f"{self.name}.log"

    # Subclasses say how to run and how to tell readiness.
    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout_s: float = 30.0) -> "ManagedServer":
        """Start the process and wait until it answers."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited with {self.proc.returncode}; log: {self.log_path}\n{self.tail()}")
            if self.ready():
                return self
            time.sleep(0.05)
        self.kill()
        raise ServerError(f"{self.name} did not answer on port {self.port} within {timeout_s} s; log: {self.log_path}")

    def tail(self, n: int = 20) -> str:
        """The last lines of the server's log, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop cleanly (SIGTERM), waiting for the process to exit."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """kill -9: the fault tests' power cut."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        """Stop and start again on the same port and data."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        """True while the process is alive."""
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> "ManagedServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _tcp_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as r:
            return 200 <= r.status < 300
    except (urllib.error.URLError, OSError):
        return False


class Mosquitto(ManagedServer):
    """Mosquitto with persistence on, sized for a gateway that is offline for hours."""

    name = "mosquitto"

    def __init__(
        self,
        root: Path,
        port: int | None = None,
        *,
        max_queued_messages: int = 1_000_000,
        extra_config: str = "",
        config_path: Path | None = None,
    ):
        super().__init__(root, port)
        self.max_queued_messages = max_queued_messages
        self.extra_config = extra_config
        self.config_path = config_path

    @property
    def url(self) -> str:
        """mqtt:// URL of this broker."""
        return f"mqtt://{HOST}:{self.port}"

    def write_config(self) -> Path:
        """Write mosquitto.conf for this instance (unless a ready-made config was given)."""
        if self.config_path is not None:
            return self.config_path
        data = self.root / "data"
        data.mkdir(exist_ok=True)
        conf = self.root / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} {HOST}\n"
            # Started as root, mosquitto would drop to user `mosquitto`, who cannot write our temp folders.
            f"user {getpass.getuser()}\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {data}/\n"
            # QoS 1 messages for an offline persistent session wait here; size for the longest outage.
            f"max_queued_messages {self.max_queued_messages}\n"
            "max_queued_bytes 0\n"
            "max_inflight_messages 1000\n"
            "autosave_interval 60\n"
            "log_type error\nlog_type warning\n"
            f"{self.extra_config}"
        )
        return conf

    def command(self) -> list[str]:
        return [find_binary("mosquitto", "/usr/sbin/mosquitto"), "-c", str(self.write_config())]

    def ready(self) -> bool:
        return _tcp_open(self.port)


class InfluxDB(ManagedServer):
    """InfluxDB 1.x (Debian `influxdb`): /write with line protocol, /query with InfluxQL."""

    name = "influxdb"

    def __init__(self, root: Path, port: int | None = None):
        super().__init__(root, port)
        self.rpc_port = free_port()

    @property
    def url(self) -> str:
        """http:// base URL."""
        return f"http://{HOST}:{self.port}"

    def command(self) -> list[str]:
        conf = self.root / "influxdb.conf"
        d = self.root
        conf.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "{HOST}:{self.rpc_port}"\n'
            f'[meta]\n  dir = "{d}/meta"\n  logging-enabled = false\n'
            f'[data]\n  dir = "{d}/data"\n  wal-dir = "{d}/wal"\n  query-log-enabled = false\n'
            '  index-version = "inmem"\n'
            f'[http]\n  bind-address = "{HOST}:{self.port}"\n  log-enabled = false\n'
            "  max-body-size = 0\n"
            "[monitor]\n  store-enabled = false\n"
            "[continuous_queries]\n  enabled = false\n"
            "[logging]\n  level = \"warn\"\n"
        )
        return [find_binary("influxd", "/usr/bin/influxd"), "-config", str(conf)]

    def ready(self) -> bool:
        return _http_ok(f"{self.url}/ping")


class VictoriaMetrics(ManagedServer):
    """VictoriaMetrics, which accepts InfluxDB's /api/v2/write: the influxdb-client write path's real peer."""

    name = "victoria-metrics"

    @property
    def url(self) -> str:
        """http:// base URL."""
        return f"http://{HOST}:{self.port}"

    def command(self) -> list[str]:
        return [
            find_binary("victoria-metrics", "/usr/bin/victoria-metrics"),
            f"-httpListenAddr={HOST}:{self.port}",
            f"-storageDataPath={self.root / 'data'}",
            "-retentionPeriod=100y",
            "-search.latencyOffset=0s",
            "-loggerLevel=ERROR",
        ]

    def ready(self) -> bool:
        return _http_ok(f"{self.url}/health")
