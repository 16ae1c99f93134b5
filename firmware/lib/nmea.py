"""NMEA 0183 RMC/GGA parser for the snowplow logger: one line in, a dict or None out.

Runs unchanged on MicroPython (ESP32, unix port) and CPython: no regex, no
`time.mktime` (MicroPython's embedded ports count from 2000, not 1970), and no
float in the time path.

`parse(line)` returns None unless the line is exactly one RMC or GGA sentence
of an accepted talker (GP GN GL GB BD GA QZ) with a correct checksum and the
exact field count (RMC: 11 fields before NMEA 2.3, 12 with the mode field,
13 with the NMEA 4.1 nav status; GGA: 14). A line holding two spliced
sentences is None as a whole. Otherwise it returns a dict:

- all: `kind` ("RMC" or "GGA"), `fix` (bool), `lat`, `lon` (decimal degrees,
  south and west negative, None without a fix).
- RMC: `speed_km_h`, `heading_deg` (None when the field is empty), `t` and
  `t_ms` (see below). Fix means status "A" and, where present, mode not "N".
- GGA: `hdop`, `sats`, `alt_m` (metres above mean sea level, None without a
  fix, like lat and lon). Fix means quality > 0 (8, simulation, counts).

Time: `t` is whole Unix seconds (1970 epoch, UTC) as an int and `t_ms` the
milliseconds within that second (0..999, fraction digits past the third are
truncated); both are None unless the date and time are valid. The two are kept
apart because an ESP32 float is single precision: Unix seconds as a float are
off by up to 2 minutes there, while an int is exact on every port, and a field
that is always an int never changes type downstream. Join them where doubles
exist: `t + t_ms / 1000`. Two-digit years 80-99 are 19xx, the rest 20xx; no
GPS week-rollover correction is applied.

Numbers are parsed by hand from the bytes, at most 9 digits either side of the
point, so every intermediate stays a small int on the ESP32 (no bigint
allocation) and nothing like "nan", "1e5" or "1_0" that float() takes slips in.
"""

_TALKERS = (b"GP", b"GN", b"GL", b"GB", b"BD", b"GA", b"QZ")
_POW10 = (1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000)
_KNOT_KM_H = 1.852  # 1 international knot = 1852 m/h, exact by definition
_RMC_MODES = b"ADEFMNPRS"  # NMEA 2.3 mode indicator (N = data not valid)
_NAV_STATUS = b"ACSUV"  # NMEA 4.1 navigational status


def _is_space(c):
    """True for the ASCII whitespace bytes str.strip() removes."""
    return c == 32 or 9 <= c <= 13


def _hex(c):
    """Value of one ASCII hex digit, or -1."""
    if 48 <= c <= 57:
        return c - 48
    c |= 32
    if 97 <= c <= 102:
        return c - 87
    return -1


def _uint(f, a, b):
    """Value of the ASCII digits f[a:b], or -1 if the range is empty, longer than 9 or not all digits."""
    if a >= b or b - a > 9:
        return -1
    v = 0
    for k in range(a, b):
        c = f[k]
        if c < 48 or c > 57:
            return -1
        v = v * 10 + c - 48
    return v


def _dec(f, signed=False):
    """Float value of a decimal field ([-]digits[.digits]), None when empty; ValueError if malformed."""
    n = len(f)
    if n == 0:
        return None
    a = 1 if signed and f[0] == 45 else 0
    p = f.find(b".")
    if p < 0:
        p = n
    ip = _uint(f, a, p)
    if ip < 0:
        raise ValueError
    v = float(ip)
    if p < n:
        fp = _uint(f, p + 1, n)
        if fp < 0:
            raise ValueError
        v += fp / _POW10[n - p - 1]
    return -v if a else v


def _one_of(f, allowed):
    """True when the field is empty or a single byte from `allowed`."""
    return len(f) == 0 or (len(f) == 1 and allowed.find(f) >= 0)


def _coord(f, h, deg_digits, pos, neg):
    """Decimal degrees from a (d)ddmm.mmmm field and its hemisphere letter; None if both empty; ValueError if malformed."""
    n = len(f)
    if n == 0 and len(h) == 0:
        return None
    if h == pos:
        sign = 1
    elif h == neg:
        sign = -1
    else:
        raise ValueError
    p = f.find(b".")
    if p < 0:
        p = n
    if p < 3 or p > deg_digits + 2:
        raise ValueError
    deg = _uint(f, 0, p - 2)
    whole_min = _uint(f, p - 2, p)
    if deg < 0 or whole_min < 0 or whole_min > 59:
        raise ValueError
    frac_min = 0.0
    if p < n:
        fp = _uint(f, p + 1, n)
        if fp < 0:
            raise ValueError
        frac_min = fp / _POW10[n - p - 1]
    limit = 90 if deg_digits == 2 else 180
    if deg > limit or (deg == limit and (whole_min or frac_min)):
        raise ValueError
    return sign * (deg + (whole_min + frac_min) / 60)


def _check_time(f):
    """ValueError unless the time field is empty or digits with an optional fraction."""
    _dec(f)


def _days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", days_from_civil)."""
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400  # year of era, 0..399
    doy = (153 * (m + 9 if m <= 2 else m - 3) + 2) // 5 + d - 1  # day of the year starting 1 March
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy  # day of era, 0..146096
    return era * 146097 + doe - 719468  # 719468 days from 0000-03-01 to 1970-01-01


def _unix_s(tod, date):
    """Whole Unix seconds (UTC) from hhmmss[.sss] and ddmmyy fields, or None if either is empty or out of range."""
    if len(tod) < 6 or len(date) != 6 or (len(tod) > 6 and tod[6] != 46):
        return None
    hh = _uint(tod, 0, 2)
    mi = _uint(tod, 2, 4)
    ss = _uint(tod, 4, 6)
    d = _uint(date, 0, 2)
    m = _uint(date, 2, 4)
    y = _uint(date, 4, 6)
    if hh < 0 or hh > 23 or mi < 0 or mi > 59 or ss < 0 or ss > 59 or y < 0 or m < 1 or m > 12 or d < 1:
        return None
    y += 1900 if y >= 80 else 2000
    if m == 2:
        month_days = 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    else:
        month_days = 30 if m in (4, 6, 9, 11) else 31
    if d > month_days:
        return None
    return _days_from_civil(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss


def _ms(tod):
    """Milliseconds of the fraction in hhmmss.sss (first three digits, zero-padded)."""
    ms = 0
    for k in range(7, 10):
        ms = ms * 10 + (tod[k] - 48 if k < len(tod) else 0)
    return ms


def _frame(line):
    """The bytes between '$' and '*' of a single checksummed RMC/GGA sentence, or None."""
    n = len(line)
    i = 0
    while i < n and _is_space(line[i]):
        i += 1
    while n > i and _is_space(line[n - 1]):
        n -= 1
    if n - i < 10 or line[i] != 36 or line[n - 3] != 42 or line[i + 6] != 44:
        return None
    if line[i + 1 : i + 3] not in _TALKERS:
        return None
    k3, k4, k5 = line[i + 3], line[i + 4], line[i + 5]
    if not ((k3 == 82 and k4 == 77 and k5 == 67) or (k3 == 71 and k4 == 71 and k5 == 65)):
        return None
    hi = _hex(line[n - 2])
    lo = _hex(line[n - 1])
    if hi < 0 or lo < 0:
        return None
    x = 0
    for k in range(i + 1, n - 3):
        c = line[k]
        if c < 32 or c > 126 or c == 36 or c == 42:  # control bytes, non-ASCII, a second '$' or '*'
            return None
        x ^= c
    if x != hi * 16 + lo:
        return None
    return line[i + 1 : n - 3]


def parse(sentence):
    """Parse one NMEA 0183 line (str or bytes) into an RMC/GGA dict, or None if it is not one."""
    if isinstance(sentence, str):
        try:
            line = sentence.encode()
        except UnicodeError:
            return None
    elif isinstance(sentence, bytes):
        line = sentence
    elif isinstance(sentence, bytearray):
        line = bytes(sentence)
    else:
        return None
    body = _frame(line)
    if body is None:
        return None
    f = body.split(b",")
    nf = len(f) - 1
    try:
        if body[2] == 82:
            if nf < 11 or nf > 13:
                return None
            return _rmc(f, nf)
        if nf != 14:
            return None
        return _gga(f)
    except ValueError:
        return None


def _rmc(f, nf):
    """RMC fields (f[1] is field 1, the time) to a dict; ValueError if malformed."""
    tod, status, date = f[1], f[2], f[9]
    if status != b"A" and status != b"V":
        raise ValueError
    _check_time(tod)
    if len(date) and _uint(date, 0, len(date)) < 0:
        raise ValueError
    mode = f[12] if nf >= 12 else b""
    if not _one_of(mode, _RMC_MODES) or (nf == 13 and not _one_of(f[13], _NAV_STATUS)):
        raise ValueError
    lat = _coord(f[3], f[4], 2, b"N", b"S")
    lon = _coord(f[5], f[6], 3, b"E", b"W")
    speed_kn = _dec(f[7])
    heading_deg = _dec(f[8])
    if heading_deg is not None and heading_deg > 360:
        raise ValueError
    _dec(f[10])
    if not _one_of(f[11], b"EW"):
        raise ValueError
    fix = status == b"A" and mode != b"N"
    if fix and (lat is None or lon is None):
        raise ValueError
    t = _unix_s(tod, date)
    return {
        "kind": "RMC",
        "fix": fix,
        "lat": lat if fix else None,
        "lon": lon if fix else None,
        "speed_km_h": None if speed_kn is None else speed_kn * _KNOT_KM_H,
        "heading_deg": heading_deg,
        "t": t,
        "t_ms": None if t is None else _ms(tod),
    }


def _gga(f):
    """GGA fields (f[1] is field 1, the time) to a dict; ValueError if malformed."""
    _check_time(f[1])
    lat = _coord(f[2], f[3], 2, b"N", b"S")
    lon = _coord(f[4], f[5], 3, b"E", b"W")
    quality = _uint(f[6], 0, len(f[6]))
    if quality < 0 or quality > 8 or len(f[6]) != 1:
        raise ValueError
    sats = None
    if len(f[7]):
        sats = _uint(f[7], 0, len(f[7]))
        if sats < 0 or len(f[7]) > 2:
            raise ValueError
    hdop = _dec(f[8])
    alt_m = _dec(f[9], True)
    _dec(f[11], True)
    _dec(f[13])
    if not _one_of(f[10], b"M") or not _one_of(f[12], b"M"):
        raise ValueError
    if len(f[14]) and (len(f[14]) > 4 or _uint(f[14], 0, len(f[14])) < 0):
        raise ValueError
    fix = quality > 0
    if fix and (lat is None or lon is None):
        raise ValueError
    return {
        "kind": "GGA",
        "fix": fix,
        "lat": lat if fix else None,
        "lon": lon if fix else None,
        "hdop": hdop,
        "sats": sats,
        "alt_m": alt_m if fix else None,
    }
