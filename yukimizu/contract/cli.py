"""`yukimizu contract decode`: check a message against the contract by hand."""
from __future__ import annotations

import argparse
import json
import sys

from .decoder import decode
from .errors import ContractError
from .lineproto import reading_line


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `contract` subcommand."""
    p = sub.add_parser("contract", help="契約の検査 / check a message against the wire contract")
    csub = p.add_subparsers(metavar="ACTION", required=True)
    d = csub.add_parser("decode", help="decode a payload (stdin or --file) for a topic and print its readings and line protocol")
    d.add_argument("--topic", required=True, help="e.g. yukimizu/v1/goshogawara/soil/soil-001/telemetry")
    d.add_argument("--file", help="payload file (default: stdin)")
    d.set_defaults(func=_decode)


def _decode(args: argparse.Namespace) -> int:
    data = open(args.file, "rb").read() if args.file else sys.stdin.buffer.read()
    try:
        out = decode(args.topic, data)
    except ContractError as e:
        print(f"rejected ({e.code}): {e}", file=sys.stderr)
        return 1
    for r in out.readings:
        print(reading_line(r))
    for rej in out.rejections:
        print(json.dumps({"rejected": rej.code, "index": rej.index, "seq": rej.seq, "field": rej.field,
                          "reason": rej.reason}, ensure_ascii=False), file=sys.stderr)
    return 0 if not out.rejections else 3
