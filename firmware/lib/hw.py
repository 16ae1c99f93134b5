"""Picks the hardware layer: hw_esp32 on an ESP32, hw_sim on the MicroPython unix port.

Applications call `hw.board(cfg)` and use only the Board methods shared by both
implementations; they never import machine or network themselves.
"""
import sys


def _has_radio():
    try:
        import network  # noqa: F401

        return True
    except ImportError:
        return False


def board(cfg):
    """The Board for this platform (ESP32 pins and radio, or the simulator)."""
    if sys.platform == "esp32" or _has_radio():
        import hw_esp32

        return hw_esp32.Board(cfg)
    import hw_sim

    return hw_sim.Board(cfg)
