"""NMEA 0183 RMC/GGA parser for the snowplow logger: one line in, a dict or None out.

Runs unchanged on MicroPython (ESP32, unix port) and CPython: no regex, no
`time.mktime` (MicroPython's embedded ports count from 2000, not 1970), and no
float in the time path.

`parse(line)` returns None unless the line is exactly one RMC or GGA sentence
of an accepted talker (GP GN GL GB BD GA QZ) with a correct checksum and the
exact field count (RMC: 11 fields before NMEA 2.3, 12 with the mode field,
13 with the NMEA 4.1 nav status; GGA: 14). A line holding two spliced
sentences is None as a whole, and so is a sentence whose fields do not match
their format (a fix without coordinates, minutes >= 60, "1e5" as a number).
It never raises, whatever it is given. Bytes straight from the UART are the
cheap input; a str is encoded first. Otherwise it returns a dict:

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
off by up to 2 minutes there, while an int is exact on every port (a long int
on the ESP32, whose small ints end at 2**30), and a field that is always an
int never changes type downstream. Join them where doubles
exist: `t + t_ms / 1000`. Two-digit years 80-99 are 19xx, the rest 20xx; no
GPS week-rollover correction is applied.

Numbers are parsed by hand from the bytes, at most 9 digits either side of the
point, so every intermediate stays a small int on the ESP32 (no bigint
allocation) and nothing like "nan", "1e5" or "1_0" that float() takes slips in.
Fields are read in place through one list of comma positions rather than
split into a dozen bytes objects; a sentence that is not RMC/GGA of an
accepted talker (GSV, GSA, ... most of a receiver's output) is rejected
without allocating anything.
"""

_TALKERS = (0x4750, 0x474E, 0x474C, 0x4742, 0x4244, 0x4741, 0x515A)  # GP GN GL GB BD GA QZ as two bytes big-endian, so checking costs no allocation
_POW10 = (1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000)
_KNOT_KM_H = 1.852  # 1 international knot = 1852 m/h, exact by definition
_RMC_MODES = b"ADEFMNPRS"  # NMEA 2.3 mode indicator (N = data not valid)
_NAV_STATUS = b"ACSUV"  # NMEA 4.1 navigational status
_MAX_FIELDS = 14  # GGA, the longest sentence accepted


def _is_space(c):
    """True for the ASCII whitespace bytes str.strip() removes."""
    return c == 32 or 9 <= c <= 13


def _hex(c):
    """Value of one upper-case ASCII hex digit (NMEA 0183 writes the checksum as 0-9 A-F), or -1."""
    if 48 <= c <= 57:
        return c - 48
    if 65 <= c <= 70:
        return c - 55
    return -1


def _uint(s, a, b):
    """Value of the ASCII digits s[a:b], or -1 if the range is empty, longer than 9 or not all digits."""
    if a >= b or b - a > 9:
        return -1
    v = 0
    for k in range(a, b):
        c = s[k]
        if c < 48 or c > 57:
            return -1
        v = v * 10 + c - 48
    return v


def _dec(s, pos, k, signed=False):
    """Float value of field k ([-]digits[.digits]), None when empty; ValueError if malformed."""
    a = pos[k - 1] + 1
    b = pos[k]
    if a == b:
        return None
    neg = signed and s[a] == 45
    if neg:
        a += 1
    p = s.find(b".", a, b)
    if p < 0:
        p = b
    ip = _uint(s, a, p)
    fp = _uint(s, p + 1, b) if p < b else 0
    if ip < 0 or fp < 0:
        raise ValueError
    v = ip + fp / _POW10[b - p - 1] if p < b else float(ip)
    return -v if neg else v


def _one_of(s, pos, k, allowed):
    """True when field k is empty or a single byte from `allowed`."""
    a = pos[k - 1] + 1
    n = pos[k] - a
    return n == 0 or (n == 1 and s[a] in allowed)


def _coord(s, pos, k, deg_digits, pos_letter, neg_letter):
    """Decimal degrees from field k, (d)ddmm.mmmm, and its hemisphere letter in field k+1; None if both empty; ValueError if malformed."""
    a = pos[k - 1] + 1
    b = pos[k]
    h = pos[k] + 1
    if pos[k + 1] - h != 1:
        if a == b and h == pos[k + 1]:
            return None
        raise ValueError
    p = s.find(b".", a, b)
    if p < 0:
        p = b
    if p - a < 3 or p - a > deg_digits + 2:
        raise ValueError
    deg = _uint(s, a, p - 2)
    whole_min = _uint(s, p - 2, p)
    frac = _uint(s, p + 1, b) if p < b else 0
    if deg < 0 or whole_min < 0 or whole_min > 59 or frac < 0:
        raise ValueError
    minutes = whole_min + frac / _POW10[b - p - 1] if p < b else whole_min
    limit = 90 if deg_digits == 2 else 180
    if deg > limit or (deg == limit and minutes):
        raise ValueError
    v = deg + minutes / 60
    if s[h] == neg_letter:
        return -v
    if s[h] != pos_letter:
        raise ValueError
    return v


def _days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", days_from_civil)."""
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400  # year of era, 0..399
    doy = (153 * (m + 9 if m <= 2 else m - 3) + 2) // 5 + d - 1  # day of the year counted from 1 March
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy  # day of era, 0..146096
    return era * 146097 + doe - 719468  # 719468 days from 0000-03-01 to 1970-01-01


def _unix_s(s, pos, k_time, k_date):
    """Whole Unix seconds (UTC) from hhmmss[.sss] in field k_time and ddmmyy in k_date, or None if either is empty or out of range."""
    a = pos[k_time - 1] + 1
    b = pos[k_date - 1] + 1
    if pos[k_time] - a < 6 or pos[k_date] - b != 6:
        return None
    if pos[k_time] - a > 6 and s[a + 6] != 46:
        return None
    hh = _uint(s, a, a + 2)
    mi = _uint(s, a + 2, a + 4)
    ss = _uint(s, a + 4, a + 6)
    if hh < 0 or hh > 23 or mi < 0 or mi > 59 or ss < 0 or ss > 59:
        return None
    d = _uint(s, b, b + 2)
    m = _uint(s, b + 2, b + 4)
    y = _uint(s, b + 4, b + 6)
    if y < 0 or m < 1 or m > 12 or d < 1:
        return None
    y += 1900 if y >= 80 else 2000
    if m == 2:
        month_days = 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    else:
        month_days = 30 if m in (4, 6, 9, 11) else 31
    if d > month_days:
        return None
    return _days_from_civil(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss


def _ms(s, pos, k):
    """Milliseconds of the fraction in hhmmss.sss, field k (first three digits, zero-padded)."""
    a = pos[k - 1] + 8
    b = pos[k]
    ms = 0
    for j in range(a, a + 3):
        ms = ms * 10 + (s[j] - 48 if j < b else 0)
    return ms


def _frame(line):
    """Comma positions of one checksummed RMC/GGA sentence, the '*' position last, or None.

    Field k (1-based, after the address) is line[pos[k-1] + 1 : pos[k]].
    """
    n = len(line)
    i = 0
    while i < n and _is_space(line[i]):
        i += 1
    while n > i and _is_space(line[n - 1]):
        n -= 1
    if n - i < 10 or line[i] != 36 or line[n - 3] != 42 or line[i + 6] != 44:
        return None
    if (line[i + 1] << 8 | line[i + 2]) not in _TALKERS:
        return None
    k3 = line[i + 3]
    k4 = line[i + 4]
    k5 = line[i + 5]
    if not ((k3 == 82 and k4 == 77 and k5 == 67) or (k3 == 71 and k4 == 71 and k5 == 65)):
        return None
    hi = _hex(line[n - 2])
    lo = _hex(line[n - 1])
    if hi < 0 or lo < 0:
        return None
    x = 0
    commas = 0
    for k in range(i + 1, n - 3):
        c = line[k]
        if c < 32 or c > 126 or c == 36 or c == 42:  # control bytes, non-ASCII, a second '$' or '*'
            return None
        if c == 44:
            commas += 1
        x ^= c
    if x != hi * 16 + lo or commas > _MAX_FIELDS:
        return None
    pos = [0] * (commas + 1)
    p = i + 6
    for k in range(commas):
        pos[k] = p
        p = line.find(b",", p + 1)
    pos[commas] = n - 3
    return pos


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
    pos = _frame(line)
    if pos is None:
        return None
    nf = len(pos) - 1
    try:
        if line[pos[0] - 3] == 82:
            if nf < 11 or nf > 13:
                return None
            return _rmc(line, pos, nf)
        if nf != 14:
            return None
        return _gga(line, pos)
    except ValueError:
        return None


def _rmc(s, pos, nf):
    """RMC fields to a dict (field 1 time, 2 status, 3-6 position, 7 knots, 8 course, 9 date, 10-11 variation, 12 mode, 13 nav status); ValueError if malformed."""
    a = pos[1] + 1
    if pos[2] - a != 1 or (s[a] != 65 and s[a] != 86):
        raise ValueError
    _dec(s, pos, 1)
    if pos[9] > pos[8] + 1 and _uint(s, pos[8] + 1, pos[9]) < 0:
        raise ValueError
    if nf >= 12:
        if not _one_of(s, pos, 12, _RMC_MODES):
            raise ValueError
        mode_n = pos[12] - pos[11] == 2 and s[pos[11] + 1] == 78
    else:
        mode_n = False
    if nf == 13 and not _one_of(s, pos, 13, _NAV_STATUS):
        raise ValueError
    lat = _coord(s, pos, 3, 2, 78, 83)  # N, S
    lon = _coord(s, pos, 5, 3, 69, 87)  # E, W
    speed_kn = _dec(s, pos, 7)
    heading_deg = _dec(s, pos, 8)
    if heading_deg is not None and heading_deg > 360:
        raise ValueError
    _dec(s, pos, 10)
    if not _one_of(s, pos, 11, b"EW"):
        raise ValueError
    fix = s[a] == 65 and not mode_n
    if fix and (lat is None or lon is None):
        raise ValueError
    t = _unix_s(s, pos, 1, 9)
    return {
        "kind": "RMC",
        "fix": fix,
        "lat": lat if fix else None,
        "lon": lon if fix else None,
        "speed_km_h": None if speed_kn is None else speed_kn * _KNOT_KM_H,
        "heading_deg": heading_deg,
        "t": t,
        "t_ms": None if t is None else _ms(s, pos, 1),
    }


def _gga(s, pos):
    """GGA fields to a dict (1 time, 2-5 position, 6 quality, 7 satellites, 8 HDOP, 9-10 altitude, 11-12 geoid separation, 13 DGPS age, 14 DGPS station); ValueError if malformed."""
    _dec(s, pos, 1)
    lat = _coord(s, pos, 2, 2, 78, 83)  # N, S
    lon = _coord(s, pos, 4, 3, 69, 87)  # E, W
    a = pos[5] + 1
    quality = _uint(s, a, a + 1) if pos[6] - a == 1 else -1
    if quality < 0 or quality > 8:
        raise ValueError
    a = pos[6] + 1
    sats = None
    if pos[7] > a:
        sats = _uint(s, a, pos[7]) if pos[7] - a <= 2 else -1
        if sats < 0:
            raise ValueError
    hdop = _dec(s, pos, 8)
    alt_m = _dec(s, pos, 9, True)
    _dec(s, pos, 11, True)
    _dec(s, pos, 13)
    if not _one_of(s, pos, 10, b"M") or not _one_of(s, pos, 12, b"M"):
        raise ValueError
    a = pos[13] + 1
    if pos[14] > a and (pos[14] - a > 4 or _uint(s, a, pos[14]) < 0):
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
