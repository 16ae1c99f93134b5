"""InfluxDB line protocol for readings, with escaping per the InfluxDB 1.x/2.x/3.x spec.

Timestamps are written in milliseconds (`precision=ms` on /write, WritePrecision.MS on
/api/v2/write): GPS fixes come at up to 10 Hz, and InfluxDB identifies a point by
measurement + tag set + timestamp, so a re-sent reading overwrites itself harmlessly.
"""
from __future__ import annotations

from collections.abc import Mapping

from .decoder import Reading
from .errors import ContractError

PRECISION = "ms"

_MEASUREMENT_ESC = str.maketrans({",": r"\,", " ": r"\ "})
_KEY_ESC = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_STR_ESC = str.maketrans({"\\": "\\\\", '"': '\\"'})


def _check(what: str, value: str) -> str:
    # Newlines end a line and a backslash next to a separator changes its meaning: neither
    # can be escaped reliably in every InfluxDB version, so refuse them.
    if not value or "\n" in value or "\r" in value or "\\" in value:
        raise ContractError("bad_tag", f"{what} {value[:64]!r} is empty or holds a newline or backslash", field=what)
    return value


def escape_measurement(name: str) -> str:
    """Escape a measurement name."""
    return _check("measurement", name).translate(_MEASUREMENT_ESC)


def escape_key(value: str, what: str = "tag") -> str:
    """Escape a tag key, tag value or field key."""
    return _check(what, value).translate(_KEY_ESC)


def format_field(value: object) -> str:
    """Format one field value with its frozen type: bool, integer (`i`), float, or string."""
    if type(value).__module__ == "numpy":
        # numpy scalars (from the backend's array code) as Python's: numpy 2 reprs "np.float64(3.9)",
        # which InfluxDB refuses. Checked by module, so the gateway need not import numpy (14 MB).
        value = value.item()  # type: ignore[attr-defined]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        if "\n" in value or "\r" in value:
            raise ContractError("bad_field", "string field holds a newline")
        return '"' + value.translate(_STR_ESC) + '"'
    raise ContractError("bad_field", f"cannot write a {type(value).__name__} field")


def line(measurement: str, tags: Mapping[str, str], fields: Mapping[str, object], t_ms: int) -> str:
    """One line of line protocol; tags sorted by key (what InfluxDB indexes fastest), empty tags dropped."""
    if not fields:
        raise ContractError("bad_field", "a point needs at least one field")
    head = escape_measurement(measurement)
    tag_part = "".join(
        f",{escape_key(k, 'tag key')}={escape_key(v, 'tag ' + k)}" for k, v in sorted(tags.items()) if v != ""
    )
    field_part = ",".join(f"{escape_key(k, 'field key')}={format_field(v)}" for k, v in fields.items())
    return f"{head}{tag_part} {field_part} {t_ms}"


def reading_tags(r: Reading, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tags for a reading: site and device_id from the topic, plus registry tags (field_id, vehicle_id, ...)."""
    tags = {"site": r.site, "device_id": r.device_id}
    if extra:
        for k, v in extra.items():
            if k not in tags:
                tags[k] = v
    return tags


def reading_line(r: Reading, extra_tags: Mapping[str, str] | None = None) -> str:
    """The line for one reading: measurement = kind, field `seq` as integer, then the values."""
    fields: dict[str, object] = {"seq": r.seq}
    fields.update(sorted(r.values.items()))
    return line(r.kind.value, reading_tags(r, extra_tags), fields, round(r.t_unix_s * 1000))
