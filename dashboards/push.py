"""Upload the dashboards to a running Grafana with grafana-client, idempotently.

For each dashboard: read the one Grafana has under the same uid; if it is identical (ignoring the
`id` and `version` Grafana assigns) and in the right folder, leave it (`unchanged`); otherwise save
ours with Grafana's current version number (`updated`), or as new (`created`). Grafana refuses a
save whose version is stale (412 version-mismatch) when someone edited the dashboard between our
read and our write: that dashboard is reported as a `conflict` and left alone unless `overwrite`.
"""
from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaServerError, GrafanaTimeoutError


class Action(str, enum.Enum):
    """What push did to one dashboard."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Outcome:
    """The result for one dashboard."""

    uid: str
    title: str
    action: Action
    version: int | None
    detail: str = ""


class PushError(RuntimeError):
    """Grafana could not be used at all (unreachable, wrong token, no permission)."""


def folder_uid(title: str) -> str:
    """A stable folder uid from its title: lower case, a-z 0-9 and '-', at most 40 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return (slug or "yukimizu")[:40]


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("id", "version")}


def _fail(e: GrafanaException, url: str, what: str) -> PushError:
    status = getattr(e, "status_code", None)
    if status == 401:
        return PushError(f"Grafana at {url} refused the token while {what} (401 Unauthorized): check --token; "
                         "it must be a valid service account token")
    if status == 403:
        return PushError(f"Grafana at {url} refused {what} (403 Forbidden): the token's service account needs the "
                         "Editor role (or edit permission on the folder)")
    if isinstance(e, GrafanaTimeoutError):
        return PushError(f"Grafana at {url} did not answer in time while {what}")
    if isinstance(e, GrafanaServerError):
        return PushError(f"Grafana at {url} failed while {what} ({status}): {e.message}")
    return PushError(f"Grafana at {url} refused {what} ({status}): {e.message}")


class Pusher:
    """One Grafana, one folder."""

    def __init__(self, url: str, token: str, folder_title: str, *, timeout_s: float = 10.0):
        if not token:
            raise PushError("no Grafana token given: pass --token or set GRAFANA_TOKEN")
        self.url = url.rstrip("/")
        self.api = GrafanaApi.from_url(self.url, credential=token, timeout=timeout_s)
        self.folder_title = folder_title
        self.folder_uid = folder_uid(folder_title)

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except GrafanaException as e:
            raise _fail(e, self.url, what) from None
        except Exception as e:  # connection refused, DNS, TLS: niquests' errors
            raise PushError(f"Grafana at {self.url} unreachable while {what}: {type(e).__name__}: {e}") from None

    def ensure_folder(self) -> bool:
        """Create the folder unless it exists; True when created."""
        try:
            self.api.folder.get_folder(self.folder_uid)
            return False
        except GrafanaClientError as e:
            if e.status_code != 404:
                raise _fail(e, self.url, f"reading folder {self.folder_uid!r}") from None
        except Exception as e:
            raise PushError(f"Grafana at {self.url} unreachable: {type(e).__name__}: {e}") from None
        self._call(f"creating folder {self.folder_title!r}", self.api.folder.create_folder, self.folder_title,
                   self.folder_uid)
        return True

    def existing(self, uid: str) -> dict[str, Any] | None:
        """Grafana's copy of a dashboard ({dashboard, meta}) or None."""
        try:
            return self.api.dashboard.get_dashboard(uid)
        except GrafanaClientError as e:
            if e.status_code == 404:
                return None
            raise _fail(e, self.url, f"reading dashboard {uid!r}") from None
        except GrafanaException as e:
            raise _fail(e, self.url, f"reading dashboard {uid!r}") from None
        except Exception as e:
            raise PushError(f"Grafana at {self.url} unreachable: {type(e).__name__}: {e}") from None

    def push_one(self, doc: dict[str, Any], overwrite: bool = False) -> Outcome:
        """Create, update or leave one dashboard."""
        uid, title = doc["uid"], doc.get("title", "")
        have = self.existing(uid)
        if have is not None:
            meta = have.get("meta") or {}
            same = _comparable(have.get("dashboard") or {}) == _comparable(doc)
            if same and meta.get("folderUid") == self.folder_uid:
                return Outcome(uid, title, Action.UNCHANGED, (have.get("dashboard") or {}).get("version"))
        body = dict(doc)
        body.pop("id", None)
        if have is not None:
            body["id"] = (have.get("dashboard") or {}).get("id")
            body["version"] = (have.get("dashboard") or {}).get("version")
        payload = {"dashboard": body, "folderUid": self.folder_uid, "overwrite": overwrite,
                   "message": "yukimizu dashboards push"}
        try:
            saved = self.api.dashboard.update_dashboard(payload)
        except GrafanaClientError as e:
            if e.status_code == 412:
                reason = e.response.get("status") if isinstance(e.response, dict) else None
                return Outcome(uid, title, Action.CONFLICT, None,
                               f"changed in Grafana by someone else since it was read (412 {reason or 'version-mismatch'}); "
                               "run push again, or pass --overwrite to replace that change")
            raise _fail(e, self.url, f"saving dashboard {uid!r}") from None
        except GrafanaException as e:
            raise _fail(e, self.url, f"saving dashboard {uid!r}") from None
        except Exception as e:
            raise PushError(f"Grafana at {self.url} unreachable: {type(e).__name__}: {e}") from None
        return Outcome(uid, title, Action.CREATED if have is None else Action.UPDATED, saved.get("version"))


def push(url: str, token: str, folder_title: str, docs: Iterable[dict[str, Any]], *,
         overwrite: bool = False, timeout_s: float = 10.0) -> list[Outcome]:
    """Push dashboards into a folder (created when missing); one Outcome per dashboard."""
    p = Pusher(url, token, folder_title, timeout_s=timeout_s)
    p.ensure_folder()
    return [p.push_one(d, overwrite) for d in docs]
