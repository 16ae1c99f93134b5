"""Mosquitto password-file entries, hashed as `mosquitto_passwd` 2.x does (PBKDF2-SHA512, `$7$`)."""
from __future__ import annotations

import base64
import hashlib
import os
import secrets

# mosquitto_passwd 2.0 writes $7$<iterations>$<base64 salt>$<base64 hash> with 101 iterations, 12-byte salt.
ITERATIONS = 101
SALT_BYTES = 12


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The hashed form for a password file line `user:HASH`."""
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    """True when `password` matches a `$7$` hash (for checks and tests)."""
    try:
        _, seven, iterations, salt_b64, digest_b64 = hashed.split("$")
    except ValueError:
        return False
    if seven != "7":
        return False
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt_b64), int(iterations))
    return secrets.compare_digest(digest, base64.b64decode(digest_b64))


def new_secret() -> str:
    """A fresh device or service secret (192 bits, URL-safe so it survives config files and shells)."""
    return secrets.token_urlsafe(24)
