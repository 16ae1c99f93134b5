"""The local health endpoint (GET http://127.0.0.1:PORT/health, JSON) and the client side of it."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"  # never exposed beyond the Pi itself


class HealthServer:
    """Serves `snapshot()` as JSON on 127.0.0.1; port 0 in settings turns it off."""

    def __init__(self, port: int, snapshot: Callable[[], dict[str, Any]]):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if self.path.split("?")[0] not in ("/health", "/"):
                    self.send_error(404, "try /health")
                    return
                body = json.dumps(outer.snapshot(), ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:  # keep the journal for the gateway's own events
                pass

        self.snapshot = snapshot
        self.server = ThreadingHTTPServer((HOST, port), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, name="health-http", daemon=True)

    def start(self) -> None:
        """Start serving in a background thread."""
        self.thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def fetch(port: int, timeout_s: float = 3.0) -> dict[str, Any]:
    """GET the running gateway's health snapshot; raises httpx.HTTPError when it does not answer."""
    import httpx  # for the status CLI only: the gateway process itself never imports httpx (~11 MB RSS)

    r = httpx.get(f"http://{HOST}:{port}/health", timeout=timeout_s)
    r.raise_for_status()
    return r.json()
