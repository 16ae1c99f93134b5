"""Picks the hardware layer: hw_esp32 on an ESP32, hw_sim on the MicroPython unix port.

Applications call `hw.board(cfg)` and use only the Board methods shared by both
implementations; they never import machine or network themselves.
"""
import sys


def board(cfg):
    """The Board for this platform (ESP32 pins and radio, or the simulator)."""
    if sys.platform == "esp32":
        from hw_esp32 import Board
    else:
        try:
            import network  # noqa: F401  (a port with a radio but not named esp32)

            from hw_esp32 import Board
        except ImportError:
            from hw_sim import Board
    return Board(cfg)
