"""A local HTTP server answering the few Grafana API calls `push` makes, with Grafana's status codes and bodies.

It is not Grafana: it stores dashboards in memory and follows Grafana's documented rules for
`POST /api/dashboards/db` (a stale `version` without `overwrite` -> 412 version-mismatch), answers
401 to a wrong token, and records every call (method, path, status, request and response body)
for the tests to assert on. `someone_edits` simulates a person saving a dashboard in the UI
right after push has read it.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    """One recorded API call."""

    method: str
    path: str
    status: int
    request: Any
    response: Any


@dataclass
class FakeGrafana:
    """In-memory folders and dashboards behind Grafana's HTTP API shapes."""

    token: str
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> {"dashboard", "folderUid"}
    calls: list[Call] = field(default_factory=list)
    someone_edits: set[str] = field(default_factory=set)
    _next_id: int = 1

    def start(self) -> "FakeGrafana":
        """Serve on a free 127.0.0.1 port in a daemon thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: Any, request: Any = None) -> None:
                data = json.dumps(body).encode()
                fake.calls.append(Call(self.command, self.path, status, request, body))  # before the client can go on
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(n)) if n else None
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._answer(401, {"message": "invalid API key", "traceID": ""}, request)
                status, body = fake.route(self.command, self.path, request)
                self._answer(status, body, request)

            do_GET = do_POST = _handle  # noqa: N815 (http.server's naming)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """Grafana's behaviour for the endpoints push uses."""
        path = path.split("?")[0]
        if method == "GET" and path.startswith("/api/folders/"):
            uid = path.rsplit("/", 1)[1]
            if uid in self.folders:
                return 200, self.folders[uid]
            return 404, {"message": "folder not found", "status": "not-found"}
        if method == "POST" and path == "/api/folders":
            uid = body.get("uid")
            if uid in self.folders:
                return 409, {"message": "a folder with the same uid already exists"}
            self.folders[uid] = {"id": self._id(), "uid": uid, "title": body["title"], "url": f"/dashboards/f/{uid}/",
                                 "version": 1}
            return 200, self.folders[uid]
        if method == "GET" and path.startswith("/api/dashboards/uid/"):
            uid = path.rsplit("/", 1)[1]
            if uid not in self.stored:
                return 404, {"message": "Dashboard not found"}
            entry = self.stored[uid]
            answer = {"dashboard": json.loads(json.dumps(entry["dashboard"])),
                      "meta": {"folderUid": entry["folderUid"], "version": entry["dashboard"]["version"],
                               "slug": uid, "provisioned": False, "canSave": True}}
            if uid in self.someone_edits:  # a person saves in the UI right after we read
                self.someone_edits.discard(uid)
                entry["dashboard"] = {**entry["dashboard"], "title": "edited by hand",
                                      "version": entry["dashboard"]["version"] + 1}
            return 200, answer
        if method == "POST" and path == "/api/dashboards/db":
            return self._save(body)
        return 404, {"message": "Not found"}

    def _save(self, body: dict[str, Any]) -> tuple[int, Any]:
        dash, folder = dict(body["dashboard"]), body.get("folderUid")
        if folder not in self.folders:
            return 400, {"message": "folder not found", "status": "not-found"}
        uid = dash["uid"]
        have = self.stored.get(uid)
        if have is not None and not body.get("overwrite") and dash.get("version") != have["dashboard"]["version"]:
            return 412, {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}
        version = 1 if have is None else have["dashboard"]["version"] + 1
        dash["id"] = have["dashboard"]["id"] if have else self._id()
        dash["version"] = version
        self.stored[uid] = {"dashboard": dash, "folderUid": folder}
        return 200, {"id": dash["id"], "uid": uid, "url": f"/d/{uid}/{uid}", "status": "success",
                     "version": version, "slug": uid, "folderUid": folder}

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id
