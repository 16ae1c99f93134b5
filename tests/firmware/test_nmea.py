"""NMEA parser (firmware/lib/nmea.py): real receiver captures on CPython, the MicroPython unix port and its .mpy, plus properties."""
from __future__ import annotations

import calendar
import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Callable
from functools import reduce
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
FIRMWARE_LIB = REPO / "firmware" / "lib"
sys.path.insert(0, str(FIRMWARE_LIB))
import nmea  # noqa: E402  (the firmware module itself, unchanged, on CPython)

# Runs unchanged on CPython and MicroPython. Prints one JSON list per line:
# ["module", file]; ["line", file, line_no, parsed dict] for each accepted line;
# ["file", file, lines, rmc, gga, fix, truncations, truncations_accepted, corruptions, corruptions_accepted];
# ["heap", import_b, parse_rmc_b, parse_gga_b, reject_gsv_b]: bytes of GC heap taken by the import and by one parse.
PROBE = r'''
import gc
import json
import sys

gc.collect()
before_import = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
import nmea
gc.collect()
import_b = (gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0) - before_import
print(json.dumps(["module", nmea.__file__]))


def alloc_b(line):
    if not hasattr(gc, "mem_alloc"):
        return None
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    nmea.parse(line)
    b = gc.mem_alloc()
    gc.enable()
    return b - a


def truncations(raw):
    tried = accepted = 0
    for k in range(len(raw)):
        tried += 1
        if nmea.parse(raw[:k]) is not None:
            accepted += 1
    return tried, accepted


def corruptions(raw):
    buf = bytearray(raw)
    tried = accepted = 0
    for k in range(len(buf)):
        old = buf[k]
        for mask in (0x01, 0x20, 0x80):
            buf[k] = old ^ mask
            tried += 1
            if nmea.parse(bytes(buf)) is not None:
                accepted += 1
        buf[k] = old
    return tried, accepted


data_dir = sys.argv[1]
for name in sys.argv[2:]:
    lines = rmc = gga = fix = 0
    tt = ta = ct = ca = 0
    with open(data_dir + "/" + name, "rb") as fh:
        for raw in fh:
            lines += 1
            d = nmea.parse(raw)
            stripped = raw.strip()
            if d is not None:
                if d["kind"] == "RMC":
                    rmc += 1
                else:
                    gga += 1
                if d["fix"]:
                    fix += 1
                print(json.dumps(["line", name, lines, d]))
                if rmc + gga <= 4:
                    t, a = corruptions(stripped)
                    ct += t
                    ca += a
            if stripped.find(b"RMC") >= 0 or stripped.find(b"GGA") >= 0:
                t, a = truncations(stripped)
                tt += t
                ta += a
    print(json.dumps(["file", name, lines, rmc, gga, fix, tt, ta, ct, ca]))

rmc_line = b"$GPRMC,000345.03,A,4808.9993,N,01135.0798,E,000.1,000.0,070419,003.0,E,A*33\r\n"
gga_line = b"$GPGGA,000345.03,4808.9993,N,01135.0798,E,1,04,01.4,00459.9,M,0046.2,M,,*53\r\n"
gsv_line = b"$GPGSV,3,1,12,20,76,058,40,11,73,252,,06,41,274,,14,41,185,*7D\r\n"
print(json.dumps(["heap", import_b, alloc_b(rmc_line), alloc_b(gga_line), alloc_b(gsv_line)]))
'''

HEAP = "100K"  # an ESP32 without PSRAM leaves about this much to a MicroPython app


def nmea_dir(shared: Path) -> Path:
    """The capture folder inside ../shared, or skip saying what is missing."""
    folder = shared / "data" / "nmea"
    if not (folder / "README.md").is_file():
        pytest.skip(f"NMEA captures not found at {folder} (expected ../shared/data/nmea beside the clone)")
    return folder


def readme_table(folder: Path) -> dict[str, dict[str, int]]:
    """Per-file expected counts from the captures' README table: lines, rmc, gga, fix."""
    text = (folder / "README.md").read_text()
    row = re.compile(r"^\| `(?P<file>[^`]+\.nmea)` \| .*? \| (?P<lines>\d+) \| (?P<rmc>\d+)/(?P<gga>\d+) \| (?P<fix>\d+) \|", re.M)
    table = {m["file"]: {k: int(m[k]) for k in ("lines", "rmc", "gga", "fix")} for m in row.finditer(text)}
    totals = re.search(r"Totals: (\d+) files, ([\d,]+) lines, ([\d,]+) RMC/GGA lines accepted, ([\d,]+) with a fix", text)
    assert totals, "the README's Totals line moved; the table can no longer be cross-checked"
    n_files, n_lines, n_accepted, n_fix = (int(g.replace(",", "")) for g in totals.groups())
    # The table must be read whole: its sums have to equal the README's own totals.
    assert len(table) == n_files
    assert sum(r["lines"] for r in table.values()) == n_lines
    assert sum(r["rmc"] + r["gga"] for r in table.values()) == n_accepted
    assert sum(r["fix"] for r in table.values()) == n_fix
    assert sorted(table) == sorted(p.name for p in folder.glob("*.nmea")), "README table and folder list different files"
    return table


def run_probe(stdout: str) -> dict[str, Any]:
    """The probe's JSON lines gathered into {module, files: {name: counts}, lines: {(name, n): dict}, heap}."""
    out: dict[str, Any] = {"files": {}, "lines": {}}
    for text in stdout.splitlines():
        rec = json.loads(text)
        if rec[0] == "module":
            out["module"] = rec[1]
        elif rec[0] == "line":
            out["lines"][(rec[1], rec[2])] = rec[3]
        elif rec[0] == "file":
            keys = ("lines", "rmc", "gga", "fix", "truncations", "truncations_accepted", "corruptions", "corruptions_accepted")
            out["files"][rec[1]] = dict(zip(keys, rec[2:]))
        elif rec[0] == "heap":
            out["heap"] = dict(zip(("import_b", "parse_rmc_b", "parse_gga_b", "reject_gsv_b"), rec[1:]))
    return out


@pytest.fixture(scope="module", params=["cpython", "micropython", "micropython-mpy"])
def probe(
    request: pytest.FixtureRequest,
    shared_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """The probe's results over every capture, run on one platform (CPython, MicroPython .py, MicroPython .mpy)."""
    folder = nmea_dir(shared_dir)
    names = sorted(p.name for p in folder.glob("*.nmea"))
    args = [str(folder), *names]
    if request.param == "cpython":
        script = tmp_path_factory.mktemp("probe") / "probe.py"
        script.write_text(PROBE)
        env = dict(os.environ, PYTHONPATH=str(FIRMWARE_LIB))
        proc = subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        result = run_probe(proc.stdout)
        assert Path(result["module"]).resolve() == (FIRMWARE_LIB / "nmea.py").resolve()
    else:
        run_micropython: Callable[..., str] = request.getfixturevalue("run_micropython")
        path = [FIRMWARE_LIB]
        if request.param == "micropython-mpy":
            compile_mpy = request.getfixturevalue("mpy_cross")
            path = [compile_mpy(FIRMWARE_LIB / "nmea.py", tmp_path_factory.mktemp("mpy")).parent]
        result = run_probe(run_micropython(PROBE, heapsize=HEAP, path=path, args=args))
        assert result["module"].endswith("nmea.mpy" if request.param == "micropython-mpy" else "nmea.py")
    result["platform"] = request.param
    return result


def test_every_capture_gives_the_readme_counts(probe: dict[str, Any], shared_dir: Path) -> None:
    """R/G/fix per file as the README table states, on this platform."""
    table = readme_table(nmea_dir(shared_dir))
    got = {name: {k: c[k] for k in ("lines", "rmc", "gga", "fix")} for name, c in probe["files"].items()}
    assert got == table


def test_truncated_and_corrupted_lines_never_raise_and_never_pass(probe: dict[str, Any]) -> None:
    """Every prefix of an RMC/GGA-bearing line and every single-byte corruption of an accepted line is None, without raising."""
    files = probe["files"]
    assert sum(c["truncations"] for c in files.values()) > 20_000  # the loops really ran
    assert sum(c["corruptions"] for c in files.values()) > 5_000
    # A prefix of a checksummed line only parses if the line had bytes after its checksum; none of these do.
    assert {n: c["truncations_accepted"] for n, c in files.items() if c["truncations_accepted"]} == {}
    assert {n: c["corruptions_accepted"] for n, c in files.items() if c["corruptions_accepted"]} == {}


@pytest.mark.parametrize("probe", ["micropython", "micropython-mpy"], indirect=True)
def test_parser_fits_the_esp32_heap(probe: dict[str, Any]) -> None:
    """On MicroPython: a GSV line is rejected without allocating, and parsing one RMC/GGA costs under 1 KB."""
    heap = probe["heap"]
    assert heap["reject_gsv_b"] == 0
    assert 0 < heap["parse_rmc_b"] < 1024
    assert 0 < heap["parse_gga_b"] < 1024
    print(f"\n{probe['platform']}: {heap}")


def utc(y: int, mo: int, d: int, h: int, mi: int, s: int) -> int:
    """Unix seconds of a UTC time, by the standard library (an oracle independent of the parser)."""
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))


def dm(deg: int, minutes: float) -> float:
    """Decimal degrees of degrees and minutes."""
    return deg + minutes / 60


KN = 1.852  # km/h per knot

# (file, line, expected fields or None), read by hand from the captures.
SPOT_CHECKS = [
    ("haicom-305N.nmea", 32, {"kind": "RMC", "fix": True, "lat": -dm(27, 12.6520), "lon": dm(153, 3.1397), "speed_km_h": 0.0, "heading_deg": 133.96, "t": utc(2007, 4, 8, 9, 53, 4), "t_ms": 802}),
    ("haicom-305N.nmea", 2, {"kind": "RMC", "fix": False, "lat": None, "lon": None, "t": utc(2007, 4, 8, 9, 52, 55), "t_ms": 810}),
    ("bt451.nmea", 7, {"kind": "RMC", "fix": False, "lat": None, "lon": None, "speed_km_h": None, "heading_deg": None, "t": None, "t_ms": None}),
    ("bt451.nmea", 9, {"kind": "GGA", "fix": False, "lat": None, "lon": None, "hdop": 99.99, "sats": 0, "alt_m": None}),
    ("bt451.nmea", 37, {"fix": True, "lat": dm(55, 47.82113), "lon": dm(23, 34.14130), "speed_km_h": 0.253 * KN, "heading_deg": None, "t": utc(2009, 12, 9, 15, 25, 5), "t_ms": 0}),
    ("bt451.nmea", 125, {"fix": True, "speed_km_h": 31.351 * KN, "heading_deg": 221.51, "t": utc(2009, 12, 9, 14, 33, 7), "t_ms": 500}),
    ("bt451.nmea", 127, {"kind": "GGA", "fix": True, "lat": dm(55, 46.82314), "lon": dm(23, 34.71118), "hdop": 1.26, "sats": 9, "alt_m": 127.5}),
    ("ublox-lea-5h.nmea", 8, {"kind": "RMC", "fix": True, "heading_deg": None, "lat": dm(51, 55.55442), "lon": dm(4, 34.65873)}),
    ("ublox-lea-5h.nmea", 10, {"kind": "GGA", "fix": True, "alt_m": -4.0, "sats": 6, "hdop": 2.51}),
    ("ublox-lea-5h.nmea", 18, {"kind": "GGA", "alt_m": -4.2}),
    ("beidou-bd.nmea", 1, None),
    ("beidou-bd.nmea", 3, None),
    ("beidou-bd.nmea", 16, {"kind": "RMC", "fix": False, "lat": None, "t": utc(2015, 2, 25, 7, 41, 50), "t_ms": 799}),
    ("beidou-bd.nmea", 67, {"kind": "RMC", "fix": True, "lat": dm(31, 14.8902), "lon": dm(121, 35.2443), "t": utc(2015, 2, 25, 7, 41, 57), "t_ms": 799}),
    ("gp-320fw-2019-04-07-coldboot.nmea", 2, {"kind": "GGA", "fix": True, "lat": dm(48, 8.9993), "lon": dm(11, 35.0798), "alt_m": 460.0, "sats": 4, "hdop": 1.4}),
    ("gp-320fw-2019-04-07-coldboot.nmea", 7, None),
    ("gp-320fw-2019-04-07-coldboot.nmea", 9, {"kind": "RMC", "fix": True, "speed_km_h": 0.1 * KN, "heading_deg": 0.0, "t": utc(2019, 4, 7, 0, 3, 45), "t_ms": 30}),
    ("gp-320fw-2019-04-07-coldboot.nmea", 11, {"kind": "GGA", "fix": True, "alt_m": 459.9}),
    ("gp-320fw-2019-04-07-coldboot.nmea", 16, None),
    ("gp-320fw-2019-04-07-coldboot.nmea", 20, None),
    ("gp-320fw-2019-04-07-coldboot.nmea", 22, None),
    ("gp-320fw-2019-04-07-coldboot.nmea", 59, None),
    ("gp-320fw-2019-04-07-coldboot.nmea", 83, {"kind": "RMC", "fix": False, "lat": None, "lon": None, "t": utc(1999, 8, 22, 0, 4, 30), "t_ms": 0}),
    ("garmin-geko201.nmea", 1, {"kind": "RMC", "fix": False, "lat": None, "speed_km_h": 10.8 * KN, "t": utc(2005, 6, 14, 21, 43, 50), "t_ms": 0}),
    ("garmin-geko201.nmea", 3, {"kind": "GGA", "fix": True, "lat": dm(40, 23.86), "lon": -dm(3, 39.163), "alt_m": 695.7, "sats": 9, "hdop": 2.0}),
    ("nl2008u.nmea", 9, {"kind": "RMC", "fix": True, "lat": dm(48, 13.0535), "lon": dm(8, 24.8697), "t": utc(2015, 10, 10, 9, 12, 32), "t_ms": 0}),
    ("ublox-zed-f9p-nmea.nmea", 1, {"kind": "RMC", "fix": True, "lat": -dm(45, 52.65403), "lon": dm(170, 30.00668), "speed_km_h": 0.025 * KN, "heading_deg": None, "t": utc(2019, 4, 12, 0, 39, 56)}),
    ("mt3339.nmea", 1, {"kind": "GGA", "fix": True, "lat": dm(44, 4.1306), "lon": -dm(121, 18.8515), "alt_m": 1127.7, "sats": 10, "hdop": 0.98}),
    ("mt3339.nmea", 3, {"kind": "RMC", "fix": True, "lon": -dm(121, 18.8515), "heading_deg": 225.97, "t": utc(2015, 4, 13, 20, 26, 40)}),
    ("humminbird-M37.nmea", 2, None),
    ("et-332.nmea", 86, None),
    ("et-332.nmea", 87, {"kind": "RMC", "fix": True, "lat": dm(39, 40.6985), "lon": -dm(75, 44.9359), "t": utc(2010, 4, 23, 15, 33, 59)}),
    ("ch-4711.nmea", 22, {"kind": "GGA", "fix": True, "lat": dm(55, 43.0328), "lon": dm(37, 24.7197), "sats": 4}),
    ("ch-4711.nmea", 23, {"kind": "RMC", "fix": True, "t": utc(2009, 12, 5, 13, 56, 54), "t_ms": 997}),
    ("sirfstarv-nmea.nmea", 2, {"kind": "GGA", "fix": True, "lon": -dm(121, 18.8556), "sats": 2, "alt_m": 1123.9}),
]
SPOT_IDS = [
    "haicom fix: south latitude negative, east positive, time with milliseconds",
    "haicom void RMC: coordinates present but no fix, so lat/lon None, time still given",
    "bt451 indoors: an all-empty RMC is a no-fix dict, not an error",
    "bt451 indoors: GGA quality 0 keeps HDOP 99.99 and reports no altitude",
    "bt451 stationary: empty course gives heading None",
    "bt451 car: 31.351 knots is 58.06 km/h at heading 221.51",
    "bt451 car: GGA position, HDOP, satellites and altitude",
    "u-blox LEA-5H: empty RMC course gives heading None, five-decimal minutes",
    "u-blox LEA-5H: altitude below sea level is negative",
    "u-blox LEA-5H: altitude -4.2 m",
    "beidou-bd: empty first line is None",
    "beidou-bd: GNGGA with 15 fields is rejected",
    "beidou-bd: RMC status V with mode N is no fix",
    "beidou-bd: leading space before $GNRMC is accepted",
    "coldboot: GGA fix before the reboot",
    "coldboot: truncated RMC is None",
    "coldboot: fix RMC on 2019-04-07 with 30 ms",
    "coldboot: GGA fix line 11",
    "coldboot: NUL run is None",
    "coldboot: GSA spliced with RMC is None as a whole",
    "coldboot: second spliced GSA+RMC is None",
    "coldboot: RMC spliced after a cut GSA is None",
    "coldboot: week-0 date 220899 is 1999-08-22 without rollover correction",
    "garmin demo: RMC V mode S is no fix, whole-second time has 0 ms",
    "garmin demo: GGA quality 8 simulation counts as fix, west longitude negative",
    "nl2008u: NMEA 4.1 RMC with 13 fields and GN talker",
    "ZED-F9P: NMEA 4.1 nav status V still fix, south latitude, empty course",
    "MT3339: GGA west longitude, altitude, HDOP",
    "MT3339: RMC heading",
    "humminbird: IN talker is rejected",
    "et-332: ANSI escapes in a line make it None",
    "et-332: old-style RMC with 11 fields is accepted",
    "ch-4711: GLONASS-only GLGGA is accepted",
    "ch-4711: GLRMC time with 997 ms",
    "sirfstarv: GLGGA counts GLONASS satellites separately",
]


@pytest.mark.parametrize(("name", "line_no", "expected"), SPOT_CHECKS, ids=SPOT_IDS)
def test_spot_check(probe: dict[str, Any], name: str, line_no: int, expected: dict[str, Any] | None) -> None:
    """A line read by hand parses to what the receiver meant, on this platform."""
    got = probe["lines"].get((name, line_no))
    if expected is None:
        assert got is None
        return
    assert got is not None, f"{name}:{line_no} was rejected"
    for key, want in expected.items():
        if isinstance(want, float):
            assert got[key] == pytest.approx(want, abs=1e-6), key
        else:
            assert got[key] == want and type(got[key]) is type(want), key


def test_spot_check_lines_are_what_the_ids_say(shared_dir: Path) -> None:
    """The rejected spot-check lines fail for the stated reason, not for a bad checksum or a wrong line number."""
    folder = nmea_dir(shared_dir)

    def line(name: str, n: int) -> bytes:
        return (folder / name).read_bytes().split(b"\n")[n - 1]

    gngga = line("beidou-bd.nmea", 3).decode()
    assert gngga.startswith("$GNGGA") and gngga.count(",") == 15 and checksum_ok(gngga)
    assert line("beidou-bd.nmea", 67).startswith(b" $GNRMC")
    assert line("beidou-bd.nmea", 1) == b""
    assert b"\x00" in line("gp-320fw-2019-04-07-coldboot.nmea", 16)
    assert b"\x1b[" in line("et-332.nmea", 86)
    assert line("humminbird-M37.nmea", 2).startswith(b"$INRMC")
    for n in (20, 22, 59):
        spliced = line("gp-320fw-2019-04-07-coldboot.nmea", n).decode()
        inner = spliced[spliced.index("$GPRMC") :]
        assert spliced.index("$GPRMC") > 0 and checksum_ok(inner)
        # The inner sentence alone is fine; only the splice makes the line None.
        assert nmea.parse(inner) is not None
        assert nmea.parse(spliced) is None
    # The same IN-talker sentence under GP is accepted: the rejection is the talker.
    humm = line("humminbird-M37.nmea", 2).decode()
    assert nmea.parse(with_checksum("GP" + humm[3 : humm.index("*")])) is not None


# ---- table tests on crafted sentences (CPython, the module itself) ----


def checksum_ok(sentence: str) -> bool:
    """True when the two hex digits after '*' are the XOR of the bytes between '$' and '*'."""
    body, _, cs = sentence.strip()[1:].partition("*")
    return format(reduce(lambda a, c: a ^ c, body.encode(), 0), "02X") == cs


def with_checksum(body: str) -> str:
    """'$' + body + '*' + the NMEA checksum (XOR of the body's bytes, two upper-case hex digits)."""
    return "$" + body + "*" + format(reduce(lambda a, c: a ^ c, body.encode(), 0), "02X")


RMC_BODY = "GPRMC,123519.25,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W,A"
GGA_BODY = "GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"

CRAFTED = [
    (with_checksum(RMC_BODY), "RMC"),
    (with_checksum(GGA_BODY), "GGA"),
    (with_checksum(RMC_BODY).encode() + b"\r\n", "RMC"),
    ("  " + with_checksum(GGA_BODY) + "\r\n", "GGA"),
    (with_checksum(RMC_BODY)[:-2] + "00", None),
    (with_checksum(RMC_BODY)[:-1] + with_checksum(RMC_BODY)[-1].lower(), None),
    ("$" + RMC_BODY, None),
    ("$" + RMC_BODY + "*", None),
    (with_checksum(RMC_BODY) + "0", None),
    (with_checksum(RMC_BODY.replace("GPRMC", "GPGLL")), None),
    (with_checksum(RMC_BODY.replace("GP", "XX", 1)), None),
    (with_checksum(RMC_BODY.replace("GP", "QZ", 1)), "RMC"),
    (with_checksum(RMC_BODY + ",V"), "RMC"),
    (with_checksum(RMC_BODY + ",V,X"), None),
    (with_checksum(RMC_BODY.rsplit(",", 1)[0]), "RMC"),
    (with_checksum(RMC_BODY.rsplit(",", 2)[0]), None),
    (with_checksum(GGA_BODY + ","), None),
    (with_checksum(GGA_BODY[:-1]), None),
    (with_checksum(RMC_BODY) + with_checksum(GGA_BODY), None),
    (with_checksum(RMC_BODY.replace("4807.038", "4807.0\x0038")), None),
    (with_checksum(RMC_BODY.replace("4807.038", "4860.000")), None),
    (with_checksum(RMC_BODY.replace("4807.038", "9100.000")), None),
    (with_checksum(RMC_BODY.replace("4807.038,N", ",")), None),
    (with_checksum(RMC_BODY.replace("4807.038,N", ",").replace(",A,", ",V,", 1)), "RMC"),
    (with_checksum(RMC_BODY.replace("022.4", "1e5")), None),
    (with_checksum(RMC_BODY.replace("022.4", "nan")), None),
    (with_checksum(RMC_BODY.replace(",A,", ",X,", 1)), None),
    (with_checksum(GGA_BODY.replace(",1,08,", ",9,08,")), None),
    (with_checksum(GGA_BODY.replace(",1,08,", ",,08,")), None),
    (with_checksum(GGA_BODY.replace(",1,08,", ",1,108,")), None),
    (with_checksum(GGA_BODY.replace(",1,08,", ",1,,")), "GGA"),
    (with_checksum(GGA_BODY[:-2] + ",1.5,0120"), "GGA"),
    (with_checksum(GGA_BODY[:-2] + ",1.5x,0120"), None),
    (with_checksum(GGA_BODY[:-2] + ",1.5,01200"), None),
    (with_checksum(RMC_BODY.replace("084.4", "360.0")), "RMC"),
    (with_checksum(RMC_BODY.replace("084.4", "360.1")), None),
    ("", None),
    ("$", None),
    ("\x1b[H\x1b[J", None),
    (b"\xff\xfe$GPRMC", None),
    (with_checksum(RMC_BODY.replace("4807", "48\u00e97")), None),
    (None, None),
    (12, None),
]
CRAFTED_IDS = [
    "a textbook RMC parses",
    "a textbook GGA parses",
    "bytes with CR LF parse",
    "surrounding whitespace is stripped",
    "a wrong checksum is rejected",
    "a lower-case checksum is rejected (NMEA writes 0-9 A-F)",
    "a missing checksum is rejected",
    "a star without checksum digits is rejected",
    "a third checksum digit is rejected",
    "GLL is not RMC or GGA",
    "an unknown talker is rejected",
    "the QZSS talker QZ is accepted",
    "RMC with NMEA 4.1 nav status (13 fields) is accepted",
    "RMC with 14 fields is rejected",
    "old-style RMC without mode (11 fields) is accepted",
    "RMC with 10 fields is rejected",
    "GGA with 15 fields is rejected",
    "GGA with 13 fields is rejected",
    "two sentences on one line are rejected as a whole",
    "a NUL inside the sentence is rejected even with a matching checksum",
    "60 minutes of latitude is rejected",
    "latitude 91 degrees is rejected",
    "a fix without coordinates is rejected",
    "no fix and no coordinates is fine",
    "exponent notation in speed is rejected",
    "nan in speed is rejected",
    "an unknown RMC status is rejected",
    "GGA quality 9 is rejected",
    "an empty GGA quality is rejected",
    "a three-digit satellite count is rejected",
    "an empty satellite count is fine",
    "DGPS age and station are accepted",
    "garbage in the DGPS age is rejected",
    "a five-digit DGPS station is rejected",
    "course 360.0 is accepted",
    "course over 360 is rejected",
    "an empty line is None",
    "a lone dollar is None",
    "ANSI escapes alone are None",
    "non-ASCII bytes are None",
    "a non-ASCII character in a str is None",
    "None is not a sentence",
    "an int is not a sentence",
]


@pytest.mark.parametrize(("line", "kind"), CRAFTED, ids=CRAFTED_IDS)
def test_crafted_sentence(line: Any, kind: str | None) -> None:
    """Framing and field rules on crafted lines with correct checksums unless the case says otherwise."""
    got = nmea.parse(line)
    if kind is None:
        assert got is None
    else:
        assert got is not None and got["kind"] == kind


FIX_RULES = [
    (RMC_BODY, True),
    (RMC_BODY[:-1] + "N", False),
    (RMC_BODY.replace(",A,", ",V,", 1), False),
    (RMC_BODY.rsplit(",", 1)[0], True),
    (RMC_BODY.rsplit(",", 1)[0].replace(",A,", ",V,", 1), False),
    (RMC_BODY + ",V", True),
    (GGA_BODY.replace(",1,08,", ",0,08,"), False),
    (GGA_BODY.replace(",1,08,", ",6,08,"), True),
    (GGA_BODY.replace(",1,08,", ",8,08,"), True),
]
FIX_IDS = [
    "RMC status A with mode A is a fix",
    "RMC status A with mode N is no fix",
    "RMC status V is no fix",
    "old-style RMC status A is a fix",
    "old-style RMC status V is no fix",
    "NMEA 4.1 nav status V does not void an A/A fix",
    "GGA quality 0 is no fix",
    "GGA quality 6 (dead reckoning) is a fix",
    "GGA quality 8 (simulation) is a fix",
]


@pytest.mark.parametrize(("body", "fix"), FIX_RULES, ids=FIX_IDS)
def test_fix_rule(body: str, fix: bool) -> None:
    """Fix follows RMC status and mode, or GGA quality > 0; without a fix there is no position."""
    got = nmea.parse(with_checksum(body))
    assert got is not None and got["fix"] is fix
    assert (got["lat"] is None) is (not fix) and (got["lon"] is None) is (not fix)


def rmc_at(tod: str, ddmmyy: str) -> str:
    """A no-fix RMC carrying only a time and a date."""
    return with_checksum(f"GPRMC,{tod},V,,,,,,,{ddmmyy},,,N")


TIMES = [
    ("000000", "010170", utc(2070, 1, 1, 0, 0, 0), 0),
    ("235959.999", "311279", utc(2079, 12, 31, 23, 59, 59), 999),
    ("120000", "010180", utc(1980, 1, 1, 12, 0, 0), 0),
    ("120000.5", "290200", utc(2000, 2, 29, 12, 0, 0), 500),
    ("120000.1234", "280224", utc(2024, 2, 28, 12, 0, 0), 123),
    ("120000", "290201", None, None),
    ("120000", "310426", None, None),
    ("120000", "001026", None, None),
    ("120000", "011326", None, None),
    ("240000", "010126", None, None),
    ("126000", "010126", None, None),
    ("120060", "010126", None, None),
    ("12000", "010126", None, None),
    ("", "010126", None, None),
    ("120000", "", None, None),
]
TIME_IDS = [
    "1970-01-01 (year 70 is 2070, so this is not the epoch)",
    "last millisecond of 2079, the latest two-digit year",
    "1980-01-01, the earliest two-digit year",
    "29 February 2000 exists",
    "a fourth fraction digit is truncated, not rounded",
    "29 February 2001 does not exist",
    "31 April does not exist",
    "day 0 does not exist",
    "month 13 does not exist",
    "hour 24 is not a time",
    "minute 60 is not a time",
    "second 60 (leap second) gives no time",
    "a five-digit time is not a time",
    "no time, no t",
    "no date, no t",
]


@pytest.mark.parametrize(("tod", "ddmmyy", "t", "t_ms"), TIMES, ids=TIME_IDS)
def test_rmc_time(tod: str, ddmmyy: str, t: int | None, t_ms: int | None) -> None:
    """t is exact whole Unix seconds with t_ms beside it, or both None when the date or time is not a real one."""
    got = nmea.parse(rmc_at(tod, ddmmyy))
    assert got is not None
    assert (got["t"], got["t_ms"]) == (t, t_ms)
    assert t is None or type(got["t"]) is int


def test_textbook_rmc_values() -> None:
    """The classic 1994 example: 48 07.038 N 11 31.000 E, 22.4 kn, 84.4 deg, 1994-03-23 12:35:19.25 UTC."""
    got = nmea.parse(with_checksum(RMC_BODY))
    assert got == {
        "kind": "RMC",
        "fix": True,
        "lat": pytest.approx(48 + 7.038 / 60, abs=1e-9),
        "lon": pytest.approx(11 + 31.0 / 60, abs=1e-9),
        "speed_km_h": pytest.approx(22.4 * 1.852),
        "heading_deg": pytest.approx(84.4),
        "t": 764426119,  # date -u -d '1994-03-23 12:35:19' +%s
        "t_ms": 250,
    }


# ---- properties ----

TALKERS = ["GP", "GN", "GL", "GB", "BD", "GA", "QZ"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=120), st.text(max_size=120)))
def test_parse_never_raises_on_noise(data: bytes | str) -> None:
    """Arbitrary bytes or text give None or a well-typed dict, never an exception."""
    check_shape(nmea.parse(data))


FIELD_CHARS = "0123456789.,-NSEWAVMDN*$ \x00\x1b"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(TALKERS),
    st.sampled_from(["RMC", "GGA"]),
    st.text(alphabet=FIELD_CHARS, max_size=90),
)
def test_parse_never_raises_on_checksummed_garbage(talker: str, kind: str, fields: str) -> None:
    """Field garbage behind a valid address and a correct checksum reaches the field parsers and still never raises."""
    line = with_checksum(talker + kind + "," + fields)
    check_shape(nmea.parse(line))


def check_shape(got: dict[str, Any] | None) -> None:
    """A result is None or a dict whose keys and value types are the documented ones."""
    if got is None:
        return
    common = {"kind", "fix", "lat", "lon"}
    extra = {"speed_km_h", "heading_deg", "t", "t_ms"} if got["kind"] == "RMC" else {"hdop", "sats", "alt_m"}
    assert set(got) == common | extra
    assert isinstance(got["fix"], bool)
    assert (got["lat"] is None) == (got["lon"] is None) and (got["lat"] is None) != got["fix"]
    if got["fix"]:
        assert -90 <= got["lat"] <= 90 and -180 <= got["lon"] <= 180
    if got["kind"] == "RMC":
        assert (got["t"] is None) == (got["t_ms"] is None)
        assert got["t"] is None or (type(got["t"]) is int and 0 <= got["t_ms"] <= 999)


@st.composite
def sentences(draw: st.DrawFn) -> tuple[str | bytes, dict[str, Any]]:
    """A sentence built from valid values with a correct checksum, and the values it encodes."""
    kind = draw(st.sampled_from(["RMC", "GGA"]))
    talker = draw(st.sampled_from(TALKERS))
    lat_deg = draw(st.integers(0, 89))
    lat_min_e5 = draw(st.integers(0, 5_999_999))
    lon_deg = draw(st.integers(0, 179))
    lon_min_e5 = draw(st.integers(0, 5_999_999))
    south, west = draw(st.booleans()), draw(st.booleans())
    lat_txt = f"{lat_deg:02d}{lat_min_e5 // 100_000:02d}.{lat_min_e5 % 100_000:05d}"
    lon_txt = f"{lon_deg:03d}{lon_min_e5 // 100_000:02d}.{lon_min_e5 % 100_000:05d}"
    lat = (-1 if south else 1) * (lat_deg + lat_min_e5 / 1e5 / 60)
    lon = (-1 if west else 1) * (lon_deg + lon_min_e5 / 1e5 / 60)
    hh, mi, ss = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    frac_digits = draw(st.integers(0, 3))
    frac = draw(st.integers(0, 10**frac_digits - 1))
    tod = f"{hh:02d}{mi:02d}{ss:02d}" + (f".{frac:0{frac_digits}d}" if frac_digits else "")
    fix = draw(st.booleans())
    coords = f"{lat_txt},{'S' if south else 'N'},{lon_txt},{'W' if west else 'E'}"
    if kind == "RMC":
        year = draw(st.integers(1980, 2079))
        month = draw(st.integers(1, 12))
        day = draw(st.integers(1, calendar.monthrange(year, month)[1]))
        speed_e2 = draw(st.integers(0, 99_999))
        heading = draw(st.one_of(st.none(), st.integers(0, 35_999)))
        style = draw(st.sampled_from([11, 12, 13]))
        fields = [tod, "A" if fix else "V", coords, f"{speed_e2 // 100}.{speed_e2 % 100:02d}",
                  "" if heading is None else f"{heading // 100}.{heading % 100:02d}", f"{day:02d}{month:02d}{year % 100:02d}", "", ""]
        if style >= 12:
            fields.append("A" if fix else "N")
        if style == 13:
            fields.append("V")
        expected = {
            "kind": "RMC", "fix": fix, "lat": lat if fix else None, "lon": lon if fix else None,
            "speed_km_h": speed_e2 / 100 * 1.852, "heading_deg": None if heading is None else heading / 100,
            "t": calendar.timegm((year, month, day, hh, mi, ss, 0, 0, 0)),
            "t_ms": frac * 10 ** (3 - frac_digits) if frac_digits else 0,
        }
    else:
        quality = draw(st.integers(1, 8)) if fix else 0
        sats = draw(st.integers(0, 40))
        hdop_e1 = draw(st.integers(0, 999))
        alt_e1 = draw(st.integers(-5_000, 90_000))
        alt_txt = ("-" if alt_e1 < 0 else "") + f"{abs(alt_e1) // 10}.{abs(alt_e1) % 10}"
        fields = [tod, coords, str(quality), f"{sats:02d}", f"{hdop_e1 // 10}.{hdop_e1 % 10}", alt_txt, "M", "35.2", "M", "", ""]
        expected = {
            "kind": "GGA", "fix": fix, "lat": lat if fix else None, "lon": lon if fix else None,
            "hdop": hdop_e1 / 10, "sats": sats, "alt_m": alt_e1 / 10 if fix else None,
        }
    line = with_checksum(talker + kind + "," + ",".join(fields)) + draw(st.sampled_from(["", "\r\n", "\n", " "]))
    return (line.encode() if draw(st.booleans()) else line), expected


def assert_round_trip(line: str | bytes, got: dict[str, Any] | None, expected: dict[str, Any]) -> None:
    """The parsed dict has exactly the encoded values: floats to 1e-6, everything else equal and of the same type."""
    assert got is not None, line
    assert set(got) == set(expected)
    for key, want in expected.items():
        if isinstance(want, float):
            assert math.isclose(got[key], want, abs_tol=1e-6), (line, key, got[key], want)
        else:
            assert got[key] == want and type(got[key]) is type(want), (line, key, got[key], want)


@settings(max_examples=300, deadline=None)
@given(sentences())
def test_valid_sentence_round_trips(case: tuple[str | bytes, dict[str, Any]]) -> None:
    """Values written into a checksummed sentence come back: lat/lon to 1e-6 degrees, time exact to the millisecond."""
    line, expected = case
    assert_round_trip(line, nmea.parse(line), expected)


ROUND_TRIP = r'''
import json
import sys
import nmea

with open(sys.argv[1]) as fh:
    cases = json.load(fh)
for text, as_bytes in cases:
    print(json.dumps(nmea.parse(text.encode() if as_bytes else text)))
'''


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(sentences(), min_size=1, max_size=25))
def test_valid_sentences_round_trip_on_micropython(
    run_micropython: Callable[..., str], tmp_path_factory: pytest.TempPathFactory, cases: list[tuple[str | bytes, dict[str, Any]]]
) -> None:
    """The same round trip on the MicroPython unix port (100K heap): its own float parsing, ints for time."""
    folder = tmp_path_factory.mktemp("round_trip")
    (folder / "cases.json").write_text(json.dumps([[line.decode() if isinstance(line, bytes) else line, isinstance(line, bytes)] for line, _ in cases]))
    out = run_micropython(ROUND_TRIP, heapsize=HEAP, args=[str(folder / "cases.json")]).splitlines()
    assert len(out) == len(cases)
    for (line, expected), text in zip(cases, out):
        assert_round_trip(line, json.loads(text), expected)


@settings(max_examples=200, deadline=None)
@given(sentences(), st.data())
def test_any_single_byte_change_is_rejected(case: tuple[str | bytes, dict[str, Any]], data: st.DataObject) -> None:
    """Changing one byte of a valid sentence (checksum included) always makes it None: the checksum guards every byte."""
    line, _ = case
    raw = bytearray(line.encode() if isinstance(line, str) else line).strip()
    pos = data.draw(st.integers(0, len(raw) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[pos]))
    raw[pos] = new
    assert nmea.parse(bytes(raw)) is None
