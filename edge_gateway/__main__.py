"""`python -m edge_gateway --config gateway.toml`: the same as `yukimizu gateway`."""
import sys

from yukimizu.cli import main

sys.exit(main(["gateway", *sys.argv[1:]]))
