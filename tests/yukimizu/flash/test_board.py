"""Raw-REPL file transfer to the virtual board: verify by hash, stage then activate, survive a cut link."""
from __future__ import annotations

import os
import threading

import pytest

from yukimizu.flash.board import Board, BoardError
from yukimizu.servers import free_port


def test_identifies_the_virtual_board(virtual_board) -> None:
    with Board(virtual_board.url) as b:
        info = b.info()
    assert info.platform == "linux" and info.is_virtual and "MicroPython" in info.version


def test_staged_files_are_verified_and_activated_config_last(virtual_board) -> None:
    with Board(virtual_board.url) as b:
        b.stage({"lib/app.mpy": b"\x4d\x06" + os.urandom(3000), "config.json": b'{"device_id":"soil-001"}'})
        assert not (virtual_board.folder / "config.json").exists()
        b.activate(["lib/app.mpy", "config.json"])
    assert (virtual_board.folder / "config.json").read_bytes() == b'{"device_id":"soil-001"}'
    assert (virtual_board.folder / "lib" / "app.mpy").stat().st_size == 3002
    assert not list(virtual_board.folder.rglob("*.new"))


def test_cut_link_mid_copy_leaves_the_old_config_active(virtual_board) -> None:
    (virtual_board.folder / "config.json").write_bytes(b'{"old":true}')
    big = os.urandom(200_000)
    with pytest.raises(BoardError, match="interrupted|did not verify|could not|Errno|board"):
        with Board(virtual_board.url) as b:
            cutter = threading.Timer(0.5, virtual_board.cut_link)
            cutter.start()
            b.stage({"config.json": big})
            b.activate(["config.json"])
    assert (virtual_board.folder / "config.json").read_bytes() == b'{"old":true}'


@pytest.mark.parametrize(
    "url, message",
    [("/dev/ttyUSB_does_not_exist", "no such port"), (f"socket://127.0.0.1:{free_port()}", "refused")],
    ids=["serial device that does not exist", "nothing listening on the TCP port"],
)
def test_wrong_port_says_what_to_check(url: str, message: str) -> None:
    with pytest.raises(BoardError, match=message):
        Board(url)


def test_board_that_does_not_answer_is_reported(tmp_path) -> None:
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    port = silent.getsockname()[1]
    try:
        with pytest.raises(BoardError, match="does not answer"):
            Board(f"socket://127.0.0.1:{port}", timeout_s=2)
    finally:
        silent.close()
