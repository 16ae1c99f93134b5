"""`make bench`: run every benchmark module under benchmarks/ and print their reports.

Each benchmark measures ratios against a baseline in the same run (never absolute timings in tests).
A module named `bench_*.py` exposes `main() -> None` that prints its own table.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    """Run all benchmarks, or those named on the command line (e.g. `python -m benchmarks gateway`)."""
    wanted = set(sys.argv[1:])
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if wanted:
        names = [n for n in names if n.removeprefix("bench_") in wanted]
    for name in names:
        print(f"== {name} ==", flush=True)
        importlib.import_module(f"benchmarks.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
