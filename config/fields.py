"""Parsers for single .env values: each returns a typed value or raises one ConfigError line."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

_CREDENTIALS_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")
OFF_WORDS = frozenset({"off", "none", "disabled"})


class ConfigError(ValueError):
    """A setting with a bad value; str() is the one line shown to the user."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={mask_secret(key, value)!r} is invalid; expected {allowed}")


def mask_secret(key: str, value: object) -> object:
    """Hide passwords inside URLs and values of keys that look secret, for messages and logs."""
    if not isinstance(value, str):
        return value
    if any(word in key.upper() for word in ("PASSWORD", "TOKEN", "SECRET")):
        return "***"
    return _CREDENTIALS_IN_URL.sub(r"\1***@", value)


# What a person writes for a number: Python's float() and int() also take `1_0`, `nan`, `inf`, `infinity` and
# digits of other scripts (Arabic-Indic, Devanagari), which no one means in a setting.
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_WHOLE = re.compile(r"[+-]?[0-9]+")


def parse_number(key: str, raw: str, minimum: float, maximum: float, allowed: str | None = None) -> float:
    """A decimal number (1e8 allowed) within [minimum, maximum]."""
    allowed = allowed or f"a number from {minimum:g} to {maximum:g}"
    text = raw.strip()
    if not _DECIMAL.fullmatch(text):
        raise ConfigError(key, raw, allowed)
    value = float(text)
    if not math.isfinite(value) or not minimum <= value <= maximum:
        raise ConfigError(key, raw, allowed)
    return value


def parse_int(key: str, raw: str, minimum: int, maximum: int, allowed: str | None = None) -> int:
    """A whole number in digits within [minimum, maximum]."""
    allowed = allowed or f"a whole number from {minimum} to {maximum}"
    text = raw.strip()
    # The length cap keeps int() from refusing (ValueError) past sys.get_int_max_str_digits() digits.
    if len(text) > 40 or not _WHOLE.fullmatch(text) or not minimum <= int(text) <= maximum:
        raise ConfigError(key, raw, allowed)
    return int(text)


def parse_choice(key: str, raw: str, choices: Iterable[str]) -> str:
    """Case-insensitive pick from a fixed list; returns the canonical spelling."""
    by_folded = {choice.casefold(): choice for choice in choices}
    value = by_folded.get(raw.strip().casefold())
    if value is None:
        raise ConfigError(key, raw, "one of " + ", ".join(by_folded.values()))
    return value


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def parse_bool(key: str, raw: str) -> bool:
    """true/yes/on/1 or false/no/off/0, any case."""
    folded = raw.strip().casefold()
    if folded in _TRUE or folded in _FALSE:
        return folded in _TRUE
    raise ConfigError(key, raw, "true or false (also yes/no, on/off, 1/0)")


def is_set(raw: str | None) -> bool:
    """A key given a value (an empty `KEY=` line means "use the default")."""
    return raw is not None and raw.strip() != ""


def parse_list(raw: str) -> tuple[str, ...]:
    """Comma-separated items, blanks dropped."""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def parse_subset(key: str, raw: str, choices: Iterable[str]) -> frozenset[str]:
    """Comma-separated items that must all come from `choices`."""
    known = tuple(choices)
    items = parse_list(raw)
    for item in items:
        if item not in known:
            raise ConfigError(key, raw, "a comma-separated list of " + ", ".join(known))
    return frozenset(items)
