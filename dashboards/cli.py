"""`yukimizu dashboards build|push`: write the dashboards and provisioning files, or upload to Grafana.

The SDK and grafana-client (about 1 s to import) are imported only when a dashboards command runs,
so every other `yukimizu` command starts as fast as before.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from yukimizu.settings import SettingsError

if TYPE_CHECKING:
    from .settings import DashboardsSettings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `dashboards` subcommand."""
    p = sub.add_parser("dashboards", help="Grafana ダッシュボード / build or push the Grafana dashboards")
    actions = p.add_subparsers(metavar="ACTION", required=True)
    b = actions.add_parser("build", help="ダッシュボードとプロビジョニングを書き出す / write dashboards JSON + provisioning")
    b.add_argument("--out", required=True, help="output folder (dashboards/ and provisioning/ are created in it)")
    b.add_argument("--config", help="settings TOML (also YUKIMIZU_DASHBOARDS__SECTION__KEY variables)")
    b.add_argument("--influx-url", help="InfluxDB URL Grafana queries (default http://127.0.0.1:8086)")
    b.add_argument("--database", help="InfluxDB database (2.x: the DBRP-mapped name)")
    b.add_argument("--auth", choices=["none", "password", "token"],
                   help="how Grafana authenticates to InfluxDB; the secret comes from Grafana's environment")
    b.add_argument("--backend-url", help="the backend's base URL, for the link to /map")
    b.add_argument("--dashboards-path", help="where Grafana will read the dashboards' JSON from")
    b.set_defaults(func=_build)
    u = actions.add_parser("push", help="Grafana にアップロード / upload the dashboards to Grafana")
    u.add_argument("--grafana-url", required=True, help="e.g. http://127.0.0.1:3000")
    u.add_argument("--token", default=None, help="service account token (default: $GRAFANA_TOKEN)")
    u.add_argument("--folder", default=None, help="Grafana folder title (default from settings: yukimizu)")
    u.add_argument("--overwrite", action="store_true", help="replace dashboards someone changed in Grafana")
    u.add_argument("--config", help="settings TOML")
    u.set_defaults(func=_push)
    c = actions.add_parser("check", help="全パネルの問い合わせを実行 / run every panel query against InfluxDB")
    c.add_argument("--site", required=True, help="value of the site variable, e.g. goshogawara")
    c.add_argument("--influx-url", help="InfluxDB URL (default from settings)")
    c.add_argument("--database", help="InfluxDB database")
    c.add_argument("--config", help="settings TOML")
    c.add_argument("--lang", choices=["ja", "en"], default="ja", help="which language variant to check")
    c.set_defaults(func=_check)


def _settings(args: argparse.Namespace) -> DashboardsSettings:
    from .settings import load_settings

    cfg = load_settings(args.config)
    for attr, target, key in (("influx_url", cfg.influx, "url"), ("database", cfg.influx, "database"),
                              ("auth", cfg.influx, "auth"), ("dashboards_path", cfg.grafana, "dashboards_path")):
        value = getattr(args, attr, None)
        if value is not None:
            setattr(target, key, value)
    if getattr(args, "backend_url", None):
        cfg.backend_url = args.backend_url
    cfg.influx.validate()
    cfg.validate()
    return cfg


def _build(args: argparse.Namespace) -> int:
    try:
        cfg = _settings(args)
    except SettingsError as e:
        print(f"設定エラー / settings error: {e}", file=sys.stderr)
        return 2
    from .build import write_all

    out = Path(args.out)
    for path in write_all(out, cfg):
        print(path)
    return 0


def _push(args: argparse.Namespace) -> int:
    from .build import dashboards
    from .push import Action, PushError, push
    from .settings import load_settings

    mark = {Action.CREATED: "+", Action.UPDATED: "~", Action.UNCHANGED: "=", Action.CONFLICT: "!"}
    try:
        cfg = load_settings(args.config)
    except SettingsError as e:
        print(f"設定エラー / settings error: {e}", file=sys.stderr)
        return 2
    token = args.token or os.environ.get("GRAFANA_TOKEN", "")
    folder = args.folder or cfg.grafana.folder
    try:
        outcomes = push(args.grafana_url, token, folder, dashboards(cfg).values(), overwrite=args.overwrite)
    except PushError as e:
        print(f"失敗 / failed: {e}", file=sys.stderr)
        return 1
    for o in outcomes:
        version = f" v{o.version}" if o.version is not None else ""
        detail = f": {o.detail}" if o.detail else ""
        print(f"{mark[o.action]} {o.action.value:9} {o.uid}{version}  {o.title}{detail}")
    counts = {a: sum(o.action is a for o in outcomes) for a in Action}
    print(", ".join(f"{a.value} {n}" for a, n in counts.items()) + f"  (folder {folder!r})")
    return 1 if counts[Action.CONFLICT] else 0


def _check(args: argparse.Namespace) -> int:
    import time

    from yukimizu.influx import InfluxV1

    from .build import dashboards
    from .check import check

    try:
        cfg = _settings(args)
    except SettingsError as e:
        print(f"設定エラー / settings error: {e}", file=sys.stderr)
        return 2
    i = cfg.influx
    # the same credentials Grafana uses, from the same environment variables (never from the command line)
    user = os.environ.get(i.user_env) if i.auth == "password" else ("token" if i.auth == "token" else None)
    password = os.environ.get(i.password_env if i.auth == "password" else i.token_env) if i.auth != "none" else None
    db = InfluxV1(i.url, i.database, username=user, password=password)
    try:
        if not db.ping():
            print(f"失敗 / failed: InfluxDB at {i.url} does not answer /ping", file=sys.stderr)
            return 1
        docs = [d for uid, d in dashboards(cfg).items() if uid.endswith("-en") == (args.lang == "en")]
        results = check(db, docs, {"site": args.site}, int(time.time() * 1000))
    finally:
        db.close()
    for r in results:
        state = "ERROR" if r.error else ("empty" if r.rows == 0 else "ok")
        where = f"{r.query.dashboard_uid} #{r.query.panel['id']} {r.query.target['refId']}"
        repeat = f" [{r.query.repeat_var}={r.repeat_value}]" if r.repeat_value else ""
        detail = r.error or f"{r.series} series, {r.rows} rows"
        print(f"{state:5} {where}{repeat}  {r.query.panel['title']}: {detail}")
    errors = sum(bool(r.error) for r in results)
    empty = sum(not r.error and r.rows == 0 for r in results)
    print(f"{len(results)} queries: {len(results) - errors - empty} with data, {empty} empty, {errors} errors")
    return 1 if errors else 0
