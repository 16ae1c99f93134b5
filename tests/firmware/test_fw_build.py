"""`yukimizu firmware build`, and type checking of firmware/ against the ESP32 stubs."""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from yukimizu.cli import main
from yukimizu.firmware import FIRMWARE, LIB, closure

STUB_DISTS = ("micropython-esp32-stubs",)


def test_build_prints_each_module_size_and_the_bundle_total(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["firmware", "build", "--app", "soil", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    mods = closure("soil")
    files = sorted(p.name for p in (tmp_path / "soil" / "lib").iterdir())
    assert files == sorted(f"{m}.mpy" for m in mods)
    sizes = {ln.split()[0]: int(ln.split()[1]) for ln in out.splitlines()[1:] if ln.strip()}
    for m in mods:
        assert sizes[f"lib/{m}.mpy"] == (tmp_path / "soil" / "lib" / f"{m}.mpy").stat().st_size
    assert sizes["total"] == sum(v for k, v in sizes.items() if k != "total")
    assert (tmp_path / "soil" / "main.py").read_text() == (FIRMWARE / "apps" / "soil" / "main.py").read_text()


def test_soil_bundle_leaves_out_what_the_soil_node_never_imports() -> None:
    mods = closure("soil")
    assert {"soil_node", "mqtt", "encoder", "spool", "hw_esp32", "hw_sim"} <= set(mods)
    assert "plow_logger" not in mods and "nmea" not in mods


def test_plow_build_says_what_is_missing_when_the_nmea_parser_is_absent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if (LIB / "nmea.py").exists():
        assert main(["firmware", "build", "--app", "plow", "--out", str(tmp_path)]) == 0
        assert "lib/nmea.mpy" in capsys.readouterr().out
    else:
        assert main(["firmware", "build", "--app", "plow", "--out", str(tmp_path)]) == 1
        assert "firmware/lib/nmea.py" in capsys.readouterr().err


def _stub_dir(tmp: Path) -> tuple[Path, list[str]]:
    """A folder with only the ESP32 stub modules (and their private helpers) for MYPYPATH."""
    stubs = tmp / "stubs"
    stubs.mkdir()
    tops: set[str] = set()
    for dist in (*STUB_DISTS, "micropython-stdlib-stubs"):
        for f in importlib.metadata.files(dist) or []:
            top = f.parts[0]
            if dist == "micropython-stdlib-stubs" and top != "_mpy_shed":
                continue  # its stdlib/ is the typeshed (--custom-typeshed-dir), not a module
            if top.endswith(".dist-info") or top.endswith((".md", ".toml")) or top == "stdlib":
                continue
            tops.add(top)
            src = Path(str(f.locate())).resolve()
            while src.name != top:
                src = src.parent
            dst = stubs / top
            if not dst.exists():
                dst.symlink_to(src)
    return stubs, sorted(t.removesuffix(".pyi") for t in tops)


def test_firmware_type_checks_against_the_esp32_stubs(tmp_path: Path) -> None:
    typeshed = Path(str(importlib.metadata.files("micropython-stdlib-stubs")[0].locate())).resolve()  # type: ignore[index]
    while not (typeshed / "stdlib" / "VERSIONS").exists():
        typeshed = typeshed.parent
    stubs, mods = _stub_dir(tmp_path)
    quiet = ",".join(mods + [m + ".*" for m in mods])
    ini = tmp_path / "mypy.ini"
    # The stubs themselves are not ours to fix: errors inside them are silenced, not in firmware/.
    ini.write_text(f"[mypy]\ncheck_untyped_defs = True\nwarn_unused_ignores = True\n"
                   f"[mypy-{quiet}]\nfollow_imports = silent\nignore_errors = True\n")
    # apps/*/main.py are two lines each (import the app, call main), all logic is in lib/.
    targets = [str(p) for p in sorted(LIB.glob("*.py"))]
    env = {"MYPYPATH": str(stubs), "PATH": "/usr/bin:/bin"}
    p = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ini), "--no-incremental",
                        "--cache-dir", str(tmp_path / "cache"), "--custom-typeshed-dir", str(typeshed), *targets],
                       capture_output=True, text=True, env=env, cwd=LIB, timeout=240)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"no issues found in {len(targets)} source files" in p.stdout


def test_application_code_never_imports_machine_or_network() -> None:
    from yukimizu.firmware import imports_of

    for path in sorted(LIB.glob("*.py")):
        if path.stem in ("hw_esp32", "hw"):
            continue  # the hardware layer is where the platform is touched (hw only probes for network)
        assert not imports_of(path) & {"machine", "network", "onewire", "ds18x20", "ntptime", "esp32"}, path.name
