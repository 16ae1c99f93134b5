"""`yukimizu api` (serve the backend), `yukimizu registry import|export`, `yukimizu downsample`."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from yukimizu.settings import SettingsError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the backend's subcommands."""
    p = sub.add_parser("api", help="バックエンドAPIを起動 / serve the backend API and web pages")
    p.add_argument("--config", help="backend.toml (see backend.example.toml); YUKIMIZU_API__SECTION__KEY overrides")
    p.add_argument("--check", action="store_true", help="validate the settings and exit")
    p.set_defaults(func=run_api)
    ps = p.add_subparsers(title="action", metavar="ACTION")
    tok = ps.add_parser("token", help="APIトークンの発行・一覧・失効 / create, list or revoke API tokens (offline)")
    ts = tok.add_subparsers(title="action", metavar="ACTION", required=True)
    tc = ts.add_parser("create", help="print a new token on stdout (shown once; only its hash is stored)")
    tc.add_argument("--role", required=True, choices=["admin", "road", "farmer", "public"])
    tc.add_argument("--fields", default="", help="farmer tokens: comma-separated field ids, e.g. f-01,f-02")
    tc.add_argument("--label", default="", help="whose token this is, e.g. a farmer's name")
    tc.add_argument("--config")
    tc.set_defaults(func=run_token_create)
    tl = ts.add_parser("list", help="list tokens (never their secrets)")
    tl.add_argument("--all", action="store_true", help="include revoked tokens")
    tl.add_argument("--config")
    tl.set_defaults(func=run_token_list)
    tr = ts.add_parser("revoke", help="revoke a token by its id (from `list`)")
    tr.add_argument("token_id", type=int)
    tr.add_argument("--config")
    tr.set_defaults(func=run_token_revoke)

    r = sub.add_parser("registry", help="台帳の取り込み・書き出し / import or export the site registry")
    rs = r.add_subparsers(title="action", metavar="ACTION")
    imp = rs.add_parser("import", help="import a registry JSON document or a GeoJSON FeatureCollection")
    imp.add_argument("file", type=Path)
    imp.add_argument("--config")
    imp.add_argument("--site", help="site for items that do not name one")
    imp.add_argument("--as", dest="collection", choices=["fields", "roads"],
                     help="the file is a bare GeoJSON FeatureCollection of fields or roads")
    imp.set_defaults(func=run_import)
    prov = rs.add_parser("provisioning", help="apply `yukimizu flash` records: firmware version, calibration, date")
    prov.add_argument("file", type=Path, help="records JSONL (default location var/provisioning/records.jsonl)")
    prov.add_argument("--config")
    prov.set_defaults(func=run_provisioning)
    exp = rs.add_parser("export", help="export the registry as one JSON document")
    exp.add_argument("file", type=Path)
    exp.add_argument("--config")
    exp.add_argument("--site")
    exp.set_defaults(func=run_export)

    d = sub.add_parser("downsample", help="時間・日集計を作成 / write hourly and daily aggregates once")
    d.add_argument("--config")
    d.add_argument("--print-retention", action="store_true",
                   help="print the InfluxDB 1.x retention policy statements for the configured database")
    d.set_defaults(func=run_downsample)


def _settings(path: str | None):  # type: ignore[no-untyped-def]
    from .settings import load_settings

    try:
        return load_settings(path)
    except SettingsError as e:
        print(f"設定エラー / settings error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def run_api(args: argparse.Namespace) -> int:
    """Validate settings, then serve with uvicorn."""
    settings = _settings(args.config)
    if settings.snow.tariff:
        from .snow.tariff import TariffError, load_tariff

        try:
            load_tariff(settings.snow.tariff)
        except TariffError as e:
            print(f"設定エラー / settings error: snow.tariff: {e}", file=sys.stderr)
            return 2
    if args.check:
        print("settings OK")
        return 0
    import uvicorn

    from .app import create_app

    uvicorn.run(create_app(settings), host=settings.api.host, port=settings.api.port, log_level="info")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Import a file into the registry database (all or nothing)."""
    from .registry import Database, ImportRejected, Registry, import_document, wrap_features

    settings = _settings(args.config)
    try:
        doc = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        print(f"{args.file}: {e}", file=sys.stderr)
        return 1
    if args.collection:
        doc = wrap_features(args.collection, doc)
    db = Database(settings.registry.path)
    try:
        counts = import_document(Registry(db), doc, site=args.site)
    except ImportRejected as e:
        print(f"{args.file}: {e}", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(", ".join(f"{k} {v}" for k, v in counts.items() if v) or "nothing to import")
    return 0


def run_provisioning(args: argparse.Namespace) -> int:
    """Apply provisioning records to the registry's devices."""
    from .registry import Database, Registry
    from .registry.provisioning import apply_records

    settings = _settings(args.config)
    db = Database(settings.registry.path)
    try:
        done = apply_records(Registry(db), args.file)
    except OSError as e:
        print(f"{args.file}: {e}", file=sys.stderr)
        return 1
    finally:
        db.close()
    for problem in done.problems:
        print(problem, file=sys.stderr)
    print(f"updated {len(done.updated)}, added {len(done.created)}, problems {len(done.problems)}")
    return 1 if done.problems else 0


def run_export(args: argparse.Namespace) -> int:
    """Write the registry to a JSON file."""
    from .registry import Database, Registry, export_document

    settings = _settings(args.config)
    db = Database(settings.registry.path)
    try:
        doc = export_document(Registry(db), site=args.site)
    finally:
        db.close()
    args.file.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


def run_downsample(args: argparse.Namespace) -> int:
    """Run the downsampling job once (or print retention statements)."""
    from .downsample import Downsampler, retention_statements
    from .history import History
    from .registry import Database

    settings = _settings(args.config)
    if args.print_retention:
        print(";\n".join(retention_statements(settings)) + ";")
        return 0
    inf = settings.influxdb

    async def go() -> None:
        hist = History(inf.url, inf.database, username=inf.username, password=inf.password, token=inf.token,
                       raw_retention_policy=inf.raw_retention_policy,
                       aggregate_retention_policy=inf.aggregate_retention_policy,
                       aggregate_database=inf.aggregate_database, timeout_s=inf.timeout_s)
        db = Database(settings.registry.path)
        try:
            r = await Downsampler(settings, hist, db).run()
            print(f"{r.points_written} aggregate points written: {r.buckets_written}")
        finally:
            await hist.aclose()
            db.close()

    asyncio.run(go())
    return 0


def run_token_create(args: argparse.Namespace) -> int:
    """Create a token in the registry database and print it (stdout) once."""
    from .registry import Database, NotFound, Registry
    from .tokens import TokenError, TokenStore

    settings = _settings(args.config)
    field_ids = [f.strip() for f in args.fields.split(",") if f.strip()]
    db = Database(settings.registry.path)
    try:
        for fid in field_ids:
            try:
                Registry(db).get("fields", fid)
            except NotFound:
                print(f"注意 / warning: field {fid!r} is not in the registry {settings.registry.path} (yet)",
                      file=sys.stderr)
        try:
            token, row = TokenStore(db).create(args.role, field_ids, args.label)
        except TokenError as e:
            print(f"{e}", file=sys.stderr)
            return 2
    finally:
        db.close()
    fields = f" for fields {', '.join(row['field_ids'])}" if row["field_ids"] else ""
    print(f"token {row['id']} ({row['role']}{fields}) created; copy it now, it is not shown again "
          "(このトークンは二度と表示されません)", file=sys.stderr)
    print(token)
    return 0


def run_token_list(args: argparse.Namespace) -> int:
    """Print the tokens (id, role, fields, label, created, revoked), never their secrets."""
    from .registry import Database
    from .tokens import TokenStore

    settings = _settings(args.config)
    db = Database(settings.registry.path)
    try:
        rows = TokenStore(db).list(include_revoked=args.all)
    finally:
        db.close()
    for r in rows:
        print(f"{r['id']}\t{r['role']}\t{','.join(r['field_ids']) or '-'}\t{r['label'] or '-'}\t{r['created_at']}"
              f"\t{'revoked ' + r['revoked_at'] if r['revoked_at'] else 'active'}")
    return 0


def run_token_revoke(args: argparse.Namespace) -> int:
    """Revoke a token by id; it stops working at the next request."""
    from .registry import Database
    from .tokens import TokenStore

    settings = _settings(args.config)
    db = Database(settings.registry.path)
    try:
        TokenStore(db).revoke(args.token_id)
    except KeyError:
        print(f"no token {args.token_id} in {settings.registry.path}", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(f"token {args.token_id} revoked")
    return 0
