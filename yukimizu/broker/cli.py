"""`yukimizu broker certs|config|revoke`: the site's broker identities and configuration."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .certs import make_certs
from .config import BrokerConfigError, generate, load_devices, reload_broker, revoke


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `broker` subcommand."""
    p = sub.add_parser("broker", help="ブローカー設定 / broker identities, ACLs and TLS")
    bsub = p.add_subparsers(metavar="ACTION", required=True)
    c = bsub.add_parser("certs", help="make a local CA and server certificate for a pilot")
    c.add_argument("--out", required=True, type=Path, help="folder for ca.crt, server.crt, server.key")
    c.add_argument("--hostname", action="append", default=[], help="server DNS name (repeatable)")
    c.add_argument("--ip", action="append", default=[], help="server IP address (repeatable)")
    c.set_defaults(func=_certs)
    g = bsub.add_parser("config", help="generate mosquitto.conf, passwd and acl for a site from the device registry")
    g.add_argument("--site", required=True)
    g.add_argument("--registry", required=True, type=Path, help='registry JSON {"devices": [...]}')
    g.add_argument("--out", required=True, type=Path, help="broker folder (certs in OUT/certs)")
    g.add_argument("--listen-address", default="0.0.0.0")
    g.add_argument("--port", type=int, default=8883, help="TLS port (default 8883)")
    g.add_argument("--local-port", type=int, help="also a plain listener on 127.0.0.1 for services on the same machine")
    g.add_argument("--run-as", default="mosquitto", help="user the broker runs as after start (must read OUT)")
    g.set_defaults(func=_config)
    r = bsub.add_parser("revoke", help="refuse a device for good (and reload a running broker)")
    r.add_argument("--out", required=True, type=Path, help="broker folder")
    r.add_argument("device_id")
    r.set_defaults(func=_revoke)


def _certs(args: argparse.Namespace) -> int:
    if not args.hostname and not args.ip:
        args.hostname = ["localhost"]
        args.ip = ["127.0.0.1"]
    paths = make_certs(args.out, args.hostname, args.ip)
    print(f"CA {paths['ca']}; server certificate {paths['cert']} for {', '.join(args.hostname + args.ip)}")
    return 0


def _config(args: argparse.Namespace) -> int:
    try:
        devices = load_devices(args.registry, args.site)
        path = generate(args.out, args.site, devices, listen_address=args.listen_address, tls_port=args.port,
                        local_port=args.local_port, run_as=args.run_as)
    except (BrokerConfigError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{path}: {len(devices)} devices of site {args.site}; secrets in {args.out / 'credentials'} (mode 0600)")
    print(f"start: mosquitto -c {path}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    try:
        was_active = revoke(args.out, args.device_id)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    reloaded = reload_broker(args.out)
    print(f"{args.device_id}: {'revoked' if was_active else 'already revoked'}; "
          f"{'broker reloaded' if reloaded else 'no running broker found: reload it (kill -HUP) or restart it'}")
    return 0
