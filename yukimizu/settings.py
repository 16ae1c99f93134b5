"""Typed settings for every service: a TOML file plus environment overrides, validated at start.

Each service declares its settings as nested dataclasses (one per TOML section). `load()` reads the
file, applies `PREFIX__SECTION__KEY` environment variables, converts and checks every value, and
raises SettingsError naming the key (`mqtt.port`) and the source (file or variable) on the first
problem. Nothing here opens a socket: validate first, connect later.
"""
from __future__ import annotations

import dataclasses
import enum
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting is missing, unknown or of the wrong type/value; the message names the key."""


def _convert(key: str, value: Any, tp: Any, source: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        if value is None or (isinstance(value, str) and value == "" and type(None) in args):
            return None
        return _convert(key, value, non_none[0], source)
    if origin is typing.Literal:
        if value not in args:
            raise SettingsError(f"{key} ({source}): {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise SettingsError(f"{key} ({source}): expected a list, got {type(value).__name__}")
        return [_convert(f"{key}[{i}]", v, args[0] if args else str, source) for i, v in enumerate(value)]
    if isinstance(tp, type) and issubclass(tp, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            return value.lower() in ("true", "1", "yes", "on")
        raise SettingsError(f"{key} ({source}): expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise SettingsError(f"{key} ({source}): expected an integer, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{key} ({source}): expected an integer, got {value!r}") from None
    if tp is float:
        if isinstance(value, bool):
            raise SettingsError(f"{key} ({source}): expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{key} ({source}): expected a number, got {value!r}") from None
    if tp is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise SettingsError(f"{key} ({source}): expected text, got {type(value).__name__}")
        return str(value)
    if tp is Path:
        return Path(str(value))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            raise SettingsError(
                f"{key} ({source}): {value!r} is not one of {', '.join(repr(m.value) for m in tp)}"
            ) from None
    return value


def build(cls: type[T], data: Mapping[str, Any], sources: Mapping[str, str], prefix: str) -> T:
    """Build dataclass `cls` from already-parsed data; errors name keys under `prefix` (for nested tables)."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for k in data:
        if k not in known:
            raise SettingsError(f"{prefix}{k} ({sources.get(prefix + k, 'file')}): unknown setting")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = prefix + f.name
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            sub = data.get(f.name, {})
            if not isinstance(sub, Mapping):
                raise SettingsError(f"{key}: expected a [{key}] section")
            kwargs[f.name] = build(tp, sub, sources, key + ".")  # type: ignore[arg-type]
        elif f.name in data:
            kwargs[f.name] = _convert(key, data[f.name], tp, sources.get(key, "file"))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SettingsError(f"{key}: required setting is missing")
    obj = cls(**kwargs)
    check = getattr(obj, "validate", None)
    if callable(check):
        check()
    return obj


def load(cls: type[T], path: str | Path | None, env_prefix: str, environ: Mapping[str, str] | None = None) -> T:
    """Load settings of dataclass `cls` from TOML at `path` (optional) and `{env_prefix}__SECTION__KEY` variables."""
    data: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if path is not None:
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SettingsError(f"settings file {p} does not exist") from None
        except tomllib.TOMLDecodeError as e:
            raise SettingsError(f"settings file {p}: {e}") from None
    env = os.environ if environ is None else environ
    marker = env_prefix + "__"
    for name, value in env.items():
        if not name.startswith(marker):
            continue
        parts = [p.lower() for p in name[len(marker):].split("__") if p]
        if not parts:
            continue
        node = data
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise SettingsError(f"{name}: {'.'.join(parts)} is not inside a section")
            node = nxt
        node[parts[-1]] = value
        sources[".".join(parts)] = f"environment {name}"
    return build(cls, data, sources, "")


def fail_if(condition: bool, key: str, reason: str) -> None:
    """Raise SettingsError for `key` when condition holds; for `validate()` methods."""
    if condition:
        raise SettingsError(f"{key}: {reason}")
