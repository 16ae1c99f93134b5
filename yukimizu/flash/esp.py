"""Put MicroPython itself on a blank ESP32 with esptool: check the chip, erase, write the vendor image.

The image is MicroPython's ESP32_GENERIC build (micropython.org/download/ESP32_GENERIC), a `.bin`
the engineer downloads once; the sensor apps use ESP32 ADC1 pins (GPIO32-39), so other chips
(S2, S3, C3, ...) are refused rather than flashed with an image that cannot run the apps.
"""
from __future__ import annotations

import contextlib
import io
from pathlib import Path

SUPPORTED_CHIP = "ESP32"
# Where the ESP32's second-stage bootloader starts: MicroPython's ESP32_GENERIC image is written here.
IMAGE_OFFSET = 0x1000


class EspError(RuntimeError):
    """esptool could not do the step; the message says what to check."""


def detect(port: str, *, connect_attempts: int = 3) -> str:
    """Return the chip name on `port` ('ESP32', 'ESP32-S3', ...) or raise EspError saying it is not an ESP32."""
    from esptool.cmds import detect_chip
    from esptool.util import FatalError

    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log):
            esp = detect_chip(port, 115200, "default-reset", False, connect_attempts)
    except (FatalError, OSError) as e:
        raise EspError(
            f"{port}: no ESP32 bootloader answered ({str(e).splitlines()[0]}). Is this an ESP32 board? "
            "Hold BOOT while pressing EN to enter the bootloader, and check the cable carries data."
        ) from None
    name = str(esp.CHIP_NAME)
    try:
        esp._port.close()
    except Exception:  # noqa: BLE001 - closing a port that esptool already closed
        pass
    return name


def install_micropython(port: str, image: Path, *, erase: bool = True, baud: int = 460800) -> None:
    """Erase the flash and write the MicroPython image at 0x1000, after checking the chip is an ESP32."""
    import esptool

    if not image.is_file():
        raise EspError(f"{image}: no such image file (download ESP32_GENERIC .bin from micropython.org)")
    chip = detect(port)
    if chip != SUPPORTED_CHIP:
        raise EspError(f"{port}: chip is {chip}, not {SUPPORTED_CHIP}; yukimizu's apps need an ESP32 (ADC1 on GPIO32-39)")
    base = ["--chip", "esp32", "--port", port, "--baud", str(baud)]
    try:
        if erase:
            esptool.main(base + ["erase-flash"])
        esptool.main(base + ["write-flash", "-z", hex(IMAGE_OFFSET), str(image)])
    except esptool.FatalError as e:
        raise EspError(f"{port}: esptool failed: {e}") from None
