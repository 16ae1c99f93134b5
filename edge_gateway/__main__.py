"""`python -m edge_gateway --config gateway.toml [status|dead-letters]`: the same as `yukimizu gateway`,
but importing only the gateway (not every part's CLI), so it starts lean and alone on a Pi."""
import argparse
import sys

from .cli import register

parser = argparse.ArgumentParser(prog="python -m edge_gateway")
register(parser.add_subparsers())
args = parser.parse_args(["gateway", *sys.argv[1:]])
try:
    sys.exit(int(args.func(args) or 0))
except KeyboardInterrupt:
    sys.exit(130)
