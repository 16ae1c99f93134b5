"""Talk to a MicroPython board over its raw REPL (mpremote's transport): identify, write, verify, activate.

Writes are two-phase so that an interrupted copy never leaves a half-written file active: every
file goes to `NAME.new` first and is verified by a SHA-256 computed on the board; only when all
files are verified are they renamed into place, the device config last. A board that reboots in
between runs the old firmware with the old config.
"""
from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import serial
from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

STAGING_SUFFIX = ".new"


class BoardError(RuntimeError):
    """The board cannot be flashed; the message says what to check."""


@dataclass(frozen=True)
class BoardInfo:
    """What the board says about itself."""

    platform: str  # "esp32" on an ESP32, "linux" on the virtual board
    version: str
    machine: str

    @property
    def is_virtual(self) -> bool:
        """True for the MicroPython unix port (the virtual board)."""
        return self.platform in ("linux", "darwin")


def _describe(url: str, err: BaseException) -> str:
    text = str(err) or type(err).__name__
    if "could not open port" in text or "No such file" in text or "Errno 2" in text:
        return f"{url}: no such port (is the board plugged in? `ls /dev/ttyUSB* /dev/ttyACM*`)"
    if "refused" in text.lower() or "Errno 111" in text:
        return f"{url}: connection refused (is the virtual board running?)"
    return f"{url}: {text}"


def _probe(url: str) -> None:
    """Open and close the port once to raise the real reason it cannot be opened."""
    try:
        serial.serial_for_url(url, timeout=1).close()
    except (serial.SerialException, OSError, ValueError) as e:
        raise BoardError(_describe(url, e)) from None


class Board:
    """An open raw-REPL session with one board."""

    def __init__(self, url: str, *, baudrate: int = 115200, timeout_s: float = 10.0):
        self.url = url
        try:
            self.t = SerialTransport(url, baudrate=baudrate)
        except (TransportError, OSError, ValueError) as e:
            _probe(url)  # find out why: mpremote only says "failed to access"
            raise BoardError(_describe(url, e)) from None
        try:
            # No soft reset: it would end the unix port and restart a board's app mid-flash.
            self.t.enter_raw_repl(soft_reset=False, timeout_overall=timeout_s)
        except (TransportError, OSError) as e:
            self.t.close()
            raise BoardError(f"{url}: the board does not answer the MicroPython raw REPL ({e}); "
                             "is MicroPython installed, and is no other program holding the port?") from None

    def close(self) -> None:
        """Leave the raw REPL and close the port."""
        try:
            self.t.exit_raw_repl()
        except (TransportError, OSError):
            pass
        try:
            self.t.close()
        except OSError:
            pass

    def __enter__(self) -> "Board":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def exec(self, code: str) -> bytes:
        """Run code on the board; raise BoardError with the board's traceback on failure."""
        try:
            return self.t.exec(code)
        except (TransportError, OSError) as e:
            raise BoardError(f"{self.url}: {e}") from None

    def info(self) -> BoardInfo:
        """Ask the board what it is."""
        out = self.exec("import sys;print(sys.platform);print(sys.version);print(getattr(sys.implementation,'_machine',''))")
        lines = out.decode(errors="replace").splitlines() + ["", "", ""]
        return BoardInfo(lines[0].strip(), lines[1].strip(), lines[2].strip())

    def hashes(self, paths: list[str]) -> dict[str, str | None]:
        """SHA-256 of each file on the board (None where absent), in one round trip."""
        code = (
            "import hashlib,binascii\n"
            "def _h(p):\n"
            " try:\n  f=open(p,'rb')\n except OSError:\n  return None\n"
            " d=hashlib.sha256()\n"
            " while True:\n  b=f.read(1024)\n  if not b:\n   break\n  d.update(b)\n"
            " f.close()\n return binascii.hexlify(d.digest()).decode()\n"
            f"print(repr({{p:_h(p) for p in {paths!r}}}))\n"
        )
        out = self.exec(code).decode(errors="replace").strip()
        try:
            return ast.literal_eval(out)
        except (ValueError, SyntaxError):
            raise BoardError(f"{self.url}: unexpected answer while hashing files: {out[:200]!r}") from None

    def sha256(self, path: str) -> str | None:
        """SHA-256 of one file on the board, or None if it does not exist."""
        return self.hashes([path])[path]

    def mkdirs(self, paths: list[str]) -> None:
        """Create the folders the given file paths need, in one round trip."""
        dirs = sorted({"/".join(p.split("/")[:i]) for p in paths for i in range(1, len(p.split("/")))})
        if dirs:
            self.exec(f"import os\nfor d in {dirs!r}:\n try:\n  os.mkdir(d)\n except OSError:\n  pass\n")

    def stage(self, files: dict[str, bytes], progress: Callable[[int, int], None] | None = None) -> None:
        """Write each file to PATH.new on the board, then check every hash there."""
        self.mkdirs(list(files))
        for path, data in files.items():
            try:
                self.t.fs_writefile(path + STAGING_SUFFIX, data, chunk_size=2048, progress_callback=progress)
            except (TransportError, OSError) as e:
                raise BoardError(f"{self.url}: copy of {path} interrupted: {e}") from None
        got = self.hashes([p + STAGING_SUFFIX for p in files])
        for path, data in files.items():
            want = hashlib.sha256(data).hexdigest()
            if got.get(path + STAGING_SUFFIX) != want:
                raise BoardError(f"{self.url}: {path} did not verify (board has sha256 "
                                 f"{got.get(path + STAGING_SUFFIX)}, expected {want})")

    def activate(self, paths: list[str]) -> None:
        """Rename every staged file into place, in the order given (device config last)."""
        code = "import os\n" + "".join(f"os.rename({(p + STAGING_SUFFIX)!r},{p!r})\n" for p in paths)
        self.exec(code)

    def read(self, path: str) -> bytes | None:
        """A file's contents from the board, or None if absent."""
        try:
            if not self.t.fs_exists(path):
                return None
            return self.t.fs_readfile(path)
        except (TransportError, OSError) as e:
            raise BoardError(f"{self.url}: reading {path}: {e}") from None
