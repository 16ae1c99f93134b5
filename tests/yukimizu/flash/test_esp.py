"""The esptool step refuses what is not an ESP32 before touching its flash."""
from __future__ import annotations

from pathlib import Path

import pytest

from yukimizu.flash.esp import EspError, detect, install_micropython


def test_a_micropython_board_that_is_not_an_esp32_bootloader_is_refused(virtual_board) -> None:
    with pytest.raises(EspError, match="no ESP32 bootloader answered"):
        detect(virtual_board.url, connect_attempts=1)
    assert virtual_board.proc is not None and virtual_board.proc.poll() is None


def test_missing_image_is_named_before_any_port_is_opened(tmp_path: Path) -> None:
    with pytest.raises(EspError, match="no such image file"):
        install_micropython("/dev/ttyUSB_does_not_exist", tmp_path / "ESP32_GENERIC.bin")
