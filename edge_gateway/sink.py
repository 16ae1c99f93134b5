"""Writers to InfluxDB: api "v1" (/write?db=&rp=, InfluxDB 1.x and the v1 API of 2.x/3.x) and api "v2"
(/api/v2/write through influxdb-client: InfluxDB 1.8+, 2.x, 3.x, and VictoriaMetrics).

Both take a batch of line protocol (lines joined by newlines) and either return (InfluxDB confirmed) or raise SinkError
saying whether the batch itself is at fault (split it and find the bad line) or the server/link is
(retry the same batch later). Retrying is the flusher's job, not the client's.
"""
from __future__ import annotations

import base64
import http.client  # not httpx: ~11 MB less RSS on a Pi Zero 2 W (see V1Sink)
import select
import ssl
import time
from typing import Protocol
from urllib.parse import urlencode, urlsplit

from yukimizu.contract import PRECISION

from .settings import InfluxSettings


class SinkError(RuntimeError):
    """A batch was not confirmed. `bad_batch` means InfluxDB refused the data itself (HTTP 400/413/422)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status

    @property
    def bad_batch(self) -> bool:
        """True when retrying the same bytes can never succeed (InfluxDB refused the content)."""
        return self.status in (400, 413, 422)


class Sink(Protocol):
    """Something that durably accepts line protocol."""

    def write(self, body: str) -> float:
        """Write line protocol (lines joined by newlines); return the latency in ms once confirmed, or raise SinkError."""

    def close(self) -> None:
        """Release connections."""


class V1Sink:
    """InfluxDB /write (1.x API) over the standard library's http.client with a kept-alive connection.

    Why not httpx: memory. On a Pi Zero 2 W (512 MB) importing httpx adds ~11 MB of RSS to the gateway
    process for this one POST endpoint, while http.client is loaded anyway (by http.server, for health).
    """

    def __init__(self, s: InfluxSettings):
        self.url = s.url.rstrip("/") + "/write"
        u = urlsplit(self.url)
        params = {"db": s.database, "precision": PRECISION}
        if s.retention_policy:
            params["rp"] = s.retention_policy
        self.target = f"{u.path}?{urlencode(params)}"  # keeps a path prefix, e.g. http://host/influx/write
        self.headers: dict[str, str] = {}
        if s.username:
            token = base64.b64encode(f"{s.username}:{s.password}".encode()).decode("ascii")
            self.headers["Authorization"] = f"Basic {token}"
        timeout_s = s.timeout_ms / 1000
        self.conn: http.client.HTTPConnection
        if u.scheme == "https":
            self.conn = http.client.HTTPSConnection(u.hostname or "", u.port, timeout=timeout_s,
                                                    context=ssl.create_default_context())
        else:
            self.conn = http.client.HTTPConnection(u.hostname or "", u.port, timeout=timeout_s)

    def _idle_closed(self) -> bool:
        """True when the server has closed (or written to) our idle kept-alive connection since the last write.

        An idle connection has nothing to read unless the peer sent FIN/RST; reconnecting before the POST
        (as httpx's pool does) avoids a needless failed write after an InfluxDB restart or a proxy's idle timeout.
        """
        sock = self.conn.sock
        if sock is None:
            return False
        try:
            if hasattr(select, "poll"):
                p = select.poll()
                p.register(sock, select.POLLIN)
                return bool(p.poll(0))
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def write(self, body: str) -> float:
        """POST the batch; 204 is InfluxDB's confirmation that it is durable in its WAL."""
        t0 = time.perf_counter()
        if self._idle_closed():
            self.conn.close()  # http.client opens a fresh connection on the next request
        try:
            self.conn.request("POST", self.target, body=body.encode("utf-8"), headers=self.headers)
            r = self.conn.getresponse()
            status = r.status
            data = r.read()  # always read it all, or the connection cannot carry the next request
        except (OSError, http.client.HTTPException) as e:  # refused, reset, timeout, TLS, closed keep-alive
            self.conn.close()
            raise SinkError(f"InfluxDB {self.url} unreachable: {type(e).__name__}: {e}") from e
        if status != 204:
            text = data.decode("utf-8", "replace")
            raise SinkError(f"InfluxDB {self.url} answered {status}: {text.strip()[:300]}", status)
        return (time.perf_counter() - t0) * 1000

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


class V2Sink:
    """InfluxDB /api/v2/write through influxdb-client's synchronous write API (its own retries off)."""

    def __init__(self, s: InfluxSettings):
        from influxdb_client import InfluxDBClient, WritePrecision  # imported here: only the v2 path pays
        from influxdb_client.client.write_api import SYNCHRONOUS

        self.bucket = s.bucket
        self.org = s.org
        self.precision = WritePrecision.MS
        self.client = InfluxDBClient(url=s.url, token=s.token, org=s.org, timeout=s.timeout_ms, retries=False)
        self.api = self.client.write_api(write_options=SYNCHRONOUS)

    def write(self, body: str) -> float:
        """Write the batch; influxdb-client raises on anything but 204."""
        from influxdb_client.rest import ApiException

        t0 = time.perf_counter()
        try:
            self.api.write(bucket=self.bucket, org=self.org, record=body,
                           write_precision=self.precision)  # type: ignore[arg-type]
        except ApiException as e:
            body = e.body.decode("utf-8", "replace") if isinstance(e.body, bytes) else str(e.body or "")
            raise SinkError(f"InfluxDB v2 write answered {e.status}: {body.strip()[:300]}", int(e.status or 0)) from e
        except Exception as e:  # urllib3 connection errors and timeouts: the server or the link, retry
            raise SinkError(f"InfluxDB v2 write failed: {type(e).__name__}: {e}") from e
        return (time.perf_counter() - t0) * 1000

    def close(self) -> None:
        """Close the client."""
        self.client.close()


def make_sink(s: InfluxSettings) -> Sink:
    """The sink for `influxdb.api`."""
    return V2Sink(s) if s.api == "v2" else V1Sink(s)
