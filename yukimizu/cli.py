"""The one console command, `yukimizu`, with a subcommand per job. Each part registers its own."""
from __future__ import annotations

import argparse
import importlib
import sys

# (module, help) in the order `yukimizu --help` lists them. Each module has
# `register(subparsers)` that adds its subcommand(s) with `set_defaults(func=...)`.
COMMANDS: list[str] = [
    "yukimizu.contract.cli",
    "yukimizu.broker.cli",
    "yukimizu.demo",
    "dashboards.cli",
    "backend.cli",
    "backend.snow.cli",
    "yukimizu.firmware",
    "yukimizu.flash.cli",
    "simulators.cli",
    "edge_gateway.cli",
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="yukimizu",
        description="雪水 yukimizu: 雪国の農地と道路のテレメトリ / telemetry for snow-country farms and roads",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {importlib.import_module('yukimizu').__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for mod in COMMANDS:
        importlib.import_module(mod).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `yukimizu` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
