"""The plow logger's UART line assembly: however the UART splits the bytes, the same sentences are used."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mpy_harness import bundles, plow_bundle, run_script  # noqa: F401

FILES = ("gp-320fw-2019-04-07-coldboot.nmea", "et-332.nmea", "sirfstarv-nmea.nmea", "bt451.nmea")

# stdin: one JSON line per run, [file, [chunk sizes...]]; the sizes repeat over the file.
SCRIPT = """
import sys, json
from plow_logger import Gps
for line in sys.stdin:
    path, sizes = json.loads(line)
    g = Gps()
    fixes = []
    k = 0
    with open(path, "rb") as f:
        while True:
            data = f.read(sizes[k % len(sizes)])  # what one UART read returns
            k += 1
            if not data:
                break
            g.feed(data, 0)
            if g.new_fix:
                fixes.append("%.6f %.6f" % (g.lat, g.lon))
                g.new_fix = False
    print(json.dumps({"used": g.used, "fixes": fixes}))
"""


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(chunkings=st.lists(st.lists(st.integers(1, 300), min_size=1, max_size=20), min_size=4, max_size=4))
def test_any_uart_chunking_uses_the_same_sentences_as_whole_lines(
    chunkings: list[list[int]], micropython: str, plow_bundle: Path, shared_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    nmea = shared_dir / "data" / "nmea"
    jobs = []
    for name, sizes in zip(FILES, chunkings):
        jobs.append(json.dumps([str(nmea / name), [1]]))  # byte by byte: every fix is seen, the reference
        jobs.append(json.dumps([str(nmea / name), sizes]))
    out = run_script(micropython, plow_bundle, SCRIPT, tmp_path_factory.mktemp("lines"), stdin="\n".join(jobs) + "\n")
    res = [json.loads(x) for x in out.splitlines()]
    for name, ref, chunked in zip(FILES, res[0::2], res[1::2]):
        assert ref["used"] > 0, name
        assert chunked["used"] == ref["used"], name
        # fixes are looked at once per read, so a chunked run sees an ordered subset ending the same
        it = iter(ref["fixes"])
        assert all(f in it for f in chunked["fixes"]), name
        assert chunked["fixes"][-1:] == ref["fixes"][-1:], name
